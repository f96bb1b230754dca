"""Token plans and quotas (DESIGN §4.2, seeds 000/001).

A user's token plan is their live `Subscription` in product ``tokens``; the quota is its
`UsageCounter` (metric ``tokens``). Two lazy rules apply on every path that reads or changes the
counter, in the same statement or transaction:

- period reset: a counter whose `period_start` is before the current billing month gets
  ``used = 0``, ``quota = allowance of the current plan`` (carry-over lasts one period),
  ``period_start = month``;
- expiry: a plan whose `current_period_end` has passed falls back to basic (quota = basic
  allowance, ``used`` kept, end NULL), like a downgrade.

Time comes from `subscriptions.clock` so tests can move it. No trust checks happen here
(views decide who may call what), except the opt-in `paid_upgrade_allowed=False`.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import BigIntegerField, Case, Exists, OuterRef, Subquery, Value, When

from config.errors import Forbidden, InvalidInput, NotFound, PaymentRequired
from plans.models import RatePlan
from plans.selectors import token_basic_plan, token_plan_get
from subscriptions import clock, sql
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.selectors import METRIC, TOKENS, token_counter_peek

logger = logging.getLogger(__name__)

# The largest single consumption accepted (a guard against typos and overflow, not a quota).
CONSUME_MAX = 10_000_000

UPGRADE, SAME_TIER, DOWNGRADE, TOP_UP = "upgrade", "same_tier", "downgrade", "top_up"


class QuotaExceeded(PaymentRequired):
    code = "quota_exceeded"
    default_message = "quota exceeded"


@dataclass(frozen=True)
class TokenPlanChange:
    """What `token_plan_change` did; `as_response()` is seed 001's set-plan body."""

    action: str
    message: str
    previous_plan: str
    plan: str
    token_quota: int
    token_used: int
    plan_end_at: datetime | None

    @property
    def remaining(self) -> int:
        return self.token_quota - self.token_used

    def as_response(self) -> dict:
        return {
            "status": "ok",
            "message": self.message,
            "plan": self.plan,
            "token_quota": self.token_quota,
            "token_used": self.token_used,
            "remaining": self.remaining,
        }


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


def _event(subscription, kind, *, now, from_plan="", to_plan="", actor=None, reason="", data=None):
    SubscriptionEvent.objects.create(
        subscription=subscription, kind=kind, from_plan_code=from_plan, to_plan_code=to_plan,
        actor=actor if getattr(actor, "pk", None) else None, reason=(reason or "")[:500],
        data=data or {}, created_at=now,
    )


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


# --- reads ---------------------------------------------------------------------------------

def token_usage_get(*, user) -> dict:
    """Seed 000's usage fields; the first call provisions basic. One query when nothing is due."""
    now = clock.now()
    counter = token_counter_peek(user_id=user.pk)
    if (counter is not None and counter.period_start >= clock.billing_month_start(now)
            and not _has_ended(counter.subscription, now)):
        return _usage_of(counter.subscription, counter)
    with transaction.atomic():
        subscription, counter = _lock_state(user_id=user.pk, now=now)
    return _usage_of(subscription, counter)


# --- plan changes --------------------------------------------------------------------------

