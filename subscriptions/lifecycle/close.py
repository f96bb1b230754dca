"""The period close and dunning of seed 002's subscriptions (DESIGN §4.3), driven by
`manage.py process_subscriptions` through payments (which opens the renewal orders in the same
transaction as the close).

At `current_period_end`: cancel-at-period-end → cancelled; auto-renew off → expired; otherwise the
scheduled change applies, the next period starts (metered minutes reset), and the charge of the
renewal (`renewal.renewal_charge_for`: next period in advance plus arrears) is returned for the
order. A renewal that costs something leaves `unpaid_since` set to the boundary; dunning counts
from there: SUBSCRIPTION_PAYMENT_DUE_DAYS → past_due, SUBSCRIPTION_GRACE_DAYS → suspended,
SUBSCRIPTION_EXPIRE_DAYS → expired. Paying (`subscription_renewal_paid`) clears it and makes the
subscription active again. A subscription owing a renewal is not closed again until it is paid
or expired.

Locks: the subscription rows (in id order, or skipping rows an API request holds), then their
minutes counters. Payments' paths lock an order before its subscription; the close locks no
order, dunning locks the renewal order first — one order everywhere.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Q

from config.bulk import rows_insert, rows_update
from plans.selectors import price_quote_get
from subscriptions import clock
from subscriptions.lifecycle import changes
from subscriptions.lifecycle.periods import period_end_after
from subscriptions.lifecycle.renewal import RenewalCharge, next_plan_of, renewal_charge_for
from subscriptions.lifecycle.services import (
    ENDED,
    LIFECYCLE_PRODUCTS,
    NOT_APPLIED,
    REASON_MAX,
    _lock,
    _record,
    _state,
    pricing_snapshot,
)
from subscriptions.lifecycle.usage import MINUTES, counters_sync, period_key
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter

logger = logging.getLogger(__name__)

Status = Subscription.Status
Kind = SubscriptionEvent.Kind

# Outcomes (the command counts them)
RENEWED = "renewed"
CANCELLED = "cancelled"
EXPIRED = "expired"  # auto-renew off
FAILED = "failed"
PAST_DUE = "past_due"
SUSPENDED = "suspended"
EXPIRED_UNPAID = "expired_unpaid"
EXPIRED_PENDING = "expired_pending"
RENEWAL_PAID = "renewal_paid"

CLOSABLE = (Status.ACTIVE, Status.PAST_DUE, Status.SUSPENDED)


@dataclass
class CloseResult:
    subscription_id: int
    outcome: str
    subscription: Subscription | None = None
    charge: RenewalCharge | None = None
    period_start: datetime | None = None  # the new period (renewed)
    period_end: datetime | None = None
    error: str = ""
    plan_changed: bool = False
    events: list = field(default_factory=list, repr=False)

    @property
    def owes(self) -> bool:
        return self.outcome == RENEWED and self.charge is not None and self.charge.total_paise > 0


def _days(name: str) -> timedelta:
    return timedelta(days=getattr(settings, name))


# --- selection -------------------------------------------------------------------------------

def close_due(as_of: datetime) -> Q:
    """Subscriptions whose period has ended by `as_of` and that owe nothing."""
    return Q(product__in=LIFECYCLE_PRODUCTS, status__in=CLOSABLE, unpaid_since__isnull=True,
             current_period_end__isnull=False, current_period_end__lte=as_of)


def subscription_ids_due_for_close(*, as_of: datetime, after_id: int = 0, limit: int = 500) -> list[int]:
    return list(Subscription.objects.filter(close_due(as_of), pk__gt=after_id).order_by("pk")
                .values_list("pk", flat=True)[:limit])


def dunning_due(as_of: datetime) -> Q:
    """Subscriptions owing a renewal whose next dunning step has come."""
    due, grace, expire = (as_of - _days("SUBSCRIPTION_PAYMENT_DUE_DAYS"), as_of - _days("SUBSCRIPTION_GRACE_DAYS"),
                          as_of - _days("SUBSCRIPTION_EXPIRE_DAYS"))
    return (Q(status__in=CLOSABLE, unpaid_since__isnull=False, unpaid_since__lte=due)
            & (Q(status=Status.ACTIVE) | Q(status=Status.PAST_DUE, unpaid_since__lte=grace)
               | Q(unpaid_since__lte=expire)))


def subscription_ids_due_for_dunning(*, as_of: datetime, after_id: int = 0, limit: int = 500) -> list[int]:
    return list(Subscription.objects.filter(dunning_due(as_of), pk__gt=after_id).order_by("pk")
                .values_list("pk", flat=True)[:limit])


def pending_stale(as_of: datetime) -> Q:
    return Q(status=Status.PENDING, created_at__lt=as_of - timedelta(seconds=settings.SUBSCRIPTION_PENDING_TTL))


# --- the close -------------------------------------------------------------------------------

def _event(subscription, kind, *, now, before, reason, data=None) -> SubscriptionEvent:
    after = _state(subscription)
    return SubscriptionEvent(
        subscription=subscription, kind=kind, from_plan_code=before.get("plan", ""), to_plan_code=after["plan"],
        from_status=before.get("status", ""), to_status=after["status"], reason=reason[:REASON_MAX],
        data={"before": before, "after": after, **(data or {})}, created_at=now,
    )


def _end(subscription: Subscription, status: str, at: datetime) -> None:
    subscription.status = status
    subscription.ended_at = at
    subscription.auto_renew = False
    subscription.scheduled_plan = None
    subscription.scheduled_billing_cycle = ""
    subscription.unpaid_since = None


def _close_one(subscription: Subscription, minutes: UsageCounter | None, *, now: datetime,
               price_cache: dict) -> CloseResult:
    """Close `subscription`'s period in memory (the caller writes); an error leaves it untouched."""
    boundary = subscription.current_period_end
    before = _state(subscription)
    iso = before["currentPeriodEnd"]
    if subscription.cancel_at_period_end:
        _end(subscription, Status.CANCELLED, boundary)
        event = _event(subscription, Kind.CANCELLED, now=now, before=before,
                       reason=f"period close: cancelled at the period end {iso}")
        return CloseResult(subscription.pk, CANCELLED, subscription, events=[event])
    if not subscription.auto_renew:
        _end(subscription, Status.EXPIRED, boundary)
        event = _event(subscription, Kind.EXPIRED, now=now, before=before,
                       reason=f"period close: auto-renew off, ended {iso}")
        return CloseResult(subscription.pk, EXPIRED, subscription, events=[event])

    next_plan, next_cycle = next_plan_of(subscription)
    cycle_changes = next_cycle != subscription.billing_cycle
    anchor = boundary if cycle_changes else (subscription.billing_anchor_at or boundary)
    new_end = period_end_after(anchor=anchor, moment=boundary, billing_cycle=next_cycle,
                               zone=settings.BILLING_TIME_ZONE)
    key = period_key(subscription)
    used = minutes.used if minutes is not None and key is not None and minutes.period_start >= key else 0
    charge = renewal_charge_for(subscription, minutes_used=used, next_plan=next_plan, next_cycle=next_cycle,
                                period_start=boundary, period_end=new_end, price_cache=price_cache)
    scheduled = before["scheduledChange"]
    plan_changes = next_plan.pk != subscription.plan_id or cycle_changes
    pricing = subscription.pricing
    if plan_changes:
        # What a checkout of the new plan would cost, shown as metadata.pricing from now on.
        addons = {code: quantity for code, quantity in (subscription.addons or {}).items()
                  if any(a.code == code for a in price_cache[next_plan.pk].addons)}
        if next_plan.is_active:
            pricing = pricing_snapshot(price_quote_get(plan_id=next_plan.pk, billing_cycle=next_cycle,
                                                       addons=addons).quote)
        subscription.addons = addons
    # The scheduled change (a change-plan downgrade) applies with change-plan's own switch.
    changes.plan_switch(subscription, plan=next_plan, billing_cycle=next_cycle, pricing=pricing,
                        period_price_paise=charge.lines[0].amount_paise)
    subscription.billing_anchor_at = anchor
    subscription.current_period_start = boundary
    subscription.current_period_end = new_end
    subscription.unpaid_since = boundary if charge.total_paise > 0 else None
    event = _event(subscription, Kind.PERIOD_RENEWED, now=now, before=before,
                   reason=f"period close: {iso}" + (" (scheduled change applied)" if scheduled else ""),
                   data={"closedPeriod": {"start": before["currentPeriodStart"], "end": iso},
                         "minutesUsed": used, "scheduledChangeApplied": scheduled,
                         "charge": {"lines": charge.order_lines(), "subtotalPaise": charge.subtotal_paise,
                                    "gstRate": str(charge.gst_rate), "gstPaise": charge.gst_paise,
                                    "totalPaise": charge.total_paise}})
    return CloseResult(subscription.pk, RENEWED, subscription, charge=charge, period_start=boundary,
                       period_end=new_end, plan_changed=plan_changes, events=[event])


