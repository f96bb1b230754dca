"""GST arithmetic for invoices and credit notes. Pure functions over integer paise.

Rounding rules (each a single, stated choice):
- Tax-inclusive prices (token plans, credit packs): taxable = price × 100 ÷ (100 + rate) rounded
  half up to the paisa; tax = price − taxable. The tax absorbs the rounding, so taxable + tax is
  exactly what was paid.
- Prices before tax (seed 002's plans): taxable = the pre-tax subtotal; tax = GST on the
  subtotal rounded once (as the price calculator does) = what was paid − taxable.
- Intra-state: CGST = tax − ⌊tax ÷ 2⌋, SGST = ⌊tax ÷ 2⌋ — an odd paisa goes to CGST.
- Credit notes: the tax credited by all of an order's credit notes so far is the invoice's tax
  × refunded ÷ paid, rounded half up, and all of it once the whole amount is refunded; each
  credit note carries the difference from the previous total, so the notes of a fully refunded
  order add up exactly to its invoice.
"""

from __future__ import annotations

from dataclasses import dataclass
from decimal import ROUND_HALF_UP, Decimal

from config.money import round_paise


@dataclass(frozen=True)
class Line:
    description: str
    sac: str
    quantity: int
    taxable_paise: int

    def as_json(self) -> dict:
        return {"description": self.description, "sac": self.sac, "quantity": self.quantity,
                "taxable_paise": self.taxable_paise}

    @classmethod
    def from_json(cls, data: dict) -> Line:
        return cls(description=data["description"], sac=data["sac"], quantity=data["quantity"],
                   taxable_paise=data["taxable_paise"])


@dataclass(frozen=True)
class TaxSplit:
    cgst_paise: int
    sgst_paise: int
    igst_paise: int

    @property
    def total(self) -> int:
        return self.cgst_paise + self.sgst_paise + self.igst_paise


def taxable_from_inclusive(amount_paise: int, rate: Decimal | int | str) -> int:
    """The taxable value inside a tax-inclusive price: amount ÷ (1 + rate%), half up."""
    return round_paise(Decimal(int(amount_paise)) * 100 / (100 + Decimal(rate)))


def gst_on(taxable_paise: int, rate: Decimal | int | str) -> int:
    """GST on a pre-tax amount, rounded once, half up."""
    return int((Decimal(int(taxable_paise)) * Decimal(rate) / 100).quantize(Decimal(1), rounding=ROUND_HALF_UP))


def tax_split(tax_paise: int, *, intra_state: bool) -> TaxSplit:
    """CGST + SGST (odd paisa to CGST) within one state; IGST across states."""
    if intra_state:
        sgst = tax_paise // 2
        return TaxSplit(cgst_paise=tax_paise - sgst, sgst_paise=sgst, igst_paise=0)
    return TaxSplit(cgst_paise=0, sgst_paise=0, igst_paise=tax_paise)


def place_of_supply(*, buyer_gstin_state: str | None, buyer_billing_state: str | None,
                    seller_state: str | None) -> str | None:
    """The buyer GSTIN's state, else the billing address's state, else the seller's (codes)."""
    return buyer_gstin_state or buyer_billing_state or seller_state


def is_intra_state(*, place_of_supply_code: str | None, seller_state: str | None) -> bool:
    """Same state as the seller. Unknown on either side counts as inter-state (IGST)."""
    return bool(place_of_supply_code) and place_of_supply_code == seller_state


def share_up_to(whole: int, *, part: int, of: int) -> int:
    """`whole × part ÷ of`, half up; exactly `whole` when part reaches `of`."""
    if part >= of:
        return whole
    return round_paise(Decimal(whole) * part / of)


def credit_note_tax(*, invoice_tax_paise: int, invoice_total_paise: int, refunded_before_paise: int,
                    refund_paise: int) -> int:
    """The tax inside a refund of `refund_paise`, after `refunded_before_paise` was refunded."""
    before = share_up_to(invoice_tax_paise, part=refunded_before_paise, of=invoice_total_paise)
    after = share_up_to(invoice_tax_paise, part=refunded_before_paise + refund_paise, of=invoice_total_paise)
    return min(after - before, refund_paise)


def allocate(amount: int, weights: list[int]) -> list[int]:
    """Split `amount` in proportion to `weights` (largest remainder): the parts add up exactly."""
    total = sum(weights)
    if not weights:
        return []
    if total == 0:
        return [amount] + [0] * (len(weights) - 1)
    floors = [amount * w // total for w in weights]
    remainders = sorted(range(len(weights)), key=lambda i: (-(amount * weights[i] % total), i))
    for i in remainders[: amount - sum(floors)]:
        floors[i] += 1
    return floors


def credit_note_split(*, tax_paise: int, intra_state: bool, credited_tax_before: int,
                      credited_cgst_before: int) -> TaxSplit:
    """Split a credit note's tax so that the order's credit notes together credit CGST and SGST
    exactly as its invoice split them: after each note, the CGST credited so far is
    ⌈tax credited so far ÷ 2⌉ (the invoice's rule applied to the running total)."""
    if not intra_state:
        return TaxSplit(cgst_paise=0, sgst_paise=0, igst_paise=tax_paise)
    cgst = -(-(credited_tax_before + tax_paise) // 2) - credited_cgst_before
    return TaxSplit(cgst_paise=cgst, sgst_paise=tax_paise - cgst, igst_paise=0)
