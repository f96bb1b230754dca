"""Every write of invoices: issue an order's invoice, a refund's credit note, and the backfill.

`invoice_issue` runs inside `order_fulfil`'s transaction (the order row locked), and
`credit_note_issue` inside the refund's, so a paid order without its invoice, or a refund
without its credit note, is never committed. The numbers they take are gapless for the same
reason: a rollback returns them.
"""

import logging

from django.db import transaction
from django.db.models import Sum

from config.errors import Conflict
from config.gst import state_name
from payments.invoices.lines import invoice_lines_for
from payments.invoices.models import Invoice
from payments.invoices.numbering import number_allocate
from payments.invoices.parties import buyer_snapshot, seller_snapshot
from payments.invoices.tax import (
    Line,
    allocate,
    credit_note_split,
    credit_note_tax,
    is_intra_state,
    place_of_supply,
    tax_split,
)
from payments.models import PaymentOrder, Refund

logger = logging.getLogger(__name__)


def _place_of_supply_name(code: str | None) -> str:
    return f"{code}-{state_name(code)}" if code and state_name(code) else ""


@transaction.atomic
def invoice_issue(*, order: PaymentOrder, issued_at=None) -> Invoice:
    """The tax invoice of a paid order: issued now unless it exists. The caller holds the order
    row locked (order_fulfil does), so two issuers of one order queue; the unique constraint on
    (order, kind=invoice) is the last word whatever happens."""
    existing = Invoice.objects.filter(order=order, kind=Invoice.Kind.INVOICE).first()
    if existing is not None:
        return existing
    if not order.is_paid:
        raise Conflict("only a paid order has an invoice", code="order_not_paid")
    content = invoice_lines_for(order)
    seller = seller_snapshot()
    buyer = buyer_snapshot(order.user)
    place = place_of_supply(buyer_gstin_state=buyer["gstin"][:2] or None,
                            buyer_billing_state=buyer["stateCode"] or None,
                            seller_state=seller["stateCode"] or None)
    taxable = content.taxable_paise
    split = tax_split(order.amount_paise - taxable,
                      intra_state=is_intra_state(place_of_supply_code=place, seller_state=seller["stateCode"]))
    year, sequence, number, at = number_allocate(series=Invoice.Kind.INVOICE, at=issued_at)
    invoice = Invoice.objects.create(
        kind=Invoice.Kind.INVOICE, number=number, financial_year=year, sequence=sequence, issued_at=at,
        order=order, user=order.user, tenant_id=order.tenant_id or order.user.tenant_id,
        seller=seller, buyer=buyer, place_of_supply_code=place or "",
        place_of_supply=_place_of_supply_name(place), gst_rate=content.gst_rate,
        lines=[line.as_json() for line in content.lines], taxable_paise=taxable,
        cgst_paise=split.cgst_paise, sgst_paise=split.sgst_paise, igst_paise=split.igst_paise,
        total_paise=order.amount_paise, currency=order.currency,
    )
    logger.info("invoice %s issued for order %s", number, order.gateway_order_id)
    return invoice


