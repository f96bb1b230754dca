"""Payments API. Thin: parse → service → serialize.

create-order and verify serve two seeds at one path: a body with `plan` is seed 000 (flat
envelope), a body with `package_id`/`phone_number` is seed 003 (status envelope). The envelope is
chosen from the body before authentication, so every error — 401 included — renders in it.
"""

import re
from datetime import UTC, date, datetime, time, timedelta

from django.http import Http404
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import (
    OpenApiParameter,
    OpenApiResponse,
    PolymorphicProxySerializer,
    extend_schema,
    inline_serializer,
)
from rest_framework import exceptions as drf_exceptions
from rest_framework import serializers
from rest_framework.permissions import AllowAny
from rest_framework.throttling import ScopedRateThrottle
from rest_framework.views import APIView

from accounts.authentication import JWTAuthentication
from accounts.phones import phone_normalize
from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import flat_response, status_response, success_response
from config.errors import Forbidden, InvalidInput
from config.idempotency import idempotency_token, idempotent
from config.ids import positive_id
from config.pagination import PAGE_PARAMETERS, page_params, paginate
from config.permissions import HasApiKey, IsUser, is_api_key_request
from config.policy import PolicyPermission, principal_of, tenant_scope
from config.schema import error_responses
from payments import selectors, services
from payments import serializers as s
from payments.gateways import SANDBOX, active_gateway_name, get_gateway
from payments.models import PaymentOrder
from tenants.authentication import ApiKeyAuthentication

TAGS = ["payments"]
ORDER_CREATED_MESSAGE = "Order created successfully"
VERIFIED_MESSAGE = "Payment verified and credits added successfully"
IDEMPOTENCY_HEADER = OpenApiParameter("Idempotency-Key", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                      required=False)


class PaymentsThrottle(ScopedRateThrottle):
    """The "payments" rate per person, per API key (not one bucket for all keys), else per IP."""

    def get_cache_key(self, request, view):
        if is_api_key_request(request):
            ident = f"key-{request.auth.pk}"
        elif request.user and request.user.is_authenticated:
            ident = f"user-{request.user.pk}"
        else:
            ident = self.get_ident(request)
        # One bucket per endpoint: retrying create-order must never block the verify that
        # follows a payment the customer already made.
        return self.cache_format % {"scope": f"{self.scope}-{type(view).__name__}", "ident": ident}


class _CheckoutView(APIView):
    """JWT person or API key with the "payments" scope; throttled; envelope chosen per body."""

    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [IsUser | HasApiKey]
    api_key_scope = "payments"
    throttle_classes = [PaymentsThrottle]
    throttle_scope = "payments"
    envelope = envelopes.FLAT

    def initial(self, request, *args, **kwargs):
        self.envelope = self._envelope_for(request)
        super().initial(request, *args, **kwargs)

    @staticmethod
    def _body(request) -> dict:
        try:
            data = request.data
        except drf_exceptions.APIException:
            return {}
        return data if isinstance(data, dict) else {}

    def _envelope_for(self, request) -> str:
        body = self._body(request)
        if "plan" not in body and ("package_id" in body or "phone_number" in body):
            return envelopes.STATUS
        return envelopes.FLAT

    def _valid(self, serializer_class, request):
        if not isinstance(request.data, dict):
            raise drf_exceptions.ValidationError({"non_field_errors": ["A JSON object is required."]})
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data


CreateOrderRequest = PolymorphicProxySerializer(
    component_name="CreateOrderRequest", serializers=[s.PlanOrderInput, s.PackageOrderInput],
    resource_type_field_name=None,
)
CreateOrderResponse = PolymorphicProxySerializer(
    component_name="CreateOrderResponse",
    serializers=[s.PlanOrderCreatedOut,
                 envelope_serializer("PackageOrderCreatedEnvelope", s.PackageOrderCreatedOut,
                                     envelope=envelopes.STATUS)],
    resource_type_field_name=None,
)
VerifyResponse = PolymorphicProxySerializer(
    component_name="VerifyPaymentResponse",
    serializers=[s.PlanVerifiedOut,
                 envelope_serializer("PackageVerifiedEnvelope", s.PackageVerifiedOut,
                                     envelope=envelopes.STATUS)],
    resource_type_field_name=None,
)
CheckoutError = inline_serializer(
    name="PaymentsCheckoutError",
    fields={"error": serializers.CharField(required=False), "status": serializers.CharField(required=False),
            "message": serializers.CharField(required=False)},
)


