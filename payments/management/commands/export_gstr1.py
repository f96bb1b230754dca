import re
from pathlib import Path

from django.core.management.base import BaseCommand, CommandError

from config.money import rupees
from payments.invoices.gstr1 import gstr1_build, gstr1_write
from payments.invoices.selectors import invoices_in_month

MONTH = re.compile(r"(\d{4})-(\d{2})", re.ASCII)


class Command(BaseCommand):
    help = ("Write a month's GSTR-1 CSVs (b2b, b2cl, b2cs, cdnr, cdnur and a summary) from the invoices "
            "and credit notes issued in that calendar month in India.")

    def add_arguments(self, parser):
        parser.add_argument("--month", required=True, help="YYYY-MM")
        parser.add_argument("--out", default=".", help="Directory for the CSVs (default: here)")

    def handle(self, *args, month, out, **options):
        match = MONTH.fullmatch(month or "")
        if not match or not 1 <= int(match.group(2)) <= 12:
            raise CommandError("--month must be YYYY-MM, e.g. 2026-07")
        year, number = int(match.group(1)), int(match.group(2))
        report = gstr1_build(invoices_in_month(year=year, month=number))
        paths = gstr1_write(report, directory=Path(out), month_label=month)
        for path in paths:
            self.stdout.write(str(path))
        for name in ("all invoices", "all credit notes"):
            totals = report.totals[name]
            self.stdout.write(f"{name}: {totals.documents}, taxable {rupees(totals.taxable)}, "
                              f"total {rupees(totals.total)}")
