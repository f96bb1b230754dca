"""Reads of invoices."""

from datetime import date, datetime, time, timedelta

from config.errors import NotFound
from payments.invoices.models import Invoice
from payments.invoices.numbering import INDIA


def invoices_all():
    return Invoice.objects.select_related("order", "original").order_by("-issued_at", "-id")


def invoices_filter(invoices, *, kind: str | None = None, issued_from: date | None = None,
                    issued_to: date | None = None, user_id: int | None = None):
    """Narrow `invoices`: by kind, by issue date (calendar days in India, both ends included),
    by buyer."""
    if kind:
        invoices = invoices.filter(kind=kind)
    if issued_from:
        invoices = invoices.filter(issued_at__gte=datetime.combine(issued_from, time.min, tzinfo=INDIA))
    if issued_to:
        invoices = invoices.filter(issued_at__lt=datetime.combine(issued_to + timedelta(days=1), time.min,
                                                                  tzinfo=INDIA))
    if user_id:
        invoices = invoices.filter(user_id=user_id)
    return invoices


def invoice_get(*, invoices, invoice_id: int | None) -> Invoice:
    """One invoice among those the caller may see; anything else is "not found"."""
    invoice = invoices.filter(pk=invoice_id).first() if invoice_id else None
    if invoice is None:
        raise NotFound("invoice not found")
    return invoice


def invoices_in_month(*, year: int, month: int):
    """Invoices and credit notes issued in a calendar month in India (GSTR-1 is monthly)."""
    start = datetime(year, month, 1, tzinfo=INDIA)
    end = datetime(year + (month == 12), month % 12 + 1, 1, tzinfo=INDIA)
    return (Invoice.objects.filter(issued_at__gte=start, issued_at__lt=end)
            .select_related("original").order_by("kind", "financial_year", "sequence"))
