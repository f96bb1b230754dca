"""Input and output shapes of seed 002's subscription API (camelCase as the seed; rupees out,
paise inside). Shapes only: the rules live in services."""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictIntegerField, StrictSerializer
from config.ids import MAX_ID
from config.money import rupees
from plans import pricing
from plans.serializers import RatePlanQuotePricingSerializer
from subscriptions.lifecycle import usage
from subscriptions.lifecycle.periods import next_billing_date
from subscriptions.models import Subscription
from subscriptions.serializers import StrictBooleanField, StrictCharField

REASON_MAX = 500
_RENEWING = (Subscription.Status.ACTIVE, Subscription.Status.PAST_DUE, Subscription.Status.SUSPENDED)


def _rupees_out(**kwargs) -> serializers.DecimalField:
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs)


def pricing_render(snapshot: dict) -> dict | None:
    """The stored price (paise) as seed 002's pricing object (rupees)."""
    if not snapshot:
        return None
    return {
        "basePrice": rupees(snapshot["basePaise"]), "setupFee": rupees(snapshot["setupFeePaise"]),
        "addonsTotal": rupees(snapshot["addonsUpfrontPaise"]), "subtotal": rupees(snapshot["subtotalPaise"]),
        "gstRate": Decimal(snapshot["gstRate"]), "gst": rupees(snapshot["gstPaise"]),
        "total": rupees(snapshot["totalPaise"]),
    }


# Output -------------------------------------------------------------------------------------

class SubscriptionRatePlanOut(serializers.Serializer):
    id = serializers.IntegerField()
    planName = serializers.CharField(source="name")
    plan_code = serializers.CharField(source="code")
    product = serializers.CharField()
    limits = serializers.JSONField()


class ScheduledChangeOut(serializers.Serializer):
    ratePlanId = serializers.IntegerField()
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES)
    effectiveAt = serializers.DateTimeField(allow_null=True)


class SubscriptionMetadataOut(serializers.Serializer):
    pricing = RatePlanQuotePricingSerializer(allow_null=True, help_text="What the checkout priced (₹)")
    addons = serializers.DictField(child=serializers.IntegerField(),
                                   help_text="Add-on quantities by add-on code")


class SubscriptionOut(serializers.Serializer):
    """DESIGN §4.3's subscription JSON."""

    id = serializers.IntegerField()
    customerId = serializers.IntegerField(source="user_id")
    ratePlanId = serializers.IntegerField(source="plan_id")
    product = serializers.CharField()
    status = serializers.ChoiceField(choices=Subscription.Status.choices)
    billingCycle = serializers.ChoiceField(source="billing_cycle", choices=pricing.BILLING_CYCLES)
    startDate = serializers.DateTimeField(source="started_at", allow_null=True)
    currentPeriodStart = serializers.DateTimeField(source="current_period_start", allow_null=True)
    currentPeriodEnd = serializers.DateTimeField(source="current_period_end", allow_null=True)
    nextBillingDate = serializers.SerializerMethodField()
    autoRenew = serializers.BooleanField(source="auto_renew")
    cancelAtPeriodEnd = serializers.BooleanField(source="cancel_at_period_end")
    scheduledChange = serializers.SerializerMethodField()
    metadata = serializers.SerializerMethodField()
    ratePlan = SubscriptionRatePlanOut(source="plan")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")

    @extend_schema_field(serializers.DateTimeField(allow_null=True,
                                                   help_text="The day after currentPeriodEnd while it renews"))
    def get_nextBillingDate(self, subscription):
        if subscription.status not in _RENEWING or not subscription.auto_renew:
            return None
        return serializers.DateTimeField().to_representation(
            next_billing_date(subscription.current_period_end))

    @extend_schema_field(ScheduledChangeOut(allow_null=True))
    def get_scheduledChange(self, subscription):
        if subscription.scheduled_plan_id is None:
            return None
        return ScheduledChangeOut({"ratePlanId": subscription.scheduled_plan_id,
                                   "billingCycle": subscription.scheduled_billing_cycle,
                                   "effectiveAt": subscription.current_period_end}).data

    @extend_schema_field(SubscriptionMetadataOut)
    def get_metadata(self, subscription):
        return {"pricing": pricing_render(subscription.pricing), "addons": dict(subscription.addons or {})}


