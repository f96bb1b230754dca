"""Phone sign-in (DESIGN §4.9): send a code, sign in with it as the (tenant, phone) user the bot
knows, or attach the number to the account one is signed in with (merging the bot's account in).

Nothing here looks at whether a number belongs to a user before the code is proven, so a code
request answers the same for known and unknown numbers. A code is redeemed outside any
transaction: a wrong try stays counted although the request fails.
"""

import hashlib
import math

from django.conf import settings
from django.contrib.auth.models import update_last_login
from django.db import connection, transaction
from django.db.models import F
from django.utils import timezone
from rest_framework.exceptions import Throttled

from accounts import hooks
from accounts.merge import account_merge
from accounts.otp import codes, limits, senders
from accounts.otp.models import PhoneCode
from accounts.phones import phone_normalize
from accounts.services import auth_tokens_issue
from config.errors import Conflict, Forbidden, InvalidInput
from tenants.models import Tenant

USER_INACTIVE = "User is inactive."


class UnknownTenant(InvalidInput):
    code = "unknown_tenant"
    default_message = "Unknown tenant."


class CodeRejected(InvalidInput):
    code = "invalid_code"
    default_message = "The code is not valid."


# --- the tenant ---------------------------------------------------------------------------------

def tenant_for_phone_sign_in(slug: str | None) -> Tenant:
    """The tenant named by `slug` (default DEFAULT_TENANT_SLUG). An unknown or archived tenant is
    400 `unknown_tenant`; a suspended one 403, as for its keys and users (DESIGN §4.6)."""
    slug = slug or settings.DEFAULT_TENANT_SLUG
    tenant = Tenant.objects.filter(slug=slug).first()
    # Only these two statuses exist here; any other (archived) is treated as no tenant at all.
    if tenant is None or tenant.status not in (Tenant.Status.ACTIVE, Tenant.Status.SUSPENDED):
        raise UnknownTenant(fields={"tenant": ["Unknown tenant."]})
    if tenant.status == Tenant.Status.SUSPENDED:
        raise Forbidden("Tenant is suspended.", code="tenant_suspended")
    return tenant


def _check_code_shape(code) -> str:
    if not codes.code_is_well_formed(code):
        raise CodeRejected(f"The code is {codes.CODE_LENGTH} digits.", code="invalid_code_format",
                           fields={"code": [f"Enter the {codes.CODE_LENGTH}-digit code."]})
    return code


# --- sending a code -----------------------------------------------------------------------------

def phone_code_start(*, phone: str, tenant_slug: str | None, address: str) -> dict:
    """Send a new code to `phone` in the tenant. Limits: `OTP_START_RATE` per client address (the
    cache) and CODES_PER_NUMBER per number in CODES_PER_NUMBER_WINDOW (the database); both 429
    with Retry-After. A delivery failure leaves no code behind (502)."""
    e164 = phone_normalize(phone)
    tenant = tenant_for_phone_sign_in(tenant_slug)
    wait = limits.address_hit(address)
    if wait is not None:
        raise Throttled(wait=wait, detail="Too many code requests from this address. Try again later.")
    code = codes.code_generate()
    row = _code_reserve(tenant=tenant, phone=e164, code=code)
    try:
        senders.code_send(phone=e164, tenant_slug=tenant.slug, code=code)
    except BaseException:
        PhoneCode.objects.filter(pk=row.pk).delete()
        raise
    PhoneCode.objects.filter(pk=row.pk).update(sent_at=timezone.now())
    return {"phone_number": e164, "tenant": tenant.slug,
            "expires_in": int(codes.CODE_TTL.total_seconds())}


