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

By concern: `tokens` (usage, set-plan, paid purchases and their reversal, consumption), `state`
(the locked subscription and counter with both lazy rules applied), `quotas` (the cron batches),
`events` (the subscription's event log), `merges` (an account merge's part, phone sign-in). Import the public names from here.
"""

from __future__ import annotations

from subscriptions.services.merges import SubscriptionConflict, subscriptions_merge
from subscriptions.services.quotas import Progress, token_plans_expire, token_quotas_reset
from subscriptions.services.tokens import (
    CONSUME_MAX,
    DOWNGRADE,
    SAME_TIER,
    TOP_UP,
    UPGRADE,
    QuotaExceeded,
    TokenPlanChange,
    token_consume,
    token_plan_change,
    token_plan_purchase,
    token_purchase_reverse,
    token_usage_get,
    token_usage_reset,
)

__all__ = [
    "SubscriptionConflict", "subscriptions_merge",
    "CONSUME_MAX", "DOWNGRADE", "SAME_TIER", "TOP_UP", "UPGRADE", "Progress", "QuotaExceeded",
    "TokenPlanChange", "token_consume", "token_plan_change", "token_plan_purchase",
    "token_purchase_reverse", "token_plans_expire",
    "token_quotas_reset", "token_usage_get", "token_usage_reset",
]
