"""Calendar periods (pure): month arithmetic with day clamping, periods counted from the anchor."""

from datetime import UTC, datetime

import pytest

from subscriptions.lifecycle.periods import add_months, next_billing_date, period_end_after


def utc(*args):
    return datetime(*args, tzinfo=UTC)


@pytest.mark.parametrize("start, months, end", [
    (utc(2025, 1, 10), 1, utc(2025, 2, 10)),
    (utc(2025, 1, 10), 3, utc(2025, 4, 10)),        # seed 002's quarterly example
    (utc(2025, 1, 31), 1, utc(2025, 2, 28)),
    (utc(2024, 1, 31), 1, utc(2024, 2, 29)),        # leap year
    (utc(2025, 3, 31), 1, utc(2025, 4, 30)),
    (utc(2025, 11, 30), 3, utc(2026, 2, 28)),
    (utc(2024, 2, 29), 12, utc(2025, 2, 28)),
    (utc(2025, 12, 15, 13, 45, 7), 1, utc(2026, 1, 15, 13, 45, 7)),
    (utc(2025, 5, 31), 0, utc(2025, 5, 31)),
])
def test_add_months(start, months, end):
    assert add_months(start, months) == end


def test_periods_keep_the_anchor_day():
    anchor = utc(2025, 1, 31, 9)
    ends, moment = [], anchor
    for _ in range(4):
        moment = period_end_after(anchor=anchor, moment=moment, billing_cycle="monthly")
        ends.append(moment)
    assert ends == [utc(2025, 2, 28, 9), utc(2025, 3, 31, 9), utc(2025, 4, 30, 9), utc(2025, 5, 31, 9)]


@pytest.mark.parametrize("cycle, end", [("monthly", utc(2025, 2, 10)), ("quarterly", utc(2025, 4, 10)),
                                        ("annual", utc(2026, 1, 10))])
def test_first_period_of_each_cycle(cycle, end):
    anchor = utc(2025, 1, 10)
    assert period_end_after(anchor=anchor, moment=anchor, billing_cycle=cycle) == end


def test_the_boundary_itself_belongs_to_the_next_period():
    anchor = utc(2025, 1, 10)
    assert period_end_after(anchor=anchor, moment=utc(2025, 2, 10), billing_cycle="monthly") == utc(2025, 3, 10)
    assert period_end_after(anchor=anchor, moment=utc(2025, 2, 9, 23, 59, 59),
                            billing_cycle="monthly") == utc(2025, 2, 10)


def test_month_ends_are_taken_in_the_billing_time_zone():
    # Midnight 31 January in Kolkata is 18:30 UTC on 30 January; the period ends at midnight on
    # 28 February there, not on 28 February at 18:30 UTC.
    anchor = utc(2025, 1, 30, 18, 30)
    end = period_end_after(anchor=anchor, moment=anchor, billing_cycle="monthly", zone="Asia/Kolkata")
    assert end == utc(2025, 2, 27, 18, 30)
    assert period_end_after(anchor=anchor, moment=anchor, billing_cycle="monthly") == utc(2025, 2, 28, 18, 30)


def test_next_billing_date_is_the_day_after_the_end():
    assert next_billing_date(utc(2025, 4, 10)) == utc(2025, 4, 11)
    assert next_billing_date(None) is None