def _checkout_errors(*codes):
    return {code: OpenApiResponse(CheckoutError, description="flat {error} or status {status, message}")
            for code in codes}


class CreateOrderView(_CheckoutView):
    @extend_schema(
        tags=TAGS, request=CreateOrderRequest, responses={200: CreateOrderResponse,
                                                          **_checkout_errors(400, 401, 403, 409, 429, 502)},
        parameters=[IDEMPOTENCY_HEADER],
        description="`{plan}` (seed 000, JWT, flat answer) or `{package_id, phone_number?}` (seed 003, "
                    "JWT or API key with the payments scope, status envelope). Amounts in paise.",
    )
    def post(self, request):
        # The gateway's create-order is a network call: no transaction may be open around it.
        if self.envelope == envelopes.STATUS:
            return idempotent(request, lambda: self._package(request), calls_out=True)
        return idempotent(request, lambda: self._plan(request), calls_out=True)

    def _plan(self, request):
        if is_api_key_request(request):
            raise Forbidden("forbidden")
        data = self._valid(s.PlanOrderInput, request)
        order = services.order_create(user=request.user, plan_code=data["plan"], gateways=data.get("gateways"))
        return flat_response({"order_id": order.gateway_order_id, "amount": order.amount_paise,
                              "currency": order.currency, "plan": order.plan.code,
                              "key_id": get_gateway(order.gateway).key_id, **_routed_checkout(order, data)})

    def _package(self, request):
        data = self._valid(s.PackageOrderInput, request)
        raw_phone = data.get("phone_number")
        if is_api_key_request(request):
            if not raw_phone:
                raise InvalidInput("phone_number is required", fields={"phone_number": ["Required."]})
            from credits.services import user_get_or_create_by_phone

            tenant = request.auth.tenant
            phone = phone_normalize(raw_phone)
            user, _ = user_get_or_create_by_phone(phone=phone, tenant=tenant)
        else:
            user, tenant, phone = request.user, request.user.tenant, request.user.phone or ""
            if raw_phone and phone_normalize(raw_phone) != phone:
                raise InvalidInput("phone_number is not the logged-in user's phone",
                                   fields={"phone_number": ["Does not match your account."]})
        order = services.order_create(user=user, package_id=data["package_id"], tenant=tenant,
                                      phone_number=phone, gateways=data.get("gateways"))
        return status_response(ORDER_CREATED_MESSAGE, {
            "order_id": order.gateway_order_id, "amount": order.amount_paise,
            "currency": order.currency, "package": s.package_out(order.package),
            **_routed_checkout(order, data),
        })


def _routed_checkout(order, data) -> dict:
    """A caller that opted in to routing (`gateways`) learns which checkout to open; the seeds'
    answers are otherwise unchanged. A Cashfree order is then settled by /api/v1/payments/verify."""
    if "gateways" not in data:
        return {}
    fields = services.checkout_fields(order)
    return {name: value for name, value in fields.items() if name not in ("order_id", "key")}


class VerifyView(_CheckoutView):
    @extend_schema(
        tags=TAGS, request=s.VerifyInput,
        responses={200: VerifyResponse, **_checkout_errors(400, 401, 403, 404, 409, 429, 502)},
        parameters=[IDEMPOTENCY_HEADER],
        description="Checkout callback. A plan order answers like set-plan (flat); a package order "
                    "answers in the status envelope. Replays answer the same without a second effect.",
    )
    def post(self, request):
        return idempotent(request, lambda: self._verify(request))

    def _verify(self, request):
        data = self._valid(s.VerifyInput, request)
        if is_api_key_request(request):
            order = selectors.order_get_for_caller(gateway_order_id=data["razorpay_order_id"],
                                                   tenant=request.auth.tenant)
        else:
            order = selectors.order_get_for_caller(gateway_order_id=data["razorpay_order_id"],
                                                   user=request.user)
        if not {"plan", "package_id", "phone_number"} & set(data):
            self.envelope = (envelopes.STATUS if order.kind == PaymentOrder.Kind.CREDIT_PACKAGE
                             else envelopes.FLAT)
        self._check_matches_order(order, data)
        order, _ = services.order_verify(order=order, payment_id=data["razorpay_payment_id"],
                                         signature=data["razorpay_signature"])
        if order.kind == PaymentOrder.Kind.CREDIT_PACKAGE:
            return status_response(VERIFIED_MESSAGE, order.fulfilment_result)
        return flat_response(order.fulfilment_result)

    @staticmethod
    def _check_matches_order(order, data):
        """The order's stored purchase is what gets fulfilled; a body naming another is refused."""
        if "plan" in data and (order.kind != PaymentOrder.Kind.TOKEN_PLAN or order.plan.code != data["plan"]):
            raise InvalidInput("plan does not match the order", code="purchase_mismatch",
                               fields={"plan": ["Does not match the order."]})
        if "package_id" in data and (order.kind != PaymentOrder.Kind.CREDIT_PACKAGE
                                     or order.package_id != data["package_id"]):
            raise InvalidInput("package does not match the order", code="purchase_mismatch",
                               fields={"package_id": ["Does not match the order."]})
        if "phone_number" in data and phone_normalize(data["phone_number"]) != order.phone_number:
            raise InvalidInput("phone_number does not match the order", code="purchase_mismatch",
                               fields={"phone_number": ["Does not match the order."]})


