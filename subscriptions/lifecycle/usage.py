"""Usage of seed 002's subscriptions (DESIGN §4.3): metered minutes with overage, counted
toll-free numbers and extensions limited by the plan plus add-ons.

Counters are `UsageCounter` rows, one per metric, created when a subscription starts. Metered
minutes belong to a period: the counter's `period_start` is the UTC date its subscription period
started, and a counter from an earlier period counts as zero, so a new period needs no write to
reset it (the next recording starts it again from zero, in the same statement). Counted metrics
are levels ("how many numbers are in use"), set rather than added, and carry over periods.

Recording is ONE conditional UPDATE per call (no read-modify-write, no lost updates): it
matches only a usable subscription still in the period the caller saw and, for counted
metrics, a value within the limit. When it matches nothing, a second look says why.
"""

from __future__ import annotations

from datetime import UTC, date
from decimal import Decimal

from django.db import transaction
from django.db.models import Case, Exists, F, OuterRef, Value, When

from config.errors import Conflict, InvalidInput
from config.money import paise, rupees
from subscriptions import clock
from subscriptions.models import Subscription, UsageCounter

MINUTES = "minutes"
TOLL_FREE_NUMBERS = "tollFreeNumbers"
EXTENSIONS = "extensions"
METRICS = (MINUTES, TOLL_FREE_NUMBERS, EXTENSIONS)
# counted metric → (the plan's limit key, the add-on that raises it)
COUNTED = {TOLL_FREE_NUMBERS: ("tollFreeNumbers", "extraTollFreeNumber"),
           EXTENSIONS: ("extensions", "extraExtension")}
INCLUDED_MINUTES = "includedMinutes"

# Guards against typos and overflow, not business limits.
MINUTES_PER_CALL_MAX = 1_000_000
COUNT_MAX = 1_000_000


def _whole(value) -> int:
    """A non-negative whole number from a plan's limits JSON (1, 1.0 or "1"); anything else 0."""
    if isinstance(value, bool):
        return 0
    try:
        number = Decimal(str(value))
    except ArithmeticError:
        return 0
    if not number.is_finite() or number < 0 or number != number.to_integral_value():
        return 0
    return int(number)


def addon_quantity(subscription: Subscription, addon_code: str) -> int:
    """Units of one add-on on the subscription (`addons` is keyed by the plan's add-on codes)."""
    return _whole((subscription.addons or {}).get(addon_code, 0))


def limits_of(subscription: Subscription) -> dict[str, int]:
    """{minutes: included minutes, tollFreeNumbers: limit, extensions: limit}: the plan's limits
    plus add-on quantities."""
    limits = subscription.plan.limits or {}
    result = {MINUTES: _whole(limits.get(INCLUDED_MINUTES))}
    for metric, (limit_key, addon_code) in COUNTED.items():
        result[metric] = _whole(limits.get(limit_key)) + addon_quantity(subscription, addon_code)
    return result


def price_per_minute_paise(plan) -> int:
    limits = plan.limits or {}
    exact = limits.get("pricePerMinutePaise")
    if isinstance(exact, int) and not isinstance(exact, bool) and exact >= 0:
        return exact
    listed = limits.get("pricePerMinute")
    if isinstance(listed, (int, float, str)) and not isinstance(listed, bool):
        try:
            return max(paise(Decimal(str(listed))), 0)
        except ArithmeticError:
            return 0
    return 0


def period_key(subscription: Subscription) -> date | None:
    start = subscription.current_period_start
    return None if start is None else start.astimezone(UTC).date()


def counters_sync(subscription: Subscription) -> None:
    """Create the subscription's counters (used 0) or set their quotas to its current limits.
    Called with the subscription locked whenever its plan, add-ons or period start (the lock
    keeps two callers from creating the same counter)."""
    limits = limits_of(subscription)
    existing = {c.metric: c for c in UsageCounter.objects.filter(subscription=subscription, metric__in=METRICS)}
    missing = [UsageCounter(subscription=subscription, metric=metric, quota=quota, used=0,
                            period_start=period_key(subscription))
               for metric, quota in limits.items() if metric not in existing]
    if missing:
        UsageCounter.objects.bulk_create(missing)
    for metric, counter in existing.items():
        if counter.quota != limits[metric]:
            UsageCounter.objects.filter(pk=counter.pk).update(quota=limits[metric], updated_at=clock.now())


def _used_this_period(counter: UsageCounter | None, key: date | None, metric: str) -> int:
    if counter is None:
        return 0
    if metric == MINUTES and (key is None or counter.period_start < key):
        return 0
    return counter.used


