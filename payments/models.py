"""Payment orders, refunds and gateway webhook events (DESIGN §4.5).

Money is integer paise. Every invariant the services rely on is also a database constraint.
"""

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.db.models import F, Q
from django.utils import timezone


class PaymentOrder(models.Model):
    """One checkout: what is bought, by whom, for how much, and what the gateway said."""

    class Kind(models.TextChoices):
        TOKEN_PLAN = "token_plan", "Token plan"
        CREDIT_PACKAGE = "credit_package", "Credit package"
        SUBSCRIPTION = "subscription", "Subscription"

    class Status(models.TextChoices):
        CREATED = "created", "Created"
        PAID = "paid", "Paid"
        FAILED = "failed", "Failed"
        REFUNDED = "refunded", "Refunded"
        PARTIALLY_REFUNDED = "partially_refunded", "Partially refunded"

    class Purpose(models.TextChoices):
        CHECKOUT = "checkout", "First payment of a subscription"
        UPGRADE = "upgrade", "Prorated upgrade"
        RENEWAL = "renewal", "Renewal"

    class Gateway(models.TextChoices):
        RAZORPAY = "razorpay", "Razorpay"
        CASHFREE = "cashfree", "Cashfree"
        SANDBOX = "sandbox", "Sandbox"

    class Checkout(models.TextChoices):
        """Whose checkout the buyer completes: the gateway's own, or the one the sandbox plays."""

        RAZORPAY = "razorpay", "Razorpay Checkout"
        CASHFREE = "cashfree", "Cashfree Checkout"

    PAID_STATUSES = (Status.PAID, Status.REFUNDED, Status.PARTIALLY_REFUNDED)

    user = models.ForeignKey(settings.AUTH_USER_MODEL, on_delete=models.PROTECT,
                             related_name="payment_orders", help_text="Who receives what is bought")
    # Seed 003 orders made by a tenant's API key: the key's tenant may verify them.
    tenant = models.ForeignKey("tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT,
                               related_name="payment_orders")
    phone_number = models.CharField(max_length=20, blank=True, default="", help_text="E.164 (seed 003)")

    kind = models.CharField(max_length=20, choices=Kind.choices)
    plan = models.ForeignKey("plans.RatePlan", null=True, blank=True, on_delete=models.PROTECT,
                             related_name="payment_orders")
    package = models.ForeignKey("plans.CreditPackage", null=True, blank=True, on_delete=models.PROTECT,
                                related_name="payment_orders")
    # Snapshot of the package's credits when the order was made: what the customer paid for.
    credits = models.BigIntegerField(null=True, blank=True)
    # Subscription orders (seed 002): the subscription paid for and why (the first payment now;
    # upgrades and renewals in the lifecycle issue), with the priced lines for the invoice.
    subscription = models.ForeignKey("subscriptions.Subscription", null=True, blank=True,
                                     on_delete=models.PROTECT, related_name="payment_orders")
    purpose = models.CharField(max_length=20, choices=Purpose.choices, blank=True, default="")
    lines = models.JSONField(default=list, blank=True, encoder=DjangoJSONEncoder,
                             help_text="[{kind, description, quantity, unitPaise, amountPaise}] before tax")
    tax_paise = models.BigIntegerField(default=0, help_text="GST included in amount_paise")
    # Renewal orders: the period paid in advance (its start is the close of the previous one,
    # whose arrears the order also carries). One renewal order per subscription and period.
    period_start = models.DateTimeField(null=True, blank=True)
    period_end = models.DateTimeField(null=True, blank=True)
    # Upgrade orders (purpose "upgrade", change-plan): the prorated change they pay for; `plan` is
    # the plan changed to.
    plan_change = models.OneToOneField("subscriptions.SubscriptionPlanChange", null=True, blank=True,
                                       on_delete=models.PROTECT, related_name="payment_order")

    amount_paise = models.BigIntegerField(help_text="Computed by the server")
    currency = models.CharField(max_length=3, default="INR")
    # The gateway that holds the order: verify, refunds and reconcile go to it.
    gateway = models.CharField(max_length=20, choices=Gateway.choices)
    checkout = models.CharField(max_length=20, choices=Checkout.choices, default=Checkout.RAZORPAY)
    # Cashfree's payment_session_id, which its checkout needs (empty for Razorpay).
    checkout_session = models.CharField(max_length=255, blank=True, default="")
    # What the gateway charges for this payment (PAYMENT_FEES at creation, before GST): an
    # estimate for routing and the admin's summary, not the settled fee.
    gateway_fee_paise = models.BigIntegerField(default=0)
    # Empty only on a renewal order nobody has asked to pay yet: `pay` opens it at the gateway.
    gateway_order_id = models.CharField(max_length=64, unique=True, null=True, blank=True)
    gateway_payment_id = models.CharField(max_length=64, null=True, blank=True)
    receipt = models.CharField(max_length=40, unique=True)

    status = models.CharField(max_length=20, choices=Status.choices, default=Status.CREATED)
    amount_refunded_paise = models.BigIntegerField(default=0)
    fulfilled_at = models.DateTimeField(null=True, blank=True)
    fulfilled_via = models.CharField(max_length=20, blank=True, default="",
                                     help_text="verify, webhook, reconcile or admin")
    # The answer verify gives, stored so a replayed verify answers the same.
    fulfilment_result = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    # What delivery did for a token plan (upgrade, same_tier renewal, top_up): a refund takes
    # back exactly that.
    fulfilment_action = models.CharField(max_length=20, blank=True, default="")
    failed_at = models.DateTimeField(null=True, blank=True)
    failure_reason = models.CharField(max_length=255, blank=True, default="")

    created_at = models.DateTimeField(default=timezone.now, db_index=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [
            models.Index(fields=["user", "-created_at"], name="payorder_user_created"),
            models.Index(fields=["status", "created_at"], name="payorder_status_created"),
        ]
        constraints = [
            models.UniqueConstraint(
                fields=["gateway_payment_id"], condition=Q(gateway_payment_id__isnull=False),
                name="payorder_gateway_payment_id_unique",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["created", "paid", "failed", "refunded", "partially_refunded"]),
                name="payorder_status_valid",
            ),
            models.CheckConstraint(
                condition=Q(kind__in=["token_plan", "credit_package", "subscription"]),
                name="payorder_kind_valid",
            ),
            models.CheckConstraint(
                condition=(
                    Q(kind__in=["token_plan", "subscription"], plan__isnull=False, package__isnull=True,
                      credits__isnull=True)
                    | Q(kind="credit_package", package__isnull=False, plan__isnull=True,
                        credits__isnull=False, credits__gt=0)
                ),
                name="payorder_purchase_matches_kind",
            ),
            models.CheckConstraint(
                condition=Q(kind="subscription", subscription__isnull=False,
                            purpose__in=["checkout", "upgrade", "renewal"])
                | (~Q(kind="subscription") & Q(subscription__isnull=True, purpose="")),
                name="payorder_subscription_matches_kind",
            ),
            models.UniqueConstraint(fields=["subscription", "period_start"], condition=Q(purpose="renewal"),
                                    name="payorder_one_renewal_per_period"),
            models.CheckConstraint(
                condition=~Q(purpose="renewal")
                | Q(period_start__isnull=False, period_end__isnull=False, period_end__gt=F("period_start")),
                name="payorder_renewal_has_period"),
            # Only an unpaid renewal order may wait for its gateway order (opened by `pay`).
            models.CheckConstraint(
                condition=Q(gateway_order_id__isnull=False) | Q(purpose="renewal", status__in=["created", "failed"]),
                name="payorder_gateway_order_unless_unopened_renewal"),
            models.CheckConstraint(
                condition=Q(purpose="upgrade", plan_change__isnull=False)
                | (~Q(purpose="upgrade") & Q(plan_change__isnull=True)),
                name="payorder_upgrade_has_plan_change",
            ),
            models.CheckConstraint(condition=Q(tax_paise__gte=0) & Q(tax_paise__lte=F("amount_paise")),
                                   name="payorder_tax_within_amount"),
            models.CheckConstraint(condition=Q(amount_paise__gt=0), name="payorder_amount_positive"),
            models.CheckConstraint(condition=Q(gateway_fee_paise__gte=0), name="payorder_fee_non_negative"),
            models.CheckConstraint(condition=Q(checkout__in=["razorpay", "cashfree"]),
                                   name="payorder_checkout_valid"),
            models.CheckConstraint(
                condition=Q(amount_refunded_paise__gte=0) & Q(amount_refunded_paise__lte=F("amount_paise")),
                name="payorder_refunded_within_amount",
            ),
            # Paid (and later refunded) orders carry the payment that paid them and were fulfilled.
            models.CheckConstraint(
                condition=Q(status__in=["created", "failed"], fulfilled_at__isnull=True)
                | Q(status__in=["paid", "refunded", "partially_refunded"], gateway_payment_id__isnull=False,
                    fulfilled_at__isnull=False),
                name="payorder_paid_has_payment",
            ),
            models.CheckConstraint(
                condition=Q(status__in=["created", "failed", "paid"], amount_refunded_paise=0)
                | Q(status="partially_refunded", amount_refunded_paise__gt=0,
                    amount_refunded_paise__lt=F("amount_paise"))
                | Q(status="refunded", amount_refunded_paise=F("amount_paise")),
                name="payorder_refund_status_matches_amount",
            ),
        ]

    def __str__(self):
        return f"{self.gateway_order_id} ({self.kind}, {self.status})"

    @property
    def is_paid(self) -> bool:
        return self.status in self.PAID_STATUSES

    @property
    def refundable_paise(self) -> int:
        return self.amount_paise - self.amount_refunded_paise if self.is_paid else 0


