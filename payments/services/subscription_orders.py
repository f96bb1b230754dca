"""Seed 002's subscription checkout: create-with-payment opens a pending subscription and its
order; the order's fulfilment (verify, webhook, reconcile or admin — `order_fulfil`, exactly once
under the order's row lock) activates it.

Bad input fails before the gateway is asked for an order, and nothing is written unless the
gateway order exists (as in `orders.order_create`).
"""

from __future__ import annotations

import logging
import secrets
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from accounts.billing import billing_profile_preview, billing_profile_save
from config.errors import Conflict, InvalidInput
from payments.gateways import GatewayUnavailable, get_gateway
from payments.models import PaymentOrder
from payments.selectors import order_get_for_caller
from payments.services.fulfilment import order_verify
from plans.pricing import ONE_TIME
from plans.selectors import PlanQuote, price_quote_get
from subscriptions.lifecycle import changes
from subscriptions.lifecycle import services as lifecycle
from subscriptions.lifecycle.close import RENEWAL_PAID
from subscriptions.lifecycle.selectors import subscription_live_for
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

# seed 002's customerData → the billing profile's fields
CUSTOMER_FIELDS = {
    "firstName": "first_name", "lastName": "last_name", "phone": "phone", "company": "company",
    "address": "address", "city": "city", "state": "state", "country": "country",
    "postalCode": "postal_code", "gstNumber": "gstin",
}
_SEED_NAMES = {snake: camel for camel, snake in CUSTOMER_FIELDS.items()}


@dataclass(frozen=True)
class Checkout:
    order: PaymentOrder
    subscription: Subscription
    plan_quote: PlanQuote
    profile: dict  # the billing profile as saved


def _customer_error(exc: InvalidInput) -> InvalidInput:
    """A billing-profile error, named as the client sent it: customerData.gstNumber, ..."""
    fields = {_SEED_NAMES.get(name, name): errors for name, errors in exc.fields.items()}
    first = next(iter(fields), "customerData")
    message = exc.message.split(": ", 1)[-1]
    return InvalidInput(f"customerData.{first}: {message}", code=exc.code, fields={"customerData": fields})


def _profile_fields(customer_data: dict | None) -> dict:
    return {CUSTOMER_FIELDS[key]: value for key, value in (customer_data or {}).items()}


def _check_sellable(plan_quote: PlanQuote) -> None:
    if plan_quote.plan.product not in lifecycle.LIFECYCLE_PRODUCTS:
        raise InvalidInput("Token plans are bought through /api/payments/create-order.", code="invalid_plan",
                           fields={"planId": ["Not a subscription plan."]})
    if plan_quote.amount_paise <= 0:
        raise InvalidInput("This plan costs nothing: create it with POST /api/subscriptions.",
                           code="free_plan", fields={"planId": ["Free plan: no payment needed."]})


def _check_no_paid_subscription(*, user, product: str) -> None:
    """Refuse before asking the gateway; the service checks again under lock."""
    live = subscription_live_for(user=user, product=product)
    if live is not None and live.status != Subscription.Status.PENDING:
        raise Conflict(f"You already have a {product} subscription ({live.status}); change its plan instead.",
                       code="subscription_exists", extra={"subscriptionId": live.pk})


def checkout_lines(plan_quote: PlanQuote) -> list[dict]:
    """What the upfront amount is made of, before tax (pay-as-you-go add-ons are billed later)."""
    quote, plan = plan_quote.quote, plan_quote.plan
    lines = [{"kind": "plan", "code": plan.code, "description": f"{plan.name} ({quote.billing_cycle})",
              "quantity": 1, "unitPaise": quote.base_paise, "amountPaise": quote.base_paise}]
    if quote.setup_fee_paise:
        lines.append({"kind": "setup_fee", "code": "setupFee", "description": "Setup fee", "quantity": 1,
                      "unitPaise": quote.setup_fee_paise, "amountPaise": quote.setup_fee_paise})
    lines += [{"kind": "addon", "code": line.code, "description": line.description, "quantity": line.quantity,
               "unitPaise": line.unit_paise, "amountPaise": line.total_paise}
              for line in quote.addons if line.mode == ONE_TIME]
    return lines


def _gateway_order(*, amount: int, currency: str, notes: dict):
    receipt = f"kosh_{secrets.token_hex(10)}"  # Razorpay allows 40 characters
    gateway = get_gateway()
    remote = gateway.create_order(amount_paise=amount, currency=currency, receipt=receipt,
                                  notes={**notes, "receipt": receipt})
    if remote.amount_paise != amount or remote.currency != currency:
        logger.error("gateway order %s came back with %s %s, expected %s %s",
                     remote.id, remote.amount_paise, remote.currency, amount, currency)
        raise GatewayUnavailable("payment gateway answered with a different amount")
    return gateway, remote, receipt


