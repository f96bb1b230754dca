"""The public catalog (GET /api/rate-plans/public) served from the `auth` cache for
`CATALOG_CACHE_SECONDS` (0 = off). Any save or delete of a plan or an add-on (services, admin)
forgets it at once through `plans.signals`; code changing plans with `QuerySet.update()` calls
`catalog_cache_invalidate()` itself. Other workers see a change at once with REDIS_URL, else
within the TTL."""

from collections.abc import Callable

from django.conf import settings

from config.cache import auth_cache, cache_delete_now_and_after_commit
from plans.models import RatePlan

_PUBLIC_PLANS = "catalog:public:"


def _public_plans_entry(product: str | None) -> str:
    return _PUBLIC_PLANS + (product or "")


def public_plans_cached(*, product: str | None, build: Callable[[], list]) -> list:
    """The serialized public plans of `product` (None = all), built once per TTL."""
    seconds = settings.CATALOG_CACHE_SECONDS
    if not seconds:
        return build()
    entry = _public_plans_entry(product)
    data = auth_cache().get(entry)
    if data is None:
        data = build()
        auth_cache().set(entry, data, seconds)
    return data


def catalog_cache_invalidate() -> None:
    cache_delete_now_and_after_commit(
        [_public_plans_entry(None), *(_public_plans_entry(p) for p in RatePlan.Product.values)])
