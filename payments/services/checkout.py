"""Opening an order at a gateway (routed by cost, around open circuit breakers, failing over) and
settling it when the buyer comes back from checkout (DESIGN §4.5, §4.8).

Every gateway call here happens outside any transaction of ours: a slow gateway never holds a
row lock or a connection in a transaction, and what we write afterwards is one short
transaction.

Failover and "never pays twice": an order is opened at one gateway at a time, and the buyer is
handed the checkout of the attempt that succeeded, only after we recorded it. An attempt that
failed (timeout, refused connection, 5xx) is recorded as a `GatewayAttempt` and abandoned; if the
gateway did create an order before failing, its checkout (Razorpay's order id, Cashfree's
payment_session_id) never reached the buyer, so nobody can pay it. Should a notification about
it ever arrive anyway, no PaymentOrder has its id: it is stored, acknowledged, never fulfilled,
and logged as an error for staff to refund (see webhooks_cashfree).
"""

import logging
import secrets
import time
from collections.abc import Sequence
from dataclasses import dataclass, field

from django.db import transaction

from config.errors import InvalidInput, PaymentRequired
from payments.circuit_breaker import CircuitBreaker
from payments.gateways import (
    CASHFREE,
    CHECKOUTS,
    RAZORPAY,
    GatewayRejected,
    GatewayUnavailable,
    checkout_gateways,
    get_gateway,
)
from payments.models import GatewayAttempt, PaymentOrder
from payments.routing import gateway_fee_paise, gateways_by_cost
from payments.services.fulfilment import order_fulfil, order_verify

logger = logging.getLogger(__name__)

# Seed 000/002/003 frontends load Razorpay Checkout: their orders go to Razorpay unless the
# caller lists the checkouts it can open. Seed 004's routed create offers both.
LEGACY_CHECKOUTS = (RAZORPAY,)
ROUTED_CHECKOUTS = CHECKOUTS


@dataclass(frozen=True)
class Purchase:
    """What is bought and what it costs, priced by the server. A new kind of purchase is a new
    function returning one of these (see orders.py)."""

    kind: str
    amount_paise: int
    currency: str
    plan: object = None
    package: object = None
    credits: int | None = None
    notes: dict = field(default_factory=dict)


def _receipt() -> str:
    # Razorpay allows 40 characters; Cashfree order ids 45 (letters, digits, "_" and "-").
    return f"kosh_{secrets.token_hex(10)}"


def checkouts_requested(gateways: Sequence[str] | None) -> list[str]:
    """The checkouts a caller can open, validated; None means Razorpay only (the seeds' frontends)."""
    if gateways is None:
        return list(LEGACY_CHECKOUTS)
    names = []
    for name in gateways:
        if name not in CHECKOUTS:
            raise InvalidInput(f"unknown gateway {name!r}", code="invalid_gateway",
                               fields={"gateways": [f"Choose from {', '.join(CHECKOUTS)}."]})
        if name not in names:
            names.append(name)
    if not names:
        raise InvalidInput("gateways must name at least one gateway", code="invalid_gateway",
                           fields={"gateways": ["Name at least one gateway."]})
    return names


def _customer(user, phone_number: str) -> dict:
    return {"id": str(user.pk), "phone": phone_number or user.phone or "", "email": user.email or "",
            "name": user.name or ""}