class MinutesUsageOut(serializers.Serializer):
    included = serializers.IntegerField()
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()
    overage = serializers.IntegerField()
    pricePerMinute = _rupees_out()
    overageCharge = _rupees_out(help_text="overage × pricePerMinute, ₹")


class CountedUsageOut(serializers.Serializer):
    limit = serializers.IntegerField(help_text="The plan's limit plus add-on quantities")
    used = serializers.IntegerField()
    remaining = serializers.IntegerField()


class UsageMetricsOut(serializers.Serializer):
    minutes = MinutesUsageOut()
    tollFreeNumbers = CountedUsageOut()
    extensions = CountedUsageOut()


class UsageOut(serializers.Serializer):
    subscriptionId = serializers.IntegerField()
    periodStart = serializers.DateTimeField(allow_null=True)
    periodEnd = serializers.DateTimeField(allow_null=True)
    usage = UsageMetricsOut()


# Input --------------------------------------------------------------------------------------

class ReasonIn(StrictSerializer):
    reason = StrictCharField(max_length=REASON_MAX, required=False, allow_blank=True, default="")


class CancelIn(ReasonIn):
    immediate = StrictBooleanField(required=False, default=False)


class SubscriptionUpdateIn(StrictSerializer):
    autoRenew = StrictBooleanField(required=False)
    cancelAtPeriodEnd = StrictBooleanField(required=False, help_text="Only false (resume); cancel with :id/cancel")
    scheduledChange = serializers.JSONField(required=False, allow_null=True,
                                            help_text="Only null (drop a scheduled downgrade)")


class AddonsField(serializers.DictField):
    def __init__(self, **kwargs):
        super().__init__(child=StrictIntegerField(min_value=0, max_value=pricing.MAX_ADDON_QUANTITY),
                         required=False, default=dict,
                         help_text="Add-on key (e.g. extraTollFreeNumbers) → quantity", **kwargs)

    def to_internal_value(self, data):
        value = super().to_internal_value(data)
        if len(value) > 20 or any(len(key) > 50 for key in value):
            raise serializers.ValidationError("At most 20 add-ons, keys of at most 50 characters.")
        return value


class LegacyCreateIn(StrictSerializer):
    planId = StrictIntegerField(min_value=1, max_value=MAX_ID)
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES, default=pricing.MONTHLY)
    addons = AddonsField()
    customerId = StrictIntegerField(min_value=1, max_value=MAX_ID, required=False,
                                    help_text="Staff: the customer (default: yourself)")
    autoRenew = StrictBooleanField(required=False, default=True)
    reason = StrictCharField(max_length=REASON_MAX, required=False, allow_blank=True, default="",
                             help_text="Staff: why (e.g. paid by bank transfer, ref …)")


class UsageRecordIn(StrictSerializer):
    metric = serializers.ChoiceField(choices=usage.METRICS)
    quantity = StrictIntegerField(min_value=1, max_value=usage.MINUTES_PER_CALL_MAX, required=False,
                                  help_text="minutes: how many to add")
    used = StrictIntegerField(min_value=0, max_value=usage.COUNT_MAX, required=False,
                              help_text="tollFreeNumbers / extensions: how many are in use now")

    def validate(self, data):
        wanted, other = ("quantity", "used") if data["metric"] == usage.MINUTES else ("used", "quantity")
        if other in data:
            raise serializers.ValidationError({other: [f"Not used with metric {data['metric']}; send {wanted}."]})
        if wanted not in data:
            raise serializers.ValidationError({wanted: [f"Required with metric {data['metric']}."]})
        return data