def _plan_change(*, user, target: RatePlan, reset_used: bool, actor, reason: str,
                 paid_upgrade_allowed: bool, extend_period: bool,
                 never_downgrade: bool = False) -> TokenPlanChange:
    now = clock.now()
    subscription, counter = _lock_state(user_id=user.pk, now=now, actor=actor)
    current = subscription.plan
    before = {"quota": counter.quota, "used": counter.used,
              "plan_end_at": _iso(subscription.current_period_end)}

    if target.tier > current.tier:
        if not paid_upgrade_allowed and not target.is_free:
            raise PaymentRequired("payment required")
        action = UPGRADE
        carry_over = max(counter.quota - counter.used, 0)
        counter.quota = target.token_allowance + carry_over
        counter.used = 0
        subscription.current_period_start = now
        subscription.current_period_end = (now + timedelta(days=target.duration_days)
                                           if target.duration_days else None)
        message = f"upgraded to {target.code} with carry-over"
    elif target.tier == current.tier:
        action = SAME_TIER
        if reset_used:
            counter.used = 0
        if extend_period and target.duration_days:
            start = max(subscription.current_period_end or now, now)
            subscription.current_period_end = start + timedelta(days=target.duration_days)
        message = "plan confirmed"
    elif never_downgrade:
        # A lower plan paid for while a higher one runs (an older checkout completed late):
        # the higher plan stays and the tokens paid for are added to this month's quota.
        action = TOP_UP
        counter.quota += target.token_allowance
        message = f"{target.code} tokens added to {current.code}"
        target = current
    else:
        action = DOWNGRADE
        counter.quota = target.token_allowance
        if reset_used:
            counter.used = 0
        if not target.duration_days:
            subscription.current_period_start = now
            subscription.current_period_end = None
        message = f"downgraded to {target.code}"

    subscription.plan = target
    subscription.save(update_fields=["plan", "current_period_start", "current_period_end",
                                     "updated_at"])
    counter.save(update_fields=["quota", "used", "updated_at"])
    _event(subscription, SubscriptionEvent.Kind.PLAN_CHANGED, now=now, from_plan=current.code,
           to_plan=target.code, actor=actor, reason=reason,
           data={"action": action, "reset_used": reset_used, "before": before,
                 "after": {"quota": counter.quota, "used": counter.used,
                           "plan_end_at": _iso(subscription.current_period_end)}})
    return TokenPlanChange(action=action, message=message, previous_plan=current.code,
                           plan=target.code, token_quota=counter.quota, token_used=counter.used,
                           plan_end_at=subscription.current_period_end)


@transaction.atomic
def token_plan_change(*, user, plan_code: str, reset_used: bool = False, actor=None,
                      reason: str = "", paid_upgrade_allowed: bool = True,
                      extend_period: bool = False) -> TokenPlanChange:
    """Seed 001's set-plan rules.

    upgrade → quota = allowance(new) + max(quota − used, 0), used 0, end = now + duration;
    same tier → unchanged except used 0 when `reset_used` (and, with `extend_period`, the end
    moves one duration past max(end, now): a paid renewal); downgrade → quota = allowance(new),
    used kept unless `reset_used`, end cleared for a plan without duration (basic).
    `paid_upgrade_allowed=False` refuses an upgrade to a paid plan with PaymentRequired (the
    view's trust rule, checked under the row lock).
    """
    target = token_plan_get(code=plan_code)
    return _plan_change(user=user, target=target, reset_used=reset_used, actor=actor,
                        reason=reason, paid_upgrade_allowed=paid_upgrade_allowed,
                        extend_period=extend_period)


@transaction.atomic
def token_plan_purchase(*, user, plan: RatePlan, actor=None, reason: str = "") -> TokenPlanChange:
    """Deliver a paid token plan (payments' fulfilment). What was paid for is delivered whatever
    happened since the order was made: the plan need not still be on sale; a higher plan is an
    upgrade with carry-over, the same plan a renewal (one more duration), and a lower plan never
    downgrades (its tokens are added to this month's quota instead)."""
    if plan.product != TOKENS:
        raise InvalidInput("invalid plan", code="invalid_plan")
    return _plan_change(user=user, target=plan, reset_used=False, actor=actor, reason=reason,
                        paid_upgrade_allowed=True, extend_period=True, never_downgrade=True)


@transaction.atomic
def token_purchase_reverse(*, user, plan: RatePlan, action: str, actor=None,
                           reason: str = "") -> TokenPlanChange | None:
    """Take back what one paid token-plan purchase delivered (its full refund).

    A top-up loses its tokens from this month's quota. An upgrade or renewal of the plan still
    in force loses its duration from the end; with no paid time left the user returns to basic.
    A plan no longer in force (the user has moved to another plan since) leaves nothing to take
    back: None.
    """
    now = clock.now()
    subscription, counter = _lock_state(user_id=user.pk, now=now, actor=actor)
    current = subscription.plan
    before = {"quota": counter.quota, "plan_end_at": _iso(subscription.current_period_end)}
    if action == TOP_UP:
        counter.quota = max(counter.quota - plan.token_allowance, 0)
        counter.save(update_fields=["quota", "updated_at"])
        message = f"{plan.code} tokens removed from {current.code}"
    elif current.pk != plan.pk:
        return None
    else:
        end = subscription.current_period_end
        shortened = end - timedelta(days=plan.duration_days) if end and plan.duration_days else None
        if shortened is None or shortened <= now:
            return _plan_change(user=user, target=token_basic_plan(), reset_used=False, actor=actor,
                                reason=reason, paid_upgrade_allowed=True, extend_period=False)
        subscription.current_period_end = shortened
        subscription.save(update_fields=["current_period_end", "updated_at"])
        message = f"{plan.code} shortened by {plan.duration_days} days"
    _event(subscription, SubscriptionEvent.Kind.PLAN_CHANGED, now=now, from_plan=current.code,
           to_plan=current.code, actor=actor, reason=reason,
           data={"action": f"reverse_{action}", "before": before,
                 "after": {"quota": counter.quota, "plan_end_at": _iso(subscription.current_period_end)}})
    return TokenPlanChange(action=f"reverse_{action}", message=message, previous_plan=current.code,
                           plan=current.code, token_quota=counter.quota, token_used=counter.used,
                           plan_end_at=subscription.current_period_end)


