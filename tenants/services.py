from django.db import transaction
from django.utils import timezone
from django.utils.text import slugify

from config.audit import audit_record
from config.errors import InvalidInput
from tenants.cache import api_key_cache_invalidate, tenant_cache_invalidate
from tenants.keys import key_generate, key_hash
from tenants.models import ApiKey, Tenant


@transaction.atomic
def tenant_create(*, name: str, slug: str | None = None, settings: dict | None = None) -> Tenant:
    slug = slugify(slug or name)
    if not slug:
        raise InvalidInput("A tenant needs a name.", fields={"name": ["Required."]})
    if Tenant.objects.filter(slug=slug).exists():
        raise InvalidInput("A tenant with this slug exists.", fields={"slug": ["Taken."]})
    return Tenant.objects.create(name=name, slug=slug, settings=settings or {})


@transaction.atomic
def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    if status not in Tenant.Status.values:
        raise InvalidInput("Unknown tenant status.", fields={"status": ["Invalid."]})
    Tenant.objects.filter(pk=tenant.pk).update(status=status, updated_at=timezone.now())
    tenant.status = status
    tenant_cache_invalidate(tenant_id=tenant.pk)
    return tenant


def api_key_state(api_key: ApiKey) -> dict:
    """What an audit event records of a key (never the key itself)."""
    return {"name": api_key.name, "prefix": api_key.prefix, "scopes": list(api_key.scopes or []),
            "revoked_at": api_key.revoked_at}


@transaction.atomic
def api_key_create(*, tenant: Tenant, name: str, scopes: list[str] | None = None,
                   actor=None) -> tuple[ApiKey, str]:
    """Create a key and return it with the raw key, which is never stored and never shown again."""
    scopes = list(dict.fromkeys(scopes or [ApiKey.Scope.BOT]))
    unknown = set(scopes) - set(ApiKey.Scope.values)
    if unknown:
        raise InvalidInput(f"Unknown scope: {', '.join(sorted(unknown))}.", fields={"scopes": ["Invalid."]})
    prefix, raw = key_generate()
    api_key = ApiKey.objects.create(
        tenant=tenant, name=name, prefix=prefix, key_hash=key_hash(raw), scopes=scopes
    )
    audit_record(actor=actor, action="api_key.create", object_type="api_key", object_id=api_key.pk,
                 tenant_id=tenant.pk, before=None, after=api_key_state(api_key))
    return api_key, raw


@transaction.atomic
def api_key_revoke(*, api_key: ApiKey, actor=None, reason: str = "") -> ApiKey:
    """Revoke a key; revoking a revoked key changes nothing and records nothing."""
    if api_key.revoked_at is None:
        before = api_key_state(api_key)
        now = timezone.now()
        if ApiKey.objects.filter(pk=api_key.pk, revoked_at__isnull=True).update(revoked_at=now):
            api_key.revoked_at = now
            audit_record(actor=actor, action="api_key.revoke", object_type="api_key", object_id=api_key.pk,
                         tenant_id=api_key.tenant_id, before=before, after=api_key_state(api_key),
                         reason=reason)
        else:
            api_key.refresh_from_db(fields=["revoked_at"])
    api_key_cache_invalidate(api_key=api_key)
    return api_key
