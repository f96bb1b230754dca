"""Seed 004, a tenant's services (API key, success envelope): the tenant's wallet and spending it."""

from drf_spectacular.utils import extend_schema

from config import envelopes
from config.api import SuccessAPIView
from config.envelopes import success_response
from config.idempotency import idempotent
from config.permissions import HasApiKey
from config.schema import error_responses
from credits import serializers as s
from credits import services
from credits.views.common import (
    IDEMPOTENCY_PARAMETER,
    MovementEnvelope,
    WalletEnvelope,
    key_metadata,
    ledger_key,
    short_balance_worded,
)
from tenants.authentication import ApiKeyAuthentication

TENANT_TAGS = ["tenant credits"]
SUCCESS = envelopes.SUCCESS


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
        with short_balance_worded("The tenant wallet"):
            txn = services.wallet_deduct(
                wallet=wallet, credits=data["credits"], reason=data.get("reason") or "Tenant usage",
                reference_id=data.get("reference_id"),
                idempotency_key=ledger_key(request, "tenant-deduct"), metadata=key_metadata(request),
            )
        return success_response({"wallet": s.wallet_data(wallet),
                                 "transaction": s.TransactionSerializer(txn).data})