SUBSCRIPTION_FIELDS = ["status", "ended_at", "auto_renew", "scheduled_plan", "scheduled_billing_cycle",
                       "unpaid_since", "plan", "billing_cycle", "billing_anchor_at", "current_period_start",
                       "current_period_end", "period_price_paise", "pricing", "addons", "updated_at"]


@transaction.atomic
def subscription_periods_close(*, subscription_ids: list[int], as_of: datetime,
                               skip_locked: bool = True) -> tuple[list[CloseResult], list[int], list[int]]:
    """Close the periods of these subscriptions that are still due at `as_of`, in bulk.

    Returns (results, not_locked, superseded): a row another transaction holds is skipped with
    `skip_locked` (the caller tries it again later, waiting); rows no longer due are simply absent;
    `superseded` are the closed subscriptions' upgrades that were still waiting for a payment —
    priced for the period that just ended, they can no longer apply (the caller fails their orders). Run it in
    the caller's transaction so the renewal orders commit with the close. A subscription whose
    close cannot be computed (a plan without the price of its cycle) is reported FAILED and left
    as it is."""
    now = clock.now()
    rows = list(Subscription.objects.select_for_update(skip_locked=skip_locked, of=("self",))
                .select_related("plan", "scheduled_plan")
                .filter(close_due(as_of), pk__in=subscription_ids).order_by("pk"))
    if not rows:
        return [], list(subscription_ids) if skip_locked else [], []
    ids = [row.pk for row in rows]
    minutes = {c.subscription_id: c for c in UsageCounter.objects.select_for_update()
               .filter(subscription_id__in=ids, metric=MINUTES).order_by("pk")}
    price_cache: dict = {}
    results, changed, events, counters, resync = [], [], [], [], []
    for subscription in rows:
        try:
            result = _close_one(subscription, minutes.get(subscription.pk), now=now, price_cache=price_cache)
        except Exception as exc:  # one bad subscription never stops the others
            logger.exception("period close of subscription %s failed", subscription.pk)
            results.append(CloseResult(subscription.pk, FAILED, error=f"{type(exc).__name__}: {exc}"[:500]))
            continue
        subscription.updated_at = now
        changed.append(subscription)
        events += result.events
        results.append(result)
        if result.outcome == RENEWED:
            counter = minutes.get(subscription.pk)
            if counter is not None:
                counter.used, counter.period_start, counter.updated_at = 0, period_key(subscription), now
                counters.append(counter)
            if result.plan_changed or counter is None:
                resync.append(subscription)
    superseded = []
    if changed:
        rows_update(changed, SUBSCRIPTION_FIELDS)
        rows_insert(events)
        superseded = changes.subscription_changes_supersede(subscription_ids=[s.pk for s in changed], now=now)
    if counters:
        rows_update(counters, ["used", "period_start", "updated_at"])
    for subscription in resync:
        counters_sync(subscription)  # quotas of the new plan (and any missing counter)
    locked = set(ids)
    not_locked = [pk for pk in subscription_ids if pk not in locked] if skip_locked else []
    return results, not_locked, superseded


