import io
import uuid

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.tests.factories import UserFactory
from credits import demo, services
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import funded_wallet, ledger_checks_off, phone_user
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def audit() -> str:
    out = io.StringIO()
    call_command("audit_ledger", stdout=out)
    return out.getvalue()


@pytest.fixture
def busy_ledger():
    a, b = funded_wallet(50), funded_wallet(5)
    services.wallet_deduct(wallet=a, credits=7)
    services.wallet_transfer(source_wallet=a, target_wallet=b, credits=10)
    services.wallet_deduct_up_to(wallet=b, credits=100, source="refund")
    Wallet.objects.create(kind="platform")
    return a, b


def test_audit_is_clean_after_normal_operations(busy_ledger):
    assert "Ledger audit clean: 3 wallet(s), 6 transaction(s)." in audit()


def test_audit_detects_a_tampered_balance(busy_ledger):
    a, _ = busy_ledger
    Wallet.objects.filter(pk=a.pk).update(balance=1000)
    out = io.StringIO()
    with pytest.raises(CommandError, match="1 problem"):
        call_command("audit_ledger", stdout=out)
    assert f"wallet {a.pk}: balance 1000 but ledger sums to 33" in out.getvalue()


def test_audit_detects_a_broken_chain_and_a_lopsided_transfer(busy_ledger):
    a, b = busy_ledger
    # Rows that a buggy writer might have added: the balance moved but balance_after lies. On
    # PostgreSQL the database refuses both (test_ledger_triggers); the audit still finds them.
    with ledger_checks_off():
        CreditTransaction.objects.create(wallet=b, action="credit", credits=5, balance_after=99,
                                         source="payment")
        Wallet.objects.filter(pk=b.pk).update(balance=5)
        CreditTransaction.objects.create(wallet=a, action="debit", credits=1, balance_after=32,
                                         source="transfer", transfer_id=uuid.uuid4())
        Wallet.objects.filter(pk=a.pk).update(balance=32)
    out = io.StringIO()
    with pytest.raises(CommandError):
        call_command("audit_ledger", stdout=out)
    text = out.getvalue()
    assert "has balance_after 99, expected 5" in text
    assert "1 debit row(s), 0 credit row(s)" in text
    assert "balance 5 but" not in text and "balance 32 but" not in text


def test_grant_credits_by_phone_email_and_id():
    tenant = TenantFactory(slug="acme")
    customer = phone_user(tenant, "+919876543210", 2)
    out = io.StringIO()
    call_command("grant_credits", "--phone", "98765 43210", "--tenant", "acme", "--credits", "5",
                 "--reason", "goodwill", stdout=out)
    assert "balance now 7" in out.getvalue()
    row = CreditTransaction.objects.filter(wallet__user=customer).first()
    assert (row.source, row.reason, row.metadata) == ("adjustment", "goodwill", {"via": "grant_credits"})

    person = UserFactory(email="a@example.com")
    call_command("grant_credits", "--email", "A@example.com", "--credits", "3", "--reason", "promo",
                 "--idempotency-key", "promo-1", stdout=io.StringIO())
    call_command("grant_credits", "--email", "a@example.com", "--credits", "3", "--reason", "promo",
                 "--idempotency-key", "promo-1", stdout=io.StringIO())
    assert Wallet.objects.get(user=person).balance == 3
    call_command("grant_credits", "--user-id", str(person.pk), "--credits", "2", "--reason", "fix",
                 "--deduct", stdout=io.StringIO())
    assert Wallet.objects.get(user=person).balance == 1


@pytest.mark.parametrize("args", [
    ["--email", "nobody@example.com", "--credits", "1", "--reason", "x"],
    ["--user-id", "1", "--credits", "0", "--reason", "x"],
    ["--user-id", "1", "--credits", "1", "--reason", "  "],
    ["--user-id", "1", "--credits", "1"],
    ["--credits", "1", "--reason", "x"],
    ["--phone", "abc", "--credits", "1", "--reason", "x"],
])
def test_grant_credits_refuses_bad_input(args):
    UserFactory(id=1)
    with pytest.raises(CommandError):
        call_command("grant_credits", *args, stdout=io.StringIO())
    assert not CreditTransaction.objects.exists()


def test_demo_seed_is_idempotent():
    TenantFactory(slug="demo")

    class Cmd:
        stdout = io.StringIO()

    demo.seed(Cmd)
    demo.seed(Cmd)
    balances = sorted(Wallet.objects.filter(user__tenant__slug="demo").values_list("balance", flat=True))
    assert balances == [3, 13]
    assert "Ledger audit clean" in audit()
