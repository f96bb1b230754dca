"""Every write of seed 002's subscriptions (DESIGN §4.3). One transaction each; the subscription
row is locked first (a checkout also locks the user's other live rows of the product, after it).

Statuses: pending (checkout awaiting payment) → active (paid, or staff) → past_due / suspended
→ cancelled / expired. One live (pending/active/past_due/suspended) subscription per user and
product is a unique index; a new checkout supersedes a pending one and is refused (409) beside
a paid one. Every change writes a `SubscriptionEvent` (who, why, status and plan before/after).

Payments fulfils a checkout order by calling `subscription_checkout_paid` with the order row
locked (order first, then subscription: the one lock order every payment path uses).
Time comes from `subscriptions.clock`.
"""

from __future__ import annotations

import logging
from datetime import UTC, datetime

from django.conf import settings
from django.db import IntegrityError, transaction

from config.audit import audit_record
from config.errors import Conflict, InvalidInput, NotFound
from plans.models import RatePlan
from plans.selectors import PlanQuote
from subscriptions import clock
from subscriptions.lifecycle.periods import period_end_after
from subscriptions.lifecycle.usage import counters_sync
from subscriptions.models import Subscription, SubscriptionEvent

logger = logging.getLogger(__name__)

Status = Subscription.Status
Kind = SubscriptionEvent.Kind
LIFECYCLE_PRODUCTS = (RatePlan.Product.TELEPHONY, RatePlan.Product.PLATFORM)
ENDED = (Status.CANCELLED, Status.EXPIRED)
REASON_MAX = 500

# What a checkout payment did (stored as the order's fulfilment action).
ACTIVATED = "activated"
ALREADY_APPLIED = "already_applied"
NOT_APPLIED = "not_applied"


# --- helpers -------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    return None if value is None else value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _state(subscription: Subscription) -> dict:
    """What an event records before and after a change."""
    return {
        "status": subscription.status, "plan": subscription.plan.code,
        "billingCycle": subscription.billing_cycle,
        "currentPeriodStart": _iso(subscription.current_period_start),
        "currentPeriodEnd": _iso(subscription.current_period_end),
        "autoRenew": subscription.auto_renew, "cancelAtPeriodEnd": subscription.cancel_at_period_end,
        "scheduledChange": (None if subscription.scheduled_plan_id is None else
                            {"ratePlanId": subscription.scheduled_plan_id,
                             "billingCycle": subscription.scheduled_billing_cycle}),
    }


def _record(subscription: Subscription, kind: str, *, now: datetime, before: dict | None, actor=None,
            reason: str = "", data: dict | None = None) -> SubscriptionEvent:
    after = _state(subscription)
    before = before or {}
    return SubscriptionEvent.objects.create(
        subscription=subscription, kind=kind,
        from_plan_code=before.get("plan", ""), to_plan_code=after["plan"],
        from_status=before.get("status", ""), to_status=after["status"],
        actor=actor if getattr(actor, "pk", None) else None, reason=(reason or "")[:REASON_MAX],
        data={"before": before or None, "after": after, **(data or {})}, created_at=now,
    )


def _audit(subscription: Subscription, action: str, *, before: dict | None, actor, reason: str) -> None:
    """Staff actions are operator actions (DESIGN §4.6): one audit event each. A customer acting
    on their own subscription is in its event history only."""
    if not getattr(actor, "role", ""):
        return
    audit_record(actor=actor, action=f"subscription.{action}", object_type="subscription",
                 object_id=subscription.pk, tenant_id=subscription.user.tenant_id, before=before,
                 after=_state(subscription), reason=reason)


def subscription_state(subscription: Subscription) -> dict:
    """The before/after an event or audit records (for a caller that audits its own action)."""
    return _state(subscription)


def subscription_staff_audit(*, subscription_id: int, action: str, before: dict | None, actor,
                             reason: str) -> None:
    """One audit event for a staff action on a subscription done by a layer above (payments' "run
    the period close now"); call it inside a transaction. Nothing when the actor has no role."""
    subscription = Subscription.objects.select_related("plan", "user").get(pk=subscription_id)
    _audit(subscription, action, before=before, actor=actor, reason=reason)


