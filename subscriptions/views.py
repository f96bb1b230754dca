"""Token API (seeds 000/001, DESIGN §4.2): flat bodies, errors ``{"error": "..."}``.

Who may do what
- ``GET api/tokens/usage``: the user (JWT). The first call provisions basic.
- ``POST api/tokens/set-plan``: the user for themselves; platform staff (super_admin/admin) for
  any user via ``user_id``, tenant staff for users of their tenant; an API key with scope
  ``tokens`` for a user of its tenant (``user_id`` required). ``reset_used: true`` needs staff or a
  key. An upgrade to a paid plan without paying needs platform staff, or
  TOKENS_SELF_SERVICE_UPGRADE (users, tenant staff and keys buy upgrades through payments). The
  service decides (config.policy: "token.plan.*").
- ``POST api/tokens/consume``: the user (JWT), staff or an API key with ``user_id`` ("token.consume").

Precedence of refusals (first that applies wins):
401 unauthorized → 403 key without scope "tokens" → 400 invalid body (malformed JSON, unknown
keys, wrong types; API key without user_id: "user_id required") → 400 invalid plan → 403
forbidden (another user's user_id by a regular user, then reset_used by a regular user) → 404
user not found (unknown user, or not in the key's / staff's tenant) → 402 payment required
(paid upgrade without the right) / 402 quota exceeded → 409 Idempotency-Key reused with
another body is decided before the effect, after the checks above.
"""

from dataclasses import dataclass

from django.contrib.auth import get_user_model
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import BasePermission

from accounts.authentication import JWTAuthentication
from config import envelopes
from config.api import FlatAPIView
from config.envelopes import flat_response
from config.errors import Forbidden, InvalidInput, NotFound
from config.idempotency import idempotent
from config.permissions import IsUser, is_api_key_request
from config.policy import policy_allows, principal_of
from config.schema import error_responses
from plans.selectors import token_plan_get
from subscriptions import serializers as s
from subscriptions import services
from tenants.authentication import ApiKeyAuthentication

TAGS = ["tokens"]
API_KEY_SCOPE = "tokens"

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Same key and body replays the first answer without consuming again; "
                "another body answers 409.",
)


class IsUserOrTokensKey(BasePermission):
    """A person with a JWT, or an API key with scope "tokens"."""

    def has_permission(self, request, view):
        if is_api_key_request(request):
            return request.auth.has_scope(API_KEY_SCOPE)
        return bool(request.user and request.user.is_authenticated)


@dataclass(frozen=True)
class Target:
    user_id: int
    tenant_id: int | None  # the target must belong to this tenant
    caller: str  # "self" or "other"


def _require_user_id(request, user_id):
    if is_api_key_request(request) and user_id is None:
        raise InvalidInput("user_id required", code="user_required",
                           fields={"user_id": ["Required with an API key."]})


def _target(request, user_id: int | None) -> Target:
    """Whose tokens: the caller's own, or (staff, keys) `user_id`'s. A caller who may not act for
    others at all gets 403; the user is then looked up within the caller's tenant (platform
    staff: any), so another tenant's user is 404."""
    principal = principal_of(request)
    if not principal.is_api_key and (user_id is None or user_id == request.user.pk):
        return Target(user_id=request.user.pk, tenant_id=None, caller="self")
    if not policy_allows(principal, "token.for_user"):
        raise Forbidden("forbidden")
    tenant_id = None if principal.is_platform_staff else principal.tenant_id
    return Target(user_id=user_id, tenant_id=tenant_id, caller="other")


def _target_user(request, target: Target):
    if target.caller == "self":
        return request.user
    users = get_user_model().objects.filter(pk=target.user_id)
    if target.tenant_id is not None:
        users = users.filter(tenant_id=target.tenant_id)
    user = users.first()
    if user is None:
        raise NotFound("user not found", code="user_not_found")
    return user


def _actor_and_reason(request, action: str) -> tuple:
    if is_api_key_request(request):
        return None, f"api: {action} by key {request.auth.prefix}"
    return request.user, f"api: {action}"


class TokenUsageView(FlatAPIView):
    permission_classes = [IsUser]

    @extend_schema(tags=TAGS, operation_id="tokens_usage",
                   description="The caller's token plan and quota this billing month (seed 000). "
                               "The first call provisions basic (1,000 tokens).",
                   responses={200: s.TokenUsageSerializer, **error_responses(envelopes.FLAT, 401)})
    def get(self, request):
        return flat_response(services.token_usage_get(user=request.user))


class TokenSetPlanView(FlatAPIView):
    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [IsUserOrTokensKey]

    @extend_schema(
        tags=TAGS, operation_id="tokens_set_plan", request=s.TokenSetPlanSerializer,
        description="Seed 001's plan change (upgrade with carry-over, same tier, downgrade). "
                    "Users may downgrade or confirm; paid upgrades go through payments (402) "
                    "unless TOKENS_SELF_SERVICE_UPGRADE; reset_used and user_id need staff or "
                    "an API key with scope tokens.",
        responses={200: s.TokenSetPlanResultSerializer,
                   **error_responses(envelopes.FLAT, 400, 401, 402, 403, 404)},
    )
    def post(self, request):
        body = s.TokenSetPlanSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        _require_user_id(request, data.get("user_id"))
        token_plan_get(code=data["plan"])
        principal = principal_of(request)
        target = _target(request, data.get("user_id"))
        if data["reset_used"] and not policy_allows(principal, "token.plan.reset_used"):
            raise Forbidden("forbidden")
        user = _target_user(request, target)
        actor, reason = _actor_and_reason(request, "set-plan")
        change = services.token_plan_change(
            principal=principal, user=user, plan_code=data["plan"], reset_used=data["reset_used"],
            actor=actor, reason=reason,
        )
        return flat_response(change.as_response())


class TokenConsumeView(FlatAPIView):
    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [IsUserOrTokensKey]

    @extend_schema(
        tags=TAGS, operation_id="tokens_consume", request=s.TokenConsumeSerializer,
        description="Spend tokens atomically; refuses with 402 and `remaining` rather than "
                    "exceed the quota. Users for themselves; staff or an API key (scope tokens, "
                    "users of its tenant) with user_id.",
        parameters=[IDEMPOTENCY_KEY],
        responses={200: s.TokenUsageSerializer,
                   402: OpenApiResponse(s.TokenQuotaExceededSerializer,
                                        description='{"error": "quota exceeded", "remaining": r}'),
                   **error_responses(envelopes.FLAT, 400, 401, 403, 404, 409)},
    )
    def post(self, request):
        body = s.TokenConsumeSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        _require_user_id(request, data.get("user_id"))
        target = _target(request, data.get("user_id"))
        return idempotent(request, lambda: flat_response(services.token_consume(
            user_id=target.user_id, tokens=data["tokens"], tenant_id=target.tenant_id)))
