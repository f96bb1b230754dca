"""Bearer JWT authentication: our own access tokens and externally issued ones (seed 000).

External tokens are HS256, signed with `JWT_SECRET`, carry `user_id` or `sub` (a number or a
numeric string) and a numeric `exp` at most `JWT_MAX_TOKEN_LIFETIME` seconds away (a leaked
token minted with `exp=10**30` must not live forever); `iat`, when present, is numeric and not in
the future; `iss`/`aud` must match `JWT_ISSUER`/`JWT_AUDIENCE` when those are set. They need no
`token_type` or `jti`. Refresh tokens are refused here. The user (with their tenant) comes from a
short-lived cache (accounts.cache): no query per request, and a deactivated user or suspended
tenant is still refused within API_KEY_CACHE_SECONDS.
"""

import math
import time

import jwt
from django.conf import settings
from rest_framework import authentication, exceptions

from accounts.cache import user_cached
from config.ids import positive_id
from tenants.models import Tenant

ALGORITHM = "HS256"


def _user_id_from_claims(payload: dict) -> int:
    value = payload.get("user_id")
    if value is None:
        value = payload.get("sub")
    user_id = positive_id(value)
    if user_id is None:
        raise exceptions.AuthenticationFailed("Token carries no usable user id.")
    return user_id


def _is_numeric_date(value) -> bool:
    return (not isinstance(value, bool) and isinstance(value, int | float)
            and math.isfinite(value))


def _check_time_claims(payload: dict) -> None:
    """PyJWT accepts a numeric string for `exp`/`iat` and any distance into the future."""
    exp = payload.get("exp")
    if not _is_numeric_date(exp):
        raise exceptions.AuthenticationFailed("Token expiry must be a number.")
    if exp - time.time() > settings.JWT_MAX_TOKEN_LIFETIME:
        raise exceptions.AuthenticationFailed("Token lifetime is too long.")
    if "iat" in payload and not _is_numeric_date(payload["iat"]):
        raise exceptions.AuthenticationFailed("Token issue time must be a number.")


def _verify(raw_token: str) -> tuple[dict, int]:
    """The token's claims and user id after every check that depends only on the token and the
    settings (signature, expiry, lifetime, issuer, audience, type)."""
    required = ["exp"]
    if settings.JWT_ISSUER:
        required.append("iss")
    if settings.JWT_AUDIENCE:
        required.append("aud")
    try:
        payload = jwt.decode(
            raw_token, settings.JWT_SECRET, algorithms=[ALGORITHM],
            issuer=settings.JWT_ISSUER or None, audience=settings.JWT_AUDIENCE or None,
            options={"require": required, "verify_sub": False}, leeway=0,
        )
    except jwt.ExpiredSignatureError as exc:
        raise exceptions.AuthenticationFailed("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise exceptions.AuthenticationFailed("Invalid token.") from exc
    if not isinstance(payload, dict):
        raise exceptions.AuthenticationFailed("Invalid token.")
    _check_time_claims(payload)
    token_type = payload.get("token_type")
    if token_type is not None and token_type != "access":
        raise exceptions.AuthenticationFailed("Only access tokens are accepted here.")
    return payload, _user_id_from_claims(payload)


# Tokens that passed `_verify`, per process: a client sends the same token on every call until it
# expires, and checking the HMAC and claims again cost about as much as the rest of the
# authentication. Keyed by the token and the settings it was checked against; an entry is used
# only before the token's `exp` (the lifetime bound only loosens as time passes). Only tokens
# with a valid signature get in, at most VERIFIED_TOKENS_MAX of them (oldest dropped first).
# Whether the user may still act is not cached here: it is read from accounts.cache each time.
VERIFIED_TOKENS_MAX = 1024
_verified_tokens: dict[tuple, tuple[dict, int, float]] = {}


def _verify_cached(raw_token: str) -> tuple[dict, int]:
    key = (raw_token, settings.JWT_SECRET, settings.JWT_ISSUER, settings.JWT_AUDIENCE,
           settings.JWT_MAX_TOKEN_LIFETIME)
    hit = _verified_tokens.get(key)
    if hit is not None and hit[2] > time.time():
        return dict(hit[0]), hit[1]
    payload, user_id = _verify(raw_token)
    while len(_verified_tokens) >= VERIFIED_TOKENS_MAX:
        try:
            _verified_tokens.pop(next(iter(_verified_tokens)), None)
        except (RuntimeError, StopIteration):  # another thread changed it meanwhile
            break
    _verified_tokens[key] = (dict(payload), user_id, payload["exp"])
    return payload, user_id


def user_from_token(raw_token: str):
    payload, user_id = _verify_cached(raw_token)
    user = user_cached(user_id)
    if user is None:
        raise exceptions.AuthenticationFailed("Unknown user.")
    if not user.is_active:
        raise exceptions.AuthenticationFailed("User is inactive.")
    if user.tenant_id and user.tenant.status == Tenant.Status.ARCHIVED:
        raise exceptions.AuthenticationFailed("Tenant has been deleted.")
    if user.tenant_id and user.tenant.status != Tenant.Status.ACTIVE:
        raise exceptions.PermissionDenied("Tenant is suspended.")
    return user, payload


class JWTAuthentication(authentication.BaseAuthentication):
    keyword = "Bearer"

    def authenticate(self, request):
        header = authentication.get_authorization_header(request)
        if not header:
            return None
        parts = header.split()
        if not parts or parts[0].lower() != self.keyword.lower().encode():
            return None
        if len(parts) != 2:
            raise exceptions.AuthenticationFailed("Invalid Authorization header.")
        try:
            raw = parts[1].decode("ascii")
        except UnicodeDecodeError as exc:
            raise exceptions.AuthenticationFailed("Invalid token.") from exc
        return user_from_token(raw)

    def authenticate_header(self, request):
        return 'Bearer realm="api"'
