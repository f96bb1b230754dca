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


def orders_for_user(*, user):
    return (PaymentOrder.objects.filter(user=user).select_related("plan", "package")
            .order_by("-created_at", "-id"))


def order_get(*, order_id: int) -> PaymentOrder:
    order = (PaymentOrder.objects.select_related("plan", "package", "user", "tenant")
             .prefetch_related("refunds").filter(pk=order_id).first())
    if order is None:
        raise NotFound("order not found")
    return order
