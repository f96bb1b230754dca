"""Proration of a plan change (pure, no database): table tests on seed 002's prices, month-end
clamping, leap years and the last second of a period; Hypothesis properties."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest
from hypothesis import assume, given, settings
from hypothesis import strategies as st

from subscriptions.lifecycle import proration as p
from subscriptions.lifecycle.periods import period_end_after

STARTER = {"monthly": 34900, "quarterly": 104700, "annual": 334900}
PROFESSIONAL = {"monthly": 99900, "quarterly": 299700, "annual": 959000}
CALL_CENTER = {"monthly": 499900, "quarterly": 1499700, "annual": 4799000}
GST = Decimal(18)


def utc(*args):
    return datetime(*args, tzinfo=UTC)


def period(start, cycle="monthly"):
    return start, period_end_after(anchor=start, moment=start, billing_cycle=cycle)


def figures(result):
    return (result.credit_paise, result.charge_paise, result.subtotal_paise, result.gst_paise, result.total_paise)


def prorate(old, old_cycle, new, new_cycle, start, end, at):
    return p.prorate(old_price_paise=old, old_cycle=old_cycle, new_price_paise=new, new_cycle=new_cycle,
                     period_start=start, period_end=end, at=at, gst_rate=GST)


# --- direction: the price per year -------------------------------------------------------------

@pytest.mark.parametrize("old, old_cycle, new, new_cycle, expected", [
    (STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", p.UPGRADE),
    (PROFESSIONAL["monthly"], "monthly", STARTER["monthly"], "monthly", p.DOWNGRADE),
    (STARTER["monthly"], "monthly", STARTER["quarterly"], "quarterly", p.UPGRADE),    # 4188 = 4188 per year
    (STARTER["quarterly"], "quarterly", STARTER["monthly"], "monthly", p.UPGRADE),    # equal: upgrade (Lago)
    (STARTER["monthly"], "monthly", STARTER["annual"], "annual", p.DOWNGRADE),        # 3349 < 4188 per year
    (STARTER["annual"], "annual", STARTER["monthly"], "monthly", p.UPGRADE),
    (PROFESSIONAL["quarterly"], "quarterly", PROFESSIONAL["annual"], "annual", p.DOWNGRADE),
    (STARTER["annual"], "annual", PROFESSIONAL["monthly"], "monthly", p.UPGRADE),     # 11988 > 3349
    (PROFESSIONAL["annual"], "annual", STARTER["quarterly"], "quarterly", p.DOWNGRADE),  # 4188 < 9590
])
def test_direction_by_price_per_year(old, old_cycle, new, new_cycle, expected):
    assert p.direction(old_price_paise=old, old_cycle=old_cycle, new_price_paise=new, new_cycle=new_cycle) == expected


def test_annualised():
    assert [p.annualised_paise(100, cycle) for cycle in ("monthly", "quarterly", "annual")] == [1200, 400, 100]


# --- table: (credit, charge, subtotal, gst, total) in paise ------------------------------------

JAN = period(utc(2025, 1, 1))  # 31 days


@pytest.mark.parametrize("case, old, old_cycle, new, new_cycle, bounds, at, expected", [
    # half of January left: 0.5 × 999 − 0.5 × 349 = 325.00; GST 58.50
    ("half a month, same cycle", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", JAN,
     utc(2025, 1, 16, 12), (17450, 49950, 32500, 5850, 38350)),
    # a new (quarterly) period: the whole 999 × 3 less half the month paid
    ("half a month, to quarterly", STARTER["monthly"], "monthly", PROFESSIONAL["quarterly"], "quarterly", JAN,
     utc(2025, 1, 16, 12), (17450, 299700, 282250, 50805, 333055)),
    ("same plan, monthly to quarterly", STARTER["monthly"], "monthly", STARTER["quarterly"], "quarterly", JAN,
     utc(2025, 1, 16, 12), (17450, 104700, 87250, 15705, 102955)),
    # the period has not started yet: all of it remains
    ("before the period", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", JAN,
     utc(2024, 12, 31), (34900, 99900, 65000, 11700, 76700)),
    ("at the start", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", JAN,
     utc(2025, 1, 1), (34900, 99900, 65000, 11700, 76700)),
    # the last second: 65000 × 1/2678400 paise rounds to nothing → due nothing, applies at once
    ("last second, same cycle", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", JAN,
     utc(2025, 1, 31, 23, 59, 59), (0, 0, 0, 0, 0)),
    ("last second, new cycle", STARTER["monthly"], "monthly", PROFESSIONAL["quarterly"], "quarterly", JAN,
     utc(2025, 1, 31, 23, 59, 59), (0, 299700, 299700, 53946, 353646)),
    ("at the end", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", JAN,
     utc(2025, 2, 1), (0, 0, 0, 0, 0)),
    # 31 January + 1 month = 28 February: 14 of 28 days left
    ("month-end clamp", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly",
     period(utc(2025, 1, 31)), utc(2025, 2, 14), (17450, 49950, 32500, 5850, 38350)),
    # leap year: 31 January 2024 + 1 month = 29 February; 14 of 29 days left.
    # charge 99900 × 14/29 = 48227.59 → 48228; net 65000 × 14/29 = 31379.31 → 31379 (rounded once);
    # credit = charge − net = 16849; GST 18% of 31379 = 5648.22 → 5648
    ("leap year", STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly",
     period(utc(2024, 1, 31)), utc(2024, 2, 15), (16849, 48228, 31379, 5648, 37027)),
    # 29 February 2024 + 12 months = 28 February 2025 (365 days); half of it at 29 Aug 2024 12:00
    ("leap day, annual", STARTER["annual"], "annual", PROFESSIONAL["annual"], "annual",
     period(utc(2024, 2, 29), "annual"), utc(2024, 8, 29, 12), (167450, 479500, 312050, 56169, 368219)),
    # annual → monthly is dearer per year (an upgrade), but half a year's credit exceeds a month:
    # nothing due (total 0; the unused credit is not paid out)
    ("annual to monthly", STARTER["annual"], "annual", STARTER["monthly"], "monthly",
     period(utc(2025, 1, 1), "annual"), utc(2025, 7, 2, 12), (167450, 34900, -132550, 0, 0)),
    # a downgrade costs nothing now
    ("downgrade", PROFESSIONAL["monthly"], "monthly", STARTER["monthly"], "monthly", JAN,
     utc(2025, 1, 16, 12), (0, 0, 0, 0, 0)),
    # ROUND_HALF_UP on the net: 1 paisa × 1/2 = 0.5 → 1; GST on 1 paisa = 0.18 → 0
    ("half a paisa rounds up", 100, "monthly", 102, "monthly", JAN, utc(2025, 1, 16, 12), (50, 51, 1, 0, 1)),
])
def test_proration_table(case, old, old_cycle, new, new_cycle, bounds, at, expected):
    result = prorate(old, old_cycle, new, new_cycle, *bounds, at)
    assert figures(result) == expected, case
    assert result.charge_paise - result.credit_paise == result.subtotal_paise
    if result.subtotal_paise > 0:
        assert result.total_paise == result.subtotal_paise + result.gst_paise


def test_answer_is_in_rupees():
    result = prorate(STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", *JAN, utc(2025, 1, 16, 12))
    assert result.as_response() == {"credit": Decimal("174.50"), "charge": Decimal("499.50"),
                                    "subtotal": Decimal("325.00"), "gst": Decimal("58.50"),
                                    "total": Decimal("383.50")}
    assert result.fraction == Decimal("0.5") and result.needs_payment and not result.new_period
    assert all(isinstance(value, Decimal) for value in result.as_response().values())


def test_last_second_applies_without_payment():
    result = prorate(STARTER["monthly"], "monthly", PROFESSIONAL["monthly"], "monthly", *JAN,
                     utc(2025, 1, 31, 23, 59, 59))
    assert (result.remaining_seconds, result.period_seconds) == (1, 31 * 86400)
    assert result.direction == p.UPGRADE and not result.needs_payment


def test_gst_rate_of_the_plan_is_used():
    result = p.prorate(old_price_paise=34900, old_cycle="monthly", new_price_paise=99900, new_cycle="monthly",
                       period_start=JAN[0], period_end=JAN[1], at=utc(2025, 1, 16, 12), gst_rate="5")
    assert (result.subtotal_paise, result.gst_paise, result.total_paise) == (32500, 1625, 34125)


def test_bad_values_are_refused():
    with pytest.raises(ValueError):
        prorate(-1, "monthly", 100, "monthly", *JAN, JAN[0])
    with pytest.raises(ValueError):
        prorate(1, "monthly", 100, "monthly", JAN[1], JAN[0], JAN[0])


# --- properties ----------------------------------------------------------------------------------

CYCLES = st.sampled_from(["monthly", "quarterly", "annual"])
PRICES = st.integers(min_value=0, max_value=10_000_000_00)  # up to ₹1 crore per period
STARTS = st.datetimes(min_value=datetime(2020, 1, 1), max_value=datetime(2030, 12, 31)).map(
    lambda moment: moment.replace(tzinfo=UTC))
RATES = st.sampled_from([Decimal(0), Decimal(5), Decimal(12), Decimal(18), Decimal(28)])


@settings(max_examples=400, deadline=None)
@given(old=PRICES, old_cycle=CYCLES, new=PRICES, new_cycle=CYCLES, start=STARTS, share=st.floats(0, 1.2),
       rate=RATES)
def test_net_charge_never_exceeds_the_new_price(old, old_cycle, new, new_cycle, start, share, rate):
    start, end = period(start, old_cycle)
    at = start + timedelta(seconds=int((end - start).total_seconds() * share))
    result = p.prorate(old_price_paise=old, old_cycle=old_cycle, new_price_paise=new, new_cycle=new_cycle,
                       period_start=start, period_end=end, at=at, gst_rate=rate)
    assert result.subtotal_paise <= new
    assert 0 <= result.total_paise <= new + p.gst_paise(new, rate)
    assert 0 <= result.charge_paise <= new and 0 <= result.credit_paise <= old + 1
    assert result.charge_paise - result.credit_paise == result.subtotal_paise
    assert result.needs_payment == (result.total_paise > 0)


def _held(price: int, remaining: int, total: int) -> Decimal:
    """The prepaid value still to be used in a period: f × price (exact)."""
    return Decimal(price) * remaining / total


def _change(state, new, new_cycle, at, rate):
    """Apply one change-plan at `at` to state (price, cycle, start, end) as the service does:
    returns (new state, what was paid pre-tax, value held before, value held after)."""
    price, cycle, start, end = state
    result = p.prorate(old_price_paise=price, old_cycle=cycle, new_price_paise=new, new_cycle=new_cycle,
                       period_start=start, period_end=end, at=at, gst_rate=rate)
    before = _held(price, result.remaining_seconds, result.period_seconds)
    if result.direction == p.DOWNGRADE:  # scheduled for the period end: nothing changes now
        return state, 0, before, before
    paid = max(result.subtotal_paise, 0)
    if result.new_period:
        start, end = period(at, new_cycle)
        return (new, new_cycle, start, end), paid, before, Decimal(new)
    return (new, new_cycle, start, end), paid, before, _held(new, result.remaining_seconds, result.period_seconds)


@settings(max_examples=400, deadline=None)
@given(a=PRICES, a_cycle=CYCLES, b=PRICES, b_cycle=CYCLES, start=STARTS, first=st.floats(0, 1),
       second=st.floats(0, 1), rate=RATES)
def test_a_change_and_its_reverse_never_earn_money(a, a_cycle, b, b_cycle, start, first, second, rate):
    assume((a, a_cycle) != (b, b_cycle))
    state = (a, a_cycle, *period(start, a_cycle))
    at1 = state[2] + timedelta(seconds=int((state[3] - state[2]).total_seconds() * first))
    state, paid1, before1, after1 = _change(state, b, b_cycle, at1, rate)
    at2 = max(at1, state[2]) + timedelta(seconds=int((state[3] - max(at1, state[2])).total_seconds() * second))
    state, paid2, before2, after2 = _change(state, a, a_cycle, at2, rate)
    # Never paid out, and no change leaves more prepaid value than it was paid for (½ paisa of
    # rounding per change at most).
    assert paid1 >= 0 and paid2 >= 0
    assert after1 - before1 <= paid1 + Decimal("0.5")
    assert after2 - before2 <= paid2 + Decimal("0.5")
    # Back on the first plan and cycle within the same period: the round trip cost at least nothing.
    if a_cycle == b_cycle:
        assert paid1 + paid2 >= 0
        assert after2 <= before1 + paid1 + paid2 + 1
