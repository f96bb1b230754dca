import phonenumbers
from django.conf import settings as django_settings
from django.db import IntegrityError, transaction
from django.utils import timezone
from django.utils.text import slugify

from config.audit import audit_record
from config.errors import Conflict, InvalidInput
from tenants.cache import api_key_cache_invalidate, tenant_cache_invalidate
from tenants.keys import key_generate, key_hash
from tenants.models import ApiKey, Tenant


# Tenant settings a caller may set, with what each must be (DESIGN §4.6). Unknown keys → 400.
def _non_negative_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool) and 0 <= value <= 10**9


TENANT_SETTINGS = {
    "free_signup_credits": (_non_negative_int, "a whole number from 0 to 1000000000"),
}
SLUG_MAX = 100
SLUG_ATTEMPTS = 20
EDITABLE_FIELDS = ("name", "email", "phone", "settings")


class TenantArchived(Conflict):
    code = "tenant_archived"
    default_message = "The tenant is archived; archiving is final."


def tenant_state(tenant: Tenant) -> dict:
    """What an audit event records of a tenant."""
    return {"name": tenant.name, "slug": tenant.slug, "status": tenant.status, "email": tenant.email,
            "phone": tenant.phone, "settings": dict(tenant.settings or {}),
            "suspended_reason": tenant.suspended_reason}


def tenant_settings_clean(value) -> dict:
    if not isinstance(value, dict):
        raise InvalidInput("settings must be an object.", fields={"settings": ["Must be an object."]})
    unknown = sorted(set(value) - set(TENANT_SETTINGS))
    if unknown:
        raise InvalidInput(f"Unknown setting: {', '.join(unknown)}.", code="unknown_setting",
                           fields={"settings": [f"Unknown setting: {name}." for name in unknown]})
    for name, item in value.items():
        check, wanted = TENANT_SETTINGS[name]
        if not check(item):
            raise InvalidInput(f"settings.{name} must be {wanted}.", fields={"settings": [f"{name}: {wanted}."]})
    return dict(value)


def tenant_phone_clean(raw) -> str:
    if raw in (None, ""):
        return ""
    try:
        parsed = phonenumbers.parse(raw, django_settings.DEFAULT_PHONE_REGION)
        valid = isinstance(raw, str) and len(raw) <= 32 and phonenumbers.is_valid_number(parsed)
    except (phonenumbers.NumberParseException, TypeError):
        valid = False
    if not valid:
        raise InvalidInput("Invalid phone number.", code="invalid_phone_number",
                           fields={"phone": ["Invalid phone number."]})
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def _email_clean(raw) -> str:
    return (raw or "").strip().lower()


def _slug_free(base: str) -> str:
    """`base`, or `base-2`, `base-3`, … — the first not taken (within SLUG_MAX characters)."""
    taken = set(Tenant.objects.filter(slug__startswith=base[:SLUG_MAX - 12]).values_list("slug", flat=True))
    if base not in taken:
        return base
    n = 2
    while True:
        suffix = f"-{n}"
        candidate = base[:SLUG_MAX - len(suffix)] + suffix
        if candidate not in taken:
            return candidate
        n += 1


@transaction.atomic
def tenant_create(*, name: str, slug: str | None = None, email: str = "", phone: str = "",
                  settings: dict | None = None, actor=None) -> Tenant:
    """A new active tenant. A slug given and taken → 400 `slug_taken`; a slug made from the name
    gets `-2`, `-3`, … when the name's slug is taken."""
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A tenant needs a name.", fields={"name": ["Required."]})
    settings = tenant_settings_clean(settings or {})
    phone = tenant_phone_clean(phone)
    if slug:
        clean = slugify(slug)
        if clean != slug or len(clean) > SLUG_MAX:
            raise InvalidInput("A slug is lowercase letters, digits and hyphens.", code="invalid_slug",
                               fields={"slug": ["Invalid."]})
        if Tenant.objects.filter(slug=clean).exists():
            raise InvalidInput("A tenant with this slug exists.", code="slug_taken", fields={"slug": ["Taken."]})
    else:
        base = slugify(name)[:SLUG_MAX].strip("-")
        if not base:
            raise InvalidInput("The name gives no slug; send one.", code="invalid_slug",
                               fields={"slug": ["Required for this name."]})
    fields = {"name": name, "email": _email_clean(email), "phone": phone, "settings": settings}
    for _attempt in range(SLUG_ATTEMPTS):
        if not slug:
            clean = _slug_free(base)
        try:
            with transaction.atomic():
                tenant = Tenant.objects.create(slug=clean, **fields)
            break
        except IntegrityError as exc:  # a concurrent create took the slug
            if slug:
                raise InvalidInput("A tenant with this slug exists.", code="slug_taken",
                                   fields={"slug": ["Taken."]}) from exc
    else:
        raise Conflict("Too many tenants are being created with this name at once; try again.",
                       code="slug_busy")
    audit_record(actor=actor, action="tenant.create", object_type="tenant", object_id=tenant.pk,
                 tenant_id=tenant.pk, before=None, after=tenant_state(tenant))
    return tenant


