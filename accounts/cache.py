"""The JWT user, cached for `API_KEY_CACHE_SECONDS` like API keys (DESIGN §4.6; see
tenants.cache for where entries live and how invalidation reaches other workers).

A token proves who the caller is; whether that user may still act (active, tenant active) is
read from this cache, so a deactivated user or a suspended tenant is refused within the bound
(at once on the worker that made the change). The user's tenant comes from the tenant cache, so
`tenant_cache_invalidate` reaches every user of the tenant without listing them.

Code that changes a user with `QuerySet.update()` (no signal fires) calls
`user_cache_invalidate(user_id=...)`; `save()`/`delete()` do it through `accounts.signals`.
"""

from django.contrib.auth import get_user_model

from config.cache import auth_cache, cache_delete_now_and_after_commit
from tenants.cache import cache_seconds, tenant_cached


def _user_entry(user_id: int) -> str:
    return f"user:{user_id}"


def user_cached(user_id: int):
    """The user with `tenant` set, from the cache or the database; None if there is no such user."""
    seconds = cache_seconds()
    user = auth_cache().get(_user_entry(user_id)) if seconds else None
    if user is None:
        user = get_user_model().objects.filter(pk=user_id).first()
        if user is None:
            return None
        if seconds:
            auth_cache().set(_user_entry(user_id), user, seconds)
    if user.tenant_id is not None:
        tenant = tenant_cached(user.tenant_id)
        if tenant is not None:
            user.tenant = tenant
    return user


def user_cache_invalidate(*, user_id: int) -> None:
    """Call after deactivating a user or changing their role, tenant or profile (done for you by
    `User.save()`/`delete()`)."""
    cache_delete_now_and_after_commit([_user_entry(user_id)])