def _lock(subscription_id: int) -> Subscription:
    subscription = (Subscription.objects.select_for_update(of=("self",))
                    .select_related("plan", "user", "scheduled_plan").filter(pk=subscription_id).first())
    if subscription is None:
        raise NotFound("Subscription not found.", code="subscription_not_found")
    return subscription


def _lifecycle_only(subscription: Subscription) -> None:
    if subscription.product not in LIFECYCLE_PRODUCTS:
        raise Conflict("Token plans are managed through /api/tokens.", code="token_subscription")


def _not_ended(subscription: Subscription) -> None:
    if subscription.status in ENDED:
        raise Conflict(f"Subscription is {subscription.status}.", code="subscription_ended")


def _plan_sellable(plan: RatePlan) -> None:
    if plan.product not in LIFECYCLE_PRODUCTS:
        raise InvalidInput("Token plans are bought through /api/payments/create-order.",
                           code="invalid_plan", fields={"planId": ["Not a subscription plan."]})


def _zone() -> str:
    return settings.BILLING_TIME_ZONE


def _first_period(subscription: Subscription, now: datetime) -> None:
    """Start the subscription's first period now (in memory; the caller saves)."""
    subscription.status = Status.ACTIVE
    subscription.started_at = subscription.started_at or now
    subscription.billing_anchor_at = now
    subscription.current_period_start = now
    subscription.current_period_end = period_end_after(anchor=now, moment=now,
                                                       billing_cycle=subscription.billing_cycle, zone=_zone())
    subscription.ended_at = None


def pricing_snapshot(quote) -> dict:
    """A `plans.pricing.Quote` in paise, as stored on the subscription (and rendered in rupees)."""
    return {
        "billingCycle": quote.billing_cycle, "basePaise": quote.base_paise,
        "setupFeePaise": quote.setup_fee_paise, "addonsUpfrontPaise": quote.addons_upfront_paise,
        "subtotalPaise": quote.subtotal_paise, "gstRate": str(quote.gst_rate), "gstPaise": quote.gst_paise,
        "totalPaise": quote.total_paise, "addonsMonthlyPaise": quote.addons_monthly_paise,
        "addons": [{"type": line.type, "code": line.code, "quantity": line.quantity, "mode": line.mode,
                    "unitPaise": line.unit_paise, "totalPaise": line.total_paise,
                    "description": line.description} for line in quote.addons],
    }


def _new_fields(plan_quote: PlanQuote) -> dict:
    quote = plan_quote.quote
    return {"plan": plan_quote.plan, "product": plan_quote.plan.product, "billing_cycle": quote.billing_cycle,
            "addons": {line.code: line.quantity for line in quote.addons},
            "pricing": pricing_snapshot(quote), "period_price_paise": quote.base_paise}


def _supersede_pending(*, user, product: str, now: datetime, actor, reason: str,
                       exclude_id: int | None = None) -> list[int]:
    """Lock the user's live subscriptions of `product`; a paid one → Conflict; pending ones are
    superseded (cancelled). Returns their ids."""
    live = list(Subscription.objects.select_for_update(of=("self",)).select_related("plan")
                .filter(user=user, product=product, status__in=Subscription.LIVE_STATUSES)
                .exclude(pk=exclude_id).order_by("pk"))
    for subscription in live:
        if subscription.status != Status.PENDING:
            raise Conflict(f"You already have a {product} subscription ({subscription.status}); "
                           "change its plan instead.", code="subscription_exists",
                           extra={"subscriptionId": subscription.pk})
    superseded = []
    for subscription in live:
        before = _state(subscription)
        subscription.status = Status.CANCELLED
        subscription.ended_at = now
        subscription.save(update_fields=["status", "ended_at", "updated_at"])
        _record(subscription, Kind.SUPERSEDED, now=now, before=before, actor=actor, reason=reason)
        superseded.append(subscription.pk)
    return superseded