def subscription_checkout_create(*, user, plan_id, billing_cycle, addons: dict | None,
                                 customer_data: dict | None) -> Checkout:
    """Price the plan (DESIGN §4.1) on the server, check customerData, open a gateway order, then
    in one transaction: save the billing profile, open the pending subscription (superseding a
    pending one, whose open orders fail) and record the order."""
    plan_quote = price_quote_get(plan_id=plan_id, billing_cycle=billing_cycle, addons=addons)
    _check_sellable(plan_quote)
    profile_fields = _profile_fields(customer_data)
    try:
        billing_profile_preview(user=user, **profile_fields)
    except InvalidInput as exc:
        raise _customer_error(exc) from exc
    plan = plan_quote.plan
    _check_no_paid_subscription(user=user, product=plan.product)
    amount, currency = plan_quote.amount_paise, plan.currency
    gateway, remote, receipt = _gateway_order(amount=amount, currency=currency, notes={
        "kind": PaymentOrder.Kind.SUBSCRIPTION, "plan": plan.code, "billing_cycle": plan_quote.quote.billing_cycle,
        "user_id": str(user.pk)})
    with transaction.atomic():
        try:
            profile = billing_profile_save(user=user, **profile_fields)
        except InvalidInput as exc:  # changed since the preview (a concurrent update)
            raise _customer_error(exc) from exc
        subscription, superseded = lifecycle.subscription_checkout_open(user=user, plan_quote=plan_quote,
                                                                        actor=user)
        if superseded:
            PaymentOrder.objects.filter(subscription_id__in=superseded, status=PaymentOrder.Status.CREATED).update(
                status=PaymentOrder.Status.FAILED, failed_at=timezone.now(),
                failure_reason="superseded by a newer checkout", updated_at=timezone.now())
        order = PaymentOrder.objects.create(
            user=user, tenant_id=user.tenant_id, kind=PaymentOrder.Kind.SUBSCRIPTION, plan=plan,
            subscription=subscription, purpose=PaymentOrder.Purpose.CHECKOUT, lines=checkout_lines(plan_quote),
            tax_paise=plan_quote.quote.gst_paise, amount_paise=amount, currency=currency,
            gateway=gateway.name, gateway_order_id=remote.id, receipt=receipt,
        )
    logger.info("subscription %s: checkout order %s (%s paise, %s)", subscription.pk, order.gateway_order_id,
                amount, gateway.name)
    profile_data = {field: getattr(profile, field) for field in (*CUSTOMER_FIELDS.values(), "state_code")}
    return Checkout(order=order, subscription=subscription, plan_quote=plan_quote, profile=profile_data)


def subscription_order_deliver(*, order: PaymentOrder, payment_id: str) -> tuple[dict, str]:
    """`order_fulfil`'s delivery for subscription orders (the order row is locked)."""
    if order.purpose == PaymentOrder.Purpose.RENEWAL:
        from payments.services.subscription_renewals import renewal_order_deliver

        return renewal_order_deliver(order=order, payment_id=payment_id)
    if order.purpose == PaymentOrder.Purpose.UPGRADE:
        from payments.services.subscription_changes import subscription_change_deliver

        return subscription_change_deliver(order=order, payment_id=payment_id)
    if order.purpose != PaymentOrder.Purpose.CHECKOUT:
        raise Conflict(f"{order.purpose} orders cannot be fulfilled yet", code="kind_not_supported")
    outcome = lifecycle.subscription_checkout_paid(subscription_id=order.subscription_id, payment_id=payment_id,
                                                   order_id=order.gateway_order_id)
    return {"subscriptionId": order.subscription_id, "outcome": outcome}, outcome


class SubscriptionNotActivated(Conflict):
    code = "subscription_not_activated"
    default_message = ("Payment received, but this checkout was replaced by a paid subscription; "
                       "it will be refunded.")


def subscription_payment_verify(*, user, gateway_order_id: str, payment_id: str, signature: str,
                                subscription_id: int) -> PaymentOrder:
    """verify-payment: the order must be the caller's and belong to `subscription_id`; then the
    checkout signature is checked and the order fulfilled (once, whoever comes first)."""
    order = order_get_for_caller(gateway_order_id=gateway_order_id, user=user)
    if order.kind != PaymentOrder.Kind.SUBSCRIPTION or order.subscription_id != subscription_id:
        raise InvalidInput("This order is not a payment for that subscription.", code="purchase_mismatch",
                           fields={"subscriptionId": ["Does not match the order."]})
    order, _ = order_verify(order=order, payment_id=payment_id, signature=signature)
    return order


class PlanChangeNotApplied(Conflict):
    code = "plan_change_not_applied"
    default_message = ("Payment received, but this plan change was superseded (a newer change, or the "
                       "subscription moved on) and was not applied; it will be refunded.")


class RenewalNotApplied(Conflict):
    code = "renewal_not_applied"
    default_message = ("Payment received, but this renewal was already settled or the subscription has "
                       "ended; it was not applied and will be refunded.")


def delivered(order: PaymentOrder) -> bool:
    return order.fulfilment_action in (lifecycle.ACTIVATED, lifecycle.ALREADY_APPLIED, changes.CHANGED,
                                       changes.CHANGE_ALREADY_APPLIED, RENEWAL_PAID)


def not_delivered_error(order: PaymentOrder) -> Conflict:
    """What verify answers for a payment that was recorded but delivered nothing."""
    if order.purpose == PaymentOrder.Purpose.UPGRADE:
        return PlanChangeNotApplied()
    if order.purpose == PaymentOrder.Purpose.RENEWAL:
        return RenewalNotApplied()
    return SubscriptionNotActivated()
