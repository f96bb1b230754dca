from contextlib import contextmanager

import factory
from django.db import connection

from accounts.tests.factories import PhoneUserFactory
from credits import services
from credits.models import Wallet
from tenants.tests.factories import TenantFactory


class UserWalletFactory(factory.django.DjangoModelFactory):
    """An empty user wallet; give it credits with `funded_wallet` so the ledger agrees."""

    class Meta:
        model = Wallet

    kind = Wallet.Kind.USER
    user = factory.SubFactory(PhoneUserFactory)


class TenantWalletFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Wallet

    kind = Wallet.Kind.TENANT
    tenant = factory.SubFactory(TenantFactory)


def funded_wallet(balance: int, **kwargs) -> Wallet:
    """A user wallet holding `balance` credits, put there through the ledger."""
    wallet = UserWalletFactory(**kwargs)
    if balance:
        services.wallet_grant(wallet=wallet, credits=balance, source="adjustment", reason="test funds")
    return wallet


def phone_user(tenant, phone: str, balance: int):
    """A phone user of `tenant` whose wallet holds exactly `balance` credits."""
    user = PhoneUserFactory(tenant=tenant, phone=phone)
    funded_wallet(balance, user=user)
    return user


@contextmanager
def ledger_checks_off():
    """Write ledger rows the database would refuse (PostgreSQL's triggers, migration 0003), as a
    writer that bypassed them would have: for tests of `audit_ledger`, the second line. Replica
    mode skips every trigger (foreign keys too) until the end of the test's transaction, which
    rolls everything back."""
    if connection.vendor != "postgresql":
        yield
        return
    assert connection.in_atomic_block, "only inside a transaction that rolls back"
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL session_replication_role = replica")
    try:
        yield
    finally:
        with connection.cursor() as cursor:
            cursor.execute("SET LOCAL session_replication_role = DEFAULT")