def _create_live(*, user, now: datetime, actor, reason: str, **fields) -> tuple[Subscription, list[int]]:
    """Supersede the user's pending subscription of the product and insert a new live one. Two
    concurrent checkouts: the second insert waits on the unique index, fails, and retries once
    the first has committed (then it supersedes the first)."""
    for attempt in range(3):
        try:
            with transaction.atomic():
                superseded = _supersede_pending(user=user, product=fields["product"], now=now, actor=actor,
                                                reason=reason or "superseded by a newer checkout")
                return Subscription.objects.create(user=user, **fields), superseded
        except IntegrityError:
            if attempt == 2:
                raise Conflict("Another checkout for this product is in progress; try again.",
                               code="checkout_in_progress") from None
    raise AssertionError("unreachable")


# --- checkout (called by payments) ---------------------------------------------------------

@transaction.atomic
def subscription_checkout_open(*, user, plan_quote: PlanQuote, actor=None,
                               reason: str = "") -> tuple[Subscription, list[int]]:
    """A pending subscription for a priced plan (create-with-payment). A pending one of the same
    product is superseded (its ids are returned so payments can fail their orders); an active,
    past_due or suspended one → Conflict."""
    _plan_sellable(plan_quote.plan)
    now = clock.now()
    subscription, superseded = _create_live(
        user=user, now=now, actor=actor, reason="superseded by a newer checkout",
        status=Status.PENDING, current_period_start=None, current_period_end=None,
        **_new_fields(plan_quote),
    )
    _record(subscription, Kind.CHECKOUT_OPENED, now=now, before=None, actor=actor or user,
            reason=reason or "checkout", data={"superseded": superseded,
                                               "totalPaise": plan_quote.quote.total_paise})
    return subscription, superseded


@transaction.atomic
def subscription_checkout_paid(*, subscription_id: int, payment_id: str, order_id: str) -> str:
    """The checkout order of this subscription was paid: start its first period.

    Payments calls this once per order (it holds the order's row lock). A subscription that was
    superseded or cancelled before its payment arrived is still delivered when nothing paid
    stands in the way (a newer pending checkout is superseded in turn); otherwise the payment is
    recorded as not applied (staff refund it). Returns ACTIVATED, ALREADY_APPLIED or NOT_APPLIED.
    """
    now = clock.now()
    paid = {"payment": payment_id, "order": order_id}
    reason = f"payment {payment_id} of order {order_id}"
    for attempt in range(3):
        try:
            with transaction.atomic():
                return _apply_checkout_payment(subscription_id, now=now, paid=paid, reason=reason)
        except IntegrityError:
            # A checkout inserted a pending row after we looked: look again (it is committed now).
            if attempt == 2:
                raise
    raise AssertionError("unreachable")


def _apply_checkout_payment(subscription_id: int, *, now, paid: dict, reason: str) -> str:
    subscription = _lock(subscription_id)
    if SubscriptionEvent.objects.filter(subscription=subscription, kind=Kind.ACTIVATED,
                                        data__payment=paid["payment"]).exists():
        return ALREADY_APPLIED
    before = _state(subscription)
    never_started = subscription.started_at is None
    if subscription.status == Status.PENDING or (never_started and subscription.status in ENDED):
        try:
            with transaction.atomic():
                superseded = _supersede_pending(user=subscription.user, product=subscription.product,
                                                now=now, actor=None, reason=f"superseded: {reason}",
                                                exclude_id=subscription.pk)
        except Conflict:
            superseded = None  # something paid stands in the way
        if superseded is not None:
            _first_period(subscription, now)
            subscription.save()
            counters_sync(subscription)
            _record(subscription, Kind.ACTIVATED, now=now, before=before, reason=reason,
                    data={**paid, "superseded": superseded})
            return ACTIVATED
    _record(subscription, Kind.PAYMENT_NOT_APPLIED, now=now, before=before, reason=reason,
            data={**paid, "note": "the subscription cannot be activated; refund the payment"})
    logger.error("subscription %s: %s arrived but it is %s; nothing delivered (refund due)",
                 subscription.pk, reason, subscription.status)
    return NOT_APPLIED


