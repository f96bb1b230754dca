"""The ledger's rules enforced by PostgreSQL itself (migration 0003): a row's balance_after is the
wallet's balance after the move, and a transfer is one debit and one credit of the same size. The
services' paths (grant, deduct, deduct by phone, deduct-up-to, transfer) all pass through these
triggers in the rest of the suite; here, writers that bypass the services are refused."""

import uuid

import pytest
from django.db import IntegrityError, connection, transaction
from django.db.models import F

from credits import services
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import UserWalletFactory, funded_wallet

pytestmark = [pytest.mark.postgres_only, pytest.mark.django_db]


def _row(wallet, **fields):
    return CreditTransaction.objects.create(wallet=wallet, **{"source": "adjustment", **fields})


def test_a_row_whose_balance_after_is_not_the_wallets_balance_is_refused():
    wallet = funded_wallet(10)
    # the wallet was not moved: the row would claim credits that are not there
    with pytest.raises(IntegrityError, match="balance_after 15 but wallet"), transaction.atomic():
        _row(wallet, action="credit", credits=5, balance_after=15)
    # the wallet moved, the row lies about where it ended up
    with pytest.raises(IntegrityError, match="balance_after 99 but wallet"), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=F("balance") + 5)
        _row(wallet, action="credit", credits=5, balance_after=99)
    assert CreditTransaction.objects.filter(wallet=wallet).count() == 1
    assert Wallet.objects.get(pk=wallet.pk).balance == 10


def test_a_row_that_does_not_follow_the_previous_one_is_refused():
    wallet = funded_wallet(10)
    # wallet and row agree with each other, but 10 + 5 is not 50: credits from nowhere
    with pytest.raises(IntegrityError, match="does not follow 10 credit 5"), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=50)
        _row(wallet, action="credit", credits=5, balance_after=50)
    with pytest.raises(IntegrityError, match="does not follow"), transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=7)
        _row(wallet, action="credit", credits=3, balance_after=7)  # a debit recorded as a credit
    # the first row of an empty wallet starts from 0
    empty = UserWalletFactory()
    with pytest.raises(IntegrityError, match="does not follow 0 credit 1"), transaction.atomic():
        Wallet.objects.filter(pk=empty.pk).update(balance=100)
        _row(empty, action="credit", credits=1, balance_after=100)


def test_a_writer_that_moves_the_wallet_first_is_accepted():
    wallet = funded_wallet(10)
    with transaction.atomic():
        Wallet.objects.filter(pk=wallet.pk).update(balance=F("balance") - 4)
        _row(wallet, action="debit", credits=4, balance_after=6)
    assert list(CreditTransaction.objects.filter(wallet=wallet).order_by("id")
                .values_list("balance_after", flat=True)) == [10, 6]


def test_every_service_path_passes_the_triggers():
    from tenants.tests.factories import TenantFactory

    tenant = TenantFactory()
    a, b = funded_wallet(50), funded_wallet(0)
    services.wallet_deduct(wallet=a, credits=7, idempotency_key="k1")
    services.wallet_deduct(wallet=a, credits=7, idempotency_key="k1")  # replay: no row
    services.wallet_transfer(source_wallet=a, target_wallet=b, credits=10)
    services.wallet_deduct_up_to(wallet=b, credits=100, source="refund")
    services.wallet_get_or_create_for_phone(phone="+919876543210", tenant=tenant)
    services.wallet_deduct_for_phone(phone="+919876543210", tenant=tenant, credits=1, reason="bot")
    assert Wallet.objects.get(pk=a.pk).balance == 33 and Wallet.objects.get(pk=b.pk).balance == 0


# --- transfers: checked at commit, so these tests really commit -----------------------------------

def _half_transfer(source, target, *, debit: int, credit: int | None):
    transfer_id = uuid.uuid4()
    with transaction.atomic():
        Wallet.objects.filter(pk=source.pk).update(balance=F("balance") - debit)
        _row(source, action="debit", credits=debit, balance_after=source.balance - debit,
             source="transfer", transfer_id=transfer_id)
        if credit is not None:
            Wallet.objects.filter(pk=target.pk).update(balance=F("balance") + credit)
            _row(target, action="credit", credits=credit, balance_after=target.balance + credit,
                 source="transfer", transfer_id=transfer_id)
    return transfer_id


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("credit", [None, 4], ids=["debit only", "unequal legs"])
def test_a_half_or_lopsided_transfer_is_refused_at_commit(credit):
    source, target = funded_wallet(20), funded_wallet(0)
    with pytest.raises(IntegrityError, match="transfer .* refused"):
        _half_transfer(source, target, debit=5, credit=credit)
    assert Wallet.objects.get(pk=source.pk).balance == 20
    assert Wallet.objects.get(pk=target.pk).balance == 0
    assert not CreditTransaction.objects.filter(transfer_id__isnull=False).exists()


@pytest.mark.django_db(transaction=True)
def test_a_whole_transfer_commits_and_the_check_waits_for_the_second_leg():
    source, target = funded_wallet(20), funded_wallet(0)
    transfer_id = _half_transfer(source, target, debit=5, credit=5)
    assert CreditTransaction.objects.filter(transfer_id=transfer_id).count() == 2
    debit, credit = services.wallet_transfer(source_wallet=source, target_wallet=target, credits=3)
    assert debit.transfer_id == credit.transfer_id
    assert Wallet.objects.get(pk=target.pk).balance == 8


@pytest.mark.django_db(transaction=True)
def test_a_third_leg_on_a_committed_transfer_is_refused():
    source, target = funded_wallet(20), funded_wallet(0)
    debit, _ = services.wallet_transfer(source_wallet=source, target_wallet=target, credits=5)
    with pytest.raises(IntegrityError, match="3 row"), transaction.atomic():
        Wallet.objects.filter(pk=target.pk).update(balance=F("balance") + 1)
        _row(target, action="credit", credits=1, balance_after=6, source="transfer",
             transfer_id=debit.transfer_id)
    assert Wallet.objects.get(pk=target.pk).balance == 5


def test_the_triggers_exist():
    with connection.cursor() as cursor:
        cursor.execute("SELECT tgname FROM pg_trigger WHERE tgrelid = 'credits_credittransaction'::regclass"
                       " AND NOT tgisinternal ORDER BY tgname")
        names = [row[0] for row in cursor.fetchall()]
    assert names == ["credits_ledger_append_only", "credits_ledger_balance_after",
                     "credits_ledger_transfer_balanced"]
