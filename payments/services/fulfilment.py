"""The one way an order gets what it paid for: `order_fulfil`, used by verify, the webhook,
reconcile and the admin."""

import logging

from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, InvalidInput, NotFound
from payments.gateways import get_gateway
from payments.invoices.services import invoice_issue
from payments.models import PaymentOrder

logger = logging.getLogger(__name__)

SOURCES = ("verify", "webhook", "reconcile", "admin")


class InvalidSignature(InvalidInput):
    code = "invalid_signature"
    default_message = "invalid signature"


def _fulfil_token_plan(order: PaymentOrder, payment_id: str) -> dict:
    from subscriptions.services import token_plan_purchase

    # The plan stored on the order, even if it left the catalog since: upgrade with carry-over,
    # renewal of the same plan, and never a downgrade (a late, cheaper order tops up instead).
    change = token_plan_purchase(
        user=order.user, plan=order.plan,
        reason=f"payment {payment_id} for order {order.gateway_order_id}",
    )
    return dict(change.as_response()), change.action


def _fulfil_credit_package(order: PaymentOrder, payment_id: str) -> dict:
    from credits.services import wallet_get_or_create_for_user, wallet_grant

    wallet = wallet_get_or_create_for_user(user=order.user)
    transaction_row = wallet_grant(
        wallet=wallet, credits=order.credits, source="payment", reference_id=payment_id,
        idempotency_key=f"order:{order.pk}", reason=f"Purchase of {order.package.name}",
        metadata={"order_id": order.gateway_order_id, "package_id": order.package_id,
                  "amount_paise": order.amount_paise},
    )
    return {"payment_id": payment_id, "order_id": order.gateway_order_id,
            "credits_added": order.credits, "remaining_credits": transaction_row.balance_after}, ""


def _fulfil_subscription(order: PaymentOrder, payment_id: str) -> tuple[dict, str]:
    from payments.services.subscription_orders import subscription_order_deliver

    return subscription_order_deliver(order=order, payment_id=payment_id)


_FULFILLERS = {
    PaymentOrder.Kind.TOKEN_PLAN: _fulfil_token_plan,
    PaymentOrder.Kind.CREDIT_PACKAGE: _fulfil_credit_package,
    PaymentOrder.Kind.SUBSCRIPTION: _fulfil_subscription,
}


@transaction.atomic
def order_fulfil(*, order_id: int, payment_id: str, source: str, amount_paise: int | None = None,
                 currency: str | None = None) -> tuple[PaymentOrder, bool]:
    """Mark the order paid by `payment_id` and deliver what it bought, exactly once.

    The order row is locked first, so verify, webhook and reconcile arriving together queue up
    here; whoever comes second finds it fulfilled and gets the stored result. Returns
    (order, fulfilled_now). A different payment for an already-paid order is a Conflict. When the
    caller knows the payment's amount and currency (webhook, reconcile), both must be the order's.
    """
    if source not in SOURCES:
        raise ValueError(f"unknown fulfilment source {source!r}")
    if not payment_id or not isinstance(payment_id, str):
        raise InvalidInput("payment id is required", code="invalid_payment_id")
    order = (PaymentOrder.objects.select_for_update(of=("self",))
             .select_related("user", "plan", "package").filter(pk=order_id).first())
    if order is None:
        raise NotFound("order not found")
    if order.fulfilled_at is not None:
        if order.gateway_payment_id != payment_id:
            logger.error("order %s is paid by %s; another payment %s arrived (%s)",
                         order.gateway_order_id, order.gateway_payment_id, payment_id, source)
            raise Conflict("order is already paid by another payment", code="order_paid_by_other_payment")
        return order, False
    if amount_paise is not None and amount_paise != order.amount_paise:
        logger.error("order %s: payment %s is for %s paise, order is %s", order.gateway_order_id,
                     payment_id, amount_paise, order.amount_paise)
        raise InvalidInput("payment amount does not match the order", code="amount_mismatch")
    if currency is not None and currency != order.currency:
        logger.error("order %s: payment %s is in %s, order is in %s", order.gateway_order_id,
                     payment_id, currency, order.currency)
        raise InvalidInput("payment currency does not match the order", code="currency_mismatch")
    if PaymentOrder.objects.filter(gateway_payment_id=payment_id).exclude(pk=order.pk).exists():
        raise Conflict("payment belongs to another order", code="payment_of_other_order")
    fulfiller = _FULFILLERS.get(order.kind)
    if fulfiller is None:
        raise Conflict(f"orders of kind {order.kind} cannot be fulfilled yet", code="kind_not_supported")
    result, action = fulfiller(order, payment_id)
    now = timezone.now()
    order.status = PaymentOrder.Status.PAID
    order.gateway_payment_id = payment_id
    order.fulfilled_at = now
    order.fulfilled_via = source
    order.fulfilment_result = result
    order.fulfilment_action = action
    order.save(update_fields=["status", "gateway_payment_id", "fulfilled_at", "fulfilled_via",
                              "fulfilment_result", "fulfilment_action", "updated_at"])
    invoice_issue(order=order)  # the tax invoice, in the same transaction (DESIGN §4.7)
    logger.info("order %s fulfilled via %s (payment %s)", order.gateway_order_id, source, payment_id)
    return order, True


def order_verify(*, order: PaymentOrder, payment_id: str, signature: str) -> tuple[PaymentOrder, bool]:
    """Checkout callback: the gateway's signature over order id and payment id proves payment."""
    gateway = get_gateway(order.gateway)
    if not gateway.verify_checkout_signature(order_id=order.gateway_order_id, payment_id=payment_id,
                                             signature=signature):
        logger.warning("order %s: invalid checkout signature", order.gateway_order_id)
        raise InvalidSignature()
    return order_fulfil(order_id=order.pk, payment_id=payment_id, source="verify")