# --- created without online payment --------------------------------------------------------

@transaction.atomic
def subscription_create_offline(*, user, plan_quote: PlanQuote, actor, reason: str = "",
                                auto_renew: bool = True) -> Subscription:
    """Legacy `POST /api/subscriptions`: an active subscription without online payment (staff:
    paid offline; anyone: a plan whose total is zero — the caller decides who may)."""
    _plan_sellable(plan_quote.plan)
    now = clock.now()
    subscription, superseded = _create_live(
        user=user, now=now, actor=actor, reason="superseded by a subscription created by staff",
        status=Status.PENDING, current_period_start=None, current_period_end=None,
        auto_renew=auto_renew, **_new_fields(plan_quote),
    )
    _first_period(subscription, now)
    subscription.save()
    counters_sync(subscription)
    _record(subscription, Kind.CREATED, now=now, before=None, actor=actor, reason=reason,
            data={"superseded": superseded, "totalPaise": plan_quote.quote.total_paise,
                  "offline": plan_quote.quote.total_paise > 0})
    _audit(subscription, "create", before=None, actor=actor, reason=reason)
    return subscription


# --- owner actions -------------------------------------------------------------------------

@transaction.atomic
def subscription_update(*, subscription_id: int, actor, auto_renew: bool | None = None,
                        resume: bool = False, clear_scheduled_change: bool = False,
                        reason: str = "") -> Subscription:
    """PUT :id. `resume` (cancelAtPeriodEnd: false) undoes a cancellation at period end and turns
    auto-renew on; `auto_renew` sets it (on also resumes); `clear_scheduled_change` drops a
    scheduled downgrade. No change → no event."""
    now = clock.now()
    subscription = _lock(subscription_id)
    _lifecycle_only(subscription)
    _not_ended(subscription)
    before = _state(subscription)
    if resume or auto_renew is True:
        subscription.cancel_at_period_end = False
        subscription.auto_renew = True
    if auto_renew is False:
        subscription.auto_renew = False
    settings_changed = _state(subscription) != before
    cleared = clear_scheduled_change and subscription.scheduled_plan_id is not None
    if cleared:
        subscription.scheduled_plan = None
        subscription.scheduled_billing_cycle = ""
    if not settings_changed and not cleared:
        return subscription
    subscription.save()
    if settings_changed:
        _record(subscription, Kind.UPDATED, now=now, before=before, actor=actor, reason=reason or "update")
    if cleared:
        _record(subscription, Kind.CHANGE_CLEARED, now=now, before=before, actor=actor,
                reason=reason or "scheduled change cleared")
    _audit(subscription, "update", before=before, actor=actor, reason=reason)
    return subscription


@transaction.atomic
def subscription_cancel(*, subscription_id: int, actor, immediate: bool = False,
                        reason: str = "") -> Subscription:
    """At period end by default (cancelAtPeriodEnd, auto-renew off, usable until then);
    `immediate` (or a pending checkout) ends it now. Already ended → Conflict."""
    now = clock.now()
    subscription = _lock(subscription_id)
    _lifecycle_only(subscription)
    _not_ended(subscription)
    before = _state(subscription)
    if immediate or subscription.status == Status.PENDING:
        subscription.status = Status.CANCELLED
        subscription.ended_at = now
        subscription.auto_renew = False
        subscription.cancel_at_period_end = False
        subscription.scheduled_plan = None
        subscription.scheduled_billing_cycle = ""
        subscription.unpaid_since = None  # an open renewal order is failed by the next period close run
        kind = Kind.CANCELLED
    elif subscription.cancel_at_period_end:
        return subscription  # already cancelling at the period end
    else:
        subscription.cancel_at_period_end = True
        subscription.auto_renew = False
        kind = Kind.CANCEL_SCHEDULED
    subscription.save()
    _record(subscription, kind, now=now, before=before, actor=actor, reason=reason or "cancel",
            data={"immediate": immediate})
    _audit(subscription, "cancel", before=before, actor=actor, reason=reason)
    return subscription


