"""POST /api/subscriptions/create-with-payment and /verify-payment (seed 002, success envelope)."""

from drf_spectacular.utils import extend_schema
from rest_framework.response import Response

from accounts.authentication import JWTAuthentication
from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import error_body, success_response
from config.errors import InvalidInput
from config.idempotency import idempotent
from config.money import rupees
from config.permissions import IsUser
from config.schema import error_responses
from payments.gateways import get_gateway
from payments.services import subscription_changes as plan_changes
from payments.services import subscription_orders as checkout
from payments.services import subscription_renewals as renewals
from payments.subscription_checkout import serializers as s
from payments.views import IDEMPOTENCY_HEADER, PaymentsThrottle
from subscriptions.lifecycle import access, changes
from subscriptions.lifecycle.selectors import subscription_get
from subscriptions.lifecycle.serializers import SubscriptionOut

TAGS = ["subscriptions"]
SUCCESS = envelopes.SUCCESS
VERIFIED_MESSAGE = "Payment verified and subscription activated"


def _valid(serializer_class, request):
    if not isinstance(request.data, dict):
        raise InvalidInput("A JSON object is required.", code="invalid_body")
    body = serializer_class(data=request.data)
    body.is_valid(raise_exception=True)
    return body.validated_data


class _CheckoutView(SuccessAPIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsUser]
    throttle_classes = [PaymentsThrottle]
    throttle_scope = "payments"


class CreateWithPaymentView(_CheckoutView):
    @extend_schema(
        tags=TAGS, operation_id="subscriptions_create_with_payment", request=s.CreateWithPaymentIn,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Checkout: a pending subscription and a Razorpay order for the server-computed amount",
        description="Prices the plan (calculate-price's rules), stores customerData as the billing "
                    "profile (GSTIN and phone checked), supersedes a pending checkout of the same "
                    "product, and answers what Razorpay Checkout needs (`amount` in paise). An active, "
                    "past-due or suspended subscription of the product → 409 (change its plan instead).",
        responses={201: envelope_serializer("CreateWithPaymentEnvelope", s.CreateWithPaymentOut, envelope=SUCCESS),
                   **error_responses(SUCCESS, 400, 401, 404, 409, 429, 502)},
    )
    def post(self, request):
        # The gateway's create-order is a network call: no transaction may be open around it.
        return idempotent(request, lambda: self._create(request), calls_out=True)

    def _create(self, request):
        data = _valid(s.CreateWithPaymentIn, request)
        result = checkout.subscription_checkout_create(
            user=request.user, plan_id=data["planId"], billing_cycle=data["billingCycle"],
            addons=data["addons"], customer_data=data.get("customerData"))
        order, quote, user = result.order, result.plan_quote.as_response(), request.user
        profile = result.profile
        name = " ".join(part for part in (profile["first_name"], profile["last_name"]) if part) or user.name
        return success_response({
            "orderId": order.gateway_order_id,
            "subscriptionId": result.subscription.pk,
            "amount": order.amount_paise,
            "currency": order.currency,
            "key": get_gateway(order.gateway).key_id,
            "pricing": {key: quote[key] for key in ("plan", "billingCycle", "pricing", "addons", "currency")},
            "customer": {"id": user.pk, "name": name, "email": user.email,
                         "contact": profile["phone"] or user.phone or ""},
        }, status=201)


class VerifyPaymentView(_CheckoutView):
    @extend_schema(
        tags=TAGS, operation_id="subscriptions_verify_payment", request=s.VerifyPaymentIn,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Checkout callback: verify the Razorpay signature and activate the subscription",
        description="The order must be the caller's and belong to `subscriptionId`. Verify, the "
                    "payment webhook, reconcile_payments and the admin all fulfil an order exactly "
                    "once; a replay answers 200 with the same body. `payment.amount` is in rupees. "
                    "409 when the payment arrived for a checkout a paid subscription has replaced "
                    "(the payment is recorded, to be refunded).",
        responses={200: envelope_serializer("VerifyPaymentEnvelope", s.VerifyPaymentOut, envelope=SUCCESS),
                   **error_responses(SUCCESS, 400, 401, 404, 409, 429, 502)},
    )
    def post(self, request):
        return idempotent(request, lambda: self._verify(request))

    def _verify(self, request):
        data = _valid(s.VerifyPaymentIn, request)
        order = checkout.subscription_payment_verify(
            user=request.user, gateway_order_id=data["razorpay_order_id"],
            payment_id=data["razorpay_payment_id"], signature=data["razorpay_signature"],
            subscription_id=data["subscriptionId"])
        if not checkout.delivered(order):
            # Returned, not raised: the payment recorded above must commit.
            error = checkout.not_delivered_error(order)
            return Response(error_body(SUCCESS, status=error.status_code, code=error.code, message=error.message),
                            status=error.status_code)
        subscription = subscription_get(subscription_id=order.subscription_id)
        return success_response({
            "subscription": SubscriptionOut(subscription).data,
            "payment": {"id": order.pk, "amount": rupees(order.amount_paise), "currency": order.currency,
                        "status": "completed", "transactionId": order.gateway_payment_id},
        }, message=VERIFIED_MESSAGE)


def _line_out(line: dict) -> dict:
    return {"kind": line.get("kind", ""), "code": line.get("code", ""), "description": line.get("description", ""),
            "quantity": line.get("quantity", 1), "unitPrice": rupees(line.get("unitPaise", 0)),
            "amount": rupees(line.get("amountPaise", 0))}


