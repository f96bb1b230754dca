"""What an order's invoice lists: `invoice_lines_for(order)`, one dispatch on the order's kind.

Every line is in taxable (pre-tax) paise, and the invoice's tax is what was paid minus the sum
of the lines, so an invoice's total is always exactly the order's amount.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from decimal import Decimal

from django.conf import settings

from payments.invoices.tax import Line, gst_on, taxable_from_inclusive

logger = logging.getLogger(__name__)

CYCLE_LABELS = {"monthly": "monthly", "quarterly": "quarterly", "annual": "annual"}


@dataclass(frozen=True)
class InvoiceContent:
    lines: tuple[Line, ...]
    gst_rate: Decimal

    @property
    def taxable_paise(self) -> int:
        return sum(line.taxable_paise for line in self.lines)


def sac_for(product: str) -> str:
    """The SAC code for a product ("tokens", "telephony", "platform", "credits") from settings."""
    codes = settings.INVOICE_SAC_CODES
    return codes.get(product) or codes["default"]


def _inclusive_rate(order) -> Decimal:
    """Token plans and credit packs are sold tax-inclusive at the standard rate unless the plan
    names its own."""
    plan_rate = Decimal(order.plan.gst_rate) if order.plan_id else Decimal(0)
    return plan_rate if plan_rate > 0 else Decimal(settings.GST_RATE)


def _token_plan(order) -> InvoiceContent:
    rate = _inclusive_rate(order)
    plan = order.plan
    days = f", {plan.duration_days} days" if plan.duration_days else ""
    line = Line(description=f"{plan.name} token plan ({plan.token_allowance:,} tokens/month{days})",
                sac=sac_for(plan.product), quantity=1,
                taxable_paise=taxable_from_inclusive(order.amount_paise, rate))
    return InvoiceContent(lines=(line,), gst_rate=rate)


def _credit_package(order) -> InvoiceContent:
    rate = Decimal(settings.GST_RATE)
    line = Line(description=f"{order.package.name} ({order.credits:,} credits)", sac=sac_for("credits"),
                quantity=1, taxable_paise=taxable_from_inclusive(order.amount_paise, rate))
    return InvoiceContent(lines=(line,), gst_rate=rate)


def _order_lines(order, sac: str) -> list[Line] | None:
    """The order's own pre-tax lines, if well-formed. They are stored by the subscription services
    (`payments.services.subscription_orders.checkout_lines`) as
    ``[{kind, code, description, quantity, unitPaise, amountPaise}]``; amountPaise is the line's
    pre-tax total (quantity × unitPaise)."""
    raw = order.lines
    if not isinstance(raw, list | tuple) or not raw:
        return None
    lines = []
    for item in raw:
        if not isinstance(item, dict):
            return None
        amount, quantity = item.get("amountPaise"), item.get("quantity", 1)
        description = item.get("description")
        if (isinstance(amount, bool) or not isinstance(amount, int) or amount < 0 or isinstance(quantity, bool)
                or not isinstance(quantity, int) or quantity < 1 or not isinstance(description, str)
                or not description.strip()):
            return None
        lines.append(Line(description=description.strip(), sac=str(item.get("sac") or sac),
                          quantity=quantity, taxable_paise=amount))
    return lines


def _subscription(order) -> InvoiceContent:
    plan = order.plan
    rate = Decimal(plan.gst_rate)
    sac = sac_for(plan.product)
    lines = _order_lines(order, sac)
    if lines is not None:
        taxable = sum(line.taxable_paise for line in lines)
        tax = order.amount_paise - taxable
        # GST is rounded once on the subtotal; allow a paisa per line for a per-line rounding.
        if taxable > 0 and tax >= 0 and abs(tax - gst_on(taxable, rate)) <= len(lines):
            return InvoiceContent(lines=tuple(lines), gst_rate=rate)
        logger.error("order %s: its lines (%s paise before tax) do not match the %s paise paid at %s%%; "
                     "invoiced as one line", order.gateway_order_id, taxable, order.amount_paise, rate)
    cycle = CYCLE_LABELS.get(order.subscription.billing_cycle if order.subscription_id else "", "")
    description = f"{plan.name} subscription" + (f" ({cycle})" if cycle else "")
    line = Line(description=description, sac=sac, quantity=1,
                taxable_paise=taxable_from_inclusive(order.amount_paise, rate))
    return InvoiceContent(lines=(line,), gst_rate=rate)


_BY_KIND = {
    "token_plan": _token_plan,
    "credit_package": _credit_package,
    "subscription": _subscription,
}


def invoice_lines_for(order) -> InvoiceContent:
    """The lines (pre-tax paise) and GST rate of `order`'s invoice.

    - token_plan, credit_package: one line; the price is tax-inclusive, taxable = price ÷ (1 + rate).
    - subscription: the order's `lines` (pre-tax `amountPaise`, e.g. base plan, setup fee, one-time
      add-ons, overage arrears) when it has them and they agree with the amount paid; otherwise
      one line whose taxable value is derived from the amount and the plan's `gst_rate`.
    """
    build = _BY_KIND.get(order.kind)
    if build is None:
        raise ValueError(f"no invoice lines for orders of kind {order.kind!r}")
    return build(order)