def _code_reserve(*, tenant: Tenant, phone: str, code: str) -> PhoneCode:
    """Count the number's recent codes and add one (not yet usable) in one transaction, serialized
    per number on PostgreSQL, so concurrent requests never make a fourth."""
    with transaction.atomic():
        _lock_number(tenant_id=tenant.pk, phone=phone)
        now = timezone.now()
        window_start = now - codes.CODES_PER_NUMBER_WINDOW
        recent = list(PhoneCode.objects.filter(tenant=tenant, phone=phone, created_at__gt=window_start)
                      .order_by("created_at").values_list("created_at", flat=True)[:codes.CODES_PER_NUMBER])
        if len(recent) >= codes.CODES_PER_NUMBER:
            wait = (recent[0] + codes.CODES_PER_NUMBER_WINDOW - now).total_seconds()
            raise Throttled(wait=max(1, math.ceil(wait)),
                            detail="Too many codes for this number. Try again in a few minutes.")
        return PhoneCode.objects.create(
            tenant=tenant, phone=phone, created_at=now, expires_at=now + codes.CODE_TTL,
            code_hash=codes.code_hash(tenant_id=tenant.pk, phone=phone, code=code))


def _lock_number(*, tenant_id: int, phone: str) -> None:
    if connection.vendor != "postgresql":
        return  # SQLite (development) runs one writer at a time
    digest = hashlib.sha256(f"kosh.otp:{tenant_id}:{phone}".encode()).digest()
    with connection.cursor() as cursor:
        cursor.execute("SELECT pg_advisory_xact_lock(%s)", [int.from_bytes(digest[:8], "big", signed=True)])


# --- redeeming a code ---------------------------------------------------------------------------

def phone_code_redeem(*, tenant: Tenant, phone: str, code: str) -> PhoneCode:
    """Use up the number's newest delivered code if `code` is it.

    The try is counted by one conditional UPDATE before the code is compared, so however many
    tries race, at most MAX_TRIES are ever compared; the sixth fails even with the right code.
    Call it outside a transaction, so a wrong try stays counted when the request fails.
    """
    row = (PhoneCode.objects.filter(tenant=tenant, phone=phone, sent_at__isnull=False)
           .order_by("-created_at", "-id").first())
    if row is None:
        raise CodeRejected("No code was sent to this number. Request a new code.", code="code_not_found")
    _refuse_dead(row, now=timezone.now())
    counted = PhoneCode.objects.filter(pk=row.pk, attempts__lt=codes.MAX_TRIES, used_at__isnull=True
                                       ).update(attempts=F("attempts") + 1)
    if not counted:  # a concurrent try used the code up or spent its last try
        row.refresh_from_db()
        _refuse_dead(row, now=timezone.now())
        raise CodeRejected("Too many wrong tries: this code no longer works. Request a new code.",
                           code="too_many_attempts")
    if not codes.code_matches(stored_hash=row.code_hash, tenant_id=tenant.pk, phone=phone, code=code):
        row.refresh_from_db(fields=["attempts"])
        left = max(0, codes.MAX_TRIES - row.attempts)
        message = (f"Incorrect code. {left} {'try' if left == 1 else 'tries'} left." if left
                   else "Incorrect code. It no longer works: request a new code.")
        raise CodeRejected(message, code="code_incorrect", fields={"code": ["Incorrect code."]})
    now = timezone.now()
    used = PhoneCode.objects.filter(pk=row.pk, used_at__isnull=True, expires_at__gt=now).update(used_at=now)
    if not used:
        row.refresh_from_db()
        _refuse_dead(row, now=now)
    return row


def _refuse_dead(row: PhoneCode, *, now) -> None:
    if row.used_at is not None:
        raise CodeRejected("This code was already used. Request a new code.", code="code_used")
    if row.expires_at <= now:
        raise CodeRejected("This code has expired. Request a new code.", code="code_expired")
    if row.attempts >= codes.MAX_TRIES:
        raise CodeRejected("Too many wrong tries: this code no longer works. Request a new code.",
                           code="too_many_attempts")


# --- signing in -----------------------------------------------------------------------------------

