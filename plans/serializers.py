"""Input and output shapes of the plans API (seed 002's names; rupees outside, paise inside).

Input serializers check shape and types only; what a value may be (lengths, ranges, the code's
characters, the currency) is the model's rule, applied by plans.services for every caller.
"""

from decimal import Decimal

from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from config.api import StrictIntegerField, StrictSerializer
from config.errors import InvalidInput
from config.ids import MAX_ID
from config.money import paise, rupees
from plans import pricing
from plans.models import RatePlan


class RupeeField(serializers.DecimalField):
    """Rupees in JSON (a non-negative number with at most 2 decimals), integer paise in Python."""

    def __init__(self, **kwargs):
        kwargs.setdefault("max_digits", 12)
        kwargs.setdefault("decimal_places", 2)
        kwargs.setdefault("min_value", Decimal(0))
        kwargs.setdefault("coerce_to_string", False)
        super().__init__(**kwargs)

    def to_internal_value(self, data):
        if isinstance(data, bool):
            self.fail("invalid")
        return paise(super().to_internal_value(data))

    def to_representation(self, value):
        return rupees(value)


def _rupees_out(**kwargs) -> serializers.DecimalField:
    """An output-only rupee number for documentation."""
    return serializers.DecimalField(max_digits=14, decimal_places=2, coerce_to_string=False, **kwargs)


# Output -------------------------------------------------------------------------------------

class RatePlanAddOnPriceSerializer(serializers.Serializer):
    payg = _rupees_out(help_text="Rupees per unit per month (quarterly/annual cycles)")
    oneTime = _rupees_out(help_text="Rupees per unit, once (monthly cycle)")
    description = serializers.CharField()


class RatePlanMetadataSerializer(serializers.Serializer):
    addOns = serializers.DictField(child=RatePlanAddOnPriceSerializer(), help_text="Keyed by add-on code")


def _addons_metadata(plan: RatePlan) -> dict:
    return {"addOns": {
        addon.code: {"payg": rupees(addon.payg_price_paise),
                     "oneTime": rupees(addon.one_time_price_paise),
                     "description": addon.description}
        for addon in plan.addons.all()
    }}


class PublicRatePlanSerializer(serializers.Serializer):
    """Seed 002's public plan (plus product, description, quarterlyPrice, setupFee, gstRate, tier,
    tokenAllowance, durationDays)."""

    id = serializers.IntegerField()
    product = serializers.CharField()
    plan_code = serializers.CharField(source="code")
    planName = serializers.CharField(source="name")
    description = serializers.CharField()
    monthlyPrice = RupeeField(source="monthly_price_paise")
    quarterlyPrice = serializers.SerializerMethodField(method_name="get_quarterly_price",
                                                       help_text="Effective price of 3 months")
    annualPrice = RupeeField(source="annual_price_paise", allow_null=True)
    setupFee = RupeeField(source="setup_fee_paise")
    currency = serializers.CharField()
    gstRate = serializers.DecimalField(source="gst_rate", max_digits=5, decimal_places=2,
                                       coerce_to_string=False)
    limits = serializers.JSONField()
    billingCycle = serializers.SerializerMethodField(method_name="get_billing_cycle")
    features = serializers.JSONField()
    tier = serializers.IntegerField()
    tokenAllowance = serializers.IntegerField(source="token_allowance")
    durationDays = serializers.IntegerField(source="duration_days", allow_null=True)
    metadata = serializers.SerializerMethodField()

    @extend_schema_field(_rupees_out())
    def get_quarterly_price(self, plan):
        return rupees(plan.quarterly_price_paise if plan.quarterly_price_paise is not None
                      else 3 * plan.monthly_price_paise)

    @extend_schema_field(serializers.ChoiceField(choices=pricing.BILLING_CYCLES))
    def get_billing_cycle(self, plan):
        return pricing.MONTHLY

    @extend_schema_field(RatePlanMetadataSerializer)
    def get_metadata(self, plan):
        return _addons_metadata(plan)


class StaffRatePlanSerializer(PublicRatePlanSerializer):
    """Everything staff can see and change; quarterlyPrice is the stored one (null: 3 × monthly)."""

    quarterlyPrice = RupeeField(source="quarterly_price_paise", allow_null=True,
                                help_text="Stored quarterly price; null means 3 × monthly")
    isPublic = serializers.BooleanField(source="is_public")
    isActive = serializers.BooleanField(source="is_active")
    sortOrder = serializers.IntegerField(source="sort_order")
    createdAt = serializers.DateTimeField(source="created_at")
    updatedAt = serializers.DateTimeField(source="updated_at")


class CreditPackagePublicSerializer(serializers.Serializer):
    """Seed 003's package: price in rupees."""

    id = serializers.IntegerField()
    name = serializers.CharField()
    credits = serializers.IntegerField()
    price = RupeeField(source="price_paise")


class RatePlanDeleteResultSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    deleted = serializers.BooleanField()
    deactivated = serializers.BooleanField()


# calculate-price ----------------------------------------------------------------------------

