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
