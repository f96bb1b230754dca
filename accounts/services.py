from django.contrib.auth import get_user_model
from django.contrib.auth.password_validation import validate_password
from django.core.exceptions import ValidationError as DjangoValidationError
from django.db import IntegrityError, transaction
from rest_framework_simplejwt.exceptions import TokenError

from accounts.phones import phone_normalize
from accounts.tokens import RefreshSerializer, RefreshToken
from config import policy
from config.errors import InvalidInput, ServiceError

User = get_user_model()

PROFILE_FIELDS = (
    "name", "business_name", "industry_type", "sub_industry",
    "core_processes", "monthly_revenue", "employees", "goal_amount", "goal_years",
)


class InvalidCredentials(ServiceError):
    status_code = 401
    code = "invalid_credentials"
    default_message = "Invalid email or password."


class InvalidToken(ServiceError):
    status_code = 401
    code = "token_not_valid"
    default_message = "Token is invalid or expired."


def email_normalize(email: str) -> str:
    return User.objects.normalize_email(email).strip().lower()


def _check_password(password: str, user) -> None:
    try:
        validate_password(password, user)
    except DjangoValidationError as exc:
        raise InvalidInput(exc.messages[0], code="weak_password",
                           fields={"password": exc.messages}) from exc


def _refuse_verified_flag_change(current: bool, requested) -> None:
    """`is_whatsapp_verified` is the server's: set when a code proves the number (DESIGN §4.9).
    A client may send back the value it has, never change it."""
    if requested is not None and bool(requested) != current:
        raise InvalidInput("is_whatsapp_verified is set by the server when a phone code is verified.",
                           code="read_only_field", fields={"is_whatsapp_verified": ["Read-only."]})


def user_register(*, email: str, password: str, phone: str | None = None, **profile) -> User | None:
    """Create an account; None when the email or phone already belongs to one.

    The caller answers the same in both cases (the register endpoint must not tell who has an
    account), so this does the same work either way: the password is validated against the
    would-be user and hashed before the lookup, and a taken email or phone changes nothing.
    """
    _refuse_verified_flag_change(False, profile.pop("is_whatsapp_verified", None))
    email = email_normalize(email)
    user = User(email=email, phone=phone_normalize(phone) if phone else None,
                **{k: v for k, v in profile.items() if k in PROFILE_FIELDS})
    _check_password(password, user)
    user.set_password(password)  # the slow part, paid whether or not the account is created
    if User.objects.filter(email=email).exists():
        return None
    try:
        with transaction.atomic():
            user.save()
    except IntegrityError:
        return None  # the phone is taken, or a concurrent registration won
    return user


@transaction.atomic
def user_update(*, user: User, **changes) -> User:
    update_fields = []
    if "email" in changes:
        email = email_normalize(changes.pop("email"))
        if User.objects.filter(email=email).exclude(pk=user.pk).exists():
            raise InvalidInput("An account with this email exists.", code="email_taken",
                               fields={"email": ["Already registered."]})
        user.email = email
        update_fields.append("email")
    _refuse_verified_flag_change(user.is_whatsapp_verified, changes.pop("is_whatsapp_verified", None))
    if "phone" in changes:
        raw = changes.pop("phone")
        phone = phone_normalize(raw) if raw else None
        if phone != user.phone:
            # A tenant's user is the bot's (tenant, phone): the number changes only by a code.
            if user.tenant_id is not None:
                raise InvalidInput("Change the number with a code: POST /api/auth/phone/start, then "
                                   "/api/auth/me/phone/verify.", code="phone_change_needs_code",
                                   fields={"phone": ["Verify the new number with a code."]})
            user.phone, user.is_whatsapp_verified = phone, False
            update_fields += ["phone", "is_whatsapp_verified"]
    for field, value in changes.items():
        if field not in PROFILE_FIELDS:
            raise InvalidInput(f"{field} cannot be changed here.", fields={field: ["Read-only."]})
        setattr(user, field, value)
        update_fields.append(field)
    if update_fields:
        try:
            with transaction.atomic():
                user.save(update_fields=[*update_fields, "updated_at"])
        except IntegrityError as exc:
            raise InvalidInput("That email or phone belongs to another account.",
                               code="user_exists") from exc
    return user


def auth_tokens_issue(*, user: User) -> dict:
    refresh = RefreshToken.for_user(user)  # records an OutstandingToken row (a digest) for the blacklist
    return {"access": str(refresh.access_token), "refresh": str(refresh)}


def auth_login(*, email: str, password: str, staff_only: bool = False) -> tuple[User, dict]:
    user = User.objects.filter(email=email_normalize(email)).first()
    if user is None:
        # Hash anyway, so an unknown email takes as long as a known one (as Django's ModelBackend).
        User().set_password(password)
        raise InvalidCredentials()
    if not user.check_password(password) or not user.is_active:
        raise InvalidCredentials()
    if user.tenant_id is not None and user.tenant.status == "archived":
        # An archived (deleted) tenant's people are nobody now (DESIGN §4.6).
        raise InvalidCredentials()
    if staff_only and not policy.policy_allows(policy.principal_for_user(user), "auth.admin_login"):
        # Seed 004's admin login: platform staff only (tenant staff use /api/auth/login).
        raise ServiceError("Staff access only.", code="forbidden", status_code=403)
    from django.contrib.auth.models import update_last_login

    update_last_login(None, user)
    return user, auth_tokens_issue(user=user)


def auth_refresh(*, refresh: str) -> dict:
    """Rotate: a new refresh and access token; the old refresh is blacklisted."""
    serializer = RefreshSerializer(data={"refresh": refresh})
    try:
        serializer.is_valid(raise_exception=True)
    except TokenError as exc:
        raise InvalidToken() from exc
    except Exception as exc:  # simplejwt raises InvalidToken/AuthenticationFailed subclasses
        raise InvalidToken() from exc
    return {"access": serializer.validated_data["access"],
            "refresh": serializer.validated_data.get("refresh", refresh)}


def auth_logout(*, refresh: str, user=None) -> None:
    try:
        token = RefreshToken(refresh)
    except TokenError as exc:
        raise InvalidToken() from exc
    if user is not None and str(token.get("user_id")) != str(user.pk):
        raise InvalidToken()
    try:
        token.blacklist()
    except TokenError as exc:
        raise InvalidToken() from exc


def auth_verify(*, token: str) -> dict:
    from rest_framework.exceptions import APIException

    from accounts.authentication import user_from_token

    try:
        user, payload = user_from_token(token)
    except APIException as exc:
        raise InvalidToken() from exc
    return {"user_id": user.pk, "exp": payload.get("exp")}