def usage_report(subscription: Subscription, counters: dict[str, UsageCounter]) -> dict:
    """GET :id/usage's body."""
    key = period_key(subscription)
    limits = limits_of(subscription)
    minutes_used = _used_this_period(counters.get(MINUTES), key, MINUTES)
    included = limits[MINUTES]
    overage = max(minutes_used - included, 0)
    per_minute = price_per_minute_paise(subscription.plan)
    usage = {MINUTES: {
        "included": included, "used": minutes_used, "remaining": max(included - minutes_used, 0),
        "overage": overage, "pricePerMinute": rupees(per_minute),
        "overageCharge": rupees(overage * per_minute),
    }}
    for metric in COUNTED:
        used = _used_this_period(counters.get(metric), key, metric)
        usage[metric] = {"limit": limits[metric], "used": used, "remaining": max(limits[metric] - used, 0)}
    return {"subscriptionId": subscription.pk, "periodStart": subscription.current_period_start,
            "periodEnd": subscription.current_period_end, "usage": usage}


def subscription_usage_get(*, subscription: Subscription) -> dict:
    counters = {c.metric: c for c in UsageCounter.objects.filter(subscription=subscription, metric__in=METRICS)}
    return usage_report(subscription, counters)


def _check_input(metric, amount) -> None:
    if metric not in METRICS:
        raise InvalidInput(f"metric must be one of {', '.join(METRICS)}.", code="invalid_metric",
                           fields={"metric": [f"One of {', '.join(METRICS)}."]})
    field, maximum = ("quantity", MINUTES_PER_CALL_MAX) if metric == MINUTES else ("used", COUNT_MAX)
    low = 1 if metric == MINUTES else 0
    if isinstance(amount, bool) or not isinstance(amount, int) or not low <= amount <= maximum:
        raise InvalidInput(f"{field} must be a whole number from {low} to {maximum}.",
                           code="invalid_quantity", fields={field: [f"A whole number from {low} to {maximum}."]})


def _record_statement(subscription: Subscription, metric: str, amount: int, now) -> int:
    """The one conditional UPDATE; returns the number of rows changed (0 or 1)."""
    if subscription.current_period_start is None:
        return 0  # never started (a pending checkout): nothing to match
    still_usable = Subscription.objects.filter(
        pk=OuterRef("subscription_id"), status__in=Subscription.USABLE_STATUSES,
        current_period_start=subscription.current_period_start,
    )
    counters = UsageCounter.objects.filter(Exists(still_usable), subscription_id=subscription.pk,
                                           metric=metric)
    if metric == MINUTES:
        key = period_key(subscription)
        # A counter already in a later period (the period close reset it while this statement
        # waited for its row) is not matched: the caller looks again and records in that period.
        return counters.filter(period_start__lte=key).update(
            used=Case(When(period_start__lt=key, then=Value(amount)), default=F("used") + amount),
            period_start=key, updated_at=now,
        )
    return counters.filter(quota__gte=amount).update(used=amount, updated_at=now)


def subscription_usage_record(*, subscription: Subscription, metric: str, amount: int) -> dict:
    """Add `amount` metered minutes, or set a counted metric to `amount` (within its limit).

    `subscription` is the row the caller looked up (its period is part of the condition). Not
    usable (pending, suspended, ended) → Conflict; a count over the limit → Conflict."""
    _check_input(metric, amount)
    now = clock.now()
    for _attempt in range(3):
        if _record_statement(subscription, metric, amount, now):
            return subscription_usage_get(subscription=subscription)
        subscription = _explain_refusal(subscription_id=subscription.pk, metric=metric, amount=amount)
    raise Conflict("Usage could not be recorded; try again.", code="usage_conflict")


def _explain_refusal(*, subscription_id: int, metric: str, amount: int) -> Subscription:
    """Nothing matched: raise why, or return the fresh subscription to try again with (its
    period moved on, or its counters were missing and are now made)."""
    with transaction.atomic():
        subscription = (Subscription.objects.select_for_update(of=("self",)).select_related("plan", "user")
                        .get(pk=subscription_id))
        if subscription.status not in Subscription.USABLE_STATUSES:
            raise Conflict(f"Subscription is {subscription.status}; usage cannot be recorded.",
                           code="subscription_not_usable")
        counter = UsageCounter.objects.filter(subscription=subscription, metric=metric).first()
        if counter is None:
            counters_sync(subscription)
            return subscription
        if metric != MINUTES and amount > counter.quota:
            raise Conflict(f"{metric}: {amount} is over the limit of {counter.quota}.",
                           code="usage_limit_exceeded",
                           fields={"used": [f"At most {counter.quota} (plan limit plus add-ons)."]})
    return subscription
