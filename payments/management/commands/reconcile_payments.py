from django.conf import settings
from django.core.management.base import BaseCommand

from payments.services import orders_reconcile, refunds_reconcile


class Command(BaseCommand):
    help = ("Ask the gateway about orders still 'created' after a grace period (a captured payment "
            "fulfils the order, all attempts failed marks it failed) and about refunds whose answer "
            "never reached us (listed at the gateway: applied once; never arrived: cancelled). "
            "Safe to run repeatedly (cron).")

    def add_arguments(self, parser):
        parser.add_argument("--grace-minutes", type=int, default=None,
                            help="Only orders and refunds older than this "
                                 "(default PAYMENT_RECONCILE_GRACE_MINUTES)")
        parser.add_argument("--limit", type=int, default=None, help="At most this many orders (and refunds)")
        parser.add_argument("--verbose-orders", action="store_true", help="One line per order or refund")

    def handle(self, *args, grace_minutes=None, limit=None, verbose_orders=False, **options):
        grace = settings.PAYMENT_RECONCILE_GRACE_MINUTES if grace_minutes is None else grace_minutes
        if grace < 0:
            self.stderr.write("--grace-minutes must be 0 or more")
            raise SystemExit(2)
        stdout = self.stdout if verbose_orders else None
        counts = orders_reconcile(grace_minutes=grace, limit=limit, stdout=stdout)
        summary = ", ".join(f"{name}: {n}" for name, n in sorted(counts.items())) or "nothing to do"
        self.stdout.write(f"Reconciled {sum(counts.values())} order(s) older than {grace} min — {summary}")
        refunds = refunds_reconcile(grace_minutes=grace, limit=limit, stdout=stdout)
        if refunds:
            summary = ", ".join(f"{name}: {n}" for name, n in sorted(refunds.items()))
            self.stdout.write(f"Reconciled {sum(refunds.values())} refund(s) awaiting the gateway — {summary}")
        errors = counts.get("gateway error", 0) + refunds.get("gateway error", 0)
        if errors:
            self.stderr.write(f"{errors} order(s) or refund(s) could not be checked (gateway error)")
            raise SystemExit(1)
