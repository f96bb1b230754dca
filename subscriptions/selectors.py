"""Reads for token quotas. Token plans themselves are read through plans.selectors."""

from datetime import date, datetime
from typing import NamedTuple

from django.db import connection

from config.db import prepared_fetchone
from plans.models import RatePlan
from subscriptions.models import Subscription, UsageCounter

TOKENS = RatePlan.Product.TOKENS.value
METRIC = UsageCounter.TOKENS


def token_counter_peek(*, user_id: int) -> UsageCounter | None:
    """The live token counter with its subscription and plan, in one query, without locking."""
    return (
        UsageCounter.objects.select_related("subscription__plan")
        .filter(subscription__user_id=user_id, subscription__product=TOKENS,
                subscription__status__in=Subscription.LIVE_STATUSES, metric=METRIC)
        .first()
    )


class TokenUsagePeek(NamedTuple):
    plan_code: str
    quota: int
    used: int
    period_start: date
    plan_end_at: datetime | None


_LIVE = ", ".join(f"'{status}'" for status in Subscription.LIVE_STATUSES)
# GET /api/tokens/usage reads this on every call: written once here, because compiling the
# equivalent ORM query cost more than running it (PostgreSQL; other databases use the ORM).
_USAGE_PEEK_SQL = f"""
SELECT p.code, c.quota, c.used, c.period_start, s.current_period_end
FROM {UsageCounter._meta.db_table} c
JOIN {Subscription._meta.db_table} s ON s.id = c.subscription_id
JOIN {RatePlan._meta.db_table} p ON p.id = s.plan_id
WHERE s.user_id = %s AND s.product = '{TOKENS}' AND s.status IN ({_LIVE}) AND c.metric = '{METRIC}'
LIMIT 1
"""


def _usage_peek_row(user_id: int):
    """PostgreSQL parses and plans the peek once per connection (planning the join cost more
    than running it): config.db.prepared_fetchone."""
    return prepared_fetchone(_USAGE_PEEK_SQL, [user_id])


def token_usage_peek(*, user_id: int) -> TokenUsagePeek | None:
    """The live token plan's code and counter, in one query, without locking."""
    if connection.vendor == "postgresql":
        row = _usage_peek_row(user_id)
        return TokenUsagePeek(*row) if row is not None else None
    counter = token_counter_peek(user_id=user_id)
    if counter is None:
        return None
    subscription = counter.subscription
    return TokenUsagePeek(subscription.plan.code, counter.quota, counter.used, counter.period_start,
                          subscription.current_period_end)


def tenant_subscription_stats(*, tenant, since) -> dict:
    """For `tenants.stats`: the tenant's users' live subscriptions (pending, active, past due,
    suspended)."""
    return {"live_subscriptions": Subscription.objects.filter(
        user__tenant=tenant, status__in=Subscription.LIVE_STATUSES).count()}
