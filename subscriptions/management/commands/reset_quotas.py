"""`manage.py reset_quotas [--dry-run] [--batch-size N]`: the monthly token reset, for cron.

Safe beside the API: every batch is one conditional UPDATE (``period_start < month``) in its own
short transaction, the same rule the API applies lazily; a second run in a month changes nothing.
"""

from django.core.management.base import BaseCommand, CommandError

from subscriptions import clock
from subscriptions.services import token_quotas_reset


def _positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Reset every token counter still in an earlier billing month (used 0, quota = plan allowance)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Count, change nothing.")
        parser.add_argument("--batch-size", type=_positive, default=10_000,
                            help="Counters per batch/transaction (default 10000).")

    def handle(self, *args, dry_run=False, batch_size=10_000, **options):
        if batch_size < 1:
            raise CommandError("--batch-size must be positive")
        month = clock.billing_month_start()
        verb = "would reset" if dry_run else "reset"
        self.stdout.write(f"Billing month {month:%Y-%m-%d}; batches of {batch_size}"
                          f"{' (dry run)' if dry_run else ''}.")

        def progress(batch_no, last_id, changed, total):
            self.stdout.write(f"  batch {batch_no}: ids up to {last_id}, {verb} {changed} "
                              f"(total {total})")

        total = token_quotas_reset(batch_size=batch_size, dry_run=dry_run, progress=progress)
        if dry_run:
            self.stdout.write(self.style.SUCCESS(f"Dry run: {total} counter(s) would be reset."))
        else:
            self.stdout.write(self.style.SUCCESS(f"Reset {total} counter(s) to {month:%Y-%m-%d}."))
