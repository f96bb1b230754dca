"""Seed 004's tenants API (success envelope), DESIGN §4.6. Platform staff run tenants; a
tenant's own admin may read it, its stats, and manage its API keys (and staff: accounts.views_staff).
Another tenant's id answers 404. Every write goes through `tenants.services` (audited)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import Conflict
from config.pagination import PAGE_PARAMETERS, page_params, paginate
from config.policy import PolicyPermission, principal_of, view_action
from config.schema import error_responses
from tenants import selectors, services
from tenants import serializers as s
from tenants.models import ApiKey
from tenants.stats import tenant_stats

TAGS = ["tenants"]
SUCCESS = envelopes.SUCCESS
TenantEnvelope = envelope_serializer("TenantEnvelope", s.TenantSerializer, envelope=SUCCESS)
TenantPageEnvelope = envelope_serializer("TenantPageEnvelope", s.TenantPageSerializer, envelope=SUCCESS)

FILTER_PARAMETERS = [
    OpenApiParameter("search", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     description="Part of the name, slug or email."),
    OpenApiParameter("status", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     enum=["active", "suspended", "archived"]),
]


def _body(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class _TenantsView(SuccessAPIView):
    permission_classes = [PolicyPermission]

    def _tenant(self, request, tenant_id):
        return selectors.tenant_for(principal=principal_of(request), action=view_action(self, request.method),
                                    tenant_id=tenant_id)


class TenantListView(_TenantsView):
    policy_action = {"GET": "tenant.list", "POST": "tenant.create"}

    @extend_schema(tags=TAGS, parameters=[*PAGE_PARAMETERS, *FILTER_PARAMETERS], summary="Tenants", operation_id="v1_tenants_list",
                   responses={200: TenantPageEnvelope, **error_responses(SUCCESS, 400, 401, 403)})
    def get(self, request):
        page, page_size = page_params(request.query_params)
        tenants = selectors.tenants_filtered(request.query_params)
        return success_response(s.TenantPageSerializer(paginate(tenants, page=page, page_size=page_size)).data)

    @extend_schema(tags=TAGS, request=s.TenantCreateSerializer, summary="Create a tenant",
                   description="The slug is made from the name when not given (`-2`, `-3`, … when taken); "
                               "a slug given and taken → 400 `slug_taken`.",
                   responses={201: TenantEnvelope, **error_responses(SUCCESS, 400, 401, 403)})
    def post(self, request):
        data = _body(s.TenantCreateSerializer, request)
        tenant = services.tenant_create(actor=request.user, **data)
        return success_response(s.TenantSerializer(tenant).data, status=201)


class TenantDetailView(_TenantsView):
    policy_action = {"GET": "tenant.read", "PUT": "tenant.update", "DELETE": "tenant.archive"}

    @extend_schema(tags=TAGS, summary="A tenant",
                   responses={200: TenantEnvelope, **error_responses(SUCCESS, 401, 403, 404)})
    def get(self, request, tenant_id: str):
        return success_response(s.TenantSerializer(self._tenant(request, tenant_id)).data)

    @extend_schema(tags=TAGS, request=s.TenantUpdateSerializer, summary="Change a tenant (only the fields given)",
                   responses={200: TenantEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def put(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        data = _body(s.TenantUpdateSerializer, request)
        tenant = services.tenant_update(tenant=tenant, actor=request.user, **data)
        return success_response(s.TenantSerializer(tenant).data)

    @extend_schema(tags=TAGS, request=s.ReasonSerializer, summary="Archive a tenant (final)",
                   description="Keys revoked, its users' tokens and logins refused; ledger and orders kept.",
                   responses={200: TenantEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def delete(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        data = _body(s.ReasonSerializer, request)
        tenant = services.tenant_archive(tenant=tenant, actor=request.user, reason=data.get("reason", ""))
        return success_response(s.TenantSerializer(tenant).data, message="Tenant archived.")


class TenantSuspendView(_TenantsView):
    policy_action = "tenant.suspend"

    @extend_schema(tags=TAGS, request=s.ReasonRequiredSerializer, summary="Suspend a tenant",
                   description="Its keys and staff are refused (403) at once. Suspended already → 409.",
                   responses={200: TenantEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def post(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        data = _body(s.ReasonRequiredSerializer, request)
        tenant = services.tenant_suspend(tenant=tenant, actor=request.user, reason=data["reason"])
        return success_response(s.TenantSerializer(tenant).data)


class TenantReactivateView(_TenantsView):
    policy_action = "tenant.reactivate"

    @extend_schema(tags=TAGS, request=s.ReasonSerializer, summary="Reactivate a suspended tenant",
                   responses={200: TenantEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def post(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        data = _body(s.ReasonSerializer, request)
        tenant = services.tenant_reactivate(tenant=tenant, actor=request.user, reason=data.get("reason", ""))
        return success_response(s.TenantSerializer(tenant).data)


class TenantStatsView(_TenantsView):
    policy_action = "tenant.stats"

    @extend_schema(tags=TAGS, summary="A tenant's figures (last 30 days where it says so)",
                   responses={200: envelope_serializer("TenantStatsEnvelope", s.TenantStatsSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 401, 403, 404)})
    def get(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        return success_response(s.TenantStatsSerializer(tenant_stats(tenant=tenant)).data)


class TenantApiKeysView(_TenantsView):
    policy_action = {"GET": "tenant.api_key.read", "POST": "tenant.api_key.write"}

    @extend_schema(tags=TAGS, parameters=PAGE_PARAMETERS, summary="A tenant's API keys (never the key)",
                   responses={200: envelope_serializer("ApiKeyPageEnvelope", s.ApiKeyPageSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 403, 404)})
    def get(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        page, page_size = page_params(request.query_params)
        keys = ApiKey.objects.filter(tenant=tenant).order_by("-created_at", "-id")
        return success_response(s.ApiKeyPageSerializer(paginate(keys, page=page, page_size=page_size)).data)

    @extend_schema(tags=TAGS, request=s.ApiKeyCreateSerializer, summary="Create an API key",
                   description="The answer carries the key under `key`, this once; only its hash is kept. "
                               "Scopes default to `[\"bot\"]`.",
                   responses={201: envelope_serializer("ApiKeyCreatedEnvelope", s.ApiKeyCreatedSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def post(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        data = _body(s.ApiKeyCreateSerializer, request)
        api_key, raw = services.api_key_create(tenant=tenant, name=data["name"], scopes=data.get("scopes"),
                                               actor=request.user)
        return success_response({**s.ApiKeySerializer(api_key).data, "key": raw}, status=201,
                                message="Store the key now: it is not shown again.")


class TenantApiKeyRevokeView(_TenantsView):
    policy_action = "tenant.api_key.write"

    @extend_schema(tags=TAGS, request=s.ReasonSerializer, summary="Revoke an API key",
                   description="Refused (401) at once. Revoked already → 409.",
                   responses={200: envelope_serializer("ApiKeyEnvelope", s.ApiKeySerializer, envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def post(self, request, tenant_id: str, key_id: str):
        tenant = self._tenant(request, tenant_id)
        api_key = selectors.api_key_of_tenant(tenant=tenant, key_id=key_id)
        data = _body(s.ReasonSerializer, request)
        if api_key.revoked_at is not None:
            raise Conflict("The key is already revoked.", code="api_key_already_revoked")
        api_key = services.api_key_revoke(api_key=api_key, actor=request.user, reason=data.get("reason", ""))
        return success_response(s.ApiKeySerializer(api_key).data)
