"""`manage.py process_subscriptions [--as-of ISO-8601] [--dry-run] [--batch-size N]`: the period
close of seed 002's subscriptions (DESIGN §4.3), for cron every hour.

Pending checkouts past their TTL expire; ended periods close (cancelled, expired, or renewed with
one renewal order: next period in advance plus arrears); unpaid renewals go past_due, suspended,
expired; upcoming-renewal notices go out. Idempotent and safe beside the API (see
`payments.services.subscription_renewals`). `--as-of` replays the clock for catch-up after
downtime. Prints the count of every transition; exits 1 when anything failed (the rest is done).
"""

from datetime import UTC, datetime

from django.core.management.base import BaseCommand, CommandError
from django.utils.dateparse import parse_date, parse_datetime

from config.money import rupees
from payments.services.subscription_renewals import subscription_renewals_process

LABELS = [
    ("expired_pending", "pending checkouts expired (TTL)"),
    ("renewed", "periods renewed"),
    ("orders_opened", "renewal orders opened"),
    ("cancelled", "cancelled at period end"),
    ("expired", "expired (auto-renew off)"),
    ("past_due", "past due (renewal unpaid)"),
    ("suspended", "suspended (renewal unpaid)"),
    ("expired_unpaid", "expired (renewal unpaid)"),
    ("orders_voided", "renewal orders of ended subscriptions failed"),
    ("notice_sent", "renewal notices sent"),
    ("notice_no_address", "renewal notices without an email address"),
    ("notice_failed", "renewal notices failed (retried next run)"),
    ("notice_due", "renewal notices due"),
]


def parse_as_of(value: str) -> datetime:
    """ISO 8601 time (a zone, or UTC when none is given) or date (midnight UTC)."""
    moment = None
    try:
        moment = parse_datetime(value)
        if moment is None:
            day = parse_date(value)
            if day is not None:
                moment = datetime(day.year, day.month, day.day, tzinfo=UTC)
    except ValueError:
        moment = None
    if moment is None:
        raise CommandError(f"--as-of {value!r} is not an ISO 8601 time, e.g. 2026-01-31T00:00:00Z or 2026-01-31.")
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def positive(value: str) -> int:
    number = int(value)
    if number < 1:
        raise ValueError(value)
    return number


class Command(BaseCommand):
    help = "Close ended subscription periods (renewal orders), dun unpaid renewals, send renewal notices."

    def add_arguments(self, parser):
        parser.add_argument("--as-of", help="Run as if it were this time (ISO 8601; default now). For "
                                            "catch-up after downtime and for tests.")
        parser.add_argument("--dry-run", action="store_true", help="Count what would happen, change nothing, "
                                                                   "send nothing.")
        parser.add_argument("--batch-size", type=positive, default=500,
                            help="Subscriptions per transaction (default 500).")

    def handle(self, *args, as_of=None, dry_run=False, batch_size=500, **options):
        moment = parse_as_of(as_of) if as_of is not None else None
        on_terminal = self.stdout.isatty()

        def progress(stage, done, total):
            self.stdout.write(f"\r  {stage}: {done}/{total}", ending="")
            self.stdout.flush()

        report = subscription_renewals_process(as_of=moment, batch_size=batch_size, dry_run=dry_run,
                                               progress=progress if on_terminal else None)
        if on_terminal:
            self.stdout.write("")
        head = "Dry run (nothing changed)" if dry_run else "Processed"
        self.stdout.write(f"{head} as of {report.as_of.isoformat()}:")
        for key, label in LABELS:
            if key in report.counts or key in ("renewed", "past_due", "suspended"):
                self.stdout.write(f"  {label}: {report.counts.get(key, 0)}")
        if report.counts.get("orders_opened"):
            self.stdout.write(f"  renewal orders total: ₹{rupees(report.orders_paise):,}")
        for subscription_id, error in report.failures[:20]:
            self.stderr.write(f"  subscription {subscription_id} failed: {error}")
        if report.failed:
            raise CommandError(f"{report.failed} failure(s): {len(report.failures)} subscription(s), "
                               f"{report.counts.get('notice_failed', 0)} notice(s); see the log. "
                               "Everything else was processed.")
        self.stdout.write(self.style.SUCCESS("Done, nothing failed."))
