"""Proration of a plan change (DESIGN §4.3): pure functions over plain values, no database.

- Upgrade or downgrade is decided by the price normalised per year (monthly × 12, quarterly × 4,
  annual × 1), as Lago does: a new plan that costs at least as much per year is an upgrade (paid
  now, prorated), a cheaper one a downgrade (scheduled for the period end, no charge).
- ``f = remaining seconds ÷ period seconds`` of the current period at the moment of the change.
- Same billing cycle: ``charge = f × new cycle price``, ``credit = f × old cycle price paid``;
  the plan switches when paid and the period end stays.
- New billing cycle: ``charge = full new cycle price``, ``credit = f × old cycle price paid``; a
  new period of the new cycle starts when paid.
- All pre-tax, exact (Decimal) until the net ``charge − credit`` is rounded once to the paisa
  (ROUND_HALF_UP); GST is the plan's rate on that net, rounded once, as every other price
  (`plans.pricing.gst_paise`). The figures shown agree: ``charge − credit = subtotal`` and
  ``subtotal + gst = total`` (``charge`` is rounded to the paisa, ``credit`` is what is left).
- A net ≤ 0 is due nothing (``total`` 0, the negative ``subtotal`` is shown as it is): the change
  applies at once and no money moves either way — the unused credit is not paid out.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from decimal import ROUND_HALF_UP, Decimal, localcontext

from config.money import rupees
from plans.pricing import CYCLE_MONTHS, gst_paise

UPGRADE = "upgrade"
DOWNGRADE = "downgrade"

_ONE = Decimal(1)
# Enough digits that f × price (at most ~10^12 paise × a ratio of two second counts) is exact
# to far below a paisa before the single rounding.
_PRECISION = 60


def annualised_paise(price_paise: int, billing_cycle: str) -> int:
    """The price of one period of `billing_cycle` per year: monthly × 12, quarterly × 4, annual × 1."""
    return int(price_paise) * (12 // CYCLE_MONTHS[billing_cycle])


def direction(*, old_price_paise: int, old_cycle: str, new_price_paise: int, new_cycle: str) -> str:
    """UPGRADE when the new plan costs at least as much per year (Lago's rule), else DOWNGRADE."""
    old = annualised_paise(old_price_paise, old_cycle)
    new = annualised_paise(new_price_paise, new_cycle)
    return UPGRADE if new >= old else DOWNGRADE


def remaining_fraction(*, period_start: datetime, period_end: datetime, at: datetime) -> tuple[int, int]:
    """(remaining seconds, period seconds) of the period at `at`, whole seconds; `at` outside the
    period is clamped (before it: all remains; after it: nothing does)."""
    total = int((period_end - period_start).total_seconds())
    if total <= 0:
        raise ValueError("a period must end after it starts")
    remaining = int((period_end - at).total_seconds())
    return min(max(remaining, 0), total), total


def _exact(numerator: int, denominator: int) -> Decimal:
    with localcontext() as context:
        context.prec = _PRECISION
        return Decimal(numerator) / Decimal(denominator)


def _round(amount: Decimal) -> int:
    """To the paisa, half away from zero (ROUND_HALF_UP)."""
    with localcontext() as context:
        context.prec = _PRECISION
        return int(amount.quantize(_ONE, rounding=ROUND_HALF_UP))


@dataclass(frozen=True)
class Proration:
    """What a change costs now. Paise inside; `as_response` in rupees."""

    direction: str  # UPGRADE or DOWNGRADE
    new_period: bool  # the billing cycle changes: a new period starts when the change applies
    remaining_seconds: int
    period_seconds: int
    credit_paise: int
    charge_paise: int
    subtotal_paise: int  # charge − credit; may be ≤ 0 (nothing is due then)
    gst_rate: Decimal
    gst_paise: int  # on a positive subtotal only
    total_paise: int  # what is due: subtotal + gst, or 0 when the subtotal is ≤ 0 (never negative)

    @property
    def fraction(self) -> Decimal:
        return _exact(self.remaining_seconds, self.period_seconds)

    @property
    def needs_payment(self) -> bool:
        """An upgrade with a positive net waits for its payment; anything else applies without one."""
        return self.direction == UPGRADE and self.total_paise > 0

    def as_response(self) -> dict:
        """`proration {credit, charge, subtotal, gst, total}` in rupees (Decimal, 2 places)."""
        return {"credit": rupees(self.credit_paise), "charge": rupees(self.charge_paise),
                "subtotal": rupees(self.subtotal_paise), "gst": rupees(self.gst_paise),
                "total": rupees(self.total_paise)}

    def as_snapshot(self) -> dict:
        return {"direction": self.direction, "newPeriod": self.new_period,
                "remainingSeconds": self.remaining_seconds, "periodSeconds": self.period_seconds,
                "creditPaise": self.credit_paise, "chargePaise": self.charge_paise,
                "subtotalPaise": self.subtotal_paise, "gstRate": str(self.gst_rate),
                "gstPaise": self.gst_paise, "totalPaise": self.total_paise}


def prorate(*, old_price_paise: int, old_cycle: str, new_price_paise: int, new_cycle: str,
            period_start: datetime, period_end: datetime, at: datetime,
            gst_rate: Decimal | int | str) -> Proration:
    """The proration of changing, at `at`, from `old_price_paise` per `old_cycle` period (what was
    paid for the current period, pre-tax) to `new_price_paise` per `new_cycle` period (pre-tax).

    A downgrade costs nothing now (it is scheduled for the period end): all figures are zero."""
    if old_price_paise < 0 or new_price_paise < 0:
        raise ValueError("prices are never negative")
    rate = Decimal(gst_rate)
    remaining, total = remaining_fraction(period_start=period_start, period_end=period_end, at=at)
    new_period = new_cycle != old_cycle
    kind = direction(old_price_paise=old_price_paise, old_cycle=old_cycle, new_price_paise=new_price_paise,
                     new_cycle=new_cycle)
    if kind == DOWNGRADE:
        return Proration(direction=kind, new_period=new_period, remaining_seconds=remaining, period_seconds=total,
                         credit_paise=0, charge_paise=0, subtotal_paise=0, gst_rate=rate, gst_paise=0,
                         total_paise=0)
    credit_exact = _exact(remaining * old_price_paise, total)
    charge_exact = Decimal(new_price_paise) if new_period else _exact(remaining * new_price_paise, total)
    with localcontext() as context:
        context.prec = _PRECISION
        subtotal = _round(charge_exact - credit_exact)
    charge = _round(charge_exact)
    credit = charge - subtotal
    gst = gst_paise(subtotal, rate) if subtotal > 0 else 0
    return Proration(direction=kind, new_period=new_period, remaining_seconds=remaining, period_seconds=total,
                     credit_paise=credit, charge_paise=charge, subtotal_paise=subtotal, gst_rate=rate,
                     gst_paise=gst, total_paise=subtotal + gst if subtotal > 0 else 0)


def nothing_due(*, period_start: datetime, period_end: datetime, at: datetime,
                gst_rate: Decimal | int | str) -> Proration:
    """All-zero figures (clearing a scheduled change costs nothing)."""
    remaining, total = remaining_fraction(period_start=period_start, period_end=period_end, at=at)
    return Proration(direction=DOWNGRADE, new_period=False, remaining_seconds=remaining, period_seconds=total,
                     credit_paise=0, charge_paise=0, subtotal_paise=0, gst_rate=Decimal(gst_rate), gst_paise=0,
                     total_paise=0)
