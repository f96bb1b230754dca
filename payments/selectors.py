"""Reads of the payments app."""

from django.db.models import Q

from config.errors import NotFound
from config.ids import positive_id
from config.policy import ALL_TENANTS, policy_require
from payments.models import PaymentOrder

ORDER_REF_MAX_LENGTH = 64


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


def order_visible(*, principal, ref: str) -> PaymentOrder:
    """An order by the id a client knows — our id, or the gateway's order id (Razorpay's
    `order_…`, Cashfree's order id, which is our receipt) — as `principal` may see it
    ("payment.read": platform staff any, tenant staff their tenant's; else 404)."""
    order_id = positive_id(ref)
    orders = PaymentOrder.objects.select_related("plan", "package", "user", "tenant").prefetch_related("refunds")
    order = None
    if order_id is not None:
        order = orders.filter(pk=order_id).first()
    elif isinstance(ref, str) and 0 < len(ref) <= ORDER_REF_MAX_LENGTH and "\x00" not in ref:
        order = orders.filter(Q(gateway_order_id=ref) | Q(receipt=ref)).order_by("pk").first()
    if order is None:
        raise NotFound("order not found")
    policy_require(principal, "payment.read", order, not_found=NotFound("order not found"))
    return order


def orders_for_staff(*, scope, status: str | None = None, tenant_id: int | None = None,
                     user_id: int | None = None, created_from=None, created_to=None):
    """Orders for the staff list, newest first: every tenant's (`scope` ALL_TENANTS) or one
    tenant's (a tenant id: orders of the tenant or of its users), filtered."""
    orders = PaymentOrder.objects.select_related("plan", "package", "user", "tenant")
    if scope is not ALL_TENANTS:
        orders = orders.filter(_of_tenant(scope))
    if tenant_id is not None:
        orders = orders.filter(_of_tenant(tenant_id))
    if status:
        orders = orders.filter(status=status)
    if user_id is not None:
        orders = orders.filter(user_id=user_id)
    if created_from is not None:
        orders = orders.filter(created_at__gte=created_from)
    if created_to is not None:
        orders = orders.filter(created_at__lt=created_to)
    return orders.order_by("-created_at", "-id")


def _of_tenant(tenant_id: int) -> Q:
    return Q(tenant_id=tenant_id) | Q(tenant__isnull=True, user__tenant_id=tenant_id)


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


def tenant_revenue_stats(*, tenant, since) -> dict:
    """For `tenants.stats`: paid orders of the tenant (its key's or its users') and their amount in
    paise (refunds are not subtracted: they are credit notes of their own)."""
    from django.db.models import Count, Sum

    paid = PaymentOrder.objects.filter(_of_tenant(tenant.pk), status__in=PaymentOrder.PAID_STATUSES)
    totals = paid.aggregate(n=Count("id"), paise=Sum("amount_paise"))
    return {"revenue_paise": totals["paise"] or 0, "paid_orders": totals["n"]}
