from django.db import models
from django.db.models import Q


class RatePlan(models.Model):
    """Something sold by the month: token plans, telephony plans (seed 002), platform plans (004).

    Prices are integer paise. `tier` orders plans within a product for upgrade/downgrade.
    """

    class Product(models.TextChoices):
        TOKENS = "tokens", "Tokens"
        TELEPHONY = "telephony", "Telephony"
        PLATFORM = "platform", "Platform"

    product = models.CharField(max_length=30, choices=Product.choices)
    code = models.CharField(max_length=50)
    name = models.CharField(max_length=120)
    description = models.TextField(blank=True, default="")
    monthly_price_paise = models.BigIntegerField(default=0)
    quarterly_price_paise = models.BigIntegerField(null=True, blank=True,
                                                   help_text="Empty: 3 × monthly")
    annual_price_paise = models.BigIntegerField(null=True, blank=True)
    setup_fee_paise = models.BigIntegerField(default=0)
    currency = models.CharField(max_length=3, default="INR")
    gst_rate = models.DecimalField(max_digits=5, decimal_places=2, default=0,
                                   help_text="Percent, e.g. 18.00")
    duration_days = models.PositiveIntegerField(null=True, blank=True,
                                                help_text="Token plans: 30; empty = never ends")
    token_allowance = models.BigIntegerField(default=0, help_text="Tokens per month")
    tier = models.PositiveIntegerField(default=0)
    limits = models.JSONField(default=dict, blank=True)
    features = models.JSONField(default=list, blank=True)
    is_public = models.BooleanField(default=True)
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)
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
        ]

    def __str__(self):
        return f"{self.product}/{self.code}"

    @property
    def is_free(self) -> bool:
        return self.monthly_price_paise == 0


class AddOn(models.Model):
    plan = models.ForeignKey(RatePlan, on_delete=models.CASCADE, related_name="addons")
    code = models.CharField(max_length=50, help_text="e.g. extraTollFreeNumber")
    description = models.CharField(max_length=200, blank=True, default="")
    payg_price_paise = models.BigIntegerField(default=0, help_text="Per unit per month")
    one_time_price_paise = models.BigIntegerField(default=0)

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

    name = models.CharField(max_length=120)
    price_paise = models.BigIntegerField()
    credits = models.BigIntegerField()
    currency = models.CharField(max_length=3, default="INR")
    is_active = models.BooleanField(default=True)
    sort_order = models.IntegerField(default=0)
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
