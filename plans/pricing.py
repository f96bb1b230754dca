"""Price calculation (DESIGN §4.1): pure functions over plain values. No models, no database.

Amounts are integer paise inside; rupee figures (seed 002's ``1235.46``) come out of
`config.money.rupees` as ``Decimal`` quantized to 0.01 with ROUND_HALF_UP.

- base: monthly → monthly price; quarterly → quarterly price, else 3 × monthly; annual →
  annual price (a plan without one cannot be bought annually). Setup fee from the plan.
- add-ons: monthly cycle → each unit costs its one-time charge, inside the subtotal;
  quarterly/annual → pay-as-you-go (per unit per month), listed with ``unitPrice`` and
  ``total = quantity × payg`` but **outside** the upfront subtotal.
- GST: ``gst_rate`` percent of the subtotal, rounded once (half up, to the paisa).
- total = subtotal + GST; amount = total in paise.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from decimal import Decimal

from config.errors import InvalidInput
from config.money import round_paise, rupees

MONTHLY = "monthly"
QUARTERLY = "quarterly"
ANNUAL = "annual"
BILLING_CYCLES = (MONTHLY, QUARTERLY, ANNUAL)
CYCLE_MONTHS = {MONTHLY: 1, QUARTERLY: 3, ANNUAL: 12}

# Upper bound on any add-on quantity: anything above is a typo or an attack, not an order.
MAX_ADDON_QUANTITY = 10_000

ONE_TIME = "one_time"
PAYG = "payg"


def gst_paise(subtotal_paise: int, gst_rate: Decimal | int | str) -> int:
    """GST on an amount in paise: ``subtotal × rate / 100`` rounded half up to the paisa."""
    return round_paise(Decimal(int(subtotal_paise)) * Decimal(gst_rate) / 100)


@dataclass(frozen=True)
class AddOnPrice:
    code: str  # singular, e.g. "extraTollFreeNumber"
    description: str = ""
    payg_paise: int = 0  # per unit per month
    one_time_paise: int = 0


@dataclass(frozen=True)
class PlanPrice:
    """What pricing needs to know about a plan (build it from a RatePlan with plan_price_of)."""

    monthly_paise: int
    quarterly_paise: int | None = None
    annual_paise: int | None = None
    setup_fee_paise: int = 0
    gst_rate: Decimal = Decimal(0)
    addons: tuple[AddOnPrice, ...] = ()


@dataclass(frozen=True)
class AddOnLine:
    type: str  # the request key as sent (seed 002: plural, "extraTollFreeNumbers")
    code: str  # the plan's add-on code (singular)
    quantity: int
    mode: str  # ONE_TIME or PAYG
    unit_paise: int
    total_paise: int
    description: str

    @property
    def in_subtotal(self) -> bool:
        return self.mode == ONE_TIME

    def as_response(self) -> dict:
        return {
            "type": self.type,
            "quantity": self.quantity,
            "unitPrice": rupees(self.unit_paise),
            "total": rupees(self.total_paise),
            "description": self.description,
        }


@dataclass(frozen=True)
class Quote:
    billing_cycle: str
    base_paise: int
    setup_fee_paise: int
    addons_upfront_paise: int
    subtotal_paise: int
    gst_rate: Decimal
    gst_paise: int
    total_paise: int
    addons: tuple[AddOnLine, ...]

    @property
    def amount_paise(self) -> int:
        """What the customer pays now, in paise (Razorpay's `amount`)."""
        return self.total_paise

    @property
    def addons_monthly_paise(self) -> int:
        """Pay-as-you-go add-on charges per month (quarterly/annual cycles), billed as used."""
        return sum(line.total_paise for line in self.addons if line.mode == PAYG)

    def pricing_response(self) -> dict:
        """Seed 002's ``pricing`` object (plus addonsTotal and gstRate)."""
        return {
            "basePrice": rupees(self.base_paise),
            "setupFee": rupees(self.setup_fee_paise),
            "addonsTotal": rupees(self.addons_upfront_paise),
            "subtotal": rupees(self.subtotal_paise),
            "gstRate": self.gst_rate,
            "gst": rupees(self.gst_paise),
            "total": rupees(self.total_paise),
        }

    def addons_response(self) -> list[dict]:
        return [line.as_response() for line in self.addons]


def billing_cycle_check(billing_cycle) -> str:
    if not isinstance(billing_cycle, str) or billing_cycle not in BILLING_CYCLES:
        raise InvalidInput(
            f"billingCycle must be one of {', '.join(BILLING_CYCLES)}.",
            code="invalid_billing_cycle",
            fields={"billingCycle": [f"Must be one of {', '.join(BILLING_CYCLES)}."]},
        )
    return billing_cycle


def base_price_paise(plan: PlanPrice, billing_cycle: str) -> int:
    """The plan's price for one billing period."""
    billing_cycle = billing_cycle_check(billing_cycle)
    if billing_cycle == MONTHLY:
        return plan.monthly_paise
    if billing_cycle == QUARTERLY:
        return plan.quarterly_paise if plan.quarterly_paise is not None else 3 * plan.monthly_paise
    if plan.annual_paise is None:
        raise InvalidInput(
            "This plan cannot be billed annually.",
            code="billing_cycle_unavailable",
            fields={"billingCycle": ["This plan has no annual price."]},
        )
    return plan.annual_paise


def addon_resolve(key: str, plan: PlanPrice) -> AddOnPrice | None:
    """The plan's add-on a request key names: the code itself or its plural (code + "s").

    Seed 002's request says ``extraTollFreeNumbers`` / ``extraExtensions`` for the add-ons the
    plan lists as ``extraTollFreeNumber`` / ``extraExtension``.
    """
    by_code = {addon.code: addon for addon in plan.addons}
    if key in by_code:
        return by_code[key]
    if key.endswith("s"):
        return by_code.get(key[:-1])
    return None


def _addon_error(key, message: str, code: str) -> InvalidInput:
    return InvalidInput(f"addons.{key}: {message}", code=code, fields={"addons": {str(key): [message]}})


def _quantity_check(key, quantity) -> int:
    if isinstance(quantity, bool) or not isinstance(quantity, int):
        raise _addon_error(key, "A whole number is required.", "invalid_addon_quantity")
    if quantity < 0:
        raise _addon_error(key, "Must be 0 or more.", "invalid_addon_quantity")
    if quantity > MAX_ADDON_QUANTITY:
        raise _addon_error(key, f"Must be at most {MAX_ADDON_QUANTITY}.", "invalid_addon_quantity")
    return quantity


def addon_lines(plan: PlanPrice, billing_cycle: str, addons: Mapping[str, int] | None) -> tuple[AddOnLine, ...]:
    """One line per requested add-on with a positive quantity, in request order."""
    billing_cycle = billing_cycle_check(billing_cycle)
    if addons is None:
        return ()
    if not isinstance(addons, Mapping):
        raise InvalidInput("addons must be an object.", code="invalid_addons",
                           fields={"addons": ["Expected an object of add-on quantities."]})
    lines = []
    seen: dict[str, str] = {}
    for key, quantity in addons.items():
        addon = addon_resolve(key, plan) if isinstance(key, str) else None
        if addon is None:
            raise _addon_error(key, "Unknown add-on for this plan.", "unknown_addon")
        if addon.code in seen:
            raise _addon_error(key, f"Same add-on as {seen[addon.code]}.", "duplicate_addon")
        seen[addon.code] = key
        quantity = _quantity_check(key, quantity)
        if quantity == 0:
            continue
        label = addon.description or addon.code
        if billing_cycle == MONTHLY:
            mode, unit, suffix = ONE_TIME, addon.one_time_paise, "one-time"
        else:
            mode, unit, suffix = PAYG, addon.payg_paise, "PAYG"
        lines.append(AddOnLine(type=key, code=addon.code, quantity=quantity, mode=mode, unit_paise=unit,
                               total_paise=quantity * unit, description=f"{label} ({suffix})"))
    return tuple(lines)


def quote(plan: PlanPrice, billing_cycle: str, addons: Mapping[str, int] | None = None) -> Quote:
    """The full price of buying `plan` for one `billing_cycle` with `addons` (request key → quantity)."""
    base = base_price_paise(plan, billing_cycle)
    lines = addon_lines(plan, billing_cycle, addons)
    upfront = sum(line.total_paise for line in lines if line.in_subtotal)
    subtotal = base + plan.setup_fee_paise + upfront
    rate = Decimal(plan.gst_rate)
    gst = gst_paise(subtotal, rate)
    return Quote(
        billing_cycle=billing_cycle, base_paise=base, setup_fee_paise=plan.setup_fee_paise,
        addons_upfront_paise=upfront, subtotal_paise=subtotal, gst_rate=rate, gst_paise=gst,
        total_paise=subtotal + gst, addons=lines,
    )
