"""Credit endpoints: seed 003 (status envelope), the frontend wallet and seed 004 (success envelope)."""

import hashlib

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import BasePermission

from accounts.authentication import JWTAuthentication
from config import envelopes
from config.api import StatusAPIView, SuccessAPIView, envelope_serializer
from config.envelopes import status_response, success_response
from config.errors import NotFound
from config.idempotency import HEADER as IDEMPOTENCY_HEADER
from config.idempotency import idempotent
from config.pagination import PAGE_PARAMETERS
from config.permissions import HasApiKey, IsStaff, IsUser, is_api_key_request
from config.schema import error_responses
from credits import messages, selectors, services
from credits import serializers as s
from credits.models import CreditTransaction
from tenants.authentication import ApiKeyAuthentication
from tenants.models import Tenant

BOT_TAGS = ["bot credits"]
WALLET_TAGS = ["wallet"]
ADMIN_TAGS = ["admin credits"]
TENANT_TAGS = ["tenant credits"]

STATUS = envelopes.STATUS
SUCCESS = envelopes.SUCCESS

IDEMPOTENCY_PARAMETER = OpenApiParameter(
    IDEMPOTENCY_HEADER, OpenApiTypes.STR, OpenApiParameter.HEADER, required=False,
    description="Same key + same body replays the first answer; another body → 409.",
)
LEDGER_KEY_MAX_LENGTH = CreditTransaction._meta.get_field("idempotency_key").max_length

PHONE_PARAMETER = OpenApiParameter("phone_number", OpenApiTypes.STR, OpenApiParameter.PATH,
                                   description="Any common format; normalized to E.164.")


def _caller(request) -> str:
    """Who is calling, as `config.idempotency.caller_scope` names them: `key:<api key id>` or
    `user:<user id>` (every endpoint with a ledger key requires one or the other)."""
    if is_api_key_request(request):
        return f"key:{request.auth.pk}"
    return f"user:{request.user.pk}"


def _ledger_key(request, scope: str) -> str | None:
    """The HTTP Idempotency-Key also keys the ledger row, so the effect stays single even after the
    stored HTTP answer has expired.

    Ledger keys are unique per wallet, and several callers share a wallet (a tenant's API keys
    act on the same users and tenant wallet; staff share the master wallet), so the key carries
    the caller (DESIGN §6: keys are scoped per caller): `bot-deduct:key:7:<key>`. It is never cut:
    a composed key too long for the column becomes `sha256:<scope>:<caller>:<digest of the whole
    composed key>`. No plain key starts with `sha256:` (scopes are fixed words), so the two forms
    never meet and distinct keys stay distinct.
    """
    key = request.headers.get(IDEMPOTENCY_HEADER)
    key = key.strip() if key else ""
    if not key:
        return None
    caller = _caller(request)
    composed = f"{scope}:{caller}:{key}"
    if len(composed) <= LEDGER_KEY_MAX_LENGTH:
        return composed
    return f"sha256:{scope}:{caller}:{hashlib.sha256(composed.encode()).hexdigest()}"


def _key_metadata(request, extra: dict | None = None) -> dict:
    metadata = {"api_key": request.auth.prefix} if is_api_key_request(request) else {}
    metadata.update(extra or {})
    return metadata


# --- seed 003: bot API (API key) ----------------------------------------------------------------

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


class BotDeductView(_BotView):
    @extend_schema(
        tags=BOT_TAGS, request=s.BotDeductSerializer, parameters=[IDEMPOTENCY_PARAMETER],
        description="Deduct credits (default 1) after a generation. Short balance → 402 "
                    "`INSUFFICIENT_CREDITS`, nothing deducted. A deactivated user → 403 "
                    "\"User is inactive.\", nothing deducted.",
        responses={200: envelope_serializer("BotDeductEnvelope", s.BotDeductResultSerializer,
                                            envelope=STATUS),
                   402: envelope_serializer("BotInsufficientEnvelope", s.RemainingCreditsSerializer,
                                            envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403, 409)},
    )
    def post(self, request):
        return idempotent(request, lambda: self._deduct(request))

    def _deduct(self, request):
        body = s.BotDeductSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        label = data.get("source")
        txn, _ = services.wallet_deduct_for_phone(
            phone=data["phone_number"], tenant=request.auth.tenant, credits=data["credits"],
            source=CreditTransaction.Source.USAGE,
            reason="Bot deduction", reference_id=data.get("reference_id") or None,
            idempotency_key=_ledger_key(request, "bot-deduct"),
            metadata=_key_metadata(request, {"label": label} if label else None),
        )
        return status_response(messages.deducted_message(txn.balance_after), {
            "remaining_credits": txn.balance_after, "credits_deducted": txn.credits,
            "transaction_id": txn.pk,
        })