def phone_sign_in(*, phone: str, tenant_slug: str | None, code) -> tuple:
    """(user, tokens) for the tenant's user with this number, created with the tenant's signup
    credits if new (exactly as the bot creates it), once the code is proven. Marks the number
    verified. Staff accounts sign in with email and password only."""
    e164 = phone_normalize(phone)
    tenant = tenant_for_phone_sign_in(tenant_slug)
    code = _check_code_shape(code)
    phone_code_redeem(tenant=tenant, phone=e164, code=code)
    with transaction.atomic():
        user, _ = hooks.phone_user_get_or_create(phone=e164, tenant=tenant)
        if not user.is_active:
            raise Forbidden(USER_INACTIVE, code="user_inactive")
        if user.role or user.is_staff or user.is_superuser:
            raise Forbidden("Staff accounts sign in with email and password.", code="staff_account")
        _mark_verified(user)
    update_last_login(None, user)
    return user, auth_tokens_issue(user=user)


def _mark_verified(user) -> None:
    if not user.is_whatsapp_verified:
        user.is_whatsapp_verified = True
        user.save(update_fields=["is_whatsapp_verified", "updated_at"])


# --- attaching a number to the signed-in account ----------------------------------------------------

def phone_attach(*, user, phone: str, tenant_slug: str | None, code, address: str = "") -> tuple:
    """Give the signed-in `user` the proven number in the tenant: (user, summary).

    The tenant's user with that number, made as the bot makes it if it does not exist yet, is merged
    into `user` (`accounts.merge.account_merge`): its credits, orders, subscriptions and history
    move over and it is retired. Attaching the verified number the account already has changes
    nothing and needs no code, so a retry after a lost answer succeeds.
    """
    e164 = phone_normalize(phone)
    tenant = tenant_for_phone_sign_in(tenant_slug)
    code = _check_code_shape(code)
    _check_may_attach(user=user, tenant=tenant, phone=e164)
    if user.tenant_id == tenant.pk and user.phone == e164 and user.is_whatsapp_verified:
        return user, {"merged": False}
    phone_code_redeem(tenant=tenant, phone=e164, code=code)
    with transaction.atomic():
        owner, _ = hooks.phone_user_get_or_create(phone=e164, tenant=tenant)
        if owner.pk == user.pk:  # the account already had the number, unverified until now
            _mark_verified(user)
            return user, {"merged": False}
        _check_may_take_over(owner)
        summary = account_merge(survivor=user, retired=owner, actor=user, address=address,
                                reason="Phone number verified by code")
    user.refresh_from_db()
    return user, {"merged": True, **summary}


def _check_may_attach(*, user, tenant: Tenant, phone: str) -> None:
    if user.role or user.is_staff or user.is_superuser:
        raise Forbidden("Staff accounts cannot take a customer's phone number.", code="staff_account")
    if user.tenant_id is not None and user.tenant_id != tenant.pk:
        raise Conflict("This account belongs to another tenant; a number can only be attached "
                       "within the account's own tenant. Sign in with the number instead.",
                       code="tenant_mismatch", fields={"tenant": ["Not this account's tenant."]})
    if user.tenant_id == tenant.pk and user.phone and user.phone != phone:
        raise Conflict(f"This account already has the number {user.phone}; an account keeps one "
                       "number. Sign in with the new number instead, or ask support to change it.",
                       code="phone_already_attached", fields={"phone_number": ["Account has another number."]})


def _check_may_take_over(owner) -> None:
    """Only the bot's own kind of account is merged away: phone only, active, not staff."""
    if not owner.is_active:
        raise Forbidden(USER_INACTIVE, code="user_inactive")
    if owner.email or owner.role or owner.is_staff or owner.is_superuser:
        raise Conflict("This number belongs to another account that signs in with email. Sign in "
                       "to that account (or with this number) instead.", code="phone_taken",
                       fields={"phone_number": ["Belongs to another account."]})


# --- housekeeping -----------------------------------------------------------------------------------

def phone_codes_purge(*, older_than) -> int:
    """Delete codes created more than `older_than` ago (a timedelta of at least the per-number
    window, so the limit still sees every code it counts)."""
    older_than = max(older_than, codes.CODES_PER_NUMBER_WINDOW)
    deleted, _ = PhoneCode.objects.filter(created_at__lt=timezone.now() - older_than).delete()
    return deleted
