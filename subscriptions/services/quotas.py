"""Batch jobs (cron): plan expiry and the monthly quota reset for everyone."""

from __future__ import annotations

from collections.abc import Callable
from datetime import date

from django.db import connection, transaction
from django.db.models import BigIntegerField, Case, Exists, OuterRef, Subquery, Value, When

from config.errors import InvalidInput
from plans.models import RatePlan
from plans.selectors import token_basic_plan
from subscriptions import clock, sql
from subscriptions.models import Subscription, UsageCounter
from subscriptions.selectors import METRIC, TOKENS
from subscriptions.services.state import _settle

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