class SandboxPayView(_CheckoutView):
    """Sandbox gateway only: plays the customer at Razorpay Checkout."""

    def initial(self, request, *args, **kwargs):
        if active_gateway_name() != SANDBOX:
            self.envelope = envelopes.FLAT
            raise Http404  # the URL does not exist with a real gateway
        super().initial(request, *args, **kwargs)

    def _envelope_for(self, request) -> str:
        return envelopes.FLAT

    @extend_schema(
        tags=TAGS, request=s.SandboxPayInput,
        responses={200: s.CheckoutOut, **error_responses(envelopes.FLAT, 400, 401, 404, 429)},
        description="Only with the sandbox gateway (404 otherwise): pays the order the way Razorpay "
                    "Checkout would and answers what Checkout hands the frontend.",
    )
    def post(self, request):
        data = self._valid(s.SandboxPayInput, request)
        if is_api_key_request(request):
            order = selectors.order_get_for_caller(gateway_order_id=data["order_id"], tenant=request.auth.tenant)
        else:
            order = selectors.order_get_for_caller(gateway_order_id=data["order_id"], user=request.user)
        gateway = get_gateway(order.gateway)
        if order.gateway != SANDBOX:
            raise Http404
        if order.is_paid:
            return flat_response({
                "razorpay_order_id": order.gateway_order_id,
                "razorpay_payment_id": order.gateway_payment_id,
                "razorpay_signature": gateway.checkout_signature(order_id=order.gateway_order_id,
                                                                 payment_id=order.gateway_payment_id),
            })
        return flat_response(gateway.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise,
                                         currency=order.currency))


