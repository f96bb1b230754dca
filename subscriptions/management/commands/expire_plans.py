"""`manage.py expire_plans`: paid token plans whose period has ended fall back to basic, for cron.

Each subscription moves in its own short transaction under its row lock (re-checked there), so it
runs safely beside the API, which applies the same fallback lazily.
"""

from django.core.management.base import BaseCommand

from subscriptions.services import token_plans_expire


class Command(BaseCommand):
    help = "Move token plans whose period has ended to basic."

    def add_arguments(self, parser):
        parser.add_argument("--batch-size", type=int, default=500)

    def handle(self, *args, batch_size=500, **options):
        def progress(batch_no, last_id, moved, total):
            self.stdout.write(f"  batch {batch_no}: ids up to {last_id}, moved {moved} (total {total})")

        total = token_plans_expire(batch_size=max(batch_size, 1), progress=progress)
        self.stdout.write(self.style.SUCCESS(f"Moved {total} ended plan(s) to basic."))
