"""Seed 003 (status envelope): the bot's balance and deduction by phone number (API key), and a
user's profile and credit history (an API key of the user's tenant, staff, or the user)."""

import functools
import re

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.response import Response

from accounts.authentication import JWTAuthentication
from config import envelopes
from config.api import StatusAPIView, envelope_serializer
from config.envelopes import status_response
from config.errors import InvalidInput
from config.idempotency import HEADER_META_KEY as IDEMPOTENCY_META_KEY
from config.idempotency import idempotent
from config.ids import positive_id
from config.lean import LeanPostMixin
from config.permissions import HasApiKey
from config.policy import PolicyPermission
from config.schema import error_responses
from credits import messages, selectors, services
from credits import serializers as s
from credits.models import CreditTransaction
from credits.views.common import (
    IDEMPOTENCY_PARAMETER,
    PHONE_PARAMETER,
    caller_principal,
    key_metadata,
    ledger_key,
)
from tenants.authentication import ApiKeyAuthentication
from tenants.models import Tenant

BOT_TAGS = ["bot credits"]
STATUS = envelopes.STATUS

HISTORY_DEFAULT_LIMIT = 50
HISTORY_MAX_LIMIT = 200
# `?limit=` longer than this is nonsense (400), not a number to cap.
HISTORY_LIMIT_MAX_DIGITS = 20

TENANT_SLUG_RE = re.compile(r"[-a-zA-Z0-9_]+")
TENANT_SLUG_MAX_LENGTH = Tenant._meta.get_field("slug").max_length


# --- query parameters ---------------------------------------------------------------------------

def parse_tenant_slug(raw: str | None) -> str | None:
    """`?tenant=`: absent, or a tenant slug (letters, digits, `-`, `_`; at most the column's length).
    Anything else, the empty string included, is 400, whoever calls."""
    if raw is None:
        return None
    if not (len(raw) <= TENANT_SLUG_MAX_LENGTH and TENANT_SLUG_RE.fullmatch(raw)):
        raise InvalidInput("tenant must be a tenant slug.", code="invalid_tenant",
                           fields={"tenant": ["Invalid."]})
    return raw


def parse_limit(raw, *, default=HISTORY_DEFAULT_LIMIT, cap=HISTORY_MAX_LIMIT) -> int:
    """`?limit=`: ASCII digits (leading zeros allowed, at most HISTORY_LIMIT_MAX_DIGITS of them)
    making a positive number; above the cap it is capped. Anything else is 400. The one parsed
    value is both checked and used."""
    if raw is None:
        return default
    if not (0 < len(raw) <= HISTORY_LIMIT_MAX_DIGITS and raw.isascii() and raw.isdigit()):
        raise InvalidInput("limit must be a positive whole number.", code="invalid_limit",
                           fields={"limit": ["Invalid."]})
    value = int(raw)
    if value < 1:
        raise InvalidInput("limit must be a positive whole number.", code="invalid_limit",
                           fields={"limit": ["Invalid."]})
    return min(value, cap)


def parse_user_id(raw) -> int:
    user_id = positive_id(raw)
    if user_id is None:
        raise InvalidInput("Invalid user id.", code="invalid_user_id", fields={"user_id": ["Invalid."]})
    return user_id


# --- the bot: balance and deduction (API key) ---------------------------------------------------

