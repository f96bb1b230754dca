"""Reads of seed 002's subscriptions. Other apps (payments) use `subscription_get`."""

from django.contrib.auth import get_user_model
from django.db.models import Case, IntegerField, QuerySet, Value, When

from config.errors import InvalidInput, NotFound
from config.ids import positive_id
from plans.models import RatePlan
from subscriptions.models import Subscription

STATUSES = Subscription.Status.values
PRODUCTS = RatePlan.Product.values


def _base() -> QuerySet[Subscription]:
    return Subscription.objects.select_related("user", "plan", "scheduled_plan")


def subscription_get(*, subscription_id) -> Subscription:
    """A subscription with its user and plans, by id (int or digit string); NotFound otherwise."""
    pk = positive_id(subscription_id)
    subscription = _base().filter(pk=pk).first() if pk else None
    if subscription is None:
        raise NotFound("Subscription not found.", code="subscription_not_found")
    return subscription


def product_check(product) -> str:
    if not isinstance(product, str) or product not in PRODUCTS:
        raise InvalidInput(f"product must be one of {', '.join(PRODUCTS)}.", code="invalid_product",
                           fields={"product": [f"Must be one of {', '.join(PRODUCTS)}."]})
    return product


def subscription_live_for(*, user, product: str) -> Subscription | None:
    """The user's live subscription in `product`: active, past_due or suspended first, else pending.
    (The unique index allows one live row; the order only matters if that ever changes.)"""
    product_check(product)
    pending_last = Case(When(status=Subscription.Status.PENDING, then=Value(1)), default=Value(0),
                        output_field=IntegerField())
    return (_base().filter(user=user, product=product, status__in=Subscription.LIVE_STATUSES)
            .order_by(pending_last, "-created_at", "-id").first())


def _query_id(params, name: str) -> int | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    value = positive_id(raw)
    if value is None:
        raise InvalidInput(f"{name} must be a positive whole number.", code="invalid_query",
                           fields={name: ["Invalid id."]})
    return value


def subscriptions_for_staff(*, params, tenant_id=None) -> QuerySet[Subscription]:
    """The staff list: filters status, product, planId, customerId (query parameters); staff of
    one tenant (`tenant_id`) see that tenant's users only. Bad filter values → InvalidInput."""
    queryset = _base()
    status = params.get("status")
    if status not in (None, ""):
        wanted = [value.strip() for value in status.split(",")]
        if not all(value in STATUSES for value in wanted):
            raise InvalidInput(f"status must be among {', '.join(STATUSES)}.", code="invalid_query",
                               fields={"status": [f"One or more of {', '.join(STATUSES)}, comma-separated."]})
        queryset = queryset.filter(status__in=wanted)
    product = params.get("product")
    if product not in (None, ""):
        queryset = queryset.filter(product=product_check(product))
    plan_id = _query_id(params, "planId")
    if plan_id is not None:
        queryset = queryset.filter(plan_id=plan_id)
    customer_id = _query_id(params, "customerId")
    if customer_id is not None:
        queryset = queryset.filter(user_id=customer_id)
    if tenant_id is not None:
        queryset = queryset.filter(user__tenant_id=tenant_id)
    return queryset.order_by("-created_at", "-id")


def customer_get(*, user_id: int, tenant_id=None):
    """A user to create a subscription for; staff of one tenant reach only its users."""
    users = get_user_model().objects.filter(pk=user_id)
    if tenant_id is not None:
        users = users.filter(tenant_id=tenant_id)
    user = users.first()
    if user is None:
        raise NotFound("Customer not found.", code="customer_not_found")
    return user
