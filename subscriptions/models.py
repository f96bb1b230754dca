"""Subscriptions and their usage counters (DESIGN §4.2, §4.3).

A user's token plan is their live `Subscription` in product ``tokens``; its quota is the
`UsageCounter` with metric ``tokens`` on that subscription. The seed 002 lifecycle (telephony,
platform: `subscriptions.lifecycle`) uses the same two models with more statuses and metrics
(``minutes``, ``tollFreeNumbers``, ``extensions``).
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
    # NULL while a checkout is pending (no period has started yet).
    current_period_start = models.DateTimeField(null=True, blank=True)
    # `plan_end_at` in the token API; NULL for plans that never end (basic).
    current_period_end = models.DateTimeField(null=True, blank=True)

    # --- seed 002's lifecycle (telephony, platform) ---
    # startDate: when the first period started (the first payment, or staff activation).
    started_at = models.DateTimeField(null=True, blank=True)
    # Periods end at anchor + k × cycle months (calendar months, day clamped), so a subscription
    # started on 31 January ends its periods on 28/29 February, 31 March, 30 April, ...
    billing_anchor_at = models.DateTimeField(null=True, blank=True)
    auto_renew = models.BooleanField(default=True)
    cancel_at_period_end = models.BooleanField(default=False)
    # Add-on quantities by the plan's add-on code, e.g. {"extraTollFreeNumber": 2}.
    addons = models.JSONField(default=dict, blank=True)
    # The checkout's price in paise (basePaise, setupFeePaise, subtotalPaise, gstRate, gstPaise,
    # totalPaise, addons [...]); rendered in rupees as metadata.pricing.
    pricing = models.JSONField(default=dict, blank=True)
    # Pre-tax price of one period of `billing_cycle`: what proration and renewals start from.
    period_price_paise = models.BigIntegerField(default=0)
    # A downgrade waiting for the period end (effectiveAt = current_period_end).
    scheduled_plan = models.ForeignKey(RatePlan, null=True, blank=True, on_delete=models.PROTECT,
                                       related_name="+")
    scheduled_billing_cycle = models.CharField(max_length=20, blank=True, default="",
                                               choices=BillingCycle.choices)
    # When it became cancelled or expired.
    ended_at = models.DateTimeField(null=True, blank=True)
    # The period close that opened a renewal order still unpaid (the boundary between the closed
    # period and the one paid in advance): dunning counts from here; paying clears it.
    unpaid_since = models.DateTimeField(null=True, blank=True)

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
            # Only a checkout never paid has no period.
            models.CheckConstraint(
                condition=Q(current_period_start__isnull=False)
                | Q(status__in=["pending", "cancelled", "expired"]),
                name="subscription_started_unless_pending",
            ),
            models.CheckConstraint(condition=Q(ended_at__isnull=True) | Q(status__in=["cancelled", "expired"]),
                                   name="subscription_ended_only_when_over"),
            models.CheckConstraint(condition=Q(cancel_at_period_end=False) | Q(auto_renew=False),
                                   name="subscription_cancel_at_end_not_renewing"),
            models.CheckConstraint(condition=Q(period_price_paise__gte=0),
                                   name="subscription_period_price_non_negative"),
            # Only a subscription whose period closed can owe its renewal.
            models.CheckConstraint(condition=Q(unpaid_since__isnull=True) | Q(current_period_start__isnull=False),
                                   name="subscription_unpaid_only_when_started"),
            models.CheckConstraint(
                condition=Q(scheduled_plan__isnull=True, scheduled_billing_cycle="")
                | Q(scheduled_plan__isnull=False, scheduled_billing_cycle__in=["monthly", "quarterly", "annual"]),
                name="subscription_scheduled_change_complete",
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
            # process_subscriptions' dunning: live subscriptions owing a renewal.
            models.Index(
                fields=["unpaid_since"],
                condition=Q(unpaid_since__isnull=False),
                name="subscription_unpaid_idx",
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
    # The period the counter belongs to: tokens, the first day of the billing month
    # (BILLING_TIME_ZONE); seed 002's metered minutes, the UTC date the subscription period
    # started (an older date means a past period: zero used this period).
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
        EXPIRED = "expired", "Ended (period over, unpaid, or fell back)"
        # seed 002's lifecycle
        CHECKOUT_OPENED = "checkout_opened", "Checkout opened (pending payment)"
        SUPERSEDED = "superseded", "Superseded by a newer checkout"
        CREATED = "created", "Created without online payment"
        ACTIVATED = "activated", "Activated"
        PAYMENT_NOT_APPLIED = "payment_not_applied", "Payment received, nothing delivered"
        SUSPENDED = "suspended", "Suspended"
        CANCEL_SCHEDULED = "cancel_scheduled", "Cancellation at period end"
        CANCELLED = "cancelled", "Cancelled"
        UPDATED = "updated", "Settings changed"
        RENEWED = "renewed", "Renewed (offline)"
        MERGED = "merged", "Closed by an account merge"
        # the period close (process_subscriptions)
        PERIOD_RENEWED = "period_renewed", "Period closed, next period started"
        PAST_DUE = "past_due", "Renewal unpaid: past due"
        RENEWAL_PAID = "renewal_paid", "Renewal paid"
        RENEWAL_NOTICE = "renewal_notice", "Upcoming renewal notice sent"
        # plan changes (change-plan)
        CHANGE_REQUESTED = "change_requested", "Upgrade ordered, awaiting payment"
        CHANGE_SCHEDULED = "change_scheduled", "Plan change scheduled for the period end"
        CHANGE_CLEARED = "change_cleared", "Scheduled plan change cleared"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="events")
    kind = models.CharField(max_length=30, choices=Kind.choices)
    from_plan_code = models.CharField(max_length=50, blank=True, default="")
    to_plan_code = models.CharField(max_length=50, blank=True, default="")
    from_status = models.CharField(max_length=20, blank=True, default="")
    to_status = models.CharField(max_length=20, blank=True, default="")
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


class RenewalNotice(models.Model):
    """The upcoming-renewal notice of one period (India's pre-debit notice): at most one per
    subscription and period end. `sending` is a claim (a run is sending it now; a stale claim is
    taken over), `failed` is retried by the next run."""

    class Status(models.TextChoices):
        SENDING = "sending", "Sending"
        SENT = "sent", "Sent"
        FAILED = "failed", "Failed (retried next run)"
        NO_ADDRESS = "no_address", "No email address"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="renewal_notices",
                                     db_index=False)
    period_end = models.DateTimeField(help_text="The end of the period the notice announces")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.SENDING)
    amount_paise = models.BigIntegerField(default=0, help_text="Estimated renewal amount, GST included")
    email = models.CharField(max_length=254, blank=True, default="")
    attempts = models.PositiveIntegerField(default=0)
    last_error = models.CharField(max_length=500, blank=True, default="")
    claimed_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-period_end", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription", "period_end"], name="renewalnotice_one_per_period"),
            models.CheckConstraint(condition=Q(status__in=["sending", "sent", "failed", "no_address"]),
                                   name="renewalnotice_status_valid"),
            models.CheckConstraint(condition=Q(amount_paise__gte=0), name="renewalnotice_amount_non_negative"),
            models.CheckConstraint(condition=~Q(status="sent") | Q(sent_at__isnull=False),
                                   name="renewalnotice_sent_has_time"),
        ]

    def __str__(self):
        return f"notice {self.subscription_id} @ {self.period_end:%Y-%m-%d} ({self.status})"


class SubscriptionPlanChange(models.Model):
    """An upgrade ordered through change-plan that waits for its payment (DESIGN §4.3).

    The proration is fixed when the order is made (the amount the gateway holds); the payment
    applies it only if the subscription is still on the plan, cycle and period it was priced
    for and no newer change-plan superseded it. Downgrades are not rows here: they are the
    subscription's `scheduled_plan` / `scheduled_billing_cycle`, applied by the period close.
    """

    class Status(models.TextChoices):
        PENDING = "pending", "Awaiting payment"
        APPLIED = "applied", "Paid and applied"
        SUPERSEDED = "superseded", "Superseded (a newer change-plan, or the subscription moved on)"

    subscription = models.ForeignKey(Subscription, on_delete=models.CASCADE, related_name="plan_changes")
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    from_plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="+")
    from_billing_cycle = models.CharField(max_length=20, choices=Subscription.BillingCycle.choices)
    to_plan = models.ForeignKey(RatePlan, on_delete=models.PROTECT, related_name="+")
    to_billing_cycle = models.CharField(max_length=20, choices=Subscription.BillingCycle.choices)
    # The billing cycle changes: a new period starts when it applies (else the period end stays).
    new_period = models.BooleanField(default=False)
    # The period the proration was computed for, and when.
    period_start = models.DateTimeField()
    period_end = models.DateTimeField()
    quoted_at = models.DateTimeField()
    remaining_seconds = models.BigIntegerField()
    period_seconds = models.BigIntegerField()
    # Pre-tax paise: charge − credit = subtotal; subtotal + gst = total (what the order charges).
    credit_paise = models.BigIntegerField()
    charge_paise = models.BigIntegerField()
    subtotal_paise = models.BigIntegerField()
    gst_rate = models.DecimalField(max_digits=5, decimal_places=2)
    gst_paise = models.BigIntegerField()
    total_paise = models.BigIntegerField()
    # The new plan's price snapshot and add-ons, as the subscription will carry them.
    pricing = models.JSONField(default=dict, blank=True)
    period_price_paise = models.BigIntegerField()
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    payment_id = models.CharField(max_length=64, blank=True, default="", help_text="The payment that applied it")
    resolved_at = models.DateTimeField(null=True, blank=True)
    created_at = models.DateTimeField()

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.UniqueConstraint(fields=["subscription"], condition=Q(status="pending"),
                                    name="planchange_one_pending_per_subscription"),
            models.CheckConstraint(condition=Q(status__in=["pending", "applied", "superseded"]),
                                   name="planchange_status_valid"),
            models.CheckConstraint(
                condition=Q(from_billing_cycle__in=["monthly", "quarterly", "annual"])
                & Q(to_billing_cycle__in=["monthly", "quarterly", "annual"]),
                name="planchange_billing_cycles_valid"),
            models.CheckConstraint(condition=Q(period_end__gt=models.F("period_start")),
                                   name="planchange_period_end_after_start"),
            models.CheckConstraint(
                condition=Q(period_seconds__gt=0, remaining_seconds__gte=0)
                & Q(remaining_seconds__lte=models.F("period_seconds")),
                name="planchange_fraction_within_period"),
            # Only a change that costs something waits for a payment.
            models.CheckConstraint(
                condition=Q(subtotal_paise__gt=0, gst_paise__gte=0, credit_paise__gte=0)
                & Q(subtotal_paise=models.F("charge_paise") - models.F("credit_paise"))
                & Q(total_paise=models.F("subtotal_paise") + models.F("gst_paise")),
                name="planchange_figures_add_up"),
            models.CheckConstraint(condition=Q(period_price_paise__gte=0),
                                   name="planchange_period_price_non_negative"),
            models.CheckConstraint(
                condition=Q(status="pending", resolved_at__isnull=True)
                | Q(status__in=["applied", "superseded"], resolved_at__isnull=False),
                name="planchange_resolved_unless_pending"),
            models.CheckConstraint(condition=~Q(status="applied") | ~Q(payment_id=""),
                                   name="planchange_applied_has_payment"),
        ]

    def __str__(self):
        return f"{self.from_plan_id}/{self.from_billing_cycle} → {self.to_plan_id}/{self.to_billing_cycle} ({self.status})"
