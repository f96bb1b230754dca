"""Invoice numbers under real concurrency on PostgreSQL: gapless, consecutive, unique, and one
invoice per order whoever fulfils it."""

import time

import pytest

from config.tests.threads import run_together
from payments.invoices.models import Invoice
from payments.models import PaymentOrder
from payments.services import order_create, order_fulfil

pytestmark = [pytest.mark.postgres_only,  # real threads need PostgreSQL row locks
              pytest.mark.usefixtures("invoice_seller")]

THREADS = 50


def _run_together(targets):
    """Run `targets` on threads released together; the exceptions they raised."""
    return [result for result in run_together(targets, timeout=120) if isinstance(result, Exception)]


@pytest.mark.django_db(transaction=True)
def test_fifty_concurrent_fulfilments_get_fifty_consecutive_numbers(sandbox, package):
    from accounts.tests.factories import UserFactory

    orders = [order_create(user=UserFactory(), package_id=package.pk) for _ in range(THREADS)]
    assert not Invoice.objects.exists()  # the year's counter row does not exist yet: its creation races too

    def fulfil(order):
        return lambda: order_fulfil(order_id=order.pk, payment_id=f"pay_conc_{order.pk}", source="webhook")

    started = time.perf_counter()
    errors = _run_together([fulfil(order) for order in orders])
    elapsed = time.perf_counter() - started
    assert errors == []
    invoices = list(Invoice.objects.order_by("sequence"))
    assert len(invoices) == THREADS
    assert [invoice.sequence for invoice in invoices] == list(range(1, THREADS + 1))
    assert len({invoice.number for invoice in invoices}) == THREADS
    assert len({invoice.order_id for invoice in invoices}) == THREADS
    # numbers follow issue times
    assert [invoice.issued_at for invoice in invoices] == sorted(invoice.issued_at for invoice in invoices)
    assert PaymentOrder.objects.filter(status="paid").count() == THREADS
    print(f"\n{THREADS} concurrent fulfilments with invoices: {elapsed:.2f}s")


@pytest.mark.django_db(transaction=True)
def test_verify_webhook_and_reconcile_racing_issue_one_invoice(sandbox, package):
    from accounts.tests.factories import UserFactory

    order = order_create(user=UserFactory(), package_id=package.pk)
    targets = [lambda source=source: order_fulfil(order_id=order.pk, payment_id="pay_race", source=source)
               for source in ("verify", "webhook", "reconcile", "webhook", "verify", "admin")]
    assert _run_together(targets) == []
    assert Invoice.objects.filter(order=order).count() == 1
    assert Invoice.objects.get().sequence == 1
