"""The `auth` cache (short-lived copies of API keys, tenants, JWT users and the public catalog)
and the one way entries are forgotten. Redis shared by every app server when REDIS_URL is set,
else this process's memory (config.settings)."""

from django.core.cache import caches
from django.db import transaction

CACHE_ALIAS = "auth"


def auth_cache():
    return caches[CACHE_ALIAS]


def cache_delete_now_and_after_commit(entries: list[str]) -> None:
    """Forget `entries` now and once more when the surrounding transaction commits: a request
    that read the old row just before the commit may have cached it in between."""
    if not entries:
        return
    cache = auth_cache()
    cache.delete_many(entries)
    transaction.on_commit(lambda: cache.delete_many(entries))
