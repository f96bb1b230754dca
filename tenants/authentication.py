"""API-key authentication for bots and tenant services (seed 003's `x-bot-secret`, seed 004)."""

import functools
import hmac
from datetime import timedelta

from django.db import connections, router
from django.utils import timezone
from rest_framework import authentication, exceptions

from tenants.keys import key_hash, key_prefix
from tenants.models import ApiKey, Tenant

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
    bot_secret = request.headers.get("X-Bot-Secret")
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


def _api_key_columns(model) -> list[str]:
    return [field.column for field in model._meta.concrete_fields]


_KEY_COLUMNS = _api_key_columns(ApiKey)
_TENANT_COLUMNS = _api_key_columns(Tenant)
# Every bot call starts here, so the statement is written once instead of compiled by the ORM
# per request (that compilation cost more than the query itself).
_LOOKUP_SQL = (
    "SELECT " + ", ".join([f"k.{c}" for c in _KEY_COLUMNS] + [f"t.{c}" for c in _TENANT_COLUMNS])
    + f" FROM {ApiKey._meta.db_table} k JOIN {Tenant._meta.db_table} t ON t.id = k.tenant_id"
    + " WHERE k.prefix = %s"
)


@functools.cache
def _converters(model, vendor: str, alias: str):
    """Per field: the converters the ORM's compiler would apply (backend ones such as SQLite's
    aware datetimes, then the field's own such as JSON). Computed once per model and database."""
    connection = connections[alias]
    per_field = []
    for field in model._meta.concrete_fields:
        column = field.get_col(model._meta.db_table)
        per_field.append((column, connection.ops.get_db_converters(column)
                          + column.get_db_converters(connection)))
    return per_field


def _instance(model, connection, values):
    converted = []
    for (column, converters), value in zip(_converters(model, connection.vendor, connection.alias),
                                           values, strict=True):
        for converter in converters:
            value = converter(value, column, connection)
        converted.append(value)
    return model.from_db(connection.alias, [f.attname for f in model._meta.concrete_fields], converted)


def _api_key_by_prefix(prefix: str) -> ApiKey | None:
    connection = connections[router.db_for_read(ApiKey)]
    with connection.cursor() as cursor:
        cursor.execute(_LOOKUP_SQL, [prefix])
        row = cursor.fetchone()
    if row is None:
        return None
    api_key = _instance(ApiKey, connection, row[:len(_KEY_COLUMNS)])
    api_key.tenant = _instance(Tenant, connection, row[len(_KEY_COLUMNS):])
    return api_key


def api_key_lookup(raw_key: str) -> ApiKey:
    prefix = key_prefix(raw_key)
    if prefix is None:
        raise exceptions.AuthenticationFailed("Invalid API key.")
    api_key = _api_key_by_prefix(prefix)
    if api_key is None or not hmac.compare_digest(api_key.key_hash, key_hash(raw_key)):
        raise exceptions.AuthenticationFailed("Invalid API key.")
    if api_key.is_revoked:
        raise exceptions.AuthenticationFailed("API key has been revoked.")
    if not api_key.tenant.is_active:
        raise exceptions.PermissionDenied("Tenant is suspended.")
    return api_key


class ApiKeyAuthentication(authentication.BaseAuthentication):
    def authenticate(self, request):
        raw_key = _raw_key_from_request(request)
        if raw_key is None:
            return None
        api_key = api_key_lookup(raw_key)
        now = timezone.now()
        if api_key.last_used_at is None or now - api_key.last_used_at > LAST_USED_RESOLUTION:
            ApiKey.objects.filter(pk=api_key.pk).update(last_used_at=now)
            api_key.last_used_at = now
        return ApiKeyPrincipal(api_key), api_key

    def authenticate_header(self, request):
        return "Api-Key"