def _locked(tenant: Tenant) -> Tenant:
    return Tenant.objects.select_for_update().get(pk=tenant.pk)


@transaction.atomic
def tenant_update(*, tenant: Tenant, actor=None, **changes) -> Tenant:
    """Change only the fields given (`name`, `email`, `phone`, `settings`; settings replace the
    tenant's settings whole). The slug never changes: keys and sign-ins name it."""
    unknown = sorted(set(changes) - set(EDITABLE_FIELDS))
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} cannot be changed here.",
                           fields={name: ["Read-only."] for name in unknown})
    tenant = _locked(tenant)
    if tenant.is_archived:
        raise TenantArchived()
    before = tenant_state(tenant)
    if "name" in changes:
        name = (changes["name"] or "").strip()
        if not name:
            raise InvalidInput("A tenant needs a name.", fields={"name": ["Required."]})
        tenant.name = name
    if "email" in changes:
        tenant.email = _email_clean(changes["email"])
    if "phone" in changes:
        tenant.phone = tenant_phone_clean(changes["phone"])
    if "settings" in changes:
        tenant.settings = tenant_settings_clean(changes["settings"])
    after = tenant_state(tenant)
    if after != before:
        tenant.save()
        audit_record(actor=actor, action="tenant.update", object_type="tenant", object_id=tenant.pk,
                     tenant_id=tenant.pk, before=before, after=after)
    return tenant


def _status_change(*, tenant: Tenant, status: str, actor, action: str, reason: str = "",
                   suspended_reason: str = "", extra_after: dict | None = None) -> Tenant:
    before = tenant_state(tenant)
    Tenant.objects.filter(pk=tenant.pk).update(status=status, suspended_reason=suspended_reason,
                                                updated_at=timezone.now())
    tenant.status, tenant.suspended_reason = status, suspended_reason
    tenant_cache_invalidate(tenant_id=tenant.pk)
    audit_record(actor=actor, action=action, object_type="tenant", object_id=tenant.pk, tenant_id=tenant.pk,
                 before=before, after={**tenant_state(tenant), **(extra_after or {})}, reason=reason)
    return tenant


@transaction.atomic
def tenant_suspend(*, tenant: Tenant, reason: str, actor=None) -> Tenant:
    """Its keys and staff are refused (403) at once; nothing else changes. Suspended already → 409."""
    tenant = _locked(tenant)
    if tenant.is_archived:
        raise TenantArchived()
    if tenant.status == Tenant.Status.SUSPENDED:
        raise Conflict("The tenant is already suspended.", code="tenant_already_suspended")
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("Say why the tenant is suspended.", fields={"reason": ["Required."]})
    return _status_change(tenant=tenant, status=Tenant.Status.SUSPENDED, actor=actor, action="tenant.suspend",
                          reason=reason, suspended_reason=reason[:500])


@transaction.atomic
def tenant_reactivate(*, tenant: Tenant, actor=None, reason: str = "") -> Tenant:
    """A suspended tenant is active again. Active already → 409; archived → 409."""
    tenant = _locked(tenant)
    if tenant.is_archived:
        raise TenantArchived()
    if tenant.status == Tenant.Status.ACTIVE:
        raise Conflict("The tenant is already active.", code="tenant_already_active")
    return _status_change(tenant=tenant, status=Tenant.Status.ACTIVE, actor=actor, action="tenant.reactivate",
                          reason=reason)


@transaction.atomic
def tenant_archive(*, tenant: Tenant, actor=None, reason: str = "") -> Tenant:
    """DELETE: the tenant stays (its ledger, orders and audit trail refer to it) but is archived:
    every key revoked (401 from then on), its users' tokens and logins refused. Final."""
    tenant = _locked(tenant)
    if tenant.is_archived:
        raise TenantArchived()
    now = timezone.now()
    revoked = list(ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).values_list("prefix", flat=True))
    ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).update(revoked_at=now)
    # One event for the operator's action; it names the keys the archive revoked.
    return _status_change(tenant=tenant, status=Tenant.Status.ARCHIVED, actor=actor, action="tenant.archive",
                          reason=reason, suspended_reason=tenant.suspended_reason,
                          extra_after={"revoked_api_keys": revoked})


@transaction.atomic
def tenant_set_status(*, tenant: Tenant, status: str) -> Tenant:
    """Low-level status change without an audit event (tests, fixtures). Operators go through
    `tenant_suspend`, `tenant_reactivate` and `tenant_archive`."""
    if status not in Tenant.Status.values:
        raise InvalidInput("Unknown tenant status.", fields={"status": ["Invalid."]})
    if _locked(tenant).is_archived and status != Tenant.Status.ARCHIVED:
        raise TenantArchived()
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
    if tenant.is_archived:
        raise TenantArchived()
    name = (name or "").strip()
    if not name:
        raise InvalidInput("A key needs a name.", fields={"name": ["Required."]})
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