class PayView(_CheckoutView):
    @extend_schema(
        tags=TAGS, operation_id="subscriptions_pay", request=None, parameters=[IDEMPOTENCY_HEADER],
        summary="The open renewal order, ready for Razorpay Checkout",
        description="What the last period close charged: the next period in advance plus the arrears "
                    "of the closed one (overage minutes, pay-as-you-go add-ons), GST once on the sum. "
                    "`amount` in paise; `lines` and `pricing` in rupees. Pay it at Checkout, then "
                    "`verify-payment` with this `subscriptionId` settles it (past_due or suspended → "
                    "active). 409 `nothing_due` when no renewal is owed.",
        responses={200: envelope_serializer("SubscriptionPayEnvelope", s.PayOut, envelope=SUCCESS),
                   **error_responses(SUCCESS, 401, 404, 409, 429, 502)},
    )
    def post(self, request, pk: int):
        subscription = subscription_get(subscription_id=pk)
        access.require(access.caller_of(request), "subscription.manage", subscription)
        # Opening the gateway order is a network call: no transaction may be open around it.
        return idempotent(request, lambda: self._pay(subscription), calls_out=True)

    def _pay(self, subscription):
        order = renewals.subscription_renewal_pay(subscription_id=subscription.pk)
        lines = order.lines if isinstance(order.lines, list) else []
        subtotal = order.amount_paise - order.tax_paise
        return success_response({
            "orderId": order.gateway_order_id,
            "subscriptionId": subscription.pk,
            "amount": order.amount_paise,
            "currency": order.currency,
            "key": get_gateway(order.gateway).key_id,
            "periodStart": order.period_start,
            "periodEnd": order.period_end,
            "lines": [_line_out(line) for line in lines if isinstance(line, dict)],
            "pricing": {"subtotal": rupees(subtotal), "gstRate": order.plan.gst_rate, "gst": rupees(order.tax_paise),
                        "total": rupees(order.amount_paise)},
        })


_CHANGE = {changes.PAY: ("upgrade", "on_payment"), changes.APPLY: ("upgrade", "now"),
           changes.SCHEDULE: ("downgrade", "period_end"), changes.CLEAR: ("cleared", "now")}
_CHANGE_MESSAGES = {
    changes.PAY: "Pay this order to upgrade: the plan changes when the payment is verified",
    changes.APPLY: "Plan changed",
    changes.SCHEDULE: "Plan change scheduled for the end of the current period",
    changes.CLEAR: "Scheduled plan change cleared",
}


class ChangePlanView(_CheckoutView):
    @extend_schema(
        tags=TAGS, operation_id="subscriptions_change_plan", request=s.ChangePlanIn,
        parameters=[IDEMPOTENCY_HEADER],
        summary="Change plan: a prorated upgrade to pay for, or a downgrade at the period end",
        description="Upgrade or downgrade is decided by the price per year (monthly × 12, quarterly × 4, "
                    "annual × 1; as much or more per year is an upgrade). An upgrade is an order for "
                    "`f × new − f × old` (f = remaining share of the period; a new billing cycle: the "
                    "full new price − f × old), pre-tax, GST on the net; pay it with Razorpay Checkout "
                    "and verify-payment, and the plan switches at once (the period end stays; a new "
                    "billing cycle starts a new period). Due nothing: it applies now. A downgrade is "
                    "scheduled for currentPeriodEnd (`scheduledChange`); asking for the current plan "
                    "and cycle clears it. `preview: true` answers the same and changes nothing. A newer "
                    "change-plan supersedes an unpaid upgrade order. Past due or suspended → 409 (pay "
                    "first). `amount` in paise, `proration` in rupees.",
        responses={200: envelope_serializer("ChangePlanEnvelope", s.ChangePlanOut, envelope=SUCCESS),
                   **error_responses(SUCCESS, 400, 401, 404, 409, 429, 502)},
    )
    def post(self, request, pk: int):
        # An upgrade asks the gateway for an order: no transaction may be open around it.
        return idempotent(request, lambda: self._change(request, pk), calls_out=True)

    def _change(self, request, pk: int):
        subscription = subscription_get(subscription_id=pk)
        access.require(access.caller_of(request), "subscription.manage", subscription)
        data = _valid(s.ChangePlanIn, request)
        result = plan_changes.subscription_change_plan(
            subscription=subscription, actor=request.user, plan_id=data["planId"],
            billing_cycle=data.get("billingCycle", subscription.billing_cycle), preview=data["preview"])
        quote, order = result.quote, result.order
        change, effective = _CHANGE[quote.action]
        scheduled = None
        if quote.action == changes.SCHEDULE:
            scheduled = {"ratePlanId": quote.plan.pk, "billingCycle": quote.billing_cycle,
                         "effectiveAt": subscription.current_period_end}
        shown = subscription_get(subscription_id=pk) if not result.preview else subscription
        message = "Plan change preview: nothing was changed" if result.preview else _CHANGE_MESSAGES[quote.action]
        return success_response(s.ChangePlanOut({
            "subscriptionId": subscription.pk, "preview": result.preview, "change": change, "effective": effective,
            "ratePlanId": quote.plan.pk, "billingCycle": quote.billing_cycle,
            "newPeriod": quote.proration.new_period,
            "orderId": order.gateway_order_id if order else None,
            "amount": quote.proration.total_paise if quote.action == changes.PAY else 0,
            "currency": quote.plan.currency,
            "key": get_gateway(order.gateway).key_id if order else None,
            "proration": quote.proration.as_response(), "scheduledChange": scheduled, "subscription": shown,
        }).data, message=message)