class RatePlanCalculatePriceSerializer(StrictSerializer):
    """Seed 002's calculate-price body."""

    planId = StrictIntegerField(min_value=1, max_value=MAX_ID)
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES, default=pricing.MONTHLY)
    addons = serializers.DictField(
        child=StrictIntegerField(min_value=0, max_value=pricing.MAX_ADDON_QUANTITY), required=False,
        default=dict, help_text="Add-on key (plural, e.g. extraTollFreeNumbers) → quantity",
    )

    def validate_addons(self, value):
        if len(value) > 20:
            raise serializers.ValidationError("At most 20 add-ons.")
        too_long = [key for key in value if len(key) > 50]
        if too_long:
            raise serializers.ValidationError("Add-on keys are at most 50 characters.")
        return value


class RatePlanQuotePlanSerializer(serializers.Serializer):
    id = serializers.IntegerField()
    name = serializers.CharField()
    code = serializers.CharField()
    product = serializers.CharField()


class RatePlanQuotePricingSerializer(serializers.Serializer):
    basePrice = _rupees_out()
    setupFee = _rupees_out()
    addonsTotal = _rupees_out(help_text="One-time add-on charges inside the subtotal")
    subtotal = _rupees_out()
    gstRate = serializers.DecimalField(max_digits=5, decimal_places=2, coerce_to_string=False)
    gst = _rupees_out()
    total = _rupees_out()


class RatePlanQuoteAddOnSerializer(serializers.Serializer):
    type = serializers.CharField(help_text="The request key")
    quantity = serializers.IntegerField()
    unitPrice = _rupees_out()
    total = _rupees_out()
    description = serializers.CharField()


class RatePlanQuoteSerializer(serializers.Serializer):
    """Documents PlanQuote.as_response()."""

    plan = RatePlanQuotePlanSerializer()
    billingCycle = serializers.ChoiceField(choices=pricing.BILLING_CYCLES)
    pricing = RatePlanQuotePricingSerializer()
    addons = RatePlanQuoteAddOnSerializer(many=True)
    amount = serializers.IntegerField(help_text="Total in paise")
    currency = serializers.CharField()
    features = serializers.JSONField()
    limits = serializers.JSONField()


# Staff writes -------------------------------------------------------------------------------

class RatePlanAddOnWriteSerializer(StrictSerializer):
    """One add-on of a plan, in rupees."""

    payg = RupeeField(source="payg_price_paise", required=False)
    oneTime = RupeeField(source="one_time_price_paise", required=False)
    description = serializers.CharField(required=False, allow_blank=True)


class RatePlanWriteSerializer(StrictSerializer):
    """POST (product, plan_code, planName, monthlyPrice required) and PUT (any subset)."""

    product = serializers.ChoiceField(choices=RatePlan.Product.choices)
    plan_code = serializers.CharField(source="code")
    planName = serializers.CharField(source="name")
    description = serializers.CharField(required=False, allow_blank=True)
    monthlyPrice = RupeeField(source="monthly_price_paise")
    quarterlyPrice = RupeeField(source="quarterly_price_paise", required=False, allow_null=True)
    annualPrice = RupeeField(source="annual_price_paise", required=False, allow_null=True)
    setupFee = RupeeField(source="setup_fee_paise", required=False)
    currency = serializers.CharField(required=False, help_text="INR only")
    gstRate = serializers.DecimalField(source="gst_rate", max_digits=5, decimal_places=2, required=False,
                                       coerce_to_string=False, help_text="Percent, 0 to 100")
    durationDays = StrictIntegerField(source="duration_days", required=False, allow_null=True)
    tokenAllowance = StrictIntegerField(source="token_allowance", required=False)
    tier = StrictIntegerField(required=False)
    limits = serializers.DictField(required=False)
    features = serializers.ListField(child=serializers.CharField(), required=False)
    isPublic = serializers.BooleanField(source="is_public", required=False)
    isActive = serializers.BooleanField(source="is_active", required=False)
    sortOrder = StrictIntegerField(source="sort_order", required=False)
    metadata = serializers.DictField(
        child=serializers.DictField(child=RatePlanAddOnWriteSerializer()), required=False,
        help_text='{"addOns": {code: {payg, oneTime, description}}}; replaces the plan\'s add-ons',
    )

    def validate_metadata(self, value):
        unknown = set(value) - {"addOns"}
        if unknown:
            raise serializers.ValidationError(f"Unknown key {sorted(unknown)[0]}; only addOns.")
        return value

    def service_kwargs(self) -> dict:
        """validated_data as keyword arguments of rate_plan_create / rate_plan_update."""
        data = dict(self.validated_data)
        metadata = data.pop("metadata", None)
        if metadata is not None and "addOns" in metadata:
            data["addons"] = [{"code": code, **values} for code, values in metadata["addOns"].items()]
        return data

    def api_error(self, error: InvalidInput, codes: dict[str, str]) -> InvalidInput:
        """A service's refusal of a field, told with this API's field names (planName, not name)."""
        if error.code != "invalid" or not error.fields:
            return error
        names = {field.source: name for name, field in self.fields.items()}
        fields = {names.get(field, field): messages for field, messages in error.fields.items()}
        field, messages = next(iter(fields.items()))
        return InvalidInput(f"{field}: {messages[0]}", code=codes.get(field, "invalid"), fields=fields)
