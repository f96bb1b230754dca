"""Seed 004's staff accounts (success envelope, DESIGN §4.6):

- `/api/v1/tenants/:id/users`: a tenant's staff (tenant_admin, tenant_staff), created and listed by
  platform staff or by that tenant's own tenant_admin (another tenant → 404);
- `/api/v1/admin/users[/:id[/activity]]`: platform staff accounts, for platform super_admin and
  admin (support may not). DELETE deactivates.
"""

from django.contrib.auth import get_user_model
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts import serializers as s
from accounts import staff
from config import envelopes, policy
from config.api import SuccessAPIView, envelope_serializer
from config.audit_api import AuditEventPageSerializer
from config.envelopes import success_response
from config.errors import InvalidInput, NotFound
from config.ids import positive_id
from config.models import AuditEvent
from config.pagination import PAGE_PARAMETERS, page_params, page_serializer, paginate
from config.policy import PolicyPermission, principal_of, view_action
from config.schema import error_responses
from tenants.selectors import tenant_for

User = get_user_model()
SUCCESS = envelopes.SUCCESS
StaffPageSerializer = page_serializer("StaffPage", s.StaffSerializer)
StaffEnvelope = envelope_serializer("StaffEnvelope", s.StaffSerializer, envelope=SUCCESS)
StaffPageEnvelope = envelope_serializer("StaffPageEnvelope", StaffPageSerializer, envelope=SUCCESS)
SEARCH_MAX = 100


def _body(serializer_class, request):
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _search(people, params, *, roles):
    search = params.get("search")
    if search:
        if len(search) > SEARCH_MAX or not search.isprintable():
            raise InvalidInput("search is too long or not text.", code="invalid_query", fields={"search": ["Invalid."]})
        from django.db.models import Q

        people = people.filter(Q(email__icontains=search) | Q(name__icontains=search))
    role = params.get("role")
    if role:
        if role not in roles:
            raise InvalidInput(f"role must be one of {', '.join(roles)}.", code="invalid_query",
                               fields={"role": ["Invalid."]})
        people = people.filter(role=role)
    return people.order_by("id")


LIST_PARAMETERS = [
    *PAGE_PARAMETERS,
    OpenApiParameter("search", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     description="Part of the email or name."),
    OpenApiParameter("role", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False),
]


