"""Invoice numbers: `PREFIX` + financial year + "/" + sequence, e.g. ``INV/26-27/00042``.

The financial year runs 1 April – 31 March in Asia/Kolkata, whatever the server's zone. The
sequence is consecutive and gapless per series and year: it comes from an `InvoiceCounter` row
locked FOR UPDATE in the caller's transaction, so concurrent issuers queue on the row and a
rollback returns the number.
"""

import re
from datetime import datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.invoices.models import Invoice, InvoiceCounter

INDIA = ZoneInfo("Asia/Kolkata")
MAX_NUMBER_LENGTH = 16  # CGST Rule 46(b)
SEQUENCE_DIGITS = 5
PREFIX_PATTERN = re.compile(r"^[A-Za-z0-9/-]*$")
NUMBER_PATTERN = re.compile(r"^[A-Za-z0-9/-]{1,16}$")


class NumberTooLong(Exception):
    """The series outgrew the 16 characters an invoice number may have."""


def financial_year_of(moment: datetime) -> int:
    """The year the financial year containing `moment` (aware) starts: 2026 for 26-27."""
    local = moment.astimezone(INDIA)
    return local.year if local.month >= 4 else local.year - 1


def financial_year_label(start_year: int) -> str:
    return f"{start_year % 100:02d}-{(start_year + 1) % 100:02d}"


def series_prefix(series: str) -> str:
    if series == Invoice.Kind.INVOICE:
        return settings.INVOICE_PREFIX
    return settings.CREDIT_NOTE_PREFIX


def number_format(*, series: str, financial_year: int, sequence: int) -> str:
    number = f"{series_prefix(series)}{financial_year_label(financial_year)}/{sequence:0{SEQUENCE_DIGITS}d}"
    if len(number) > MAX_NUMBER_LENGTH:
        raise NumberTooLong(f"{number} is longer than {MAX_NUMBER_LENGTH} characters")
    return number


def prefix_problem(prefix) -> str | None:
    """Why a configured prefix cannot make valid numbers, or None."""
    if not isinstance(prefix, str) or not PREFIX_PATTERN.match(prefix):
        return "may contain only letters, digits, '/' and '-'"
    longest = len(prefix) + len("26-27/") + SEQUENCE_DIGITS
    if longest > MAX_NUMBER_LENGTH:
        return f"is too long: numbers would have {longest} characters (at most {MAX_NUMBER_LENGTH})"
    return None


def _locked_counter(series: str, financial_year: int) -> InvoiceCounter:
    counters = InvoiceCounter.objects.select_for_update()
    counter = counters.filter(series=series, financial_year=financial_year).first()
    if counter is not None:
        return counter
    try:
        # The first number of a year: two issuers may both find no row; the unique constraint
        # lets one insert win and the other wait, fail inside its savepoint, then lock the row.
        with transaction.atomic():
            InvoiceCounter.objects.create(series=series, financial_year=financial_year)
    except IntegrityError:
        pass
    return counters.get(series=series, financial_year=financial_year)


def number_allocate(*, series: str, at: datetime | None = None) -> tuple[int, int, str, datetime]:
    """The next number of `series`: (financial_year, sequence, number, issued_at).

    Must run inside the transaction that stores the invoice. Without `at`, the issue time is
    read after the counter is locked, so numbers follow issue times; if the year turned while
    waiting for the lock, the new year's counter is taken instead.
    """
    if not transaction.get_connection().in_atomic_block:
        raise RuntimeError("number_allocate must run inside the issuing transaction")
    while True:
        year = financial_year_of(at or timezone.now())
        counter = _locked_counter(series, year)
        issued_at = at or timezone.now()
        if financial_year_of(issued_at) == year:
            break
    counter.last_sequence += 1
    counter.save(update_fields=["last_sequence"])
    number = number_format(series=series, financial_year=year, sequence=counter.last_sequence)
    return year, counter.last_sequence, number, issued_at
