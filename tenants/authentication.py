"""API-key authentication for bots and tenant services (seed 003's `x-bot-secret`, seed 004)."""

from datetime import datetime, timedelta

from django.utils import timezone
from rest_framework import authentication, exceptions

from tenants.cache import api_key_by_raw_key
from tenants.keys import key_prefix
from tenants.models import ApiKey

# Writing last_used_at on every call would add a write to the hot path; once a minute is enough.
LAST_USED_RESOLUTION = timedelta(minutes=1)


class ApiKeyPrincipal:
    """`request.user` for a request made with an API key: authenticated, never staff."""

    is_authenticated = True
    is_anonymous = False
    is_staff = False
    is_superuser = False
    is_active = True
    pk = None
    id = None

    def __init__(self, api_key: ApiKey):
        self.api_key = api_key
        self.tenant = api_key.tenant
        self.tenant_id = api_key.tenant_id

    def __str__(self):
        return f"api-key:{self.api_key.prefix}"


def _raw_key_from_request(request) -> str | None:
    bot_secret = request.META.get("HTTP_X_BOT_SECRET")  # request.headers builds a dict of all
    if bot_secret:
        return bot_secret.strip()
    header = authentication.get_authorization_header(request)
    if header:
        parts = header.split()
        if parts and parts[0].lower() == b"api-key":
            if len(parts) != 2:
                raise exceptions.AuthenticationFailed("Invalid Authorization header.")
            try:
                return parts[1].decode("ascii")
            except UnicodeDecodeError as exc:
                raise exceptions.AuthenticationFailed("Invalid API key.") from exc
    return None


def api_key_lookup(raw_key: str) -> ApiKey:
    """The key for `raw_key`, refused if unknown, revoked or its tenant is not active. Resolved
    through a short-lived cache (tenants.cache), so the bot's hot path spends no query on it."""
    prefix = key_prefix(raw_key)
    if prefix is None:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    api_key = api_key_by_raw_key(raw_key, prefix=prefix)
    if api_key is None:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if api_key.is_revoked:
        raise exceptions.AuthenticationFailed("API key has been revoked.")
    if api_key.tenant.is_archived:
        raise exceptions.AuthenticationFailed("API key has been revoked.")
    if not api_key.tenant.is_active:
        raise exceptions.PermissionDenied("Tenant is suspended.")
    return api_key


# key hash → when this process last wrote its last_used_at (the cached key's own value goes
# stale). By hash, not id: ids can come back (SQLite reuses them), a key's hash never does.
_last_used_written: dict[str, datetime] = {}


def _touch_last_used(api_key: ApiKey) -> None:
    """Record use at most once per LAST_USED_RESOLUTION per key and worker: a write per call
    would put a second statement on the hot path."""
    now = timezone.now()
    seen = max(filter(None, (api_key.last_used_at, _last_used_written.get(api_key.key_hash))), default=None)
    if seen is None or now - seen > LAST_USED_RESOLUTION:
        _last_used_written[api_key.key_hash] = now
        ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
        api_key.last_used_at = now


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw_key = _raw_key_from_request(request)
        if raw_key is None:
            return None
        api_key = api_key_lookup(raw_key)
        _touch_last_used(api_key)
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return "Api-Key"
