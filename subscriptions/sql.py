"""The PostgreSQL statements behind the token hot path and the bulk reset.

Both fold in the lazy period reset (`period_start < month` → used 0, quota = plan allowance,
period_start = month), so they race safely with each other and with the ORM paths: each locks
the counter row it changes, and under READ COMMITTED a statement that waited for another
re-checks its WHERE clause against the row the other one committed.
"""

from plans.models import RatePlan
from subscriptions.models import Subscription, UsageCounter
from subscriptions.selectors import METRIC, TOKENS

COUNTER = UsageCounter._meta.db_table
SUBSCRIPTION = Subscription._meta.db_table
PLAN = RatePlan._meta.db_table

_LIVE = ", ".join(f"'{status}'" for status in Subscription.LIVE_STATUSES)
_USABLE = ", ".join(f"'{status}'" for status in Subscription.USABLE_STATUSES)
_STALE = "c.period_start < %(month)s::date"

# One conditional UPDATE per consume: matches only a provisioned, usable, unexpired token
# subscription whose (possibly reset) counter has room for n more tokens.
CONSUME = f"""
UPDATE {COUNTER} AS c
SET used = CASE WHEN {_STALE} THEN %(n)s::bigint ELSE c.used + %(n)s::bigint END,
    quota = CASE WHEN {_STALE} THEN p.token_allowance ELSE c.quota END,
    period_start = CASE WHEN {_STALE} THEN %(month)s::date ELSE c.period_start END,
    updated_at = %(now)s::timestamptz
FROM {SUBSCRIPTION} AS s
JOIN {PLAN} AS p ON p.id = s.plan_id
{{tenant_join}}
WHERE c.subscription_id = s.id
  AND c.metric = '{METRIC}'
  AND s.user_id = %(user_id)s::bigint
  AND s.product = '{TOKENS}'
  AND s.status IN ({_USABLE})
  AND (s.current_period_end IS NULL OR s.current_period_end > %(now)s::timestamptz)
  AND (CASE WHEN {_STALE} THEN 0 ELSE c.used END) + %(n)s::bigint
      <= (CASE WHEN {_STALE} THEN p.token_allowance ELSE c.quota END)
RETURNING p.code, c.quota, c.used, s.current_period_end
"""



def consume_sql(*, tenant_restricted: bool) -> str:
    """CONSUME, optionally limited to users of one tenant (API keys, tenant staff)."""
    if not tenant_restricted:
        return CONSUME.replace("{tenant_join}", "")
    from django.contrib.auth import get_user_model

    users = get_user_model()._meta.db_table
    join = f"JOIN {users} AS u ON u.id = s.user_id AND u.tenant_id = %(tenant_id)s::bigint"
    return CONSUME.replace("{tenant_join}", join)


# Where the batch after `last` ends: the primary key of its N-th counter.
BATCH_END = f"""
SELECT max(id) FROM (
    SELECT id FROM {COUNTER} WHERE id > %(last)s ORDER BY id LIMIT %(limit)s
) AS batch
"""

BATCH_PLANNER = ("SET LOCAL enable_hashjoin = off", "SET LOCAL enable_mergejoin = off")

# The stale live token counters with ids in (last, hi]. The bounds are plain parameters (not a
# subquery) so the planner walks the primary-key range and joins by key, never the whole table.
_RESET_WHERE = f"""
    c.id > %(last)s AND c.id <= %(hi)s
    AND c.subscription_id = s.id
    AND c.metric = '{METRIC}'
    AND s.product = '{TOKENS}'
    AND s.status IN ({_LIVE})
    AND {_STALE}
"""

# A plan that has ended resets to the basic allowance (expire_plans moves it to basic later).
RESET_RANGE = f"""
UPDATE {COUNTER} AS c
SET used = 0,
    quota = CASE WHEN s.current_period_end IS NOT NULL
                      AND s.current_period_end <= %(now)s::timestamptz
                 THEN %(basic_allowance)s::bigint ELSE p.token_allowance END,
    period_start = %(month)s::date,
    updated_at = %(now)s::timestamptz
FROM {SUBSCRIPTION} AS s
JOIN {PLAN} AS p ON p.id = s.plan_id
WHERE {_RESET_WHERE}
"""

RESET_RANGE_DRY_RUN = f"""
SELECT count(*) FROM {COUNTER} AS c JOIN {SUBSCRIPTION} AS s ON s.id = c.subscription_id
WHERE {_RESET_WHERE}
"""
