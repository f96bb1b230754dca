"""Billing periods: calendar months (1, 3 or 12) counted from an anchor, day clamped.

Pure functions, no database. Month arithmetic happens on the wall clock of BILLING_TIME_ZONE
(passed in as `zone`), so a period that starts at midnight on 31 January in Kolkata ends at
midnight on 28/29 February there, whatever that is in UTC.
"""

import calendar
from datetime import datetime, timedelta
from zoneinfo import ZoneInfo

from plans.pricing import CYCLE_MONTHS


def add_months(moment: datetime, months: int, *, zone: str = "UTC") -> datetime:
    """`moment` plus `months` calendar months; a day past the target month's end is clamped to
    its last day (31 January + 1 month = 28 or 29 February). Aware in, aware (same zone) out."""
    local = moment.astimezone(ZoneInfo(zone))
    month_index = local.month - 1 + months
    year, month = local.year + month_index // 12, month_index % 12 + 1
    day = min(local.day, calendar.monthrange(year, month)[1])
    shifted = local.replace(year=year, month=month, day=day, fold=0)
    return shifted.astimezone(moment.tzinfo)


def cycle_months(billing_cycle: str) -> int:
    return CYCLE_MONTHS[billing_cycle]


def period_end_after(*, anchor: datetime, moment: datetime, billing_cycle: str, zone: str = "UTC") -> datetime:
    """The first period boundary strictly after `moment`: anchor + k × cycle months, k ≥ 1.

    Counting from the anchor (not from the previous end) keeps the day of month: 31 Jan →
    28 Feb → 31 Mar, never 28 Mar."""
    step = cycle_months(billing_cycle)
    local_anchor, local_moment = anchor.astimezone(ZoneInfo(zone)), moment.astimezone(ZoneInfo(zone))
    elapsed = (local_moment.year - local_anchor.year) * 12 + local_moment.month - local_anchor.month
    k = max(elapsed // step, 0)
    end = add_months(anchor, k * step, zone=zone)
    while end <= moment:
        k += 1
        end = add_months(anchor, k * step, zone=zone)
    return end


def next_billing_date(period_end: datetime | None) -> datetime | None:
    """Seed 002's nextBillingDate: the day after the period ends."""
    return None if period_end is None else period_end + timedelta(days=1)
