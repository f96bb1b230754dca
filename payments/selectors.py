"""Reads of the payments app."""

from config.errors import NotFound
from payments.models import PaymentOrder


def order_get_for_caller(*, gateway_order_id: str, user=None, tenant=None) -> PaymentOrder:
    """The order as its caller may see it: a person sees their own orders; an API key sees the
    credit-package orders of its tenant. Anything else is "not found" (never "forbidden")."""
    orders = PaymentOrder.objects.select_related("plan", "package", "user")
    if user is not None:
        orders = orders.filter(user=user)
    elif tenant is not None:
        orders = orders.filter(tenant=tenant, kind=PaymentOrder.Kind.CREDIT_PACKAGE)
    else:
        raise NotFound("order not found")
    order = orders.filter(gateway_order_id=gateway_order_id).first()
    if order is None:
        raise NotFound("order not found")
    return order


def order_find_by_gateway_id(*, gateway: str, gateway_order_id) -> PaymentOrder | None:
    """The order a gateway's notification names, or None (not ours, or not an order id at all)."""
    if not isinstance(gateway_order_id, str) or not gateway_order_id:
        return None
    return PaymentOrder.objects.filter(gateway=gateway, gateway_order_id=gateway_order_id).first()


def orders_for_user(*, user):
    return (PaymentOrder.objects.filter(user=user).select_related("plan", "package")
            .order_by("-created_at", "-id"))


def order_get(*, order_id: int) -> PaymentOrder:
    order = (PaymentOrder.objects.select_related("plan", "package", "user", "tenant")
             .prefetch_related("refunds").filter(pk=order_id).first())
    if order is None:
        raise NotFound("order not found")
    return order


def gateway_summary(*, since) -> list[dict]:
    """Per gateway, for orders opened since `since`: orders, paid, success rate (paid ÷ orders, in
    percent; orders still open count as not paid), amount paid and fees paid (paise, the
    estimate stored on each paid order), and the attempts that gateway failed, rejected or
    was skipped for (circuit breaker)."""
    from decimal import ROUND_HALF_UP, Decimal

    from django.db.models import Count, Q, Sum

    from payments.models import GatewayAttempt

    paid = Q(status__in=PaymentOrder.PAID_STATUSES)
    rows = {row["gateway"]: row for row in (
        PaymentOrder.objects.filter(created_at__gte=since).values("gateway").order_by("gateway").annotate(
            orders=Count("id"), paid=Count("id", filter=paid),
            amount_paid_paise=Sum("amount_paise", filter=paid, default=0),
            fees_paise=Sum("gateway_fee_paise", filter=paid, default=0)))}
    attempts = {row["gateway"]: row for row in (
        GatewayAttempt.objects.filter(created_at__gte=since).values("gateway").order_by("gateway").annotate(
            failed=Count("id", filter=Q(outcome=GatewayAttempt.Outcome.FAILED)),
            rejected=Count("id", filter=Q(outcome=GatewayAttempt.Outcome.REJECTED)),
            skipped=Count("id", filter=Q(outcome=GatewayAttempt.Outcome.SKIPPED))))}
    summary = []
    for gateway in sorted(set(rows) | set(attempts)):
        row = rows.get(gateway, {"orders": 0, "paid": 0, "amount_paid_paise": 0, "fees_paise": 0})
        tried = attempts.get(gateway, {})
        rate = ((Decimal(100 * row["paid"]) / row["orders"]).quantize(Decimal("0.1"), rounding=ROUND_HALF_UP)
                if row["orders"] else None)
        summary.append({"gateway": gateway, "orders": row["orders"], "paid": row["paid"], "success_rate": rate,
                        "amount_paid_paise": row["amount_paid_paise"], "fees_paise": row["fees_paise"],
                        "attempts_failed": tried.get("failed", 0), "attempts_rejected": tried.get("rejected", 0),
                        "attempts_skipped": tried.get("skipped", 0)})
    return summary
