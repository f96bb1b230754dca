import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.phones import InvalidPhoneNumber
from config.errors import Conflict, Forbidden, InvalidInput
from credits import services
from credits.models import CreditTransaction, Wallet
from credits.services import InsufficientCredits
from credits.tests.factories import TenantWalletFactory, UserWalletFactory, funded_wallet
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def balance(wallet) -> int:
    return Wallet.objects.get(pk=wallet.pk).balance


def test_grant_and_deduct_write_the_ledger(staff_user):
    wallet = UserWalletFactory()
    grant = services.wallet_grant(wallet=wallet, credits=10, source="payment", actor=staff_user,
                                  reason="bought", reference_id="pay_1", metadata={"order": 7})
    debit = services.wallet_deduct(wallet=wallet, credits=3, reason="used")
    assert (grant.action, grant.credits, grant.balance_after) == ("credit", 10, 10)
    assert (debit.action, debit.credits, debit.balance_after, debit.source) == ("debit", 3, 7, "usage")
    assert balance(wallet) == 7 and wallet.balance == 7
    stored = CreditTransaction.objects.get(pk=grant.pk)
    assert stored.actor == staff_user and stored.reference_id == "pay_1"
    assert stored.metadata == {"order": 7} and stored.reason == "bought"
    assert stored.created_at == grant.created_at
    assert list(CreditTransaction.objects.filter(wallet=wallet).values_list("id", flat=True)) == [
        debit.pk, grant.pk]


def test_deduct_refuses_a_short_balance_and_changes_nothing():
    wallet = funded_wallet(2)
    with pytest.raises(InsufficientCredits) as caught:
        services.wallet_deduct(wallet=wallet, credits=3)
    assert caught.value.balance == 2 and caught.value.status_code == 402
    assert caught.value.status_text == "INSUFFICIENT_CREDITS"
    assert caught.value.extra == {"remaining_credits": 2}
    assert balance(wallet) == 2
    assert not CreditTransaction.objects.filter(wallet=wallet, action="debit").exists()
    services.wallet_deduct(wallet=wallet, credits=2)
    with pytest.raises(InsufficientCredits) as caught:
        services.wallet_deduct(wallet=wallet, credits=1)
    assert caught.value.message == "You have no credits left. Please purchase a plan to continue."


@pytest.mark.parametrize("credits", [0, -1, True, 1.5, "1", None, 10**13])
def test_credits_must_be_a_positive_whole_number(credits):
    wallet = funded_wallet(5)
    for call in (services.wallet_grant, services.wallet_deduct):
        with pytest.raises(InvalidInput):
            call(wallet=wallet, credits=credits, source="adjustment", reason="x")
    assert balance(wallet) == 5


def test_unknown_source_and_bad_metadata_are_refused():
    wallet = funded_wallet(5)
    with pytest.raises(InvalidInput):
        services.wallet_grant(wallet=wallet, credits=1, source="gift")
    with pytest.raises(InvalidInput):
        services.wallet_grant(wallet=wallet, credits=1, source="payment", metadata={"x": object()})
    with pytest.raises(InvalidInput):
        services.wallet_deduct(wallet=wallet, credits=1, reason=None)


def test_idempotent_grant_replays_the_first_row():
    wallet = UserWalletFactory()
    first = services.wallet_grant(wallet=wallet, credits=5, source="payment", idempotency_key="pay_9")
    again = services.wallet_grant(wallet=wallet, credits=5, source="payment", idempotency_key="pay_9")
    assert again.pk == first.pk and again.balance_after == 5
    assert balance(wallet) == 5 and CreditTransaction.objects.filter(wallet=wallet).count() == 1
    # The same key on another wallet is another movement.
    other = UserWalletFactory()
    assert services.wallet_grant(wallet=other, credits=5, source="payment", idempotency_key="pay_9").pk != first.pk


def test_idempotent_deduct_replays_even_when_the_balance_is_now_short():
    wallet = funded_wallet(3)
    first = services.wallet_deduct(wallet=wallet, credits=3, idempotency_key="gen-1")
    again = services.wallet_deduct(wallet=wallet, credits=3, idempotency_key="gen-1")
    assert again.pk == first.pk and again.balance_after == 0 and again.metadata == {}
    assert balance(wallet) == 0
    with pytest.raises(Conflict):
        services.wallet_deduct(wallet=wallet, credits=2, idempotency_key="gen-1")
    with pytest.raises(Conflict):
        services.wallet_grant(wallet=wallet, credits=3, source="refund", idempotency_key="gen-1")
    assert CreditTransaction.objects.filter(wallet=wallet, action="debit").count() == 1