class Refund(models.Model):
    """Money given back for an order, and what was taken back in return.

    A staff refund is recorded as `requested` (committed) before the gateway is asked, under our
    own `receipt`; the gateway's acceptance is applied in a second transaction. If that answer is
    lost, the receipt finds the refund at the gateway again (`reconcile_payments`, the refund
    webhook, or the same request retried), so it is applied exactly once.
    """

    class Status(models.TextChoices):
        REQUESTED = "requested", "Requested (asking the gateway)"
        PENDING = "pending", "Pending"
        PROCESSED = "processed", "Processed"
        FAILED = "failed", "Failed"
        CANCELLED = "cancelled", "Cancelled (the gateway never took it)"

    NOT_APPLIED = (Status.REQUESTED, Status.CANCELLED)

    class Source(models.TextChoices):
        STAFF = "staff", "Staff (API or admin)"
        GATEWAY = "gateway", "Gateway (made outside Kosh, learnt from a webhook)"

    order = models.ForeignKey(PaymentOrder, on_delete=models.PROTECT, related_name="refunds")
    gateway_refund_id = models.CharField(max_length=64, unique=True, null=True, blank=True,
                                         help_text="Empty until the gateway accepted the refund")
    receipt = models.CharField(max_length=40, unique=True, null=True, blank=True,
                               help_text="Our id for a refund we asked for, sent to the gateway")
    amount_paise = models.BigIntegerField()
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.PENDING)
    source = models.CharField(max_length=20, choices=Source.choices, default=Source.STAFF)
    reason = models.CharField(max_length=500, blank=True, default="")
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.SET_NULL,
                              related_name="+")
    # Reversal of what was bought: credits due back = reversed + shortfall.
    credits_reversed = models.BigIntegerField(default=0)
    credits_shortfall = models.BigIntegerField(default=0,
                                               help_text="Credits due back that the balance could not cover")
    plan_reverted = models.BooleanField(default=False)
    reversal = models.JSONField(default=dict, blank=True, encoder=DjangoJSONEncoder)
    created_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        constraints = [
            models.CheckConstraint(condition=Q(amount_paise__gt=0), name="refund_amount_positive"),
            models.CheckConstraint(
                condition=Q(status__in=["requested", "pending", "processed", "failed", "cancelled"]),
                name="refund_status_valid"),
            # Accepted refunds carry the gateway's id; refunds not (yet) accepted carry our receipt
            # and have taken nothing back.
            models.CheckConstraint(
                condition=Q(status__in=["requested", "cancelled"], receipt__isnull=False,
                            credits_reversed=0, credits_shortfall=0, plan_reverted=False)
                | Q(status__in=["pending", "processed", "failed"], gateway_refund_id__isnull=False),
                name="refund_gateway_id_once_accepted"),
            models.CheckConstraint(condition=Q(credits_reversed__gte=0) & Q(credits_shortfall__gte=0),
                                   name="refund_credits_non_negative"),
        ]

    def __str__(self):
        return f"{self.gateway_refund_id or self.receipt} ({self.amount_paise} paise, {self.status})"