@transaction.atomic
def token_usage_reset(*, user, actor=None, reason: str = "") -> dict:
    """used = 0 for the current period (staff / service action); the quota is unchanged."""
    now = clock.now()
    subscription, counter = _lock_state(user_id=user.pk, now=now, actor=actor)
    previous = counter.used
    counter.used = 0
    counter.save(update_fields=["used", "updated_at"])
    _event(subscription, SubscriptionEvent.Kind.USAGE_RESET, now=now,
           from_plan=subscription.plan.code, to_plan=subscription.plan.code, actor=actor,
           reason=reason, data={"previous_used": previous, "quota": counter.quota})
    return _usage_of(subscription, counter)


# --- consumption ---------------------------------------------------------------------------

def token_consume(*, user=None, tokens: int, user_id: int | None = None,
                  tenant_id: int | None = None) -> dict:
    """Add `tokens` to the user's usage unless that would exceed the quota (QuotaExceeded, 402,
    with ``remaining``). Give `user` or `user_id`; `tenant_id` limits the target to users of
    that tenant (NotFound otherwise). Returns seed 000's usage fields.

    On PostgreSQL the usual case is ONE conditional UPDATE with the period reset folded in (a
    single statement needs no explicit transaction). When it matches nothing — not provisioned,
    plan ended, subscription not usable, quota short, unknown user — a locked transaction works
    out why and either consumes or refuses.
    """
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 0 < tokens <= CONSUME_MAX:
        raise InvalidInput("invalid tokens", code="invalid_tokens",
                           fields={"tokens": [f"A whole number from 1 to {CONSUME_MAX}."]})
    uid = user.pk if user is not None else user_id
    if uid is None:
        raise InvalidInput("user_id required", code="user_required")
    now = clock.now()
    if connection.vendor == "postgresql":
        params = {"n": tokens, "now": now, "month": clock.billing_month_start(now),
                  "user_id": uid, "tenant_id": tenant_id}
        with connection.cursor() as cursor:
            cursor.execute(sql.consume_sql(tenant_restricted=tenant_id is not None), params)
            row = cursor.fetchone()
        if row is not None:
            plan_code, quota, used, end = row
            return _usage(plan_code=plan_code, quota=quota, used=used, plan_end_at=end)
    return _consume_locked(user_id=uid, tokens=tokens, tenant_id=tenant_id, now=now)


def _consume_locked(*, user_id: int, tokens: int, tenant_id: int | None, now: datetime) -> dict:
    _user_check(user_id=user_id, tenant_id=tenant_id)
    refusal = None
    with transaction.atomic():
        subscription, counter = _lock_state(user_id=user_id, now=now)
        if subscription.status not in Subscription.USABLE_STATUSES:
            refusal = Forbidden("subscription not active", code="subscription_not_active")
        elif counter.used + tokens > counter.quota:
            refusal = QuotaExceeded("quota exceeded", extra={"remaining": counter.remaining})
        else:
            counter.used += tokens
            counter.save(update_fields=["used", "updated_at"])
        result = _usage_of(subscription, counter)
    # Raised after commit, so the reset / fallback / provisioning done above is kept.
    if refusal is not None:
        raise refusal
    return result


# --- batch jobs (cron) ---------------------------------------------------------------------

Progress = Callable[[int, int, int, int], None]