@pytest.mark.postgres_only
def test_deduct_is_at_most_two_round_trips_and_never_reads_before_writing():
    wallet = funded_wallet(5)
    with CaptureQueriesContext(connection) as ok:
        services.wallet_deduct(wallet=wallet, credits=2, reason="gen")
    assert len(ok.captured_queries) <= 2
    first = ok.captured_queries[0]["sql"]
    assert first.lstrip().startswith("WITH moved AS") and "UPDATE credits_wallet" in first
    assert "balance >= 2" in first and "INSERT INTO credits_credittransaction" in first
    with CaptureQueriesContext(connection) as short:
        with pytest.raises(InsufficientCredits):
            services.wallet_deduct(wallet=wallet, credits=4)
    assert len(short.captured_queries) <= 2
    assert balance(wallet) == 3


def test_deduct_up_to_takes_what_there_is():
    wallet = funded_wallet(4)
    txn, shortfall = services.wallet_deduct_up_to(wallet=wallet, credits=6, source="refund", reason="refund")
    assert (txn.credits, txn.balance_after, shortfall) == (4, 0, 2)
    assert services.wallet_deduct_up_to(wallet=wallet, credits=3, source="refund") == (None, 3)
    wallet = funded_wallet(10)
    txn, shortfall = services.wallet_deduct_up_to(wallet=wallet, credits=6, source="refund")
    assert (txn.credits, txn.balance_after, shortfall) == (6, 4, 0)


def test_transfer_moves_both_sides_with_one_transfer_id(staff_user):
    master = services.wallet_get_platform()
    services.wallet_grant(wallet=master, credits=100, source="payment")
    tenant_wallet = TenantWalletFactory()
    debit, credit = services.wallet_transfer(source_wallet=master, target_wallet=tenant_wallet, credits=30,
                                             actor=staff_user, reason="allocate")
    assert debit.transfer_id == credit.transfer_id is not None
    assert (debit.action, debit.balance_after, credit.action, credit.balance_after) == (
        "debit", 70, "credit", 30)
    assert debit.source == credit.source == "allocation"
    assert balance(master) == 70 and balance(tenant_wallet) == 30
    user_wallet = UserWalletFactory()
    debit, _ = services.wallet_transfer(source_wallet=tenant_wallet, target_wallet=user_wallet, credits=5)
    assert debit.source == "transfer" and balance(user_wallet) == 5


def test_transfer_refuses_short_balance_same_wallet_and_replays_its_key():
    a, b = funded_wallet(10), funded_wallet(0)
    with pytest.raises(InsufficientCredits):
        services.wallet_transfer(source_wallet=a, target_wallet=b, credits=11)
    with pytest.raises(InvalidInput):
        services.wallet_transfer(source_wallet=a, target_wallet=a, credits=1)
    first = services.wallet_transfer(source_wallet=a, target_wallet=b, credits=4, idempotency_key="t1")
    again = services.wallet_transfer(source_wallet=a, target_wallet=b, credits=4, idempotency_key="t1")
    assert [t.pk for t in again] == [t.pk for t in first]
    with pytest.raises(Conflict):
        services.wallet_transfer(source_wallet=a, target_wallet=b, credits=5, idempotency_key="t1")
    assert balance(a) == 6 and balance(b) == 4


def test_wallet_getters_create_once():
    user, tenant = UserWalletFactory().user, TenantFactory()
    assert services.wallet_get_or_create_for_user(user=user) == services.wallet_get_or_create_for_user(user=user)
    assert services.wallet_get_or_create_for_tenant(tenant=tenant).kind == "tenant"
    assert services.wallet_get_platform() == services.wallet_get_platform()
    assert Wallet.objects.filter(kind="platform").count() == 1


# --- phone users ------------------------------------------------------------------------------

@pytest.mark.parametrize("variants", [("9876543210", "+91 98765 43210", "+919876543210", "098765 43210")])
def test_phone_formats_are_one_user_with_one_signup_grant(variants):
    tenant = TenantFactory()
    results = [services.user_get_or_create_by_phone(phone=p, tenant=tenant) for p in variants]
    assert [created for _, created in results] == [True, False, False, False]
    user = results[0][0]
    assert {u.pk for u, _ in results} == {user.pk} and user.phone == "+919876543210"
    assert user.tenant == tenant and not user.has_usable_password() and user.email is None
    rows = CreditTransaction.objects.filter(wallet__user=user)
    assert [(r.action, r.credits, r.source, r.balance_after) for r in rows] == [
        ("credit", 3, "signup_bonus", 3)]


