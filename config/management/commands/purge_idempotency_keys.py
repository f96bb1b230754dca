from datetime import timedelta

from django.core.management.base import BaseCommand

from config.idempotency import RETENTION, idempotency_records_purge


class Command(BaseCommand):
    help = "Delete stored Idempotency-Key answers older than --hours (default and minimum 24)."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=int(RETENTION.total_seconds() // 3600))

    def handle(self, *args, hours, **options):
        hours = max(hours, int(RETENTION.total_seconds() // 3600))
        deleted = idempotency_records_purge(older_than=timedelta(hours=hours))
        self.stdout.write(f"Deleted {deleted} idempotency record(s) older than {hours}h.")
