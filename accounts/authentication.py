"""Bearer JWT authentication: our own access tokens and externally issued ones (seed 000).

External tokens are HS256, signed with `JWT_SECRET`, carry `user_id` or `sub` (a number or a
numeric string) and `exp`; they need no `token_type` or `jti`. Refresh tokens are refused here.
The user (with their tenant) comes from a short-lived cache (accounts.cache): no query per
request, and a deactivated user or suspended tenant is still refused within API_KEY_CACHE_SECONDS.
"""

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


def user_from_token(raw_token: str):
    try:
        payload = jwt.decode(
            raw_token, settings.JWT_SECRET, algorithms=[ALGORITHM],
            options={"require": ["exp"], "verify_sub": False}, leeway=0,
        )
    except jwt.ExpiredSignatureError as exc:
        raise exceptions.AuthenticationFailed("Token has expired.") from exc
    except jwt.PyJWTError as exc:
        raise exceptions.AuthenticationFailed("Invalid token.") from exc
    if not isinstance(payload, dict):
        raise exceptions.AuthenticationFailed("Invalid token.")
    token_type = payload.get("token_type")
    if token_type is not None and token_type != "access":
        raise exceptions.AuthenticationFailed("Only access tokens are accepted here.")
    user_id = _user_id_from_claims(payload)
    user = user_cached(user_id)
    if user is None:
        raise exceptions.AuthenticationFailed("Unknown user.")
    if not user.is_active:
        raise exceptions.AuthenticationFailed("User is inactive.")
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