class _BotView(StatusAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    api_key_scope = "bot"


class BotCreditsView(_BotView):
    @extend_schema(
        tags=BOT_TAGS, parameters=[PHONE_PARAMETER],
        description="Balance of the tenant's user with this phone number. A number met for the first "
                    "time becomes a user with the free signup credits (`user_exists: false`). A "
                    "deactivated user is refused (403 \"User is inactive.\"), not shown nor created again.",
        responses={200: envelope_serializer("BotCreditsEnvelope", s.BotCreditsSerializer, envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403)},
    )
    def get(self, request, phone_number):
        wallet, existed = services.wallet_get_or_create_for_phone(phone=phone_number,
                                                                  tenant=request.auth.tenant)
        return status_response(messages.balance_message(wallet.balance),
                               {"remaining_credits": wallet.balance, "user_exists": existed})


class BotDeductView(LeanPostMixin, _BotView):
    @extend_schema(
        tags=BOT_TAGS, request=s.BotDeductSerializer, parameters=[IDEMPOTENCY_PARAMETER],
        description="Deduct credits (default 1) after a generation. Short balance → 402 "
                    "`INSUFFICIENT_CREDITS`, nothing deducted. A deactivated user → 403 "
                    "\"User is inactive.\", nothing deducted.",
        responses={200: envelope_serializer("BotDeductEnvelope", s.RemainingCreditsSerializer,
                                            envelope=STATUS),
                   402: envelope_serializer("BotInsufficientEnvelope", s.RemainingCreditsSerializer,
                                            envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403, 409)},
    )
    def post(self, request):
        return idempotent(request, lambda: Response(self.deducted(request, s.bot_deduct_input(request.data))))

    @classmethod
    def lean_post(cls, request, body):
        """The bot's plain call (config.lean): no Idempotency-Key (stored answers are the full
        view's) and the common body."""
        if request.META.get(IDEMPOTENCY_META_KEY) is not None:
            return None
        data = s.bot_deduct_common_input(body)
        return None if data is None else functools.partial(cls.deducted, request, data)

    @staticmethod
    def deducted(request, data) -> dict:
        """Deduct for the validated body; the answer's body. `request` is DRF's or, on the lean
        path, Django's with the caller set: either gives the key, its tenant and the headers."""
        label = data.get("source")
        txn, _ = services.wallet_deduct_for_phone(
            phone=data["phone_number"], tenant=request.auth.tenant, credits=data["credits"],
            source=CreditTransaction.Source.USAGE,
            reason="Bot deduction", reference_id=data.get("reference_id") or None,
            idempotency_key=ledger_key(request, "bot-deduct"),
            metadata=key_metadata(request, {"label": label} if label else None),
        )
        # Seed 003's data is exactly {"remaining_credits": n}.
        return envelopes.status_body(messages.deducted_message(txn.balance_after),
                                     {"remaining_credits": txn.balance_after})


# --- a user's profile and history (API key of the user's tenant, staff, or the user) ------------

class _UserReadView(StatusAPIView):
    """A person (JWT) or an API key with the bot scope; which users they see is the policy's
    "user.read" per user (another tenant's user, or someone else's account: 404)."""

    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [PolicyPermission]
    policy_action = "user.read"


class UserProfileView(_UserReadView):
    """A user by phone number.

    `?tenant=<slug>` matters to staff only, who see every tenant's users: it picks the tenant
    when several tenants have a user with this number. An API key (its own tenant) and a user
    (themself) are already scoped, so for them a well-formed slug is ignored. A malformed value
    (not a slug, empty, too long, NUL ...) is 400 for every caller.
    """

    @extend_schema(
        tags=BOT_TAGS,
        parameters=[PHONE_PARAMETER, OpenApiParameter(
            "tenant", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
            pattern=f"^{TENANT_SLUG_RE.pattern}$",
            description="Staff only: the tenant's slug when several tenants have this number. "
                        f"At most {TENANT_SLUG_MAX_LENGTH} characters. Ignored for API keys "
                        "and users; a malformed slug is 400 for everyone.")],
        description="Callers: an API key of the user's tenant, staff, or the user themself. Anyone "
                    "else gets 404.",
        responses={200: envelope_serializer("UserProfileEnvelope", s.UserProfileSerializer,
                                            envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403, 404)},
    )
    def get(self, request, phone_number):
        tenant_slug = parse_tenant_slug(request.query_params.get("tenant"))
        user = selectors.user_visible_by_phone(principal=caller_principal(request), phone=phone_number,
                                               tenant_slug=tenant_slug)
        balance, _ = selectors.wallet_balance(user=user)
        return status_response("User profile retrieved successfully", s.UserProfileSerializer({
            "id": user.pk, "phone_number": user.phone, "credits": balance, "created_at": user.created_at,
        }).data)


class CreditHistoryView(_UserReadView):
    @extend_schema(
        tags=BOT_TAGS,
        parameters=[
            OpenApiParameter("user_id", OpenApiTypes.STR, OpenApiParameter.PATH),
            OpenApiParameter("limit", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False,
                             description=f"A positive whole number (digits only, at most "
                                         f"{HISTORY_LIMIT_MAX_DIGITS}). Default "
                                         f"{HISTORY_DEFAULT_LIMIT}, capped at {HISTORY_MAX_LIMIT}."),
        ],
        description="Newest first. `total` counts all of the user's transactions.",
        responses={200: envelope_serializer("CreditHistoryEnvelope", s.HistorySerializer, envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403, 404)},
    )
    def get(self, request, user_id):
        limit = parse_limit(request.query_params.get("limit"))
        user = selectors.user_visible_by_id(principal=caller_principal(request),
                                            user_id=parse_user_id(user_id))
        rows, total = selectors.user_history(user=user, limit=limit)
        transactions = s.HistoryTransactionSerializer(rows, many=True, context={"user_id": user.pk}).data
        return status_response("Credit history retrieved successfully",
                               {"user_id": user.pk, "transactions": transactions, "total": total})