def order_open(*, user, purchase: Purchase, gateways: Sequence[str] | None = None, tenant=None,
               phone_number: str = "") -> PaymentOrder:
    """Open the order at the cheapest gateway that is up, then record it with every attempt.

    With more than one checkout to choose from, a gateway whose circuit breaker is open is
    skipped, and a timeout, connection error or 5xx moves on to the next (failover). A gateway's
    4xx stops there (the request itself is wrong; another gateway would not make it right).
    With one checkout (the seeds' endpoints) it is always tried. Every outcome feeds the breaker.
    If no gateway took the order, the attempts are recorded and a 502 is raised.
    """
    names = checkouts_requested(gateways)
    routed = len(names) > 1
    available = dict(checkout_gateways(names))
    ordered = gateways_by_cost(purchase.amount_paise, available) if routed else list(available)
    receipt = _receipt()
    notes = {**purchase.notes, "receipt": receipt, "user_id": str(user.pk)}
    customer = _customer(user, phone_number)
    attempts: list[GatewayAttempt] = []
    chosen = None
    refusal: GatewayRejected | None = None
    failure: GatewayUnavailable | None = None

    def attempt(name, outcome, *, fee=0, started=None, gateway_order_id="", error=""):
        elapsed = int((time.monotonic() - started) * 1000) if started is not None else 0
        attempts.append(GatewayAttempt(receipt=receipt, gateway=name, outcome=outcome,
                                       gateway_order_id=gateway_order_id, amount_paise=purchase.amount_paise,
                                       fee_paise=fee, error=error[:255], elapsed_ms=elapsed))

    for name in ordered:
        fee = gateway_fee_paise(name, purchase.amount_paise)
        breaker = CircuitBreaker(name)
        if routed and not breaker.allow():
            attempt(name, GatewayAttempt.Outcome.SKIPPED, fee=fee, error="circuit breaker open")
            continue
        gateway = available[name]
        if gateway is None:
            failure = GatewayUnavailable("payment gateway is not configured", code="gateway_not_configured")
            attempt(name, GatewayAttempt.Outcome.FAILED, fee=fee, error=failure.message)
            continue
        started = time.monotonic()
        # Cashfree's order id is the receipt we send: known even when its answer never came.
        asked_for = receipt if gateway.name == CASHFREE else ""
        try:
            remote = gateway.create_order(amount_paise=purchase.amount_paise, currency=purchase.currency,
                                          receipt=receipt, notes=notes, customer=customer)
            if remote.amount_paise != purchase.amount_paise or remote.currency != purchase.currency:
                logger.error("gateway order %s came back with %s %s, expected %s %s", remote.id,
                             remote.amount_paise, remote.currency, purchase.amount_paise, purchase.currency)
                raise GatewayUnavailable("payment gateway answered with a different amount")
        except GatewayUnavailable as exc:
            failure = exc
            breaker.record_failure()
            attempt(name, GatewayAttempt.Outcome.FAILED, fee=fee, started=started, gateway_order_id=asked_for,
                    error=exc.message)
            logger.warning("order %s: %s failed (%s)%s", receipt, name, exc.message,
                           "; failing over" if routed else "")
            continue
        except GatewayRejected as exc:
            breaker.record_success()  # it answered: up, just not willing
            attempt(name, GatewayAttempt.Outcome.REJECTED, fee=fee, started=started, gateway_order_id=asked_for,
                    error=exc.message)
            refusal = exc
            break
        breaker.record_success()
        attempt(name, GatewayAttempt.Outcome.CREATED, fee=fee, started=started, gateway_order_id=remote.id)
        chosen = (name, gateway, remote, fee)
        break

    if chosen is None:
        with transaction.atomic():
            GatewayAttempt.objects.bulk_create(attempts)
        raise refusal or failure or GatewayUnavailable()
    name, gateway, remote, fee = chosen
    with transaction.atomic():
        order = PaymentOrder.objects.create(
            user=user, tenant=tenant, phone_number=phone_number or "", kind=purchase.kind, plan=purchase.plan,
            package=purchase.package, credits=purchase.credits, amount_paise=purchase.amount_paise,
            currency=purchase.currency, gateway=gateway.name, checkout=name,
            checkout_session=remote.checkout_session, gateway_fee_paise=fee, gateway_order_id=remote.id,
            receipt=receipt,
        )
        for row in attempts:
            row.order = order
        GatewayAttempt.objects.bulk_create(attempts)
    logger.info("payment order %s created (%s, %s paise, %s via %s, fee %s paise, %d attempt(s))",
                order.gateway_order_id, purchase.kind, purchase.amount_paise, name, gateway.name, fee,
                len(attempts))
    return order


def checkout_fields(order: PaymentOrder) -> dict:
    """What the buyer's checkout needs to open this order: Razorpay's key and order id, or
    Cashfree's payment_session_id and order id (with the mode its JS SDK is started in)."""
    if order.checkout == PaymentOrder.Checkout.CASHFREE:
        from django.conf import settings

        environment = "sandbox" if order.gateway == PaymentOrder.Gateway.SANDBOX else settings.CASHFREE_ENVIRONMENT
        return {"gateway": CASHFREE, "order_id": order.gateway_order_id,
                "payment_session_id": order.checkout_session, "environment": environment}
    return {"gateway": RAZORPAY, "order_id": order.gateway_order_id, "key": get_gateway(order.gateway).key_id}


def order_confirm(*, order: PaymentOrder, payment_id: str | None = None,
                  signature: str | None = None) -> tuple[PaymentOrder, bool]:
    """The buyer is back from checkout: settle the order with the gateway that holds it.

    A Razorpay Checkout signature proves the payment by itself. Without one (Cashfree's checkout
    returns none; a Razorpay caller may leave it out) the gateway is asked for the order's
    payments, outside any transaction, and a captured payment of the order's amount and
    currency fulfils it. Returns (order, fulfilled_now) like order_fulfil.
    """
    if order.fulfilled_at is not None and payment_id in (None, order.gateway_payment_id):
        return order, False
    if signature:
        if order.checkout != PaymentOrder.Checkout.RAZORPAY:
            raise InvalidInput("this order's checkout returns no signature; send only order_id",
                               code="signature_not_used", fields={"signature": ["Not used by this checkout."]})
        if not payment_id:
            raise InvalidInput("payment_id is required with a signature",
                               fields={"payment_id": ["This field is required."]})
        return order_verify(order=order, payment_id=payment_id, signature=signature)
    payments = get_gateway(order.gateway).fetch_order_payments(order.gateway_order_id)
    captured = [p for p in payments if p.status == "captured" and payment_id in (None, p.id)]
    if not captured:
        if payments and all(p.status == "failed" for p in payments):
            raise PaymentRequired(f"payment failed: {payments[-1].error or 'declined'}"[:200], code="payment_failed")
        raise PaymentRequired("payment not completed", code="payment_not_completed")
    payment = captured[0]
    if payment.currency != order.currency:
        logger.error("order %s: payment %s is in %s, order in %s", order.gateway_order_id, payment.id,
                     payment.currency, order.currency)
        raise InvalidInput("payment currency does not match the order", code="currency_mismatch")
    return order_fulfil(order_id=order.pk, payment_id=payment.id, source="verify",
                        amount_paise=payment.amount_paise)
