import factory

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
