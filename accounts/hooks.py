"""What higher apps plug into accounts (DESIGN §2: accounts may not import them).

Phone sign-in must create the (tenant, phone) user exactly as the bot does, with the tenant's
signup credits, which `credits` owns; an account merge must move wallets, subscriptions and
orders, which `credits`, `subscriptions` and `payments` own. Each of those apps registers its
part here from its `AppConfig.ready()`, so accounts calls them without importing them.
"""

from collections.abc import Callable

from django.core.exceptions import ImproperlyConfigured

# (tenant, phone) -> (user, created)
PhoneUserProvisioner = Callable[..., tuple]
# (retired, survivor, reference, actor) -> summary dict; raises a ServiceError to refuse
AccountMerger = Callable[..., dict]

_phone_user_provisioner: PhoneUserProvisioner | None = None
_account_mergers: dict[str, AccountMerger] = {}


def register_phone_user_provisioner(provisioner: PhoneUserProvisioner) -> None:
    """`provisioner(*, phone, tenant) -> (user, created)`: the tenant's user with this E.164
    number, created as the bot creates it when new."""
    global _phone_user_provisioner
    _phone_user_provisioner = provisioner


def phone_user_get_or_create(*, phone: str, tenant) -> tuple:
    if _phone_user_provisioner is None:
        raise ImproperlyConfigured("No phone user provisioner is registered (is the credits app installed?).")
    return _phone_user_provisioner(phone=phone, tenant=tenant)


def register_account_merger(label: str, merger: AccountMerger) -> None:
    """`merger(*, retired, survivor, reference, actor) -> dict` moves what its app owns from
    `retired` to `survivor` inside the merge's transaction, or raises a ServiceError (the whole
    merge rolls back). Registered in layer order by the apps' `ready()`; registering a label again
    replaces it."""
    _account_mergers[label] = merger


def account_mergers() -> list[tuple[str, AccountMerger]]:
    """The mergers, highest layer first: orders, then subscriptions, then wallets. That is the
    order in which fulfilment and refunds take their locks (the order row, then the subscription
    or wallet), so a merge and a fulfilment of the same user queue instead of deadlocking."""
    return list(reversed(_account_mergers.items()))
