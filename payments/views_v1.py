"""Seed 004's routed payments (DESIGN §4.8): create at the cheapest healthy gateway, verify at
whichever took the order, and Cashfree's webhook. Success envelope. Thin: parse → service →
serialize."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework.permissions import AllowAny

from accounts.authentication import JWTAuthentication
from accounts.phones import phone_normalize
from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import Forbidden, InvalidInput
from config.idempotency import idempotent
from config.permissions import HasApiKey, IsUser, is_api_key_request
from config.schema import error_responses
from payments import selectors, services
from payments import serializers as s
from payments import serializers_v1 as v1
from payments.models import PaymentOrder
from payments.views import IDEMPOTENCY_HEADER, TAGS, PaymentsThrottle
from tenants.authentication import ApiKeyAuthentication


class _RoutedView(SuccessAPIView):
    """JWT person or API key with the "payments" scope; throttled like the seeds' checkout."""

    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [IsUser | HasApiKey]
    api_key_scope = "payments"
    throttle_classes = [PaymentsThrottle]
    throttle_scope = "payments"

    @staticmethod
    def _valid(serializer_class, request) -> dict:
        if not isinstance(request.data, dict):
            raise InvalidInput("A JSON object is required.", fields={"non_field_errors": ["A JSON object is required."]})
        data = serializer_class(data=request.data)
        data.is_valid(raise_exception=True)
        return data.validated_data


def routed_order_out(order: PaymentOrder) -> dict:
    return {"id": order.pk, **services.checkout_fields(order), "sandbox": order.gateway == PaymentOrder.Gateway.SANDBOX,
            "amount": order.amount_paise, "currency": order.currency, "kind": order.kind,
            "plan": order.plan.code if order.plan_id else None,
            "package": s.package_out(order.package) if order.package_id else None}


class RoutedCreateView(_RoutedView):
    @extend_schema(
        tags=TAGS, request=v1.RoutedOrderInput, parameters=[IDEMPOTENCY_HEADER],
        responses={201: envelope_serializer("RoutedOrderEnvelope", v1.RoutedOrderOut, envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401, 403, 404, 409, 429, 502)},
        description="Open an order at the cheapest healthy gateway for its amount (fees in settings; "
                    "Razorpay 2%, Cashfree 1.5% + ₹3), failing over on a timeout, connection error or "
                    "5xx. The answer names the gateway and what its checkout needs. `gateways` limits "
                    "the choice. A JWT buys for its user; an API key buys a package for a phone user of "
                    "its tenant (`phone_number`).",
    )
    def post(self, request):
        # Gateway calls (create, failover): no transaction may be open around them.
        return idempotent(request, lambda: self._create(request), calls_out=True)

    def _create(self, request):
        data = self._valid(v1.RoutedOrderInput, request)
        gateways = data.get("gateways") or list(services.ROUTED_CHECKOUTS)
        # One branch per kind of purchase: who buys it, and what.
        if "plan" in data:
            if is_api_key_request(request):
                raise Forbidden("a token plan is bought by its user")
            order = services.order_create(user=request.user, plan_code=data["plan"], gateways=gateways)
        else:
            user, tenant, phone = self._package_buyer(request, data.get("phone_number"))
            order = services.order_create(user=user, package_id=data["package_id"], tenant=tenant,
                                          phone_number=phone, gateways=gateways)
        return success_response(routed_order_out(order), status=201)

    @staticmethod
    def _package_buyer(request, raw_phone):
        """An API key buys for a phone user of its tenant (created if new); a person for themselves."""
        if is_api_key_request(request):
            if not raw_phone:
                raise InvalidInput("phone_number is required", fields={"phone_number": ["Required."]})
            from credits.services import user_get_or_create_by_phone

            tenant = request.auth.tenant
            phone = phone_normalize(raw_phone)
            user, _ = user_get_or_create_by_phone(phone=phone, tenant=tenant)
            return user, tenant, phone
        user = request.user
        if raw_phone and phone_normalize(raw_phone) != (user.phone or ""):
            raise InvalidInput("phone_number is not the logged-in user's phone",
                               fields={"phone_number": ["Does not match your account."]})
        return user, user.tenant, user.phone or ""


class RoutedVerifyView(_RoutedView):
    @extend_schema(
        tags=TAGS, request=v1.RoutedVerifyInput, parameters=[IDEMPOTENCY_HEADER],
        responses={200: envelope_serializer("RoutedVerifyEnvelope", v1.RoutedVerifiedOut, envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 401, 402, 404, 409, 429, 502)},
        description="Settle an order at the gateway that holds it: Razorpay Checkout's signature, or "
                    "(Cashfree, or no signature) the gateway is asked for the order's payments. 402 while "
                    "the payment is not complete. Replays answer the same without a second effect.",
    )
    def post(self, request):
        # Cashfree's verify asks the gateway for the order's payments: a network call.
        return idempotent(request, lambda: self._verify(request), calls_out=True)

    def _verify(self, request):
        data = self._valid(v1.RoutedVerifyInput, request)
        if is_api_key_request(request):
            order = selectors.order_get_for_caller(gateway_order_id=data["order_id"], tenant=request.auth.tenant)
        else:
            order = selectors.order_get_for_caller(gateway_order_id=data["order_id"], user=request.user)
        order, _ = services.order_confirm(order=order, payment_id=data["payment_id"], signature=data["signature"])
        return success_response({"order": s.OrderOut(order).data, "result": order.fulfilment_result})


class CashfreeWebhookView(SuccessAPIView):
    """Cashfree webhooks. Authenticated by the signature over timestamp + raw body only."""

    authentication_classes: list = []
    permission_classes = [AllowAny]

    @extend_schema(
        tags=TAGS, request=OpenApiTypes.OBJECT,
        parameters=[OpenApiParameter("x-webhook-signature", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True),
                    OpenApiParameter("x-webhook-timestamp", OpenApiTypes.STR, OpenApiParameter.HEADER, required=True,
                                     description="Milliseconds since the epoch"),
                    OpenApiParameter("x-idempotency-key", OpenApiTypes.STR, OpenApiParameter.HEADER)],
        responses={200: envelope_serializer("CashfreeWebhookResultEnvelope", s.WebhookResultOut,
                                            envelope=envelopes.SUCCESS),
                   **error_responses(envelopes.SUCCESS, 400, 500)},
    )
    def post(self, request):
        event, created = services.cashfree_webhook_receive(
            body=request.body, signature=request.headers.get("x-webhook-signature"),
            timestamp=request.headers.get("x-webhook-timestamp"),
            idempotency_key=request.headers.get("x-idempotency-key"),
        )
        event = services.webhook_event_process(event_id=event.pk)
        return success_response({"event_id": event.event_id, "duplicate": not created, "result": event.result})