# --- staff actions -------------------------------------------------------------------------

@transaction.atomic
def subscription_suspend(*, subscription_id: int, actor, reason: str = "") -> Subscription:
    """active / past_due → suspended (not usable)."""
    now = clock.now()
    subscription = _lock(subscription_id)
    _lifecycle_only(subscription)
    if subscription.status not in (Status.ACTIVE, Status.PAST_DUE):
        raise Conflict(f"Only an active or past-due subscription can be suspended; this one is "
                       f"{subscription.status}.", code="invalid_status")
    before = _state(subscription)
    subscription.status = Status.SUSPENDED
    subscription.save(update_fields=["status", "updated_at"])
    _record(subscription, Kind.SUSPENDED, now=now, before=before, actor=actor, reason=reason or "suspend")
    _audit(subscription, "suspend", before=before, actor=actor, reason=reason)
    return subscription


@transaction.atomic
def subscription_activate(*, subscription_id: int, actor, reason: str = "") -> Subscription:
    """suspended / past_due → active (the period is unchanged); pending → active with its first
    period starting now (paid offline)."""
    now = clock.now()
    subscription = _lock(subscription_id)
    _lifecycle_only(subscription)
    before = _state(subscription)
    if subscription.status == Status.PENDING:
        _first_period(subscription, now)
        subscription.save()
        counters_sync(subscription)
    elif subscription.status in (Status.SUSPENDED, Status.PAST_DUE):
        subscription.status = Status.ACTIVE
        subscription.save(update_fields=["status", "updated_at"])
    else:
        raise Conflict(f"Only a suspended, past-due or pending subscription can be activated; this "
                       f"one is {subscription.status}.", code="invalid_status")
    _record(subscription, Kind.ACTIVATED, now=now, before=before, actor=actor,
            reason=reason or "activate", data={"offline": before["status"] == Status.PENDING})
    _audit(subscription, "activate", before=before, actor=actor, reason=reason)
    return subscription


@transaction.atomic
def subscription_renew(*, subscription_id: int, actor, reason: str = "") -> Subscription:
    """Offline renewal: the next period starts where the current one ends (one period forward,
    even before the end: the customer has paid for it) and the subscription is active again. A
    subscription owing the renewal the period close opened has that renewal settled instead.
    Every call renews once more; the API makes retries safe with Idempotency-Key."""
    now = clock.now()
    subscription = _lock(subscription_id)
    _lifecycle_only(subscription)
    if subscription.status not in (Status.ACTIVE, Status.PAST_DUE, Status.SUSPENDED):
        raise Conflict(f"Only an active, past-due or suspended subscription can be renewed; this one "
                       f"is {subscription.status}.", code="invalid_status")
    if subscription.current_period_end is None:
        raise Conflict("This subscription has no period to renew.", code="invalid_status")
    before = _state(subscription)
    if subscription.unpaid_since is not None:
        # The period close already started the period its renewal order charges for: paid
        # offline, that renewal is settled (its order is failed by the next close run) and
        # nothing moves forward.
        owed = _iso(subscription.unpaid_since)
        subscription.unpaid_since = None
        subscription.status = Status.ACTIVE
        subscription.save(update_fields=["unpaid_since", "status", "updated_at"])
        _record(subscription, Kind.RENEWED, now=now, before=before, actor=actor, reason=reason or "renew",
                data={"offline": True, "settled": owed})
        _audit(subscription, "renew", before=before, actor=actor, reason=reason)
        return subscription
    start = subscription.current_period_end
    subscription.current_period_start = start
    subscription.current_period_end = period_end_after(
        anchor=subscription.billing_anchor_at or start, moment=start,
        billing_cycle=subscription.billing_cycle, zone=_zone())
    subscription.status = Status.ACTIVE
    subscription.save()
    counters_sync(subscription)
    _record(subscription, Kind.RENEWED, now=now, before=before, actor=actor, reason=reason or "renew",
            data={"offline": True, "periodPricePaise": subscription.period_price_paise})
    _audit(subscription, "renew", before=before, actor=actor, reason=reason)
    return subscription
