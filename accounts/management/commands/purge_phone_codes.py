from datetime import timedelta

from django.core.management.base import BaseCommand

from accounts.otp.services import phone_codes_purge


class Command(BaseCommand):
    help = "Delete phone sign-in codes older than --hours (default 24). Cron: daily."

    def add_arguments(self, parser):
        parser.add_argument("--hours", type=int, default=24)

    def handle(self, *args, hours, **options):
        deleted = phone_codes_purge(older_than=timedelta(hours=max(hours, 0)))
        self.stdout.write(f"Deleted {deleted} phone code(s).")