class GatewayAttempt(models.Model):
    """One try at opening an order at a gateway. A checkout that failed over leaves two: the
    abandoned one (failed, its gateway order never shown to the buyer, so never paid) and the one
    that became the order. Attempts that all failed share a receipt and have no order."""

    class Outcome(models.TextChoices):
        CREATED = "created", "Created (became the order)"
        FAILED = "failed", "Failed (timeout, connection error, 5xx): failed over"
        REJECTED = "rejected", "Rejected by the gateway (4xx)"
        SKIPPED = "skipped", "Skipped (circuit breaker open)"

    order = models.ForeignKey(PaymentOrder, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="gateway_attempts")
    receipt = models.CharField(max_length=40, db_index=True)
    gateway = models.CharField(max_length=20, help_text="The checkout tried (razorpay or cashfree)")
    outcome = models.CharField(max_length=20, choices=Outcome.choices)
    # The gateway's order id when it answered; for Cashfree also the id we asked for, so a
    # notification about an abandoned order is recognised.
    gateway_order_id = models.CharField(max_length=64, blank=True, default="")
    amount_paise = models.BigIntegerField()
    fee_paise = models.BigIntegerField(default=0)
    error = models.CharField(max_length=255, blank=True, default="")
    elapsed_ms = models.PositiveIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now, db_index=True)

    class Meta:
        ordering = ["-created_at", "-id"]
        indexes = [models.Index(fields=["gateway", "created_at"], name="gwattempt_gateway_created")]
        constraints = [
            models.CheckConstraint(condition=Q(outcome__in=["created", "failed", "rejected", "skipped"]),
                                   name="gwattempt_outcome_valid"),
            models.CheckConstraint(condition=~Q(outcome="created") | Q(order__isnull=False),
                                   name="gwattempt_created_has_order"),
            models.CheckConstraint(condition=Q(amount_paise__gt=0) & Q(fee_paise__gte=0),
                                   name="gwattempt_amounts_valid"),
        ]

    def __str__(self):
        return f"{self.gateway} {self.outcome} ({self.receipt})"


