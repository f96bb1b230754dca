"""Shapes of seed 004's routed payments API (/api/v1/payments/create, /verify, /webhook/cashfree)."""

from rest_framework import serializers

from config.api import StrictSerializer
from payments.gateways import CHECKOUTS
from payments.serializers import CHECKOUT_ID_MAX, OrderOut, PackageIdField, PackageOut


class GatewaysField(serializers.ListField):
    """The checkouts the caller's frontend can open, e.g. ["razorpay", "cashfree"]."""

    def __init__(self, **kwargs):
        super().__init__(child=serializers.ChoiceField(choices=CHECKOUTS), allow_empty=False,
                         max_length=len(CHECKOUTS), **kwargs)


class RoutedOrderInput(StrictSerializer):
    """What is bought, as in /api/payments/create-order: a credit package (`package_id`, with the
    buyer's `phone_number` for an API key) or a token plan (`plan`). One of them."""

    package_id = PackageIdField(required=False)
    plan = serializers.CharField(max_length=50, required=False)
    phone_number = serializers.CharField(max_length=32, required=False)
    gateways = GatewaysField(required=False, help_text="Default: every gateway (routed by cost)")

    def validate(self, attrs):
        if ("plan" in attrs) == ("package_id" in attrs):
            raise serializers.ValidationError("Buy either a plan or a package.")
        return attrs


class RoutedVerifyInput(StrictSerializer):
    """`order_id` alone (Cashfree, or any order: the gateway is asked), or Razorpay Checkout's
    answer (`razorpay_order_id`, `razorpay_payment_id`, `razorpay_signature`, or the same
    without the prefix)."""

    order_id = serializers.CharField(max_length=CHECKOUT_ID_MAX, required=False, trim_whitespace=False)
    payment_id = serializers.CharField(max_length=CHECKOUT_ID_MAX, required=False, trim_whitespace=False)
    signature = serializers.CharField(max_length=128, required=False, trim_whitespace=False)
    razorpay_order_id = serializers.CharField(max_length=CHECKOUT_ID_MAX, required=False, trim_whitespace=False)
    razorpay_payment_id = serializers.CharField(max_length=CHECKOUT_ID_MAX, required=False,
                                                trim_whitespace=False)
    razorpay_signature = serializers.CharField(max_length=128, required=False, trim_whitespace=False)

    def validate(self, attrs):
        merged = {}
        for name in ("order_id", "payment_id", "signature"):
            plain, prefixed = attrs.get(name), attrs.get(f"razorpay_{name}")
            if plain is not None and prefixed is not None and plain != prefixed:
                raise serializers.ValidationError({name: [f"Differs from razorpay_{name}."]})
            merged[name] = plain if plain is not None else prefixed
        if not merged["order_id"]:
            raise serializers.ValidationError({"order_id": ["This field is required."]})
        return merged


class RoutedOrderOut(serializers.Serializer):
    id = serializers.IntegerField()
    order_id = serializers.CharField(help_text="The gateway's order id")
    gateway = serializers.CharField(help_text="Whose checkout to open: razorpay | cashfree")
    sandbox = serializers.BooleanField(help_text="True when the offline sandbox plays that checkout")
    key = serializers.CharField(required=False, help_text="Razorpay: the key for Checkout")
    payment_session_id = serializers.CharField(required=False, help_text="Cashfree: for its checkout")
    environment = serializers.CharField(required=False, help_text="Cashfree: the JS SDK mode")
    amount = serializers.IntegerField(help_text="Paise")
    currency = serializers.CharField()
    kind = serializers.CharField(help_text="token_plan | credit_package")
    plan = serializers.CharField(allow_null=True)
    package = PackageOut(allow_null=True)


class RoutedVerifiedOut(serializers.Serializer):
    order = OrderOut()
    result = serializers.JSONField(help_text="What fulfilment did: for a package {payment_id, order_id, "
                                             "credits_added, remaining_credits}; for a token plan, set-plan's answer")
