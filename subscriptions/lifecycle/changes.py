"""Plan changes of seed 002's subscriptions (DESIGN §4.3, `POST :id/change-plan`).

- `subscription_change_quote` (a read): what a change to a plan and cycle would be — an upgrade
  to pay for (prorated, `proration.prorate`), an upgrade due nothing (applies at once), a
  downgrade (scheduled for the period end), or clearing a scheduled change (asking for the
  plan and cycle the subscription is already on).
- `subscription_change_plan` (a write): everything that needs no payment — schedule or clear a
  downgrade, or apply an upgrade due nothing.
- `subscription_change_open` (a write, called by payments with the gateway order made): record
  the upgrade that waits for its payment.
- `subscription_change_paid` (a write, called by payments' `order_fulfil` with the order row
  locked): apply it — the plan switches at once; the period end stays, or a new period of the
  new cycle starts now.

Any change-plan supersedes an upgrade still waiting for its payment (one pending per
subscription, a unique index): if that payment arrives anyway it is recorded, not applied, and
staff refund it. The subscription row is locked first in every write here (payments locks the
order before calling `subscription_change_paid`, as every payment path does).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime

from django.db import transaction

from config.errors import Conflict, InvalidInput
from plans.selectors import PlanQuote
from subscriptions import clock
from subscriptions.lifecycle import proration as p
from subscriptions.lifecycle.periods import period_end_after
from subscriptions.lifecycle.services import (
    ENDED,
    Kind,
    Status,
    _lifecycle_only,
    _lock,
    _record,
    _state,
    _zone,
    pricing_snapshot,
)
from subscriptions.lifecycle.usage import MINUTES, counters_sync, period_key
from subscriptions.models import Subscription, SubscriptionPlanChange, UsageCounter

logger = logging.getLogger(__name__)

# What a change-plan does (ChangeQuote.action).
PAY = "pay"  # an upgrade due money: an order, applied when paid
APPLY = "apply"  # an upgrade due nothing: applied now
SCHEDULE = "schedule"  # a downgrade: scheduled for the period end
CLEAR = "clear"  # the current plan and cycle again: the scheduled change is dropped

# What paying an upgrade order did (the order's fulfilment action).
CHANGED = "plan_changed"
CHANGE_ALREADY_APPLIED = "change_applied"
CHANGE_NOT_APPLIED = "change_not_applied"

PlanChangeStatus = SubscriptionPlanChange.Status


@dataclass(frozen=True)
class ChangeQuote:
    """A change-plan priced against the subscription as it was read."""

    subscription: Subscription
    plan_quote: PlanQuote  # the new plan and cycle, with the subscription's add-ons
    proration: p.Proration
    action: str  # PAY, APPLY, SCHEDULE or CLEAR
    quoted_at: datetime

    @property
    def plan(self):
        return self.plan_quote.plan

    @property
    def billing_cycle(self) -> str:
        return self.plan_quote.quote.billing_cycle

    def basis(self) -> tuple:
        return _basis(self.subscription)


def _basis(subscription: Subscription) -> tuple:
    """What a quote was priced on: it stays valid while these do not change."""
    return (subscription.status, subscription.plan_id, subscription.billing_cycle,
            subscription.current_period_start, subscription.current_period_end, subscription.period_price_paise)


def _check_changeable(subscription: Subscription) -> None:
    _lifecycle_only(subscription)
    if subscription.status in ENDED:
        raise Conflict(f"Subscription is {subscription.status}.", code="subscription_ended")
    if subscription.status in (Status.PAST_DUE, Status.SUSPENDED):
        raise Conflict(f"Subscription is {subscription.status}: pay the open renewal first "
                       "(POST /api/subscriptions/:id/pay), then change the plan.", code="payment_due")
    if subscription.status == Status.PENDING or subscription.current_period_end is None:
        raise Conflict("This subscription has not started: pay its checkout, or start a new checkout "
                       "with the plan you want.", code="subscription_not_started")
    if subscription.current_period_start is None or subscription.current_period_end <= subscription.current_period_start:
        raise Conflict("This subscription has no current period to prorate.", code="invalid_status")


def _check_target(subscription: Subscription, plan_quote: PlanQuote) -> None:
    plan = plan_quote.plan
    if plan.product != subscription.product:
        raise InvalidInput(f"planId: not a {subscription.product} plan.", code="invalid_plan",
                           fields={"planId": [f"Choose a {subscription.product} plan."]})


def subscription_change_quote(*, subscription: Subscription, plan_quote: PlanQuote,
                              at: datetime | None = None) -> ChangeQuote:
    """Price a change of `subscription` to `plan_quote` (plan, cycle, and the subscription's
    add-ons) at `at` (default now). Conflict when the subscription cannot change plan now;
    InvalidInput for a plan of another product or the plan and cycle it is already on with
    nothing scheduled."""
    at = at or clock.now()
    _check_changeable(subscription)
    _check_target(subscription, plan_quote)
    new_cycle = plan_quote.quote.billing_cycle
    same = plan_quote.plan.pk == subscription.plan_id and new_cycle == subscription.billing_cycle
    rate = plan_quote.plan.gst_rate
    if same:
        if subscription.scheduled_plan_id is None:
            raise InvalidInput("The subscription is already on this plan and billing cycle.", code="plan_unchanged",
                               fields={"planId": ["Already the current plan and billing cycle."]})
        action = CLEAR
        proration = p.nothing_due(period_start=subscription.current_period_start,
                                  period_end=subscription.current_period_end, at=at, gst_rate=rate)
    else:
        proration = p.prorate(
            old_price_paise=subscription.period_price_paise, old_cycle=subscription.billing_cycle,
            new_price_paise=plan_quote.quote.base_paise, new_cycle=new_cycle,
            period_start=subscription.current_period_start, period_end=subscription.current_period_end,
            at=at, gst_rate=rate)
        if proration.direction == p.DOWNGRADE:
            action = SCHEDULE
        else:
            action = PAY if proration.needs_payment else APPLY
    if action == SCHEDULE and subscription.cancel_at_period_end:
        raise Conflict("This subscription ends at the period end: resume it (PUT cancelAtPeriodEnd: false) "
                       "before scheduling a plan change.", code="subscription_cancelling")
    return ChangeQuote(subscription=subscription, plan_quote=plan_quote, proration=proration, action=action,
                       quoted_at=at)


# --- writes ------------------------------------------------------------------------------------

def _supersede_pending_changes(subscription: Subscription | None, *, now: datetime,
                               subscription_ids: list[int] | None = None) -> list[int]:
    """Mark the upgrades waiting for payment of the subscription (or of `subscription_ids`, in
    one statement) superseded (the subscriptions are locked). Returns the ids (payments fails
    their open orders)."""
    pending = SubscriptionPlanChange.objects.filter(status=PlanChangeStatus.PENDING)
    if subscription is not None:
        pending = pending.filter(subscription=subscription)
    else:
        pending = pending.filter(subscription_id__in=subscription_ids or [])
    ids = list(pending.values_list("pk", flat=True))
    if ids:
        SubscriptionPlanChange.objects.filter(pk__in=ids).update(status=PlanChangeStatus.SUPERSEDED,
                                                                 resolved_at=now)
    return ids


def _requote_locked(*, subscription_id: int, plan_quote: PlanQuote, now: datetime) -> ChangeQuote:
    subscription = _lock(subscription_id)
    return subscription_change_quote(subscription=subscription, plan_quote=plan_quote, at=now)


def plan_switch(subscription: Subscription, *, plan, billing_cycle: str, pricing: dict,
                period_price_paise: int) -> None:
    """Put the subscription on the new plan and cycle, in memory (the caller saves and sets the
    period): any scheduled change is done with. Shared by a paid upgrade and the period close
    (which applies a scheduled downgrade with it)."""
    subscription.plan = plan
    subscription.billing_cycle = billing_cycle
    subscription.pricing = pricing
    subscription.period_price_paise = period_price_paise
    subscription.scheduled_plan = None
    subscription.scheduled_billing_cycle = ""


def _switch(subscription: Subscription, *, plan, billing_cycle: str, pricing: dict, period_price_paise: int,
            new_period: bool, now: datetime) -> None:
    """Put the subscription on the new plan and cycle (it is locked; this saves it)."""
    plan_switch(subscription, plan=plan, billing_cycle=billing_cycle, pricing=pricing,
                period_price_paise=period_price_paise)
    if new_period:
        subscription.billing_anchor_at = now
        subscription.current_period_start = now
        subscription.current_period_end = period_end_after(anchor=now, moment=now,
                                                           billing_cycle=billing_cycle, zone=_zone())
    subscription.save()
    counters_sync(subscription)
    if new_period:
        # A new period: metered minutes start again from zero (even when it starts on the day the
        # old one did, which the counter's period date alone would not tell).
        UsageCounter.objects.filter(subscription=subscription, metric=MINUTES).update(
            used=0, period_start=period_key(subscription), updated_at=now)


def _change_data(change: ChangeQuote) -> dict:
    return {"toPlanId": change.plan.pk, "toBillingCycle": change.billing_cycle,
            "proration": change.proration.as_snapshot()}


@dataclass(frozen=True)
class ChangeOutcome:
    subscription: Subscription
    quote: ChangeQuote
    superseded: list[int]  # plan changes (awaiting payment) this change-plan superseded


@transaction.atomic
def subscription_change_plan(*, subscription_id: int, plan_quote: PlanQuote, actor,
                             reason: str = "") -> ChangeOutcome:
    """A change-plan that needs no payment, decided again under the subscription's lock: a
    downgrade is scheduled for the period end (replacing a scheduled one), the current plan and
    cycle clear the scheduled change, an upgrade due nothing applies now. An upgrade that is due
    money → Conflict `payment_required` (payments opens an order for it instead)."""
    now = clock.now()
    change = _requote_locked(subscription_id=subscription_id, plan_quote=plan_quote, now=now)
    subscription = change.subscription
    if change.action == PAY:
        raise Conflict("This upgrade has to be paid for.", code="payment_required")
    before = _state(subscription)
    superseded = _supersede_pending_changes(subscription, now=now)
    data = {**_change_data(change), "superseded": superseded}
    if change.action == SCHEDULE:
        subscription.scheduled_plan = change.plan
        subscription.scheduled_billing_cycle = change.billing_cycle
        subscription.save(update_fields=["scheduled_plan", "scheduled_billing_cycle", "updated_at"])
        _record(subscription, Kind.CHANGE_SCHEDULED, now=now, before=before, actor=actor,
                reason=reason or "change-plan: downgrade at the period end",
                data={**data, "effectiveAt": before["currentPeriodEnd"]})
    elif change.action == CLEAR:
        subscription.scheduled_plan = None
        subscription.scheduled_billing_cycle = ""
        subscription.save(update_fields=["scheduled_plan", "scheduled_billing_cycle", "updated_at"])
        _record(subscription, Kind.CHANGE_CLEARED, now=now, before=before, actor=actor,
                reason=reason or "change-plan: back to the current plan", data=data)
    else:  # APPLY: an upgrade due nothing
        _switch(subscription, plan=change.plan, billing_cycle=change.billing_cycle,
                pricing=pricing_snapshot(plan_quote.quote),
                period_price_paise=plan_quote.quote.base_paise, new_period=change.proration.new_period, now=now)
        _record(subscription, Kind.PLAN_CHANGED, now=now, before=before, actor=actor,
                reason=reason or "change-plan: upgrade, nothing due", data={**data, "paid": False})
    return ChangeOutcome(subscription=subscription, quote=change, superseded=superseded)


@transaction.atomic
def subscription_change_open(*, quote: ChangeQuote, actor, reason: str = "") -> tuple[SubscriptionPlanChange,
                                                                                      list[int]]:
    """Record an upgrade priced by `quote` (action PAY) that waits for its payment; payments
    creates its order in the same transaction. The subscription must still be as it was priced
    (plan, cycle, period, status), else Conflict (the gateway order made for it is never used).
    Supersedes an upgrade already waiting. Returns (the change, superseded change ids)."""
    if quote.action != PAY:
        raise ValueError("only an upgrade that is due money waits for a payment")
    now = clock.now()
    subscription = _lock(quote.subscription.pk)
    _check_changeable(subscription)
    if _basis(subscription) != quote.basis() or subscription.cancel_at_period_end != \
            quote.subscription.cancel_at_period_end:
        raise Conflict("The subscription changed while the upgrade was being priced; try again.",
                       code="subscription_changed")
    superseded = _supersede_pending_changes(subscription, now=now)
    proration, plan_quote = quote.proration, quote.plan_quote
    change = SubscriptionPlanChange.objects.create(
        subscription=subscription, from_plan=subscription.plan, from_billing_cycle=subscription.billing_cycle,
        to_plan=plan_quote.plan, to_billing_cycle=quote.billing_cycle, new_period=proration.new_period,
        period_start=subscription.current_period_start, period_end=subscription.current_period_end,
        quoted_at=quote.quoted_at, remaining_seconds=proration.remaining_seconds,
        period_seconds=proration.period_seconds, credit_paise=proration.credit_paise,
        charge_paise=proration.charge_paise, subtotal_paise=proration.subtotal_paise,
        gst_rate=proration.gst_rate, gst_paise=proration.gst_paise, total_paise=proration.total_paise,
        pricing=pricing_snapshot(plan_quote.quote), period_price_paise=plan_quote.quote.base_paise,
        actor=actor if getattr(actor, "pk", None) else None, created_at=now,
    )
    _record(subscription, Kind.CHANGE_REQUESTED, now=now, before=_state(subscription), actor=actor,
            reason=reason or "change-plan: upgrade awaiting payment",
            data={**_change_data(quote), "planChangeId": change.pk, "superseded": superseded})
    return change, superseded


@transaction.atomic
def subscription_change_paid(*, plan_change_id: int, payment_id: str, order_id: str) -> str:
    """The order of an upgrade was paid (payments holds the order's row lock): apply it now if it
    still waits and the subscription is still on the plan, cycle and period it was priced for.
    Otherwise the payment is recorded as not applied (staff refund it). Returns CHANGED,
    CHANGE_ALREADY_APPLIED or CHANGE_NOT_APPLIED."""
    now = clock.now()
    subscription_id = (SubscriptionPlanChange.objects.filter(pk=plan_change_id)
                       .values_list("subscription_id", flat=True).first())
    if subscription_id is None:
        raise InvalidInput("unknown plan change", code="plan_change_not_found")
    subscription = _lock(subscription_id)
    change = (SubscriptionPlanChange.objects.select_for_update(of=("self",)).select_related("to_plan")
              .get(pk=plan_change_id))
    paid = {"payment": payment_id, "order": order_id, "planChangeId": change.pk}
    reason = f"payment {payment_id} of order {order_id}"
    if change.status == PlanChangeStatus.APPLIED and change.payment_id == payment_id:
        return CHANGE_ALREADY_APPLIED
    before = _state(subscription)
    why = _why_not_applicable(subscription, change)
    if why:
        if change.status == PlanChangeStatus.PENDING:
            change.status = PlanChangeStatus.SUPERSEDED
            change.resolved_at = now
            change.save(update_fields=["status", "resolved_at"])
        _record(subscription, Kind.PAYMENT_NOT_APPLIED, now=now, before=before, reason=reason,
                data={**paid, "note": f"plan change not applied ({why}); refund the payment"})
        logger.error("subscription %s: %s arrived for a plan change that cannot apply (%s); refund due",
                     subscription.pk, reason, why)
        return CHANGE_NOT_APPLIED
    _switch(subscription, plan=change.to_plan, billing_cycle=change.to_billing_cycle, pricing=change.pricing,
            period_price_paise=change.period_price_paise, new_period=change.new_period, now=now)
    change.status = PlanChangeStatus.APPLIED
    change.payment_id = payment_id
    change.resolved_at = now
    change.save(update_fields=["status", "payment_id", "resolved_at"])
    _record(subscription, Kind.PLAN_CHANGED, now=now, before=before, reason=reason,
            data={**paid, "paid": True, "toPlanId": change.to_plan_id, "toBillingCycle": change.to_billing_cycle,
                  "newPeriod": change.new_period, "totalPaise": change.total_paise})
    return CHANGED


def _why_not_applicable(subscription: Subscription, change: SubscriptionPlanChange) -> str:
    if change.status != PlanChangeStatus.PENDING:
        return f"it is {change.status}"
    if subscription.status not in (Status.ACTIVE,):
        return f"the subscription is {subscription.status}"
    if (subscription.plan_id, subscription.billing_cycle) != (change.from_plan_id, change.from_billing_cycle):
        return "the subscription changed plan since"
    if (subscription.current_period_start, subscription.current_period_end) != (change.period_start,
                                                                                change.period_end):
        return "the period it was priced for is over"
    return ""


def subscription_changes_supersede(*, subscription: Subscription | None = None,
                                   subscription_ids: list[int] | None = None,
                                   now: datetime | None = None) -> list[int]:
    """For the period close (and anything else that moves a subscription on, with its row
    locked): upgrades still waiting for a payment can no longer apply. One subscription, or
    many at once (`subscription_ids`, the close's batch). Returns their ids."""
    if subscription is None and subscription_ids is None:
        raise TypeError("subscription_changes_supersede needs a subscription or subscription_ids")
    return _supersede_pending_changes(subscription, now=now or clock.now(), subscription_ids=subscription_ids)
