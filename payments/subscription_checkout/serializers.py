"""Shapes of seed 002's checkout (shapes only: GSTIN, phone and the rest are checked by the
billing-profile service)."""

from rest_framework import serializers

from accounts.billing import MAX_LENGTHS
from config.api import StrictIntegerField, StrictSerializer
from config.ids import MAX_ID
from plans import pricing
from plans.serializers import (
    RatePlanQuoteAddOnSerializer,
    RatePlanQuotePlanSerializer,
    RatePlanQuotePricingSerializer,
)
from subscriptions.lifecycle.serializers import AddonsField, ScheduledChangeOut, SubscriptionOut
from subscriptions.serializers import StrictBooleanField, StrictCharField


def _text(name: str, help_text: str = "") -> serializers.CharField:
    # A JSON string (or null); a little slack over the stored length: the service trims spaces,
    # then names an over-long field.
    return StrictCharField(max_length=MAX_LENGTHS[name] + 100, required=False, allow_blank=True,
                                 allow_null=True, trim_whitespace=False, help_text=help_text)


class CustomerDataIn(StrictSerializer):
    """Seed 002's customerData; stored as the user's billing profile. Fields not sent are kept."""

    firstName = _text("first_name")
    lastName = _text("last_name")
    phone = _text("phone", "Any common format; stored as E.164 (+919876543210)")
    company = _text("company")
    address = _text("address")
    city = _text("city")
    state = _text("state")
    country = _text("country", "ISO 3166 two-letter code (default IN)")
    postalCode = _text("postal_code", "6-digit PIN in India")
    gstNumber = _text("gstin", "GSTIN: 15 characters, valid state code and check character")


class CreateWithPaymentIn(StrictSerializer):
    planId = StrictIntegerField(min_value=1, max_value=MAX_ID)
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES, default=pricing.MONTHLY)
    addons = AddonsField()
    customerData = CustomerDataIn(required=False)


class CheckoutPricingOut(serializers.Serializer):
    plan = RatePlanQuotePlanSerializer()
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES)
    pricing = RatePlanQuotePricingSerializer()
    addons = RatePlanQuoteAddOnSerializer(many=True, help_text="Pay-as-you-go add-ons are billed monthly, "
                                                                  "outside the upfront total")
    currency = serializers.CharField()


class CheckoutCustomerOut(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    email = serializers.CharField(allow_null=True)
    contact = serializers.CharField(allow_blank=True)


class CreateWithPaymentOut(serializers.Serializer):
    orderId = serializers.CharField(help_text="Razorpay order id for Checkout")
    subscriptionId = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Paise")
    currency = serializers.CharField()
    key = serializers.CharField(help_text="Razorpay key id for Checkout")
    pricing = CheckoutPricingOut()
    customer = CheckoutCustomerOut()


class VerifyPaymentIn(StrictSerializer):
    razorpay_order_id = serializers.CharField(max_length=64)
    razorpay_payment_id = serializers.CharField(max_length=64)
    razorpay_signature = serializers.CharField(max_length=256)
    subscriptionId = StrictIntegerField(min_value=1, max_value=MAX_ID)


class PaymentOut(serializers.Serializer):
    id = serializers.IntegerField()
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, help_text="₹")
    currency = serializers.CharField()
    status = serializers.CharField()
    transactionId = serializers.CharField(help_text="The Razorpay payment id")


class VerifyPaymentOut(serializers.Serializer):
    subscription = SubscriptionOut()
    payment = PaymentOut()


class RenewalLineOut(serializers.Serializer):
    kind = serializers.CharField(help_text="plan | overage | addon")
    code = serializers.CharField()
    description = serializers.CharField()
    quantity = serializers.IntegerField()
    unitPrice = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, help_text="₹")
    amount = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False,
                                      help_text="₹, before tax")


class RenewalPricingOut(serializers.Serializer):
    subtotal = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    gstRate = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    gst = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)
    total = serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False)


class PayOut(serializers.Serializer):
    orderId = serializers.CharField(help_text="Razorpay order id for Checkout")
    subscriptionId = serializers.IntegerField()
    amount = serializers.IntegerField(help_text="Paise")
    currency = serializers.CharField()
    key = serializers.CharField(help_text="Razorpay key id for Checkout")
    periodStart = serializers.DateTimeField(help_text="The period paid in advance")
    periodEnd = serializers.DateTimeField()
    lines = RenewalLineOut(many=True)
    pricing = RenewalPricingOut()


def _rupees_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs)


class ChangePlanIn(StrictSerializer):
    planId = StrictIntegerField(min_value=1, max_value=MAX_ID)
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES, required=False,
                                           help_text="Default: the subscription's current billing cycle")
    preview = StrictBooleanField(required=False, default=False,
                                 help_text="true: answer the same figures, create and change nothing")


class ProrationOut(serializers.Serializer):
    credit = _rupees_out(help_text="₹: the unused share of the current period's price (pre-tax)")
    charge = _rupees_out(help_text="₹: the new plan's price for the rest of the period (the whole new period "
                                   "when the billing cycle changes), pre-tax")
    subtotal = _rupees_out(help_text="₹: charge − credit (negative: nothing is due, nothing is paid out)")
    gst = _rupees_out(help_text="₹: GST on a positive subtotal, rounded once")
    total = _rupees_out(help_text="₹: what is due (never negative)")


class ChangePlanOut(serializers.Serializer):
    subscriptionId = serializers.IntegerField()
    preview = serializers.BooleanField()
    change = serializers.ChoiceField(choices=["upgrade", "downgrade", "cleared"])
    effective = serializers.ChoiceField(choices=["on_payment", "now", "period_end"],
                                        help_text="When it takes effect: when the order is paid, now, or at "
                                                  "currentPeriodEnd")
    ratePlanId = serializers.IntegerField(help_text="The plan changed to")
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES)
    newPeriod = serializers.BooleanField(help_text="The billing cycle changes: a new period starts when it applies")
    orderId = serializers.CharField(allow_null=True, help_text="Razorpay order id to pay (upgrades due money)")
    amount = serializers.IntegerField(help_text="Paise due (0: nothing to pay)")
    currency = serializers.CharField()
    key = serializers.CharField(allow_null=True, help_text="Razorpay key id for Checkout (with orderId)")
    proration = ProrationOut()
    scheduledChange = ScheduledChangeOut(allow_null=True)
    subscription = SubscriptionOut()
