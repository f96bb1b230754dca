"""A user's live token subscription and counter, locked, provisioned if missing, with the two
lazy rules (plan expiry, period reset) applied; and the usage fields built from them."""

from __future__ import annotations

from datetime import UTC, datetime

from django.contrib.auth import get_user_model
from django.db import IntegrityError, transaction

from config.errors import NotFound
from plans.selectors import token_basic_plan
from subscriptions import clock
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.selectors import METRIC, TOKENS
from subscriptions.services.events import _event

# --- helpers -------------------------------------------------------------------------------

def _iso(value: datetime | None) -> str | None:
    if value is None:
        return None
    return value.astimezone(UTC).isoformat().replace("+00:00", "Z")


def _usage(*, plan_code: str, quota: int, used: int, plan_end_at: datetime | None) -> dict:
    return {
        "plan": plan_code,
        "token_quota": quota,
        "token_used": used,
        "remaining": quota - used,
        "plan_end_at": _iso(plan_end_at),
    }


def _usage_of(subscription: Subscription, counter: UsageCounter) -> dict:
    return _usage(plan_code=subscription.plan.code, quota=counter.quota, used=counter.used,
                  plan_end_at=subscription.current_period_end)


def _has_ended(subscription: Subscription, now: datetime) -> bool:
    end = subscription.current_period_end
    return end is not None and end <= now


def _user_check(*, user_id: int, tenant_id: int | None = None) -> None:
    users = get_user_model().objects.filter(pk=user_id)
    if tenant_id is not None:
        users = users.filter(tenant_id=tenant_id)
    if not users.exists():
        raise NotFound("user not found", code="user_not_found")


def _provision(*, user_id: int, now: datetime) -> Subscription:
    """Create the basic subscription and its counter; if a concurrent request won, lock theirs."""
    basic = token_basic_plan()
    try:
        with transaction.atomic():
            subscription = Subscription.objects.create(
                user_id=user_id, plan=basic, product=TOKENS, status=Subscription.Status.ACTIVE,
                current_period_start=now, current_period_end=None,
            )
    except IntegrityError:
        # The unique live-subscription index made us wait for the winner; it has committed.
        subscription = _lock_live(user_id=user_id)
        if subscription is None:  # pragma: no cover - the winner rolled back: try once more
            return _provision(user_id=user_id, now=now)
        return subscription
    UsageCounter.objects.create(subscription=subscription, metric=METRIC,
                                quota=basic.token_allowance, used=0,
                                period_start=clock.billing_month_start(now))
    _event(subscription, SubscriptionEvent.Kind.PROVISIONED, now=now, to_plan=basic.code)
    return subscription


def _lock_live(*, user_id: int) -> Subscription | None:
    return (
        Subscription.objects.select_for_update(of=("self",)).select_related("plan")
        .filter(user_id=user_id, product=TOKENS, status__in=Subscription.LIVE_STATUSES)
        .first()
    )


def _settle(subscription: Subscription, *, now: datetime, actor=None) -> UsageCounter:
    """With `subscription` locked: lock its counter, apply expiry and the period reset, save."""
    month = clock.billing_month_start(now)
    counter = UsageCounter.objects.select_for_update().filter(
        subscription=subscription, metric=METRIC).first()
    if counter is None:
        counter = UsageCounter.objects.create(
            subscription=subscription, metric=METRIC, quota=subscription.plan.token_allowance,
            used=0, period_start=month)
    dirty = False
    if _has_ended(subscription, now):
        basic = token_basic_plan()
        previous = subscription.plan
        ended_at = subscription.current_period_end
        subscription.plan = basic
        subscription.current_period_start = ended_at
        subscription.current_period_end = None
        subscription.save(update_fields=["plan", "current_period_start", "current_period_end",
                                         "updated_at"])
        counter.quota = basic.token_allowance
        dirty = True
        _event(subscription, SubscriptionEvent.Kind.EXPIRED, now=now, from_plan=previous.code,
               to_plan=basic.code, actor=actor, reason="plan ended",
               data={"ended_at": _iso(ended_at), "used": counter.used})
    if counter.period_start < month:
        counter.used = 0
        counter.quota = subscription.plan.token_allowance
        counter.period_start = month
        dirty = True
    if dirty:
        counter.save(update_fields=["used", "quota", "period_start", "updated_at"])
    return counter


def _lock_state(*, user_id: int, now: datetime, actor=None) -> tuple[Subscription, UsageCounter]:
    """Inside a transaction: the user's live token subscription and counter, locked (subscription
    first, then counter), provisioned if missing, expired plan fallen back, period reset."""
    subscription = _lock_live(user_id=user_id)
    if subscription is None:
        subscription = _provision(user_id=user_id, now=now)
    return subscription, _settle(subscription, now=now, actor=actor)

