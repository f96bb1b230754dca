"""Short-lived caches of what authenticates a request: API keys and tenants (DESIGN §4.6).

Every bot call starts by resolving its key; without a cache that is a query per request. Entries
live `API_KEY_CACHE_SECONDS` (default 5; 0 turns the cache off) in the `auth` cache: Redis shared
by every app server when REDIS_URL is set, else this process's memory.

What must be refused soon is refused soon:
- on the worker that makes the change, at once: the services call the invalidation functions
  below (now, and again after the transaction commits, so a read that raced the commit cannot
  leave the old row behind), and a `save()`/`delete()` of an ApiKey or Tenant does the same
  through `tenants.signals`;
- on every other worker, at once with Redis (one shared cache), else within the TTL.

Code that changes a key or a tenant with `QuerySet.update()` (no signal fires) calls
`api_key_cache_invalidate(api_key=...)` or `tenant_cache_invalidate(tenant_id=...)` itself.
Entries are model instances (pickled by the cache), so each request gets its own copy.
"""

import hmac

from django.conf import settings

from config.cache import auth_cache, cache_delete_now_and_after_commit
from tenants.keys import key_hash
from tenants.models import ApiKey, Tenant


def cache_seconds() -> int:
    return settings.API_KEY_CACHE_SECONDS


def _api_key_entry(hashed: str) -> str:
    return f"apikey:{hashed}"


def _tenant_entry(tenant_id: int) -> str:
    return f"tenant:{tenant_id}"


# --- API keys ---------------------------------------------------------------------------------

def api_key_by_raw_key(raw_key: str, *, prefix: str) -> ApiKey | None:
    """The key (with its tenant) whose hash is the raw key's, from the cache or the database.
    Revoked keys are cached too (the caller refuses them); unknown keys are not."""
    hashed = key_hash(raw_key)
    seconds = cache_seconds()
    if seconds:
        cached = auth_cache().get(_api_key_entry(hashed))
        if cached is not None:
            return cached
    api_key = ApiKey.objects.select_related("tenant").filter(prefix=prefix).first()
    if api_key is None or not hmac.compare_digest(api_key.key_hash, hashed):
        return None
    if seconds:
        auth_cache().set(_api_key_entry(hashed), api_key, seconds)
    return api_key


def api_key_cache_invalidate(*, api_key: ApiKey) -> None:
    """Call after revoking or otherwise changing a key (done for you by `api_key_revoke` and by
    `ApiKey.save()`/`delete()`)."""
    cache_delete_now_and_after_commit([_api_key_entry(api_key.key_hash)])


# --- tenants ----------------------------------------------------------------------------------

def tenant_cached(tenant_id: int) -> Tenant | None:
    """The tenant from the cache or the database (None if it does not exist)."""
    seconds = cache_seconds()
    if seconds:
        cached = auth_cache().get(_tenant_entry(tenant_id))
        if cached is not None:
            return cached
    tenant = Tenant.objects.filter(pk=tenant_id).first()
    if tenant is not None and seconds:
        auth_cache().set(_tenant_entry(tenant_id), tenant, seconds)
    return tenant


def tenant_cache_invalidate(*, tenant_id: int) -> None:
    """Call after a tenant's status or settings change (suspend, archive, reactivate): forgets the
    tenant and every one of its keys, so its keys and its users' JWTs see the new state. Done for
    you by `tenant_set_status` and by `Tenant.save()`/`delete()`."""
    hashes = list(ApiKey.objects.filter(tenant_id=tenant_id).values_list("key_hash", flat=True))
    cache_delete_now_and_after_commit([_tenant_entry(tenant_id), *map(_api_key_entry, hashes)])
