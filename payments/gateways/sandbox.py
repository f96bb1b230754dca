"""An in-process stand-in for Razorpay: no network, HMAC signatures with a local secret.

It lets `make run` complete a purchase on a laptop: `POST /api/payments/sandbox/pay` plays the
customer at Razorpay Checkout and answers what Checkout hands the frontend. Routed orders
(`/api/v1/payments/create`) may go to Cashfree's checkout: then the sandbox plays Cashfree
(`checkout="cashfree"`, with a payment_session_id), and verify asks it for the order's payments
as it would ask Cashfree. The sandbox keeps
its orders and payments in the Django cache (per process with the default local-memory cache;
shared when REDIS_URL is set), which is enough for the verify flow, reconcile and refunds.
"""

import hashlib
import secrets
import string
import time
from dataclasses import replace

from django.conf import settings
from django.core.cache import cache

from payments.gateways.base import (
    Gateway,
    GatewayOrder,
    GatewayPayment,
    GatewayRefund,
    GatewayRejected,
    hmac_sha256_hex,
    looks_like_signature,
    order_from_entity,
    payment_from_entity,
    refund_from_entity,
)

KEY_ID = "rzp_test_sandbox"
STATE_TTL = 7 * 24 * 3600
_ALPHABET = string.ascii_letters + string.digits


def _new_id(prefix: str) -> str:
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def sandbox_secret() -> str:
    configured = getattr(settings, "PAYMENT_SANDBOX_SECRET", "")
    if configured:
        return configured
    return hashlib.sha256(f"kosh-payments-sandbox:{settings.SECRET_KEY}".encode()).hexdigest()


def sandbox_webhook_secret() -> str:
    return hmac_sha256_hex(sandbox_secret(), "webhook")


def _key(kind: str, ident: str) -> str:
    return f"payments:sandbox:{kind}:{ident}"


