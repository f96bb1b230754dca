"""The catalog. Each field's rules live here, once: its validators (run by `full_clean()` in the
services and by the admin's model forms) and the database constraints that back them up."""

from decimal import Decimal

from django.core.exceptions import ValidationError
from django.core.validators import MaxLengthValidator, MaxValueValidator, MinValueValidator, RegexValidator
from django.db import models
from django.db.models import F, Q

from config.validators import no_nul_characters

# Upper bounds: guards against typos and overflow, far above anything real.
MAX_PAISE = 10**14
MAX_TOKENS = 10**15
MAX_CREDITS = 10**15
MAX_TIER = 10**6
SORT_ORDER_LIMIT = 10**6
MAX_DURATION_DAYS = 36_500
MAX_DESCRIPTION = 5_000
MAX_FEATURES, MAX_FEATURE_LENGTH = 100, 300
CURRENCIES = [("INR", "INR")]

_money = [MinValueValidator(0), MaxValueValidator(MAX_PAISE)]
_sort_order = [MinValueValidator(-SORT_ORDER_LIMIT), MaxValueValidator(SORT_ORDER_LIMIT)]
# Plan codes appear in URLs (/api/rate-plans/code/<code>).
_plan_code = RegexValidator(r"^[A-Za-z0-9_.\-]+$", "Letters, digits, _ . and - only.")


# Limits that are derived figures (DESIGN §4.6 review): the plans services fill them in from what
# they derive from, `RatePlan.clean` refuses a disagreement, and on PostgreSQL a check constraint
# does too (plans migration 0005).
PRICE_PER_MINUTE_PAISE = "pricePerMinutePaise"  # the price of an extra minute, paise: the source
PRICE_PER_MINUTE = "pricePerMinute"  # the same in rupees (seed 002 shows it): derived
TOKENS_LIMIT = "tokens"  # a token plan's limits.tokens: derived from token_allowance


def _is_int(value) -> bool:
    return isinstance(value, int) and not isinstance(value, bool)


def price_per_minute_paise_of(value):
    """`limits.pricePerMinute` (rupees, at most two decimals, ≥ 0) in paise; None if it is not one."""
    if isinstance(value, bool) or not isinstance(value, (int, float, str)):
        return None
    try:
        amount = Decimal(str(value))
    except ArithmeticError:
        return None
    if not amount.is_finite() or amount < 0 or amount != amount.quantize(Decimal("0.01")) or amount > MAX_PAISE / 100:
        return None
    return int(amount * 100)


def derived_limit_errors(limits: dict, *, token_allowance: int | None) -> list[str]:
    """Why `limits` disagrees with itself or with the plan's token allowance (empty: it does not)."""
    errors = []
    if PRICE_PER_MINUTE_PAISE in limits:
        exact = limits[PRICE_PER_MINUTE_PAISE]
        if not _is_int(exact) or not 0 <= exact <= MAX_PAISE:
            errors.append(f"{PRICE_PER_MINUTE_PAISE} must be a whole number of paise, 0 or more.")
        elif PRICE_PER_MINUTE in limits and price_per_minute_paise_of(limits[PRICE_PER_MINUTE]) != exact:
            errors.append(f"{PRICE_PER_MINUTE} ({limits[PRICE_PER_MINUTE]!r}) disagrees with "
                          f"{PRICE_PER_MINUTE_PAISE} ({exact}); give one of them.")
    elif PRICE_PER_MINUTE in limits and price_per_minute_paise_of(limits[PRICE_PER_MINUTE]) is None:
        errors.append(f"{PRICE_PER_MINUTE} must be rupees with at most two decimals, 0 or more.")
    if TOKENS_LIMIT in limits and token_allowance is not None and limits[TOKENS_LIMIT] != token_allowance:
        errors.append(f"{TOKENS_LIMIT} ({limits[TOKENS_LIMIT]!r}) disagrees with the token allowance "
                      f"({token_allowance}); it is derived from it.")
    return errors


def feature_list(value) -> None:
    """At most MAX_FEATURES texts of at most MAX_FEATURE_LENGTH characters (that it is a list at
    all is RatePlan.clean's check)."""
    if not isinstance(value, list):
        return
    if len(value) > MAX_FEATURES:
        raise ValidationError(f"At most {MAX_FEATURES} features.", code="too_many")
    if not all(isinstance(item, str) and len(item) <= MAX_FEATURE_LENGTH for item in value):
        raise ValidationError(f"Every feature is a text of at most {MAX_FEATURE_LENGTH} characters.",
                              code="invalid_feature")