# --- seed 003: user profile and history (API key of the user's tenant, staff, or the user) ------

class StaffUserOrBotKey(BasePermission):
    """A person (JWT) or an API key with the bot scope; which users they see is decided per row."""

    def has_permission(self, request, view):
        if is_api_key_request(request):
            return request.auth.has_scope("bot")
        return bool(request.user and request.user.is_authenticated)


class _UserReadView(StatusAPIView):
    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [StaffUserOrBotKey]


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
            pattern=f"^{selectors.TENANT_SLUG_RE.pattern}$",
            description="Staff only: the tenant's slug when several tenants have this number. "
                        f"At most {selectors.TENANT_SLUG_MAX_LENGTH} characters. Ignored for API keys "
                        "and users; a malformed slug is 400 for everyone.")],
        description="Callers: an API key of the user's tenant, staff, or the user themself. Anyone "
                    "else gets 404.",
        responses={200: envelope_serializer("UserProfileEnvelope", s.UserProfileSerializer,
                                            envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403, 404)},
    )
    def get(self, request, phone_number):
        user = selectors.user_visible_by_phone(request=request, phone=phone_number,
                                               tenant_slug=request.query_params.get("tenant"))
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
                                         f"{selectors.HISTORY_LIMIT_MAX_DIGITS}). Default "
                                         f"{selectors.HISTORY_DEFAULT_LIMIT}, capped at "
                                         f"{selectors.HISTORY_MAX_LIMIT}."),
        ],
        description="Newest first. `total` counts all of the user's transactions.",
        responses={200: envelope_serializer("CreditHistoryEnvelope", s.HistorySerializer, envelope=STATUS),
                   **error_responses(STATUS, 400, 401, 403, 404)},
    )
    def get(self, request, user_id):
        limit = selectors.parse_limit(request.query_params.get("limit"))
        user = selectors.user_visible_by_id(request=request, user_id=user_id)
        rows, total = selectors.user_history(user=user, limit=limit)
        transactions = s.HistoryTransactionSerializer(rows, many=True, context={"user_id": user.pk}).data
        return status_response("Credit history retrieved successfully",
                               {"user_id": user.pk, "transactions": transactions, "total": total})


# --- frontend: my wallet (JWT) ------------------------------------------------------------------

class WalletView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(tags=WALLET_TAGS,
                   responses={200: envelope_serializer("WalletBalanceEnvelope", s.WalletBalanceSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 401, 403)})
    def get(self, request):
        balance, updated_at = selectors.wallet_balance(user=request.user)
        return success_response(s.WalletBalanceSerializer({"balance": balance,
                                                           "updated_at": updated_at}).data)


class WalletTransactionsView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(
        tags=WALLET_TAGS,
        parameters=[
            OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                             enum=CreditTransaction.Action.values),
            OpenApiParameter("source", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                             enum=CreditTransaction.Source.values),
            OpenApiParameter("created_after", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False,
                             description="From this day (inclusive, UTC)."),
            OpenApiParameter("created_before", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False,
                             description="To this day (inclusive, UTC)."),
            *PAGE_PARAMETERS,
        ],
        responses={200: envelope_serializer("WalletTransactionsEnvelope", s.TransactionPageSerializer,
                                            envelope=SUCCESS),
                   **error_responses(SUCCESS, 400, 401, 403)},
    )
    def get(self, request):
        page = selectors.wallet_transactions_page(user=request.user, params=request.query_params)
        return success_response(s.TransactionPageSerializer(page).data)


# --- seed 004: staff (master wallet, allocations) -----------------------------------------------

WalletEnvelope = envelope_serializer("CreditWalletEnvelope", s.WalletSerializer, envelope=SUCCESS)
MovementEnvelope = envelope_serializer("CreditMovementEnvelope", s.WalletMovementSerializer,
                                       envelope=SUCCESS)


class _StaffView(SuccessAPIView):
    permission_classes = [IsStaff]


class MasterWalletView(_StaffView):
    @extend_schema(tags=ADMIN_TAGS, responses={200: WalletEnvelope, **error_responses(SUCCESS, 401, 403)})
    def get(self, request):
        return success_response(s.wallet_data(services.wallet_get_platform()))