def token_plans_expire(*, batch_size: int = 500, progress: Progress | None = None) -> int:
    """Move every live token plan whose period has ended to basic; returns how many moved.

    Each subscription is handled in its own short transaction under its row lock, re-checked
    there, so this runs safely beside the API (which applies the same fallback lazily).
    """
    now = clock.now()
    last_id, moved, batch_no = 0, 0, 0
    while True:
        ids = list(
            Subscription.objects.filter(product=TOKENS, status__in=Subscription.LIVE_STATUSES,
                                        current_period_end__lte=now, id__gt=last_id)
            .order_by("id").values_list("id", flat=True)[:batch_size]
        )
        if not ids:
            break
        batch_moved = 0
        for subscription_id in ids:
            with transaction.atomic():
                subscription = (
                    Subscription.objects.select_for_update(of=("self",)).select_related("plan")
                    .filter(pk=subscription_id, status__in=Subscription.LIVE_STATUSES,
                            current_period_end__lte=now)
                    .first()
                )
                if subscription is None:  # renewed or handled by a request meanwhile
                    continue
                _settle(subscription, now=now)
                batch_moved += 1
        moved += batch_moved
        batch_no += 1
        last_id = ids[-1]
        if progress:
            progress(batch_no, last_id, batch_moved, moved)
    return moved


def token_quotas_reset(*, batch_size: int = 10_000, dry_run: bool = False,
                       progress: Progress | None = None) -> int:
    """Reset every stale live token counter to the current month, in primary-key batches.

    Each batch is one statement in its own transaction, guarded by ``period_start < month``, so
    it races safely with the API's lazy reset and a second run in the same month changes
    nothing. A plan that has ended resets to the basic allowance. Returns the number of
    counters reset (or, with `dry_run`, that would be).
    """
    if batch_size < 1:
        raise InvalidInput("batch size must be positive", code="invalid_batch_size")
    now = clock.now()
    month = clock.billing_month_start(now)
    basic_allowance = token_basic_plan().token_allowance
    batch = _reset_batch_postgresql if connection.vendor == "postgresql" else _reset_batch_orm
    last_id, total, batch_no = 0, 0, 0
    while True:
        with transaction.atomic():
            hi, changed = batch(last_id=last_id, limit=batch_size, now=now, month=month,
                                basic_allowance=basic_allowance, dry_run=dry_run)
        if hi is None:
            break
        total += changed
        batch_no += 1
        last_id = hi
        if progress:
            progress(batch_no, last_id, changed, total)
    return total


def _reset_batch_postgresql(*, last_id, limit, now, month, basic_allowance, dry_run):
    params = {"last": last_id, "limit": limit, "now": now, "month": month,
              "basic_allowance": basic_allowance}
    with connection.cursor() as cursor:
        cursor.execute(sql.BATCH_END, params)
        params["hi"] = cursor.fetchone()[0]
        if params["hi"] is None:
            return None, 0
        # Walk the batch's key range and probe subscriptions by key: a hash join would read the
        # whole subscription table for every batch. SET LOCAL ends with this batch's transaction.
        for statement in sql.BATCH_PLANNER:
            cursor.execute(statement)
        if dry_run:
            cursor.execute(sql.RESET_RANGE_DRY_RUN, params)
            return params["hi"], cursor.fetchone()[0]
        cursor.execute(sql.RESET_RANGE, params)
        return params["hi"], cursor.rowcount


def _reset_batch_orm(*, last_id, limit, now, month: date, basic_allowance, dry_run):
    """The same batch for databases without the PostgreSQL statement (SQLite in development)."""
    ids = list(UsageCounter.objects.filter(id__gt=last_id).order_by("id")
               .values_list("id", flat=True)[:limit])
    if not ids:
        return None, 0
    stale = UsageCounter.objects.filter(
        id__gt=last_id, id__lte=ids[-1], metric=METRIC, period_start__lt=month,
        subscription__product=TOKENS, subscription__status__in=Subscription.LIVE_STATUSES,
    )
    if dry_run:
        return ids[-1], stale.count()
    ended = Subscription.objects.filter(pk=OuterRef("subscription_id"), current_period_end__lte=now)
    allowance = RatePlan.objects.filter(subscriptions=OuterRef("subscription_id")).values(
        "token_allowance")[:1]
    changed = UsageCounter.objects.filter(pk__in=stale.values("pk")).update(
        used=0, period_start=month, updated_at=now,
        quota=Case(When(Exists(ended), then=Value(basic_allowance)), default=Subquery(allowance),
                   output_field=BigIntegerField()),
    )
    return ids[-1], changed