def test_signup_credits_follow_settings_and_the_tenant_override(settings):
    settings.FREE_SIGNUP_CREDITS = 7
    user, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=TenantFactory())
    assert Wallet.objects.get(user=user).balance == 7
    tenant = TenantFactory(settings={"free_signup_credits": 5})
    user, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=tenant)
    assert Wallet.objects.get(user=user).balance == 5
    tenant = TenantFactory(settings={"free_signup_credits": 0})
    user, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=tenant)
    assert Wallet.objects.get(user=user).balance == 0
    assert not CreditTransaction.objects.filter(wallet__user=user).exists()
    tenant = TenantFactory(settings={"free_signup_credits": "lots"})
    user, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=tenant)
    assert Wallet.objects.get(user=user).balance == 7


def test_same_number_in_two_tenants_is_two_users():
    a, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=TenantFactory())
    b, _ = services.user_get_or_create_by_phone(phone="9876543210", tenant=TenantFactory())
    assert a.pk != b.pk and User.objects.filter(phone="+919876543210").count() == 2


@pytest.mark.parametrize("phone", ["", "abc", "12", "+1 555", "9" * 40, None])
def test_unparseable_number_is_a_400(phone):
    with pytest.raises(InvalidPhoneNumber) as caught:
        services.user_get_or_create_by_phone(phone=phone, tenant=TenantFactory())
    assert caught.value.status_code == 400
    assert not User.objects.filter(phone__isnull=False).exists()


def test_suspended_tenant_gets_no_new_users():
    tenant = TenantFactory(status="suspended")
    with pytest.raises(Forbidden):
        services.user_get_or_create_by_phone(phone="9876543210", tenant=tenant)


# --- deduction by phone (the bot's path) ------------------------------------------------------

def test_deduct_for_phone_known_new_short_and_replayed(tenant):
    from credits.tests.factories import phone_user

    user = phone_user(tenant, "+919876543210", 5)
    txn, existed = services.wallet_deduct_for_phone(phone="98765 43210", tenant=tenant, credits=2,
                                                    reference_id="img", metadata={"label": "x"})
    assert existed and txn.balance_after == 3 and txn.wallet_id == Wallet.objects.get(user=user).pk
    stored = CreditTransaction.objects.get(pk=txn.pk)
    assert (stored.action, stored.credits, stored.reference_id, stored.metadata) == ("debit", 2, "img", {"label": "x"})
    with pytest.raises(InsufficientCredits) as caught:
        services.wallet_deduct_for_phone(phone="9876543210", tenant=tenant, credits=4)
    assert caught.value.balance == 3
    first, _ = services.wallet_deduct_for_phone(phone="9876543210", tenant=tenant, credits=3, idempotency_key="k")
    again, _ = services.wallet_deduct_for_phone(phone="9876543210", tenant=tenant, credits=3, idempotency_key="k")
    assert first.pk == again.pk and Wallet.objects.get(user=user).balance == 0
    fresh, existed = services.wallet_deduct_for_phone(phone="9812345678", tenant=tenant, credits=1)
    assert not existed and fresh.balance_after == 2
    # Another tenant's customer with the same number is untouched.
    other_tenant = TenantFactory()
    theirs = phone_user(other_tenant, "+919876543210", 9)
    services.wallet_deduct_for_phone(phone="9876543210", tenant=other_tenant, credits=1)
    assert Wallet.objects.get(user=theirs).balance == 8 and Wallet.objects.get(user=user).balance == 0


@pytest.mark.postgres_only
def test_deduct_for_a_known_phone_is_one_statement(tenant):
    from credits.tests.factories import phone_user

    phone_user(tenant, "+919876543210", 5)
    with CaptureQueriesContext(connection) as queries:
        services.wallet_deduct_for_phone(phone="+919876543210", tenant=tenant, credits=1)
    assert len(queries.captured_queries) == 1
    assert "balance >= 1" in queries.captured_queries[0]["sql"]


def test_deduct_for_phone_refuses_a_suspended_tenant(tenant):
    from credits.tests.factories import phone_user

    user = phone_user(tenant, "+919876543210", 5)
    tenant.status = "suspended"
    with pytest.raises(Forbidden):
        services.wallet_deduct_for_phone(phone="+919876543210", tenant=tenant, credits=1)
    assert Wallet.objects.get(user=user).balance == 5