# --- dunning ---------------------------------------------------------------------------------

@transaction.atomic
def subscription_dunning_apply(*, subscription_id: int, as_of: datetime) -> str | None:
    """Move an unpaid subscription down the ladder as far as `as_of` says (all counted from the
    close): past_due, suspended, expired. Returns the outcome, or None when nothing changed.
    The caller holds the renewal order's lock (order before subscription)."""
    subscription = _lock(subscription_id)
    since = subscription.unpaid_since
    if since is None or subscription.status not in CLOSABLE:
        return None
    elapsed = as_of - since
    before = _state(subscription)
    reason = f"renewal unpaid since {before['currentPeriodStart']}"
    now = clock.now()
    if elapsed >= _days("SUBSCRIPTION_EXPIRE_DAYS"):
        at = since + _days("SUBSCRIPTION_EXPIRE_DAYS")
        _end(subscription, Status.EXPIRED, at)
        subscription.save()
        _record(subscription, Kind.EXPIRED, now=now, before=before, reason=f"{reason}: expired",
                data={"unpaidSince": before["currentPeriodStart"]})
        return EXPIRED_UNPAID
    if elapsed >= _days("SUBSCRIPTION_GRACE_DAYS") and subscription.status in (Status.ACTIVE, Status.PAST_DUE):
        subscription.status = Status.SUSPENDED
        subscription.save(update_fields=["status", "updated_at"])
        _record(subscription, Kind.SUSPENDED, now=now, before=before, reason=f"{reason}: suspended")
        return SUSPENDED
    if elapsed >= _days("SUBSCRIPTION_PAYMENT_DUE_DAYS") and subscription.status == Status.ACTIVE:
        subscription.status = Status.PAST_DUE
        subscription.save(update_fields=["status", "updated_at"])
        _record(subscription, Kind.PAST_DUE, now=now, before=before, reason=f"{reason}: past due")
        return PAST_DUE
    return None


