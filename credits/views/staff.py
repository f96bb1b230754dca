"""Seed 004, staff (success envelope): the master wallet, its purchases, every tenant's balance,
and allocations from the master wallet to a tenant."""

from drf_spectacular.utils import extend_schema

from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import NotFound
from config.idempotency import idempotent
from config.pagination import PAGE_PARAMETERS, page_params
from config.policy import PolicyPermission
from config.schema import error_responses
from credits import selectors, services
from credits import serializers as s
from credits.views.common import (
    IDEMPOTENCY_PARAMETER,
    MovementEnvelope,
    WalletEnvelope,
    ledger_key,
    short_balance_worded,
)
from tenants.models import Tenant

ADMIN_TAGS = ["admin credits"]
SUCCESS = envelopes.SUCCESS

class _StaffView(SuccessAPIView):
    """Platform staff only (DESIGN §4.6): reads for every platform role, moves for super_admin/admin."""

    permission_classes = [PolicyPermission]


class MasterWalletView(_StaffView):
    policy_action = "credits.master.read"

    @extend_schema(tags=ADMIN_TAGS, responses={200: WalletEnvelope, **error_responses(SUCCESS, 401, 403)})
    def get(self, request):
        return success_response(s.wallet_data(services.wallet_get_platform()))


class MasterPurchaseView(_StaffView):
    policy_action = "credits.master.purchase"

    @extend_schema(tags=ADMIN_TAGS, request=s.PurchaseSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   description="Record credits bought for the platform's inventory (the master wallet).",
                   responses={201: MovementEnvelope, **error_responses(SUCCESS, 400, 401, 403, 409)})
    def post(self, request):
        return idempotent(request, lambda: self._purchase(request))

    def _purchase(self, request):
        body = s.PurchaseSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        metadata = {name: data[name] for name in ("vendor", "amount_paise") if name in data}
        txn = services.master_wallet_purchase(
            credits=data["credits"], actor=request.user, reason=data.get("reason") or "Master wallet purchase",
            reference_id=data.get("reference_id"), idempotency_key=ledger_key(request, "purchase"),
            metadata=metadata,
        )
        wallet = services.wallet_get_platform()
        return success_response({"wallet": s.wallet_data(wallet),
                                 "transaction": s.TransactionSerializer(txn).data}, status=201)


class TenantWalletsView(_StaffView):
    policy_action = "credits.tenant_wallets.read"

    @extend_schema(tags=ADMIN_TAGS, parameters=PAGE_PARAMETERS,
                   responses={200: envelope_serializer("TenantWalletsEnvelope", s.TenantWalletPageSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 403)})
    def get(self, request):
        page, page_size = page_params(request.query_params)
        return success_response(s.TenantWalletPageSerializer(
            selectors.tenant_wallets_page(page=page, page_size=page_size)).data)


class AllocateView(_StaffView):
    policy_action = "credits.allocate"

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
        with short_balance_worded("The master wallet"):
            master, target, debit, credit = services.tenant_wallet_allocate(
                tenant=tenant, credits=data["credits"], actor=request.user,
                reason=data.get("reason") or f"Allocation to {tenant.slug}",
                reference_id=data.get("reference_id"), idempotency_key=ledger_key(request, "allocate"),
            )
        master.refresh_from_db()
        target.refresh_from_db()
        return success_response({
            "master_wallet": s.wallet_data(master), "tenant_wallet": s.wallet_data(target),
            "debit": s.TransactionSerializer(debit).data, "credit": s.TransactionSerializer(credit).data,
        }, status=201)