class WebhookEvent(models.Model):
    """A gateway notification, stored before it is handled; processed_at is set once handled.

    `unprocessable` events were handled by refusing them (a malformed payload, a payment in another
    currency or amount than its order, a handler that kept failing): the gateway got a 2xx so it
    stops retrying, `result` says why, and a person should look (reconcile asks the gateway again).
    """

    gateway = models.CharField(max_length=20)
    event_id = models.CharField(max_length=128, unique=True)
    event_type = models.CharField(max_length=100, blank=True, default="")
    body = models.TextField(help_text="Raw body as received")
    signature_verified = models.BooleanField(default=False)
    received_at = models.DateTimeField(default=timezone.now)
    processed_at = models.DateTimeField(null=True, blank=True)
    attempts = models.PositiveIntegerField(default=0)
    result = models.CharField(max_length=255, blank=True, default="", help_text="What handling did")
    error = models.TextField(blank=True, default="", help_text="Last handler failure")
    unprocessable = models.BooleanField(default=False, help_text="Refused: see result")

    class Meta:
        ordering = ["-received_at", "-id"]
        indexes = [models.Index(fields=["processed_at", "received_at"], name="webhook_processed_received")]

    def __str__(self):
        return f"{self.gateway}:{self.event_type}:{self.event_id}"


# Tax invoices and credit notes live in their own module; importing them here makes them part
# of the payments app (its migrations, its admin).
from payments.invoices.models import Invoice, InvoiceCounter  # noqa: E402, F401
