"""Staff accounts (seed 004, DESIGN §4.6): a tenant's staff (`/api/v1/tenants/:id/users`) and the
platform's admin users (`/api/v1/admin/users`). Every write here is one transaction with one
audit event; the views have checked the coarse permission, these services check the rules that
depend on the object (only a super_admin makes or touches a super_admin; nobody deactivates
themselves or changes their own role).

Bad input → 400 (`email_taken` for an email another account has, as `PATCH /api/auth/me`);
a state that forbids the change → 409; not allowed → 403.
"""

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from accounts.services import _check_password, email_normalize
from config import policy
from config.audit import audit_record
from config.errors import Conflict, Forbidden, InvalidInput

User = get_user_model()

ADMIN_USER_FIELDS = ("name", "email", "role", "password", "is_active")


def staff_state(user) -> dict:
    """What an audit event records of a staff account (never the password)."""
    return {"email": user.email, "name": user.name, "role": user.role, "tenant_id": user.tenant_id,
            "is_active": user.is_active}


def _email_taken() -> InvalidInput:
    return InvalidInput("An account with this email exists.", code="email_taken",
                        fields={"email": ["Already registered."]})


def _email_free(email: str, *, exclude_pk=None) -> str:
    email = email_normalize(email)
    if not email:
        raise InvalidInput("An email is required.", fields={"email": ["Required."]})
    taken = User.objects.filter(email=email)
    if exclude_pk is not None:
        taken = taken.exclude(pk=exclude_pk)
    if taken.exists():
        raise _email_taken()
    return email


def _save_new(user) -> None:
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError as exc:  # a concurrent create took the email
        raise _email_taken() from exc


@transaction.atomic
def tenant_staff_create(*, tenant, email: str, password: str, role: str, name: str = "", actor=None):
    """A tenant_admin or tenant_staff of `tenant` (an archived tenant takes no one: 409)."""
    if role not in policy.TENANT_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(policy.TENANT_ROLES)}.", code="invalid_role",
                           fields={"role": ["Invalid."]})
    if getattr(tenant, "is_archived", False):
        raise Conflict("The tenant is archived; archiving is final.", code="tenant_archived")
    user = User(email=_email_free(email), name=name or "", tenant=tenant, role=role, is_staff=False,
                is_superuser=False)
    _check_password(password, user)
    user.set_password(password)
    _save_new(user)
    audit_record(actor=actor, action="tenant.user.create", object_type="user", object_id=user.pk,
                 tenant_id=tenant.pk, before=None, after=staff_state(user))
    return user


def _may_grant_super(actor) -> bool:
    return policy.policy_allows(policy.principal_for_user(actor), "admin_user.grant_super_admin")


def _refuse_unless_super(actor, message: str) -> None:
    if not _may_grant_super(actor):
        raise Forbidden(message, code="super_admin_required")


@transaction.atomic
def admin_user_create(*, email: str, password: str, role: str, name: str = "", actor):
    """A platform staff member (no tenant). Only a super_admin makes a super_admin."""
    if role not in policy.PLATFORM_ROLES:
        raise InvalidInput(f"role must be one of {', '.join(policy.PLATFORM_ROLES)}.", code="invalid_role",
                           fields={"role": ["Invalid."]})
    if role == policy.SUPER_ADMIN:
        _refuse_unless_super(actor, "Only a super_admin makes a super_admin.")
    user = User(email=_email_free(email), name=name or "", tenant=None, role=role, is_staff=True,
                is_superuser=role == policy.SUPER_ADMIN)
    _check_password(password, user)
    user.set_password(password)
    _save_new(user)
    audit_record(actor=actor, action="admin_user.create", object_type="user", object_id=user.pk,
                 before=None, after=staff_state(user))
    return user


def _locked_staff(user):
    return User.objects.select_for_update().get(pk=user.pk)


@transaction.atomic
def admin_user_update(*, user, actor, **changes):
    """Change only the fields given: `name`, `email`, `role` (a platform role), `password`,
    `is_active` (true reactivates; false is DELETE's). Only a super_admin changes a super_admin
    or makes one; nobody changes their own role or deactivates themselves (409)."""
    unknown = sorted(set(changes) - set(ADMIN_USER_FIELDS))
    if unknown:
        raise InvalidInput(f"{', '.join(unknown)} cannot be changed here.",
                           fields={name: ["Read-only."] for name in unknown})
    user = _locked_staff(user)
    before = staff_state(user)
    is_self = actor is not None and actor.pk == user.pk
    if user.role == policy.SUPER_ADMIN and not is_self:
        _refuse_unless_super(actor, "Only a super_admin changes a super_admin.")
    update_fields = []
    if "role" in changes and changes["role"] != user.role:
        role = changes["role"]
        if role not in policy.PLATFORM_ROLES:
            raise InvalidInput(f"role must be one of {', '.join(policy.PLATFORM_ROLES)}.", code="invalid_role",
                               fields={"role": ["Invalid."]})
        if is_self:
            raise Conflict("You cannot change your own role.", code="own_role")
        if role == policy.SUPER_ADMIN:
            _refuse_unless_super(actor, "Only a super_admin makes a super_admin.")
        user.role, user.is_superuser = role, role == policy.SUPER_ADMIN
        update_fields += ["role", "is_superuser"]
    if "is_active" in changes and bool(changes["is_active"]) != user.is_active:
        if is_self:
            raise Conflict("You cannot deactivate yourself.", code="cannot_deactivate_self")
        user.is_active = bool(changes["is_active"])
        update_fields.append("is_active")
    if "name" in changes:
        user.name = changes["name"] or ""
        update_fields.append("name")
    if "email" in changes:
        user.email = _email_free(changes["email"], exclude_pk=user.pk)
        update_fields.append("email")
    password_changed = False
    if changes.get("password"):
        _check_password(changes["password"], user)
        user.set_password(changes["password"])
        update_fields.append("password")
        password_changed = True
    after = staff_state(user)
    if after != before or password_changed:
        try:
            with transaction.atomic():
                user.save(update_fields=[*dict.fromkeys(update_fields), "updated_at"])
        except IntegrityError as exc:
            raise _email_taken() from exc
        audit_record(actor=actor, action="admin_user.update", object_type="user", object_id=user.pk,
                     before=before, after={**after, **({"password_changed": True} if password_changed else {})})
    return user


@transaction.atomic
def admin_user_deactivate(*, user, actor, reason: str = ""):
    """DELETE: the account stays (its audit trail names it) but cannot log in, and its tokens are
    refused at once (`User.save()` forgets the cached user). Yourself → 409; inactive already → 409."""
    user = _locked_staff(user)
    if actor is not None and actor.pk == user.pk:
        raise Conflict("You cannot deactivate yourself.", code="cannot_deactivate_self")
    if user.role == policy.SUPER_ADMIN:
        _refuse_unless_super(actor, "Only a super_admin deactivates a super_admin.")
    if not user.is_active:
        raise Conflict("The account is already deactivated.", code="admin_user_inactive")
    before = staff_state(user)
    user.is_active = False
    user.save(update_fields=["is_active", "updated_at"])
    audit_record(actor=actor, action="admin_user.deactivate", object_type="user", object_id=user.pk,
                 before=before, after=staff_state(user), reason=reason)
    return user
