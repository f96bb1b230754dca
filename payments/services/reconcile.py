"""Asking the gateway about orders whose outcome never reached us (lost webhook, closed tab)."""

import logging
from collections import Counter
from datetime import timedelta

from django.db.models import Q
from django.utils import timezone

from config.errors import BadGateway, Conflict, InvalidInput, NotFound
from payments.gateways import get_gateway
from payments.models import PaymentOrder
from payments.selectors import order_get
from payments.services.fulfilment import order_fulfil
from payments.services.orders import order_mark_failed

logger = logging.getLogger(__name__)


def order_reconcile(*, order_id: int, source: str = "reconcile") -> str:
    """Fetch the order's payments: a captured one fulfils the order; if every attempt failed the
    order is failed; otherwise (no attempt yet, or authorized and not yet captured) it waits.
    Returns what happened. Gateway errors propagate as BadGateway."""
    try:
        order = order_get(order_id=order_id)
    except NotFound:
        return "skipped"
    if order.is_paid or not order.gateway_order_id:
        return "skipped"
    payments = get_gateway(order.gateway).fetch_order_payments(order.gateway_order_id)
    captured = [p for p in payments if p.status == "captured"]
    if captured:
        payment = captured[0]
        try:
            _, fulfilled = order_fulfil(order_id=order.pk, payment_id=payment.id, source=source,
                                        amount_paise=payment.amount_paise, currency=payment.currency)
        except (Conflict, InvalidInput) as exc:
            logger.error("reconcile of %s rejected: %s", order.gateway_order_id, exc.message)
            return "rejected"
        return "fulfilled" if fulfilled else "already fulfilled"
    if payments and all(p.status == "failed" for p in payments):
        reason = payments[-1].error or "payment failed"
        _, changed = order_mark_failed(order_id=order.pk, reason=reason)
        return "failed" if changed else "unchanged"
    return "pending"


# A failed order can still be paid (Checkout retried after a failed attempt, a late capture):
# recently failed orders are asked about too.
FAILED_ORDERS_WINDOW = timedelta(days=3)


def orders_reconcile(*, grace_minutes: int, limit: int | None = None, stdout=None) -> Counter:
    """Reconcile every order still `created` and older than the grace period, and every order
    failed within FAILED_ORDERS_WINDOW, oldest first."""
    now = timezone.now()
    cutoff = now - timedelta(minutes=grace_minutes)
    open_orders = Q(status=PaymentOrder.Status.CREATED)
    recently_failed = Q(status=PaymentOrder.Status.FAILED, created_at__gte=now - FAILED_ORDERS_WINDOW)
    # A renewal order nobody has opened at the gateway yet (`pay`) has nothing to ask about.
    ids = (PaymentOrder.objects.filter(open_orders | recently_failed, created_at__lt=cutoff,
                                       gateway_order_id__isnull=False)
           .order_by("created_at", "pk").values_list("pk", flat=True))
    if limit:
        ids = ids[:limit]
    counts: Counter = Counter()
    for order_id in list(ids):
        try:
            outcome = order_reconcile(order_id=order_id)
        except BadGateway as exc:
            logger.warning("reconcile of order %s: %s", order_id, exc.message)
            outcome = "gateway error"
        counts[outcome] += 1
        if stdout is not None:
            stdout.write(f"order {order_id}: {outcome}")
    return counts