@transaction.atomic
def subscription_renewal_paid(*, subscription_id: int, period_start: datetime, payment_id: str,
                              order_id: str) -> str:
    """The renewal order of the period starting `period_start` was paid (payments holds the
    order's lock): the subscription owes nothing and is active again. An ended subscription gets
    nothing (NOT_APPLIED: staff refund it). Returns RENEWAL_PAID or NOT_APPLIED."""
    now = clock.now()
    subscription = _lock(subscription_id)
    before = _state(subscription)
    paid = {"payment": payment_id, "order": order_id}
    reason = f"payment {payment_id} of renewal order {order_id}"
    if subscription.status in ENDED or subscription.status == Status.PENDING:
        _record(subscription, Kind.PAYMENT_NOT_APPLIED, now=now, before=before, reason=reason,
                data={**paid, "note": f"the subscription is {subscription.status}; refund the payment"})
        logger.error("subscription %s: %s arrived but it is %s; nothing delivered (refund due)",
                     subscription.pk, reason, subscription.status)
        return NOT_APPLIED
    settled = subscription.unpaid_since is not None and subscription.unpaid_since == period_start
    if settled:
        subscription.unpaid_since = None
        if subscription.status in (Status.PAST_DUE, Status.SUSPENDED):
            subscription.status = Status.ACTIVE
        subscription.save(update_fields=["unpaid_since", "status", "updated_at"])
    _record(subscription, Kind.RENEWAL_PAID, now=now, before=before, reason=reason,
            data={**paid, "settled": settled})
    return RENEWAL_PAID


# --- pending checkouts -----------------------------------------------------------------------

@transaction.atomic
def subscriptions_pending_expire(*, as_of: datetime, limit: int = 500) -> list[int]:
    """Expire up to `limit` pending checkouts older than SUBSCRIPTION_PENDING_TTL (rows an API
    request holds are left for the next run). Returns their ids."""
    now = clock.now()
    rows = list(Subscription.objects.select_for_update(skip_locked=True, of=("self",)).select_related("plan")
                .filter(pending_stale(as_of)).order_by("pk")[:limit])
    events = []
    for subscription in rows:
        before = _state(subscription)
        subscription.status = Status.EXPIRED
        subscription.ended_at = as_of
        subscription.updated_at = now
        events.append(_event(subscription, Kind.EXPIRED, now=now, before=before,
                             reason="checkout unpaid for longer than SUBSCRIPTION_PENDING_TTL"))
    if rows:
        rows_update(rows, ["status", "ended_at", "updated_at"])
        SubscriptionEvent.objects.bulk_create(events)
    return [row.pk for row in rows]
