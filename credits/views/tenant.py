"""Seed 004, a tenant's own wallet (success envelope): read and spend it, with one of the tenant's
API keys (scope bot) or a JWT of the tenant's staff (DESIGN §4.6)."""

from drf_spectacular.utils import extend_schema

from accounts.authentication import JWTAuthentication
from config import envelopes
from config.api import SuccessAPIView
from config.envelopes import success_response
from config.idempotency import idempotent
from config.policy import PolicyPermission, policy_require, principal_of
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
    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [PolicyPermission]

    def _tenant(self, request):
        """The caller's tenant: the key's, or the staff member's."""
        principal = principal_of(request)
        tenant = request.auth.tenant if principal.is_api_key else request.user.tenant
        policy_require(principal, self.policy_action, tenant)
        return tenant


class TenantWalletView(_TenantView):
    policy_action = "credits.tenant_wallet.read"

    @extend_schema(tags=TENANT_TAGS, responses={200: WalletEnvelope, **error_responses(SUCCESS, 401, 403)})
    def get(self, request):
        return success_response(s.wallet_data(services.wallet_get_or_create_for_tenant(
            tenant=self._tenant(request))))


class TenantDeductView(_TenantView):
    policy_action = "credits.tenant_wallet.deduct"

    @extend_schema(tags=TENANT_TAGS, request=s.TenantDeductSerializer, parameters=[IDEMPOTENCY_PARAMETER],
                   description="Spend credits of the calling tenant's wallet.",
                   responses={200: MovementEnvelope, **error_responses(SUCCESS, 400, 401, 402, 403, 409)})
    def post(self, request):
        return idempotent(request, lambda: self._deduct(request))

    def _deduct(self, request):
        body = s.TenantDeductSerializer(data=request.data)
        body.is_valid(raise_exception=True)
        data = body.validated_data
        wallet = services.wallet_get_or_create_for_tenant(tenant=self._tenant(request))
        actor = None if principal_of(request).is_api_key else request.user
        with short_balance_worded("The tenant wallet"):
            txn = services.wallet_deduct(
                wallet=wallet, credits=data["credits"], actor=actor,
                reason=data.get("reason") or "Tenant usage",
                reference_id=data.get("reference_id"),
                idempotency_key=ledger_key(request, "tenant-deduct"), metadata=key_metadata(request),
            )
        return success_response({"wallet": s.wallet_data(wallet),
                                 "transaction": s.TransactionSerializer(txn).data})
