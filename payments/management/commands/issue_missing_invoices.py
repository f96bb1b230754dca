from django.core.management.base import BaseCommand

from payments.invoices.services import invoices_issue_missing


class Command(BaseCommand):
    help = ("Issue the tax invoice of every paid order that has none (orders paid before invoicing "
            "existed), then the credit note of every refund that has none. Idempotent.")

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count what is missing, issue nothing")
        parser.add_argument("--verbose-invoices", action="store_true", help="One line per document issued")

    def handle(self, *args, dry_run=False, verbose_invoices=False, **options):
        counts = invoices_issue_missing(dry_run=dry_run, stdout=self.stdout if verbose_invoices else None)
        verb = "Would issue" if dry_run else "Issued"
        self.stdout.write(f"{verb} {counts['invoices']} invoice(s) and {counts['credit_notes']} credit note(s)")