@transaction.atomic
def credit_note_issue(*, refund: Refund, issued_at=None) -> Invoice | None:
    """The credit note of a refund, against its order's invoice (issued first if the order was
    paid before invoicing existed). Its tax is the refund's share of the invoice's tax (see
    `tax.credit_note_tax`). The caller holds the order row locked (the refund services do)."""
    existing = Invoice.objects.filter(refund=refund).first()
    if existing is not None:
        return existing
    order = refund.order
    original = invoice_issue(order=order)
    credited = (Invoice.objects.filter(original=original)
                .aggregate(total=Sum("total_paise"), tax=Sum("cgst_paise") + Sum("sgst_paise") + Sum("igst_paise"),
                           cgst=Sum("cgst_paise")))
    credited_total, credited_tax = credited["total"] or 0, credited["tax"] or 0
    amount = min(refund.amount_paise, original.total_paise - credited_total)
    if amount <= 0:
        logger.error("refund %s of order %s: its invoice %s is already fully credited; no credit note",
                     refund.gateway_refund_id, order.gateway_order_id, original.number)
        return None
    tax = credit_note_tax(invoice_tax_paise=original.tax_paise, invoice_total_paise=original.total_paise,
                          refunded_before_paise=credited_total, refund_paise=amount)
    intra = is_intra_state(place_of_supply_code=original.place_of_supply_code,
                           seller_state=original.seller.get("stateCode"))
    split = credit_note_split(tax_paise=tax, intra_state=intra, credited_tax_before=credited_tax,
                              credited_cgst_before=credited["cgst"] or 0)
    originals = [Line.from_json(line) for line in original.lines]
    shares = allocate(amount - tax, [line.taxable_paise for line in originals])
    lines = [Line(description=line.description, sac=line.sac, quantity=line.quantity, taxable_paise=share)
             for line, share in zip(originals, shares, strict=True)]
    year, sequence, number, at = number_allocate(series=Invoice.Kind.CREDIT_NOTE, at=issued_at)
    note = Invoice.objects.create(
        kind=Invoice.Kind.CREDIT_NOTE, number=number, financial_year=year, sequence=sequence, issued_at=at,
        order=order, refund=refund, original=original, user=original.user, tenant_id=original.tenant_id,
        seller=seller_snapshot(), buyer=original.buyer, place_of_supply_code=original.place_of_supply_code,
        place_of_supply=original.place_of_supply, gst_rate=original.gst_rate,
        lines=[line.as_json() for line in lines], taxable_paise=amount - tax,
        cgst_paise=split.cgst_paise, sgst_paise=split.sgst_paise, igst_paise=split.igst_paise,
        total_paise=amount, currency=original.currency,
    )
    logger.info("credit note %s issued for refund %s against %s", number, refund.gateway_refund_id,
                original.number)
    return note


def invoices_issue_missing(*, dry_run: bool = False, stdout=None) -> dict[str, int]:
    """Backfill: an invoice for every paid order that has none, then a credit note for every
    refund that has none, oldest first so numbers follow payment order. Idempotent: each order
    is locked and checked again in its own transaction."""
    counts = {"invoices": 0, "credit_notes": 0}
    orders = (PaymentOrder.objects.filter(status__in=PaymentOrder.PAID_STATUSES)
              .exclude(invoices__kind=Invoice.Kind.INVOICE)
              .order_by("fulfilled_at", "id").values_list("pk", flat=True))
    for order_id in list(orders):
        if dry_run:
            counts["invoices"] += 1
            continue
        with transaction.atomic():
            order = (PaymentOrder.objects.select_for_update(of=("self",))
                     .select_related("user", "plan", "package").get(pk=order_id))
            if Invoice.objects.filter(order=order, kind=Invoice.Kind.INVOICE).exists():
                continue
            invoice = invoice_issue(order=order)
        counts["invoices"] += 1
        if stdout is not None:
            stdout.write(f"{invoice.number} for order {order.gateway_order_id}")
    refunds = (Refund.objects.exclude(status=Refund.Status.FAILED).filter(credit_notes__isnull=True)
               .order_by("created_at", "id").values_list("pk", "order_id"))
    for refund_id, order_id in list(refunds):
        if dry_run:
            counts["credit_notes"] += 1
            continue
        with transaction.atomic():
            PaymentOrder.objects.select_for_update(of=("self",)).get(pk=order_id)
            refund = Refund.objects.select_related("order", "order__user").get(pk=refund_id)
            if Invoice.objects.filter(refund=refund).exists():
                continue
            note = credit_note_issue(refund=refund)
        if note is not None:
            counts["credit_notes"] += 1
            if stdout is not None:
                stdout.write(f"{note.number} for refund {refund.gateway_refund_id}")
    return counts