class SandboxGateway(Gateway):
    name = "sandbox"
    key_id = KEY_ID

    def __init__(self, checkout: str = "razorpay"):
        self.checkout = checkout

    def __repr__(self):
        return f"<SandboxGateway checkout={self.checkout!r}>"

    # --- the interface -------------------------------------------------------------------
    def create_order(self, *, amount_paise, currency, receipt, notes=None, customer=None) -> GatewayOrder:
        entity = {"id": _new_id("order_"), "entity": "order", "amount": amount_paise,
                  "amount_paid": 0, "amount_due": amount_paise, "currency": currency,
                  "receipt": receipt, "status": "created", "attempts": 0, "notes": notes or {},
                  "created_at": int(time.time())}
        cache.set(_key("order", entity["id"]), entity, STATE_TTL)
        order = order_from_entity(entity)
        if self.checkout == "cashfree":
            return replace(order, checkout_session=_new_id("session_sandbox_"))
        return order

    def verify_checkout_signature(self, *, order_id, payment_id, signature) -> bool:
        if not looks_like_signature(signature):
            return False
        expected = self.checkout_signature(order_id=order_id, payment_id=payment_id)
        return secrets.compare_digest(expected, signature)

    def verify_webhook_signature(self, *, body: bytes, signature: str) -> bool:
        if not looks_like_signature(signature):
            return False
        return secrets.compare_digest(self.webhook_signature(body), signature)

    def fetch_payment(self, payment_id) -> GatewayPayment:
        entity = cache.get(_key("payment", payment_id))
        if entity is None:
            raise GatewayRejected("payment gateway rejected the request: The id provided does not exist")
        return payment_from_entity(entity)

    def fetch_order(self, order_id) -> GatewayOrder:
        entity = cache.get(_key("order", order_id))
        if entity is None:
            raise GatewayRejected("payment gateway rejected the request: The id provided does not exist")
        return order_from_entity(entity)

    def fetch_order_payments(self, order_id) -> list[GatewayPayment]:
        ids = cache.get(_key("order-payments", order_id)) or []
        return [self.fetch_payment(pid) for pid in ids]

    def refund(self, *, payment_id, amount_paise, notes=None, receipt=None, order_id=None,
               idempotency_key=None) -> GatewayRefund:
        if idempotency_key:
            for earlier in self.fetch_payment_refunds(payment_id):
                if earlier.raw.get("idempotency_key") == idempotency_key:
                    return earlier
        payment = self.fetch_payment(payment_id)
        refunded = int(payment.raw.get("amount_refunded") or 0)
        if payment.status not in ("captured", "refunded") or amount_paise > payment.amount_paise - refunded:
            raise GatewayRejected("payment gateway rejected the request: "
                                  "The refund amount provided is greater than amount captured")
        entity = {"id": _new_id("rfnd_"), "entity": "refund", "amount": amount_paise,
                  "currency": payment.currency, "payment_id": payment_id, "notes": notes or {},
                  "receipt": receipt, "status": "processed", "created_at": int(time.time()),
                  "idempotency_key": idempotency_key}
        refunds = cache.get(_key("payment-refunds", payment_id)) or []
        cache.set(_key("payment-refunds", payment_id), [*refunds, entity], STATE_TTL)
        raw = dict(payment.raw, amount_refunded=refunded + amount_paise)
        if raw["amount_refunded"] == payment.amount_paise:
            raw["status"] = "refunded"
        cache.set(_key("payment", payment_id), raw, STATE_TTL)
        cache.set(_key("refund", entity["id"]), entity, STATE_TTL)
        return refund_from_entity(entity)

    def fetch_refund(self, *, refund_id, order_id=None) -> GatewayRefund:
        entity = cache.get(_key("refund", refund_id))
        if entity is None:
            raise GatewayRejected("payment gateway rejected the request: The id provided does not exist")
        return refund_from_entity(entity)

    def fetch_payment_refunds(self, payment_id) -> list[GatewayRefund]:
        self.fetch_payment(payment_id)  # an unknown payment is refused, as Razorpay does
        return [refund_from_entity(entity) for entity in cache.get(_key("payment-refunds", payment_id)) or []]

    def find_refund(self, *, receipt, payment_id, order_id=None) -> GatewayRefund | None:
        return next((r for r in self.fetch_payment_refunds(payment_id) if r.receipt == receipt), None)

    # --- sandbox only: what Checkout and the gateway's servers would do ------------------------
    def checkout_signature(self, *, order_id: str, payment_id: str) -> str:
        return hmac_sha256_hex(sandbox_secret(), f"{order_id}|{payment_id}")

    def webhook_signature(self, body: bytes) -> str:
        return hmac_sha256_hex(sandbox_webhook_secret(), body)

    def pay(self, *, order_id: str, amount_paise: int, currency: str) -> dict:
        """The customer pays at Checkout (auto-captured). Paying a paid order returns the same
        payment, like Checkout refusing a second payment for an order."""
        ids = cache.get(_key("order-payments", order_id)) or []
        for pid in ids:
            entity = cache.get(_key("payment", pid))
            if entity and entity.get("status") in ("captured", "refunded"):
                payment_id = pid
                break
        else:
            payment_id = _new_id("pay_")
            entity = {"id": payment_id, "entity": "payment", "amount": amount_paise,
                      "currency": currency, "status": "captured", "order_id": order_id,
                      "method": "upi", "captured": True, "amount_refunded": 0,
                      "error_code": None, "error_description": None, "created_at": int(time.time())}
            cache.set(_key("payment", payment_id), entity, STATE_TTL)
            cache.set(_key("order-payments", order_id), [*ids, payment_id], STATE_TTL)
            order = cache.get(_key("order", order_id))
            if order is not None:
                order.update(status="paid", amount_paid=amount_paise, amount_due=0,
                             attempts=order.get("attempts", 0) + 1)
                cache.set(_key("order", order_id), order, STATE_TTL)
        return {
            "razorpay_order_id": order_id,
            "razorpay_payment_id": payment_id,
            "razorpay_signature": self.checkout_signature(order_id=order_id, payment_id=payment_id),
        }
