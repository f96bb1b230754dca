"""`GET /api/v1/tenants/:id/stats` (seed 004): figures about one tenant that other apps own.

tenants is a low layer (DESIGN §2): users, wallets, orders and subscriptions live in apps above
it, which it may not import. Each of those apps registers a provider here from its
`AppConfig.ready()` (as they do with `accounts.hooks`); `tenant_stats` asks every provider and
merges what they answer. A provider is `provider(*, tenant, since) -> dict` (`since`: the start
of the 30-day window) and must only read.
"""

from collections.abc import Callable
from datetime import timedelta

from django.utils import timezone

from tenants.models import ApiKey, Tenant

StatsProvider = Callable[..., dict]
WINDOW = timedelta(days=30)

_providers: dict[str, StatsProvider] = {}


def register_tenant_stats(label: str, provider: StatsProvider) -> None:
    """Register (or replace) the provider called `label`."""
    _providers[label] = provider


def _own_stats(*, tenant: Tenant, since) -> dict:
    return {"active_api_keys": ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).count()}


# Every figure the endpoint answers, 0 until an app provides it (an app not installed).
DEFAULTS = {
    "users": 0,
    "staff": 0,
    "wallet_balance": 0,
    "credits_granted_30d": 0,
    "credits_used_30d": 0,
    "revenue_paise": 0,
    "paid_orders": 0,
    "live_subscriptions": 0,
    "active_api_keys": 0,
}


def tenant_stats(*, tenant: Tenant) -> dict:
    now = timezone.now()
    since = now - WINDOW
    figures = dict(DEFAULTS)
    figures.update(_own_stats(tenant=tenant, since=since))
    for provider in _providers.values():
        figures.update(provider(tenant=tenant, since=since))
    return {"tenant_id": tenant.pk, "window_days": WINDOW.days, "since": since, "as_of": now, **figures}