class MasterPurchaseView(_StaffView):
    @extend_schema(tags=ADMIN_TAGS, request=s.PurchaseSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   description="Record credits bought for the platform's inventory (the master wallet).",
                   responses={201: MovementEnvelope, **error_responses(SUCCESS, 400, 401, 403, 409)})
    def post(self, request):
        return idempotent(request, lambda: self._purchase(request))

    def _purchase(self, request):
        body = s.PurchaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        wallet = services.wallet_get_platform()
        metadata = {name: data[name] for name in ("vendor", "amount_paise") if name in data}
        txn = services.wallet_grant(
            wallet=wallet, credits=data["credits"], source=CreditTransaction.Source.PAYMENT,
            actor=request.user, reason=data.get("reason") or "Master wallet purchase",
            reference_id=data.get("reference_id"), idempotency_key=_ledger_key(request, "purchase"),
            metadata=metadata,
        )
        wallet.refresh_from_db()
        return success_response({"wallet": s.wallet_data(wallet),
                                 "transaction": s.TransactionSerializer(txn).data}, status=201)


class TenantWalletsView(_StaffView):
    @extend_schema(tags=ADMIN_TAGS, parameters=PAGE_PARAMETERS,
                   responses={200: envelope_serializer("TenantWalletsEnvelope", s.TenantWalletPageSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 403)})
    def get(self, request):
        return success_response(s.TenantWalletPageSerializer(
            selectors.tenant_wallets_page(params=request.query_params)).data)


class AllocateView(_StaffView):
    @extend_schema(tags=ADMIN_TAGS, request=s.AllocateSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   description="Move credits from the master wallet to a tenant's wallet.",
                   responses={201: envelope_serializer("AllocationEnvelope", s.AllocationSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 402, 403, 404, 409)})
    def post(self, request):
        return idempotent(request, lambda: self._allocate(request))

    def _allocate(self, request):
        body = s.AllocateSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        tenant = Tenant.objects.filter(pk=data["tenant_id"]).first()
        if tenant is None:
            raise NotFound("Tenant not found.", code="tenant_not_found")
        master = services.wallet_get_platform()
        target = services.wallet_get_or_create_for_tenant(tenant=tenant)
        try:
            debit, credit = services.wallet_transfer(
                source_wallet=master, target_wallet=target, credits=data["credits"], actor=request.user,
                reason=data.get("reason") or f"Allocation to {tenant.slug}",
                reference_id=data.get("reference_id"), idempotency_key=_ledger_key(request, "allocate"),
            )
        except services.InsufficientCredits as exc:
            raise services.InsufficientCredits(
                balance=exc.balance, requested=exc.requested,
                message=f"The master wallet holds {messages.credits_phrase(exc.balance)}; "
                        f"{exc.requested} requested.",
            ) from exc
        master.refresh_from_db()
        target.refresh_from_db()
        return success_response({
            "master_wallet": s.wallet_data(master), "tenant_wallet": s.wallet_data(target),
            "debit": s.TransactionSerializer(debit).data, "credit": s.TransactionSerializer(credit).data,
        }, status=201)


# --- seed 004: tenant (API key) -----------------------------------------------------------------

class _TenantView(SuccessAPIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]
    api_key_scope = "bot"


class TenantWalletView(_TenantView):
    @extend_schema(tags=TENANT_TAGS, responses={200: WalletEnvelope, **error_responses(SUCCESS, 401, 403)})
    def get(self, request):
        return success_response(s.wallet_data(services.wallet_get_or_create_for_tenant(
            tenant=request.auth.tenant)))


class TenantDeductView(_TenantView):
    @extend_schema(tags=TENANT_TAGS, request=s.TenantDeductSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   description="Spend credits of the calling tenant's wallet.",
                   responses={200: MovementEnvelope, **error_responses(SUCCESS, 400, 401, 402, 403, 409)})
    def post(self, request):
        return idempotent(request, lambda: self._deduct(request))

    def _deduct(self, request):
        body = s.TenantDeductSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        wallet = services.wallet_get_or_create_for_tenant(tenant=request.auth.tenant)
        try:
            txn = services.wallet_deduct(
                wallet=wallet, credits=data["credits"], reason=data.get("reason") or "Tenant usage",
                reference_id=data.get("reference_id"), idempotency_key=_ledger_key(request, "tenant-deduct"),
                metadata=_key_metadata(request),
            )
        except services.InsufficientCredits as exc:
            raise services.InsufficientCredits(
                balance=exc.balance, requested=exc.requested,
                message=f"The tenant wallet holds {messages.credits_phrase(exc.balance)}; "
                        f"{exc.requested} requested.",
            ) from exc
        return success_response({"wallet": s.wallet_data(wallet),
                                 "transaction": s.TransactionSerializer(txn).data})
