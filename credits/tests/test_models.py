import pytest
from django.db import DatabaseError, IntegrityError, connection, transaction

from accounts.tests.factories import PhoneUserFactory
from credits.models import CreditTransaction, LedgerIsAppendOnly, Wallet
from credits.tests.factories import UserWalletFactory, funded_wallet, ledger_checks_off
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def _refused(**fields):
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.create(**fields)


def test_wallet_has_exactly_one_owner():
    user, tenant = PhoneUserFactory(), TenantFactory()
    _refused(kind="user")
    _refused(kind="user", tenant=tenant)
    _refused(kind="user", user=user, tenant=tenant)
    _refused(kind="tenant", user=user)
    _refused(kind="platform", user=user)
    _refused(kind="platform", tenant=tenant)
    _refused(kind="other", user=user)
    assert Wallet.objects.create(kind="user", user=user)
    assert Wallet.objects.create(kind="tenant", tenant=tenant)
    assert Wallet.objects.create(kind="platform")


def test_one_wallet_per_user_per_tenant_and_one_platform_wallet():
    user, tenant = PhoneUserFactory(), TenantFactory()
    Wallet.objects.create(kind="user", user=user)
    Wallet.objects.create(kind="tenant", tenant=tenant)
    Wallet.objects.create(kind="platform")
    _refused(kind="user", user=user)
    _refused(kind="tenant", tenant=tenant)
    _refused(kind="platform")


def test_balance_cannot_go_negative_in_the_database():
    wallet = UserWalletFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=-1)


@pytest.mark.parametrize("fields", [
    {"credits": 0}, {"credits": -5}, {"balance_after": -1}, {"action": "steal"}, {"source": "magic"},
])
def test_ledger_row_constraints(fields):
    wallet = UserWalletFactory()
    row = {"wallet": wallet, "action": "credit", "credits": 1, "balance_after": 1, "source": "payment",
           **fields}
    # The check constraints on their own, not the balance triggers (test_ledger_triggers).
    with ledger_checks_off(), pytest.raises(IntegrityError), transaction.atomic():
        CreditTransaction.objects.create(**row)


def test_idempotency_key_is_unique_per_wallet_only():
    first, second = UserWalletFactory(), UserWalletFactory()
    row = {"action": "credit", "credits": 1, "balance_after": 1, "source": "payment", "idempotency_key": "k"}
    with ledger_checks_off():  # the unique index on its own, not the balance triggers
        CreditTransaction.objects.create(wallet=first, **row)
        CreditTransaction.objects.create(wallet=second, **row)
        CreditTransaction.objects.create(wallet=first, **{**row, "idempotency_key": None})
        CreditTransaction.objects.create(wallet=first, **{**row, "idempotency_key": None})
        with pytest.raises(IntegrityError), transaction.atomic():
            CreditTransaction.objects.create(wallet=first, **row)


def test_ledger_rows_cannot_be_changed_or_deleted_through_the_orm():
    wallet = funded_wallet(5)
    row = CreditTransaction.objects.get(wallet=wallet)
    row.credits = 500
    with pytest.raises(LedgerIsAppendOnly):
        row.save()
    with pytest.raises(LedgerIsAppendOnly):
        row.delete()
    with pytest.raises(LedgerIsAppendOnly):
        CreditTransaction.objects.filter(pk=row.pk).update(credits=500)
    with pytest.raises(LedgerIsAppendOnly):
        CreditTransaction.objects.filter(pk=row.pk).delete()
    with pytest.raises(LedgerIsAppendOnly):
        CreditTransaction.objects.bulk_update([row], ["credits"])
    assert CreditTransaction.objects.get(pk=row.pk).credits == 5


@pytest.mark.postgres_only  # the trigger exists on PostgreSQL only
@pytest.mark.parametrize("sql", [
    "UPDATE credits_credittransaction SET credits = 500 WHERE id = %s",
    "DELETE FROM credits_credittransaction WHERE id = %s",
])
def test_database_refuses_raw_update_and_delete_of_ledger_rows(sql):
    wallet = funded_wallet(5)
    row = CreditTransaction.objects.get(wallet=wallet)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql, [row.pk])
    assert CreditTransaction.objects.get(pk=row.pk).credits == 5
