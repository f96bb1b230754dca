from django.conf import settings
from django.core.management.base import BaseCommand

from payments.services import orders_expire


class Command(BaseCommand):
    help = "Mark failed every order still 'created' after PAYMENT_ORDER_TTL seconds (default 24 h)."

    def add_arguments(self, parser):
        parser.add_argument("--dry-run", action="store_true", help="Only count them")

    def handle(self, *args, dry_run=False, **options):
        count = orders_expire(dry_run=dry_run)
        verb = "would expire" if dry_run else "expired"
        self.stdout.write(f"{count} order(s) {verb} (TTL {settings.PAYMENT_ORDER_TTL} s)")
