from django.conf import settings
from django.core.management.base import BaseCommand

from payments.services import orders_reconcile


class Command(BaseCommand):
    help = ("Ask the gateway about orders still 'created' after a grace period: a captured payment "
            "fulfils the order, all attempts failed marks it failed. Safe to run repeatedly (cron).")

    def add_arguments(self, parser):
        parser.add_argument("--grace-minutes", type=int, default=None,
                            help="Only orders older than this (default PAYMENT_RECONCILE_GRACE_MINUTES)")
        parser.add_argument("--limit", type=int, default=None, help="At most this many orders")
        parser.add_argument("--verbose-orders", action="store_true", help="One line per order")

    def handle(self, *args, grace_minutes=None, limit=None, verbose_orders=False, **options):
        grace = settings.PAYMENT_RECONCILE_GRACE_MINUTES if grace_minutes is None else grace_minutes
        if grace < 0:
            self.stderr.write("--grace-minutes must be 0 or more")
            raise SystemExit(2)
        counts = orders_reconcile(grace_minutes=grace, limit=limit,
                                  stdout=self.stdout if verbose_orders else None)
        summary = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Reconciled {sum(counts.values())} order(s) older than {grace} min — {summary}")
        if counts.get("gateway error"):
            self.stderr.write(f"{counts['gateway error']} order(s) could not be checked (gateway error)")
            raise SystemExit(1)
