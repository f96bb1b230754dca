"""Subscriptions and their usage counters (DESIGN §4.2, §4.3).

A user's token plan is their live `Subscription` in product ``tokens``; its quota is the
`UsageCounter` with metric ``tokens`` on that subscription. The seed 002 lifecycle (telephony,
platform) uses the same two models with more statuses and metrics.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q

from plans.models import RatePlan


class Subscription(models.Model):
    class Status(models.TextChoices):
        PENDING = "pending", "Pending payment"
        ACTIVE = "active", "Active"
        PAST_DUE = "past_due", "Past due"
        SUSPENDED = "suspended", "Suspended"
        CANCELLED = "cancelled", "Cancelled"
        EXPIRED = "expired", "Expired"

    class BillingCycle(models.TextChoices):
        MONTHLY = "monthly", "Monthly"
        QUARTERLY = "quarterly", "Quarterly"
        ANNUAL = "annual", "Annual"

    # At most one subscription in these statuses per user and product.
    LIVE_STATUSES = (Status.PENDING, Status.ACTIVE, Status.PAST_DUE, Status.SUSPENDED)
    # Statuses in which metered usage (e.g. tokens) may be consumed.
    USABLE_STATUSES = (Status.ACTIVE, Status.PAST_DUE)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.CASCADE,
                             related_name="subscriptions")
    plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="subscriptions")
    # Copied from the plan so the one-live-per-product constraint can be a plain unique index.
    product = models.CharField(max_length=30, choices=RatePlan.Product.choices)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    billing_cycle = models.CharField(max_length=20, choices=BillingCycle.choices,
                                     default=BillingCycle.MONTHLY)
    current_period_start = models.DateTimeField()
    # `plan_end_at` in the token API; NULL for plans that never end (basic).
    current_period_end = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(
                fields=["user", "product"],
                condition=Q(status__in=["pending", "active", "past_due", "suspended"]),
                name="subscription_one_live_per_user_product",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["pending", "active", "past_due", "suspended", "cancelled",
                                        "expired"]),
                name="subscription_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(billing_cycle__in=["monthly", "quarterly", "annual"]),
                name="subscription_billing_cycle_valid",
            ),
            models.CheckConstraint(
                condition=Q(product__in=["tokens", "telephony", "platform"]),
                name="subscription_product_valid",
            ),
            models.CheckConstraint(
                condition=Q(current_period_end__isnull=True)
                | Q(current_period_end__gte=models.F("current_period_start")),
                name="subscription_period_end_after_start",
            ),
        ]
        indexes = [
            # expire_plans: live subscriptions whose period has an end.
            models.Index(
                fields=["current_period_end"],
                condition=Q(current_period_end__isnull=False,
                            status__in=["pending", "active", "past_due", "suspended"]),
                name="subscription_live_end_idx",
            ),
        ]

    def __str__(self):
        return f"{self.user} · {self.product}/{self.plan.code} ({self.status})"

    @property
    def is_live(self) -> bool:
        return self.status in self.LIVE_STATUSES


class UsageCounter(models.Model):
    """Usage of one metric in one billing period.

    `used` may exceed `quota` (a downgrade keeps `used`), so there is no `used <= quota`
    constraint; consumption itself never pushes `used` past `quota`.
    """

    TOKENS = "tokens"

    # No index of its own: the unique (subscription, metric) index serves lookups by subscription.
    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE,
                                     related_name="usage_counters", db_index=False)
    metric = models.CharField(max_length=50, default=TOKENS)
    quota = models.BigIntegerField()
    used = models.BigIntegerField(default=0)
    # First day of the billing month (BILLING_TIME_ZONE) the counter belongs to.
    period_start = models.DateField()
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "metric"],
                                    name="usagecounter_one_per_subscription_metric"),
            models.CheckConstraint(condition=Q(used__gte=0), name="usagecounter_used_non_negative"),
            models.CheckConstraint(condition=Q(quota__gte=0), name="usagecounter_quota_non_negative"),
        ]

    def __str__(self):
        return f"{self.metric}: {self.used}/{self.quota} from {self.period_start}"

    @property
    def remaining(self) -> int:
        return self.quota - self.used


class SubscriptionEvent(models.Model):
    """Audit trail of changes made to a subscription by services (who, why, before/after)."""

    class Kind(models.TextChoices):
        PROVISIONED = "provisioned", "Provisioned"
        PLAN_CHANGED = "plan_changed", "Plan changed"
        USAGE_RESET = "usage_reset", "Usage reset"
        EXPIRED = "expired", "Plan ended, fell back"
        MERGED = "merged", "Closed by an account merge"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_plan_code = models.CharField(max_length=50, blank=True, default="")
    to_plan_code = models.CharField(max_length=50, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True,
                              on_delete=models.SET_NULL, related_name="+")
    reason = models.CharField(max_length=500, blank=True, default="")
    data = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["subscription", "created_at"], name="subevent_sub_created_idx")]

    def __str__(self):
        return f"{self.kind} {self.from_plan_code}→{self.to_plan_code}"