class RatePlan(models.Model):
    """Something sold by the month: token plans, telephony plans (seed 002), platform plans (004).

    Prices are integer paise. `tier` orders plans within a product for upgrade/downgrade.
    """

    class Product(models.TextChoices):
        TOKENS = "tokens", "Tokens"
        TELEPHONY = "telephony", "Telephony"
        PLATFORM = "platform", "Platform"

    product = models.CharField(max_length=30, choices=Product.choices)
    code = models.CharField(max_length=50, validators=[_plan_code])
    name = models.CharField(max_length=120, validators=[no_nul_characters])
    description = models.TextField(blank=True, default="",
                                   validators=[MaxLengthValidator(MAX_DESCRIPTION), no_nul_characters])
    monthly_price_paise = models.BigIntegerField(default=0, validators=_money)
    quarterly_price_paise = models.BigIntegerField(null=True, blank=True, validators=_money,
                                                   help_text="Empty: 3 × monthly")
    annual_price_paise = models.BigIntegerField(null=True, blank=True, validators=_money)
    setup_fee_paise = models.BigIntegerField(default=0, validators=_money)
    currency = models.CharField(max_length=3, default="INR", choices=CURRENCIES)
    gst_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0,
                                   validators=[MinValueValidator(0), MaxValueValidator(100)],
                                   help_text="Percent, e.g. 18.00")
    duration_days = models.PositiveIntegerField(
        null=True, blank=True, validators=[MinValueValidator(1), MaxValueValidator(MAX_DURATION_DAYS)],
        help_text="Token plans: 30; empty = never ends")
    token_allowance = models.BigIntegerField(default=0, help_text="Tokens per month",
                                             validators=[MinValueValidator(0), MaxValueValidator(MAX_TOKENS)])
    tier = models.PositiveIntegerField(default=0, validators=[MinValueValidator(0), MaxValueValidator(MAX_TIER)])
    limits = models.JSONField(default=dict, blank=True, validators=[no_nul_characters])
    features = models.JSONField(default=list, blank=True, validators=[feature_list, no_nul_characters])
    is_public = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0, validators=_sort_order)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["product", "sort_order", "tier", "id"]
        constraints = [
            models.UniqueConstraint(fields=["product", "code"], name="rateplan_code_unique_per_product"),
            models.CheckConstraint(condition=~Q(code=""), name="rateplan_code_not_blank"),
            models.CheckConstraint(condition=Q(monthly_price_paise__gte=0), name="rateplan_monthly_price_non_negative"),
            models.CheckConstraint(condition=Q(quarterly_price_paise__isnull=True) | Q(quarterly_price_paise__gte=0),
                                   name="rateplan_quarterly_price_non_negative"),
            models.CheckConstraint(condition=Q(annual_price_paise__isnull=True) | Q(annual_price_paise__gte=0),
                                   name="rateplan_annual_price_non_negative"),
            models.CheckConstraint(condition=Q(setup_fee_paise__gte=0), name="rateplan_setup_fee_non_negative"),
            models.CheckConstraint(condition=Q(gst_rate__gte=0) & Q(gst_rate__lte=100), name="rateplan_gst_rate_percent"),
            models.CheckConstraint(condition=Q(token_allowance__gte=0), name="rateplan_token_allowance_non_negative"),
            models.CheckConstraint(condition=Q(duration_days__isnull=True) | Q(duration_days__gt=0),
                                   name="rateplan_duration_positive"),
            # A stored quarterly price is a discount on three months, never more (empty: 3 × monthly).
            models.CheckConstraint(
                condition=Q(quarterly_price_paise__isnull=True) | Q(quarterly_price_paise__lte=F("monthly_price_paise") * 3),
                name="rateplan_quarterly_at_most_three_months"),
        ]

    def __str__(self):
        return f"{self.product}/{self.code}"

    def clean(self):
        # JSON fields skip their validators when empty ([] or {}), so their types are checked here.
        errors = {}
        if not isinstance(self.limits, dict):
            errors["limits"] = ValidationError("An object is required.", code="not_an_object")
        elif derived := derived_limit_errors(
                self.limits, token_allowance=self.token_allowance if self.product == self.Product.TOKENS else None):
            errors["limits"] = ValidationError(derived[0], code="derived_disagrees")
        if not isinstance(self.features, list):
            errors["features"] = ValidationError("A list is required.", code="not_a_list")
        if (self.quarterly_price_paise is not None and _is_int(self.monthly_price_paise)
                and _is_int(self.quarterly_price_paise) and self.quarterly_price_paise > 3 * self.monthly_price_paise):
            errors["quarterly_price_paise"] = ValidationError(
                "The quarterly price cannot be more than three monthly prices (leave it empty for 3 × monthly).",
                code="quarterly_above_three_months")
        if errors:
            raise ValidationError(errors)

    @property
    def is_free(self) -> bool:
        return self.monthly_price_paise == 0


class AddOn(models.Model):
    plan = models.ForeignKey(RatePlan, on_delete=models.CASCADE, related_name="addons")
    code = models.CharField(max_length=50, help_text="e.g. extraTollFreeNumber", validators=[no_nul_characters])
    description = models.CharField(max_length=200, blank=True, default="", validators=[no_nul_characters])
    payg_price_paise = models.BigIntegerField(default=0, help_text="Per unit per month", validators=_money)
    one_time_price_paise = models.BigIntegerField(default=0, validators=_money)

    class Meta:
        ordering = ["plan", "id"]
        constraints = [
            models.UniqueConstraint(fields=["plan", "code"], name="addon_code_unique_per_plan"),
            models.CheckConstraint(condition=~Q(code=""), name="addon_code_not_blank"),
            models.CheckConstraint(condition=Q(payg_price_paise__gte=0), name="addon_payg_price_non_negative"),
            models.CheckConstraint(condition=Q(one_time_price_paise__gte=0), name="addon_one_time_price_non_negative"),
        ]

    def __str__(self):
        return f"{self.plan.code}/{self.code}"


class CreditPackage(models.Model):
    """A pack of credits sold for a fixed price (seed 003)."""

    name = models.CharField(max_length=120, validators=[no_nul_characters])
    price_paise = models.BigIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_PAISE)])
    credits = models.BigIntegerField(validators=[MinValueValidator(1), MaxValueValidator(MAX_CREDITS)])
    currency = models.CharField(max_length=3, default="INR", choices=CURRENCIES)
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0, validators=_sort_order)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["sort_order", "price_paise", "id"]
        constraints = [
            models.CheckConstraint(condition=Q(price_paise__gt=0), name="creditpackage_price_positive"),
            models.CheckConstraint(condition=Q(credits__gt=0), name="creditpackage_credits_positive"),
            models.CheckConstraint(condition=~Q(name=""), name="creditpackage_name_not_blank"),
        ]

    def __str__(self):
        return self.name
