"""Input and output shapes of the payments API (no rules here)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictIntegerField, StrictSerializer
from config.ids import positive_id
from config.money import rupees
from config.pagination import page_serializer
from payments.gateways import CHECKOUTS
from payments.models import PaymentOrder, Refund
from subscriptions.serializers import TokenSetPlanResultSerializer

CHECKOUT_ID_MAX = 64


@extend_schema_field(OpenApiTypes.INT)
class PackageIdField(serializers.Field):
    """Our package ids are integers; a JSON integer or a string of digits (seed 003's frontends
    keep ids as strings) is accepted, nothing else."""

    default_error_messages = {"invalid": "A package id (a positive whole number) is required."}

    def to_internal_value(self, data):
        package_id = positive_id(data)
        if package_id is None:
            self.fail("invalid")
        return package_id

    def to_representation(self, value):
        return value


def _checkout_id():
    return serializers.CharField(max_length=CHECKOUT_ID_MAX, trim_whitespace=False)


# --- inputs ----------------------------------------------------------------------------------

def _gateways_field():
    # Seed 000/003 frontends load Razorpay Checkout; one that can also open Cashfree's says so.
    return serializers.ListField(child=serializers.ChoiceField(choices=CHECKOUTS), allow_empty=False,
                                 max_length=len(CHECKOUTS), required=False,
                                 help_text='Opt in to routing, e.g. ["razorpay", "cashfree"]; default Razorpay')


class PlanOrderInput(StrictSerializer):
    plan = serializers.CharField(max_length=50)
    gateways = _gateways_field()


class PackageOrderInput(StrictSerializer):
    package_id = PackageIdField()
    phone_number = serializers.CharField(max_length=32, required=False)
    gateways = _gateways_field()


class VerifyInput(StrictSerializer):
    razorpay_order_id = _checkout_id()
    razorpay_payment_id = _checkout_id()
    razorpay_signature = serializers.CharField(max_length=128, trim_whitespace=False)
    plan = serializers.CharField(max_length=50, required=False)
    reset_used = serializers.BooleanField(required=False, help_text="Accepted and ignored (seed 000)")
    package_id = PackageIdField(required=False)
    phone_number = serializers.CharField(max_length=32, required=False)

    def validate(self, attrs):
        if "plan" in attrs and "package_id" in attrs:
            raise serializers.ValidationError("Send either plan or package_id, not both.")
        return attrs


class SandboxPayInput(StrictSerializer):
    order_id = _checkout_id()


class RefundInput(StrictSerializer):
    amount = StrictIntegerField(required=False, min_value=1,
                                help_text="In paise (₹1 = 100); default: everything still refundable")
    reason = serializers.CharField(max_length=500)


# --- outputs ---------------------------------------------------------------------------------

class PackageOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    credits = serializers.IntegerField()
    price = serializers.DecimalField(max_digits=12, decimal_places=2, help_text="Rupees")


def package_out(package) -> dict:
    return {"id": package.pk, "name": package.name, "credits": package.credits,
            "price": rupees(package.price_paise)}


class PlanOrderCreatedOut(serializers.Serializer):
    order_id = serializers.CharField()
    amount = serializers.IntegerField(help_text="Paise")
    currency = serializers.CharField()
    plan = serializers.CharField()
    key_id = serializers.CharField(help_text="Public key for Razorpay Checkout")


class PackageOrderCreatedOut(serializers.Serializer):
    order_id = serializers.CharField()
    amount = serializers.IntegerField(help_text="Paise")
    currency = serializers.CharField()
    package = PackageOut()


# A paid plan answers exactly like set-plan (seed 000).
PlanVerifiedOut = TokenSetPlanResultSerializer


class PackageVerifiedOut(serializers.Serializer):
    payment_id = serializers.CharField()
    order_id = serializers.CharField()
    credits_added = serializers.IntegerField()
    remaining_credits = serializers.IntegerField()


class CheckoutOut(serializers.Serializer):
    razorpay_order_id = serializers.CharField()
    razorpay_payment_id = serializers.CharField()
    razorpay_signature = serializers.CharField()


class RefundOut(serializers.ModelSerializer):
    # Plain strings in the schema: enum names would collide with other apps' "status"/"source".
    status = serializers.CharField(help_text="requested | pending | processed | failed | cancelled")
    source = serializers.CharField(help_text="staff | gateway")
    refund_id = serializers.CharField(source="gateway_refund_id", allow_null=True,
                                      help_text="The gateway's id; null until it accepted the refund")
    amount = serializers.IntegerField(source="amount_paise", help_text="Paise")

    class Meta:
        model = Refund
        fields = ["id", "refund_id", "amount", "status", "source", "reason", "credits_reversed",
                  "credits_shortfall", "plan_reverted", "created_at", "processed_at"]


class OrderOut(serializers.ModelSerializer):
    kind = serializers.CharField(help_text="token_plan | credit_package | subscription")
    status = serializers.CharField(help_text="created | paid | failed | refunded | partially_refunded")
    gateway = serializers.CharField(help_text="razorpay | cashfree | sandbox")
    order_id = serializers.CharField(source="gateway_order_id")
    payment_id = serializers.CharField(source="gateway_payment_id", allow_null=True)
    amount = serializers.IntegerField(source="amount_paise", help_text="Paise")
    amount_refunded = serializers.IntegerField(source="amount_refunded_paise", help_text="Paise")
    plan = serializers.SerializerMethodField()
    package = serializers.SerializerMethodField()

    class Meta:
        model = PaymentOrder
        fields = ["id", "order_id", "kind", "status", "amount", "currency", "gateway", "plan",
                  "package", "credits", "payment_id", "amount_refunded", "created_at",
                  "fulfilled_at", "updated_at"]

    def get_plan(self, order) -> str | None:
        return order.plan.code if order.plan_id else None

    @extend_schema_field(PackageOut(allow_null=True))
    def get_package(self, order):
        return package_out(order.package) if order.package_id else None


class OrderDetailOut(OrderOut):
    refunds = RefundOut(many=True, read_only=True)
    user_id = serializers.IntegerField()
    tenant_id = serializers.IntegerField(allow_null=True)
    checkout = serializers.CharField(help_text="razorpay | cashfree: whose checkout the buyer used")
    gateway_fee = serializers.IntegerField(source="gateway_fee_paise", help_text="Paise, before GST (estimate)")

    class Meta(OrderOut.Meta):
        fields = [*OrderOut.Meta.fields, "user_id", "tenant_id", "phone_number", "receipt", "checkout",
                  "gateway_fee", "fulfilled_via", "fulfilment_result", "failure_reason", "refunds"]


OrdersPageOut = page_serializer("PaymentOrdersPage", OrderOut)


class RefundResultOut(serializers.Serializer):
    refund = RefundOut()
    order = OrderOut()


class WebhookResultOut(serializers.Serializer):
    event_id = serializers.CharField()
    duplicate = serializers.BooleanField()
    result = serializers.CharField()
