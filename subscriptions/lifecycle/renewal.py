"""What a period close charges (DESIGN §4.3): the next period in advance plus the arrears of the
closed one, GST once on the sum.

- in advance: the price of one period of the next plan and cycle (the scheduled change, if any),
  from the catalog (`plans.pricing.base_price_paise`); no setup fee, no one-time add-ons again;
- arrears: overage minutes × the closed plan's per-minute price; on quarterly/annual cycles the
  pay-as-you-go add-ons × the months of the closed period;
- GST: the next plan's rate on the subtotal, rounded once (ROUND_HALF_UP, to the paisa).

Monthly STARTER with 130 minutes used: (349 + 30 × 1.99) × 1.18 = 482.27; quarterly STARTER with
2 extra numbers and 5 extensions: (1047 + 7 × 1 × 3) × 1.18 = 1,260.24.

`renewal_charge` is a pure function over plain values (table-tested without a database);
`renewal_charge_for` reads what it needs from a subscription.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime
from decimal import Decimal

from config.money import rupees
from plans import pricing
from plans.selectors import plan_price_of
from subscriptions.lifecycle.usage import INCLUDED_MINUTES, MINUTES, _whole, price_per_minute_paise
from subscriptions.models import Subscription


@dataclass(frozen=True)
class ChargeLine:
    kind: str  # plan | overage | addon
    code: str
    description: str
    quantity: int
    unit_paise: int
    amount_paise: int

    def as_order_line(self) -> dict:
        """The shape orders keep for the invoice (payments' `lines`)."""
        return {"kind": self.kind, "code": self.code, "description": self.description,
                "quantity": self.quantity, "unitPaise": self.unit_paise, "amountPaise": self.amount_paise}


@dataclass(frozen=True)
class RenewalCharge:
    lines: tuple[ChargeLine, ...]
    subtotal_paise: int
    gst_rate: Decimal
    gst_paise: int

    @property
    def total_paise(self) -> int:
        return self.subtotal_paise + self.gst_paise

    def order_lines(self) -> list[dict]:
        return [line.as_order_line() for line in self.lines]

    def as_response(self) -> dict:
        return {"lines": [{"kind": line.kind, "code": line.code, "description": line.description,
                           "quantity": line.quantity, "unitPrice": rupees(line.unit_paise),
                           "amount": rupees(line.amount_paise)} for line in self.lines],
                "subtotal": rupees(self.subtotal_paise), "gstRate": self.gst_rate,
                "gst": rupees(self.gst_paise), "total": rupees(self.total_paise)}


def _period_label(start: datetime | None, end: datetime | None) -> str:
    if start is None or end is None:
        return ""
    return f", {start:%d %b %Y} to {end:%d %b %Y}"


def renewal_charge(*, next_plan_name: str, next_plan_code: str, next_price: pricing.PlanPrice, next_cycle: str,
                   closed_price: pricing.PlanPrice, closed_cycle: str, addons: Mapping[str, int],
                   included_minutes: int, minutes_used: int, per_minute_paise: int,
                   period_start: datetime | None = None, period_end: datetime | None = None) -> RenewalCharge:
    """The renewal order's lines and amounts. `addons` maps the closed plan's add-on codes to
    quantities; `minutes_used` is the closed period's metered minutes."""
    base = pricing.base_price_paise(next_price, next_cycle)
    lines = [ChargeLine(kind="plan", code=next_plan_code,
                        description=f"{next_plan_name} ({next_cycle}){_period_label(period_start, period_end)}",
                        quantity=1, unit_paise=base, amount_paise=base)]
    overage = max(int(minutes_used) - int(included_minutes), 0)
    if overage and per_minute_paise:
        lines.append(ChargeLine(kind="overage", code=MINUTES,
                                description=f"Overage: {overage} minutes over {included_minutes} included "
                                            f"at ₹{rupees(per_minute_paise)}/minute",
                                quantity=overage, unit_paise=per_minute_paise,
                                amount_paise=overage * per_minute_paise))
    if closed_cycle != pricing.MONTHLY:
        months = pricing.CYCLE_MONTHS[closed_cycle]
        for addon in closed_price.addons:
            quantity = int(addons.get(addon.code, 0) or 0)
            if quantity <= 0 or addon.payg_paise <= 0:
                continue
            unit = addon.payg_paise * months
            label = addon.description or addon.code
            lines.append(ChargeLine(kind="addon", code=addon.code,
                                    description=f"{label} (PAYG, {months} months at ₹{rupees(addon.payg_paise)}"
                                                f"/unit/month)",
                                    quantity=quantity, unit_paise=unit, amount_paise=quantity * unit))
    subtotal = sum(line.amount_paise for line in lines)
    rate = Decimal(next_price.gst_rate)
    return RenewalCharge(lines=tuple(lines), subtotal_paise=subtotal, gst_rate=rate,
                         gst_paise=pricing.gst_paise(subtotal, rate))


def next_plan_of(subscription: Subscription):
    """(plan, billing cycle) of the next period: the scheduled change when there is one."""
    if subscription.scheduled_plan_id is not None:
        return subscription.scheduled_plan, subscription.scheduled_billing_cycle
    return subscription.plan, subscription.billing_cycle


def renewal_charge_for(subscription: Subscription, *, minutes_used: int, next_plan=None, next_cycle: str = "",
                       period_start=None, period_end=None, price_cache: dict | None = None) -> RenewalCharge:
    """The charge of closing `subscription`'s current period with `minutes_used` metered minutes
    (the next plan defaults to `next_plan_of`). `price_cache` (plan id → PlanPrice) saves the
    add-on query per plan in batches."""
    if next_plan is None:
        next_plan, next_cycle = next_plan_of(subscription)
    cache = price_cache if price_cache is not None else {}

    def price(plan):
        if plan.pk not in cache:
            cache[plan.pk] = plan_price_of(plan)
        return cache[plan.pk]

    closed = subscription.plan
    return renewal_charge(
        next_plan_name=next_plan.name, next_plan_code=next_plan.code, next_price=price(next_plan),
        next_cycle=next_cycle, closed_price=price(closed), closed_cycle=subscription.billing_cycle,
        addons=subscription.addons or {}, included_minutes=_whole((closed.limits or {}).get(INCLUDED_MINUTES)),
        minutes_used=minutes_used, per_minute_paise=price_per_minute_paise(closed),
        period_start=period_start, period_end=period_end,
    )
