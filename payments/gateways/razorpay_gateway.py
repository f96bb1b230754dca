"""Razorpay through the official SDK (`razorpay` 2.x) with a configurable base URL and a timeout
on every call. Secrets never leave this object: not in logs, not in exceptions, not in repr."""

import logging

import razorpay
import requests
from razorpay.errors import BadRequestError, GatewayError, ServerError, SignatureVerificationError

from payments.gateways.base import (
    Gateway,
    GatewayOrder,
    GatewayPayment,
    GatewayRefund,
    GatewayRejected,
    GatewayUnavailable,
    looks_like_signature,
    order_from_entity,
    payment_from_entity,
    refund_from_entity,
)

logger = logging.getLogger(__name__)


class RazorpayGateway(Gateway):
    name = "razorpay"

    def __init__(self, *, key_id: str, key_secret: str, webhook_secret: str, base_url: str,
                 timeout: float):
        self.key_id = key_id
        self._key_secret = key_secret
        self._webhook_secret = webhook_secret
        self.timeout = timeout
        self.client = razorpay.Client(auth=(key_id, key_secret), base_url=base_url.rstrip("/"))
        self.client.set_app_details({"title": "Kosh"})

    def __repr__(self):
        return f"<RazorpayGateway key_id={self.key_id!r}>"

    def _call(self, what: str, fn, *args, **options):
        """Run one SDK call with the timeout; map every failure to a 502 error."""
        try:
            answer = fn(*args, timeout=self.timeout, **options)
        except BadRequestError as exc:
            logger.warning("razorpay %s rejected: %s", what, exc)
            raise GatewayRejected(f"payment gateway rejected the request: {exc}") from exc
        except (GatewayError, ServerError) as exc:
            logger.warning("razorpay %s failed: %s", what, exc)
            raise GatewayUnavailable() from exc
        except requests.exceptions.Timeout as exc:
            logger.warning("razorpay %s timed out after %ss", what, self.timeout)
            raise GatewayUnavailable("payment gateway timed out") from exc
        except (requests.exceptions.RequestException, ValueError) as exc:
            # Connection refused/reset, or an answer that is not JSON.
            logger.warning("razorpay %s failed: %s", what, type(exc).__name__)
            raise GatewayUnavailable() from exc
        if not isinstance(answer, dict):
            raise GatewayUnavailable("payment gateway sent an unreadable answer")
        return answer

    def create_order(self, *, amount_paise, currency, receipt, notes=None, customer=None) -> GatewayOrder:
        data = {"amount": amount_paise, "currency": currency, "receipt": receipt,
                "payment_capture": 1, "notes": notes or {}}
        return order_from_entity(self._call("order create", self.client.order.create, data))

    def verify_checkout_signature(self, *, order_id, payment_id, signature) -> bool:
        if not self._key_secret or not looks_like_signature(signature):
            return False
        try:
            return bool(self.client.utility.verify_payment_signature({
                "razorpay_order_id": order_id, "razorpay_payment_id": payment_id,
                "razorpay_signature": signature,
            }))
        except SignatureVerificationError:
            return False

    def verify_webhook_signature(self, *, body: bytes, signature: str) -> bool:
        if not self._webhook_secret:
            logger.error("RAZORPAY_WEBHOOK_SECRET is not set: every webhook is refused")
            return False
        if not looks_like_signature(signature):
            return False
        try:
            text = body.decode("utf-8")
        except UnicodeDecodeError:
            return False
        try:
            return bool(self.client.utility.verify_webhook_signature(text, signature, self._webhook_secret))
        except SignatureVerificationError:
            return False

    def fetch_payment(self, payment_id) -> GatewayPayment:
        return payment_from_entity(self._call("payment fetch", self.client.payment.fetch, payment_id))

    def fetch_order(self, order_id) -> GatewayOrder:
        return order_from_entity(self._call("order fetch", self.client.order.fetch, order_id))

    def fetch_order_payments(self, order_id) -> list[GatewayPayment]:
        answer = self._call("order payments", self.client.order.payments, order_id)
        items = answer.get("items")
        if not isinstance(items, list):
            raise GatewayUnavailable("payment gateway sent an unreadable answer")
        return [payment_from_entity(item) for item in items]

    def refund(self, *, payment_id, amount_paise, notes=None, receipt=None, order_id=None,
               idempotency_key=None) -> GatewayRefund:
        data = {"amount": amount_paise, "speed": "normal", "notes": notes or {}}
        if receipt:
            data["receipt"] = receipt
        # Razorpay's own idempotency for refunds: the same key and body refund once.
        headers = {"X-Refund-Idempotency": idempotency_key} if idempotency_key else {}
        return refund_from_entity(self._call("refund", self.client.payment.refund, payment_id, data,
                                             headers=headers))

    def fetch_refund(self, *, refund_id, order_id=None) -> GatewayRefund:
        return refund_from_entity(self._call("refund fetch", self.client.refund.fetch, refund_id))

    def fetch_payment_refunds(self, payment_id) -> list[GatewayRefund]:
        answer = self._call("payment refunds", self.client.payment.fetch_multiple_refund, payment_id,
                            {"count": 100})
        items = answer.get("items")
        if not isinstance(items, list):
            raise GatewayUnavailable("payment gateway sent an unreadable answer")
        return [refund_from_entity(item) for item in items]

    def find_refund(self, *, receipt, payment_id, order_id=None) -> GatewayRefund | None:
        return next((r for r in self.fetch_payment_refunds(payment_id) if r.receipt == receipt), None)