class WebhookView(SuccessAPIView):
    """Razorpay webhooks (seed 004). Authenticated by the HMAC of the raw body only."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS, request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("X-Razorpay-Signature", OpenApiTypes.STR, OpenApiParameter.HEADER,
                                     required=True),
                    OpenApiParameter("X-Razorpay-Event-Id", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={200: envelope_serializer("WebhookResultEnvelope", s.WebhookResultOut,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 500)},
    )
    def post(self, request):
        event, created = services.webhook_event_receive(
            body=request.body, signature=request.headers.get("X-Razorpay-Signature"),
            event_id=request.headers.get("X-Razorpay-Event-Id"),
        )
        event = services.webhook_event_process(event_id=event.pk)
        return success_response({"event_id": event.event_id, "duplicate": not created,
                                 "result": event.result})


class OrdersView(SuccessAPIView):
    permission_classes = [IsUser]

    @extend_schema(
        tags=TAGS, parameters=PAGE_PARAMETERS,
        responses={200: envelope_serializer("PaymentOrdersPageEnvelope", s.OrdersPageOut,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401)},
    )
    def get(self, request):
        page, page_size = page_params(request.query_params)
        result = paginate(selectors.orders_for_user(user=request.user), page=page, page_size=page_size)
        result["results"] = s.OrderOut(result["results"], many=True).data
        return success_response(result)


ORDER_STATUSES = tuple(PaymentOrder.Status.values)
STAFF_ORDER_FILTERS = [
    OpenApiParameter("status", OpenApiTypes.STR, enum=list(ORDER_STATUSES), required=False),
    OpenApiParameter("tenant", OpenApiTypes.INT, required=False, description="Tenant id (platform staff)"),
    OpenApiParameter("user", OpenApiTypes.INT, required=False, description="Buyer's user id"),
    OpenApiParameter("from", OpenApiTypes.DATE, required=False, description="Created on or after (UTC)"),
    OpenApiParameter("to", OpenApiTypes.DATE, required=False, description="Created on or before (UTC)"),
]


def _id_param(params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    value = positive_id(raw)
    if value is None:
        raise InvalidInput(f"{name} must be an id.", code="invalid_query", fields={name: ["Invalid."]})
    return value


def _day_param(params, name: str, *, end: bool = False):
    """`YYYY-MM-DD` → the start of that day in UTC (`end`: the start of the next day)."""
    raw = params.get(name)
    if not raw:
        return None
    day = None
    if re.fullmatch(r"\d{4}-\d{2}-\d{2}", raw, re.ASCII):
        try:
            day = date.fromisoformat(raw)
        except ValueError:
            day = None
    if day is None:
        raise InvalidInput(f"{name} must be a date, YYYY-MM-DD.", code="invalid_query", fields={name: ["Invalid."]})
    moment = datetime.combine(day, time.min, tzinfo=UTC)
    return moment + timedelta(days=1) if end else moment


class StaffOrdersView(SuccessAPIView):
    """Seed 004: every order (platform staff) or the tenant's orders (its staff), newest first."""

    permission_classes = [PolicyPermission]
    policy_action = "payment.list"

    @extend_schema(
        tags=TAGS, operation_id="v1_payments_list", parameters=[*STAFF_ORDER_FILTERS, *PAGE_PARAMETERS],
        responses={200: envelope_serializer("StaffPaymentOrdersPageEnvelope", s.OrdersPageOut,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401, 403)},
        description="Platform staff: all orders; tenant staff: their tenant's. Filters `status`, `tenant`, "
                    "`user`, `from`/`to` (dates, UTC, inclusive).",
    )
    def get(self, request):
        params = request.query_params
        page, page_size = page_params(params)
        status = params.get("status") or None
        if status is not None and status not in ORDER_STATUSES:
            raise InvalidInput(f"status must be one of {', '.join(ORDER_STATUSES)}.", code="invalid_query",
                               fields={"status": ["Invalid."]})
        orders = selectors.orders_for_staff(
            scope=tenant_scope(principal_of(request), "payment.list"), status=status,
            tenant_id=_id_param(params, "tenant"), user_id=_id_param(params, "user"),
            created_from=_day_param(params, "from"), created_to=_day_param(params, "to", end=True))
        result = paginate(orders, page=page, page_size=page_size)
        result["results"] = s.OrderOut(result["results"], many=True).data
        return success_response(result)


ORDER_REF = OpenApiParameter("order_ref", OpenApiTypes.STR, OpenApiParameter.PATH,
                             description="Our order id, or the gateway's order id (`order_…`, Cashfree's)")


class StaffOrderView(SuccessAPIView):
    """An order by our id or the gateway's: platform staff any, tenant staff their tenant's (else 404)."""

    permission_classes = [PolicyPermission]
    policy_action = "payment.read"

    @extend_schema(tags=TAGS, parameters=[ORDER_REF],
                   responses={200: envelope_serializer("PaymentOrderDetailEnvelope",
                                                       s.OrderDetailOut, envelope=envelopes.SUCCESS),
                              **error_responses(envelopes.SUCCESS, 401, 403, 404)})
    def get(self, request, order_ref: str):
        return success_response(s.OrderDetailOut(
            selectors.order_visible(principal=principal_of(request), ref=order_ref)).data)


class StaffRefundView(SuccessAPIView):
    """Platform super_admin/admin refund any order; tenant staff see their tenant's orders (403 on
    refund) and not others' (404)."""

    permission_classes = [PolicyPermission]
    policy_action = "payment.read"

    @extend_schema(
        tags=TAGS, request=s.RefundInput, parameters=[IDEMPOTENCY_HEADER],
        responses={201: envelope_serializer("PaymentRefundEnvelope", s.RefundResultOut,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401, 403, 404, 409, 502)},
        description="Refund a paid order through its gateway, then take back what it bought. `amount` "
                    "is in paise (default: all that is still refundable).",
    )
    def post(self, request, order_ref: str):
        return idempotent(request, lambda: self._refund(request, order_ref), calls_out=True)

    def _refund(self, request, order_ref):
        data = s.RefundInput(data=request.data)
        data.is_valid(raise_exception=True)
        principal = principal_of(request)
        order_id = selectors.order_visible(principal=principal, ref=order_ref).pk  # 404 before anything else
        refund = services.order_refund(principal=principal, order_id=order_id,
                                       amount_paise=data.validated_data.get("amount"),
                                       reason=data.validated_data["reason"], actor=request.user,
                                       request_key=idempotency_token(request))
        order = selectors.order_get(order_id=order_id)
        return success_response({"refund": s.RefundOut(refund).data, "order": s.OrderOut(order).data},
                                status=201)