class TenantUsersView(SuccessAPIView):
    permission_classes = [PolicyPermission]
    policy_action = {"GET": "tenant.user.read", "POST": "tenant.user.write"}

    def _tenant(self, request, tenant_id):
        return tenant_for(principal=principal_of(request), action=view_action(self, request.method),
                          tenant_id=tenant_id)

    @extend_schema(tags=["tenants"], parameters=LIST_PARAMETERS, summary="A tenant's staff",
                   responses={200: StaffPageEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404)})
    def get(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        page, page_size = page_params(request.query_params)
        people = _search(User.objects.filter(tenant=tenant, role__in=policy.TENANT_ROLES), request.query_params,
                         roles=policy.TENANT_ROLES)
        return success_response(StaffPageSerializer(paginate(people, page=page, page_size=page_size)).data)

    @extend_schema(tags=["tenants"], request=s.StaffCreateSerializer, summary="Add a tenant staff member",
                   description="`role`: `tenant_admin` or `tenant_staff`. A taken email → 400 `email_taken`.",
                   responses={201: StaffEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def post(self, request, tenant_id: str):
        tenant = self._tenant(request, tenant_id)
        data = _body(s.StaffCreateSerializer, request)
        user = staff.tenant_staff_create(tenant=tenant, actor=request.user, **data)
        return success_response(s.StaffSerializer(user).data, status=201)


ADMIN_TAGS = ["admin users"]


def _admin_user(user_id) -> User:
    pk = positive_id(user_id)
    user = None if pk is None else User.objects.filter(
        pk=pk, role__in=policy.PLATFORM_ROLES, tenant__isnull=True).first()
    if user is None:
        raise NotFound("Admin user not found.", code="admin_user_not_found")
    return user


class AdminUsersView(SuccessAPIView):
    permission_classes = [PolicyPermission]
    policy_action = {"GET": "admin_user.read", "POST": "admin_user.write"}

    @extend_schema(tags=ADMIN_TAGS, parameters=[*LIST_PARAMETERS, OpenApiParameter(
        "is_active", OpenApiTypes.BOOL, OpenApiParameter.QUERY, required=False)], summary="Platform staff",
        operation_id="v1_admin_users_list",
        responses={200: StaffPageEnvelope, **error_responses(SUCCESS, 400, 401, 403)})
    def get(self, request):
        page, page_size = page_params(request.query_params)
        people = _search(User.objects.filter(role__in=policy.PLATFORM_ROLES, tenant__isnull=True),
                         request.query_params, roles=policy.PLATFORM_ROLES)
        active = request.query_params.get("is_active")
        if active:
            if active not in ("true", "false"):
                raise InvalidInput("is_active must be true or false.", code="invalid_query",
                                   fields={"is_active": ["Invalid."]})
            people = people.filter(is_active=active == "true")
        return success_response(StaffPageSerializer(paginate(people, page=page, page_size=page_size)).data)

    @extend_schema(tags=ADMIN_TAGS, request=s.StaffCreateSerializer, summary="Add a platform staff member",
                   description="`role`: `super_admin` (by a super_admin only), `admin` or `support`. "
                               "A taken email → 400 `email_taken`.",
                   responses={201: StaffEnvelope, **error_responses(SUCCESS, 400, 401, 403)})
    def post(self, request):
        data = _body(s.StaffCreateSerializer, request)
        user = staff.admin_user_create(actor=request.user, **data)
        return success_response(s.StaffSerializer(user).data, status=201)


class AdminUserDetailView(SuccessAPIView):
    permission_classes = [PolicyPermission]
    policy_action = {"GET": "admin_user.read", "PUT": "admin_user.write", "DELETE": "admin_user.write"}

    @extend_schema(tags=ADMIN_TAGS, summary="A platform staff member",
                   responses={200: StaffEnvelope, **error_responses(SUCCESS, 401, 403, 404)})
    def get(self, request, user_id: str):
        return success_response(s.StaffSerializer(_admin_user(user_id)).data)

    @extend_schema(tags=ADMIN_TAGS, request=s.AdminUserUpdateSerializer,
                   summary="Change a platform staff member (only the fields given)",
                   description="Only a super_admin changes or makes a super_admin (403); your own role "
                               "or deactivating yourself → 409.",
                   responses={200: StaffEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def put(self, request, user_id: str):
        user = _admin_user(user_id)
        data = _body(s.AdminUserUpdateSerializer, request)
        user = staff.admin_user_update(user=user, actor=request.user, **data)
        return success_response(s.StaffSerializer(user).data)

    @extend_schema(tags=ADMIN_TAGS, request=s.ReasonSerializer, summary="Deactivate a platform staff member",
                   description="Login refused and tokens refused at once. Yourself or inactive already → 409.",
                   responses={200: StaffEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def delete(self, request, user_id: str):
        user = _admin_user(user_id)
        data = _body(s.ReasonSerializer, request)
        user = staff.admin_user_deactivate(user=user, actor=request.user, reason=data.get("reason", ""))
        return success_response(s.StaffSerializer(user).data, message="Account deactivated.")


class AdminUserActivityView(SuccessAPIView):
    permission_classes = [PolicyPermission]
    policy_action = "admin_user.read"

    @extend_schema(tags=ADMIN_TAGS, parameters=PAGE_PARAMETERS, summary="What a platform staff member did",
                   description="Their audit events, newest first.",
                   responses={200: envelope_serializer("AdminActivityEnvelope", AuditEventPageSerializer,
                                                       envelope=SUCCESS),
                              **error_responses(SUCCESS, 400, 401, 403, 404)})
    def get(self, request, user_id: str):
        user = _admin_user(user_id)
        page, page_size = page_params(request.query_params)
        events = AuditEvent.objects.filter(actor=user).order_by("-id")
        return success_response(AuditEventPageSerializer(paginate(events, page=page, page_size=page_size)).data)
