"""Creating orders, failing them, expiring them."""

import logging
from collections.abc import Sequence
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.utils import timezone

from config.errors import InvalidInput, NotFound
from payments.models import PaymentOrder
from payments.services.checkout import Purchase, order_open
from plans.models import RatePlan
from plans.selectors import credit_package_get, token_plan_get

logger = logging.getLogger(__name__)


class InvalidPlan(InvalidInput):
    """A token plan on sale that this user cannot buy (unknown plans and packages are refused by
    the catalog's selectors with the same code and message)."""

    code = "invalid_plan"
    default_message = "invalid plan"


def _purchasable_token_plan(*, user, plan_code: str) -> RatePlan:
    """A token plan on sale that the user may pay for: not free, not below their current plan."""
    plan = token_plan_get(code=plan_code)
    if plan.monthly_price_paise <= 0:
        raise InvalidPlan("free plan needs no payment", code="free_plan",
                          fields={"plan": ["This plan is free."]})
    from subscriptions.services import token_usage_get

    current = token_plan_get(code=token_usage_get(user=user)["plan"], include_inactive=True)
    if plan.tier < current.tier:
        # Paying for less than one has: refused. The same plan again is a renewal.
        raise InvalidPlan("plan is lower than your current plan", code="plan_downgrade",
                          fields={"plan": [f"You are on {current.code}."]})
    return plan


def purchase_token_plan(*, user, plan_code: str) -> Purchase:
    plan = _purchasable_token_plan(user=user, plan_code=plan_code)
    return Purchase(kind=PaymentOrder.Kind.TOKEN_PLAN, amount_paise=plan.monthly_price_paise,
                    currency=plan.currency, plan=plan,
                    notes={"kind": PaymentOrder.Kind.TOKEN_PLAN, "plan": plan.code})


def purchase_credit_package(*, package_id: int) -> Purchase:
    package = credit_package_get(package_id=package_id)
    return Purchase(kind=PaymentOrder.Kind.CREDIT_PACKAGE, amount_paise=package.price_paise,
                    currency=package.currency, package=package, credits=package.credits,
                    notes={"kind": PaymentOrder.Kind.CREDIT_PACKAGE, "package_id": str(package.pk)})


def order_create(*, user, plan_code: str | None = None, package_id: int | None = None, tenant=None,
                 phone_number: str = "", gateways: Sequence[str] | None = None) -> PaymentOrder:
    """Price the purchase on the server, open a gateway order, then record it.

    `gateways` lists the checkouts the caller can open (None: Razorpay's, as the seeds'
    frontends load it); with two, the cheaper healthy one gets the order (checkout.order_open).
    The gateway is called outside any transaction we own: if it fails nothing but the attempt is
    written (a 502); if writing fails afterwards, the gateway is left with an order nobody can
    pay for through us, which is harmless.
    """
    if (plan_code is None) == (package_id is None):
        raise InvalidInput("Buy either a plan or a package.", code="invalid_body")
    if plan_code is not None:
        purchase = purchase_token_plan(user=user, plan_code=plan_code)
    else:
        purchase = purchase_credit_package(package_id=package_id)
    return order_open(user=user, purchase=purchase, gateways=gateways, tenant=tenant, phone_number=phone_number)


@transaction.atomic
def order_mark_failed(*, order_id: int, reason: str = "") -> tuple[PaymentOrder, bool]:
    """created → failed. Anything already paid (or failed) stays as it is. A failed order may still
    be paid later (a retried Checkout, a late capture): `order_fulfil` accepts it."""
    order = PaymentOrder.objects.select_for_update().filter(pk=order_id).first()
    if order is None:
        raise NotFound("order not found")
    if order.status != PaymentOrder.Status.CREATED:
        return order, False
    order.status = PaymentOrder.Status.FAILED
    order.failed_at = timezone.now()
    order.failure_reason = (reason or "payment failed")[:255]
    order.save(update_fields=["status", "failed_at", "failure_reason", "updated_at"])
    return order, True


def orders_expire(*, now=None, ttl_seconds: int | None = None, dry_run: bool = False) -> int:
    """Fail every order still `created` after PAYMENT_ORDER_TTL. One conditional UPDATE: a
    concurrent fulfilment holds the row lock and, once it commits, the row no longer matches."""
    now = now or timezone.now()
    ttl = timedelta(seconds=settings.PAYMENT_ORDER_TTL if ttl_seconds is None else ttl_seconds)
    # Renewal orders stay payable until their subscription expires (process_subscriptions).
    stale = (PaymentOrder.objects.filter(status=PaymentOrder.Status.CREATED, created_at__lt=now - ttl)
             .exclude(purpose=PaymentOrder.Purpose.RENEWAL))
    if dry_run:
        return stale.count()
    with transaction.atomic():
        return stale.update(status=PaymentOrder.Status.FAILED, failed_at=now,
                            failure_reason="expired: not paid in time", updated_at=now)
