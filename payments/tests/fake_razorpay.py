"""A fake Razorpay API on 127.0.0.1 for driving the real adapter (the official SDK over HTTP).

It answers the endpoints the adapter uses with Razorpay's JSON shapes and JSON errors:
POST /v1/orders, GET /v1/orders/{id}, GET /v1/orders/{id}/payments, GET /v1/payments/{id},
POST /v1/payments/{id}/refund (honouring `X-Refund-Idempotency`), GET /v1/payments/{id}/refunds,
GET /v1/refunds/{id}. Requests need HTTP basic auth with the configured key pair.
`mode` makes it misbehave and `stop()` closes the socket, as in config.tests.fake_server.
"""

import base64
import hashlib
import hmac
import re
import secrets
import string
import time

from config.tests.fake_server import FakeServer

_ALPHABET = string.ascii_letters + string.digits


def _id(prefix):
    return prefix + "".join(secrets.choice(_ALPHABET) for _ in range(14))


def _error(code, description, *, field=None):
    return {"error": {"code": code, "description": description, "source": "business",
                      "step": "payment_initiation", "reason": "input_validation_failed",
                      "metadata": {}, "field": field}}


class FakeRazorpay(FakeServer):
    server_error = _error("SERVER_ERROR", "The server encountered an error. "
                                          "The incident has been reported to admins.")

    def __init__(self, *, key_id="rzp_test_fake", key_secret="fake_key_secret"):
        super().__init__()
        self.key_id = key_id
        self.key_secret = key_secret
        self.orders: dict[str, dict] = {}
        self.payments: dict[str, dict] = {}
        self.refunds: dict[str, dict] = {}
        self.refund_keys: dict[str, tuple[str, dict]] = {}  # idempotency key → (refund id, body)
        self.requests: list[tuple[str, str, dict | None]] = []

    # --- what a customer / Razorpay itself would do ------------------------------------------------
    def signature(self, order_id: str, payment_id: str) -> str:
        return hmac.new(self.key_secret.encode(), f"{order_id}|{payment_id}".encode(),
                        hashlib.sha256).hexdigest()

    def pay(self, order_id: str, *, status: str = "captured", amount: int | None = None) -> dict:
        """A payment attempt at Checkout; returns what Checkout hands the frontend."""
        with self.lock:
            order = self.orders[order_id]
            payment = {
                "id": _id("pay_"), "entity": "payment", "amount": amount or order["amount"],
                "currency": order["currency"], "status": status, "order_id": order_id,
                "invoice_id": None, "international": False, "method": "upi",
                "amount_refunded": 0, "refund_status": None, "captured": status == "captured",
                "description": None, "email": "a@example.com", "contact": "+919876543210",
                "error_code": "BAD_REQUEST_ERROR" if status == "failed" else None,
                "error_description": "Payment was declined by the bank" if status == "failed" else None,
                "created_at": int(time.time()),
            }
            self.payments[payment["id"]] = payment
            order["attempts"] += 1
            if status == "captured":
                order.update(status="paid", amount_paid=order["amount"], amount_due=0)
            else:
                order["status"] = "attempted"
        return {"razorpay_order_id": order_id, "razorpay_payment_id": payment["id"],
                "razorpay_signature": self.signature(order_id, payment["id"])}

    def calls(self, method: str, prefix: str) -> list:
        return [r for r in self.requests if r[0] == method and r[1].startswith(prefix)]

    # --- HTTP -----------------------------------------------------------------------------------
    def _handle(self, handler, method):
        body = self._read_json(handler)
        path = handler.path.split("?", 1)[0]
        self.requests.append((method, path, body))
        if self._misbehave(handler):
            return
        expected = "Basic " + base64.b64encode(f"{self.key_id}:{self.key_secret}".encode()).decode()
        if handler.headers.get("Authorization") != expected:
            return self._send(handler, 401, _error("BAD_REQUEST_ERROR", "Authentication failed"))
        status, answer = self._route(method, path, body, handler.headers.get("X-Refund-Idempotency"))
        self._send(handler, status, answer)

    def _route(self, method, path, body, refund_key=None):
        with self.lock:
            if method == "POST" and path == "/v1/orders":
                return self._create_order(body)
            match = re.fullmatch(r"/v1/orders/([^/]+)(/payments)?", path)
            if method == "GET" and match:
                order = self.orders.get(match.group(1))
                if order is None:
                    return 400, _error("BAD_REQUEST_ERROR", "The id provided does not exist")
                if match.group(2):
                    items = [p for p in self.payments.values() if p["order_id"] == order["id"]]
                    return 200, {"entity": "collection", "count": len(items), "items": items}
                return 200, order
            match = re.fullmatch(r"/v1/refunds/([^/]+)", path)
            if method == "GET" and match:
                refund = self.refunds.get(match.group(1))
                if refund is None:
                    return 400, _error("BAD_REQUEST_ERROR", "The id provided does not exist")
                return 200, refund
            match = re.fullmatch(r"/v1/payments/([^/]+)(/refunds?)?", path)
            if match:
                payment = self.payments.get(match.group(1))
                if payment is None:
                    return 400, _error("BAD_REQUEST_ERROR", "The id provided does not exist")
                if method == "GET" and not match.group(2):
                    return 200, payment
                if method == "GET" and match.group(2) == "/refunds":
                    items = [r for r in self.refunds.values() if r["payment_id"] == payment["id"]]
                    return 200, {"entity": "collection", "count": len(items), "items": items}
                if method == "POST" and match.group(2) == "/refund":
                    return self._refund(payment, body, refund_key)
        return 404, _error("BAD_REQUEST_ERROR", "The requested URL was not found on the server.")

    def _create_order(self, body):
        if not isinstance(body, dict):
            return 400, _error("BAD_REQUEST_ERROR", "The request body is invalid")
        amount = body.get("amount")
        if not isinstance(amount, int) or amount < 100:
            return 400, _error("BAD_REQUEST_ERROR", "The amount must be atleast INR 1.00", field="amount")
        receipt = body.get("receipt")
        if receipt is not None and len(receipt) > 40:
            return 400, _error("BAD_REQUEST_ERROR", "receipt: the length must be no more than 40.")
        order = {"id": _id("order_"), "entity": "order", "amount": amount, "amount_paid": 0,
                 "amount_due": amount, "currency": body.get("currency", "INR"), "receipt": receipt,
                 "offer_id": None, "status": "created", "attempts": 0, "notes": body.get("notes") or {},
                 "created_at": int(time.time())}
        self.orders[order["id"]] = order
        return 200, order

    def _refund(self, payment, body, key=None):
        if key is not None and key in self.refund_keys:
            refund_id, first_body = self.refund_keys[key]
            if first_body != body:
                return 400, _error("BAD_REQUEST_ERROR",
                                   "Different request with the same idempotency key has already been processed.")
            return 200, self.refunds[refund_id]
        amount = (body or {}).get("amount", payment["amount"] - payment["amount_refunded"])
        if payment["status"] not in ("captured", "refunded"):
            return 400, _error("BAD_REQUEST_ERROR", "The payment has not been captured")
        if not isinstance(amount, int) or amount <= 0 or amount > payment["amount"] - payment["amount_refunded"]:
            return 400, _error("BAD_REQUEST_ERROR",
                               "The refund amount provided is greater than amount captured", field="amount")
        refund = {"id": _id("rfnd_"), "entity": "refund", "amount": amount, "currency": payment["currency"],
                  "payment_id": payment["id"], "notes": (body or {}).get("notes") or {},
                  "receipt": (body or {}).get("receipt"), "acquirer_data": {"arn": None},
                  "created_at": int(time.time()), "batch_id": None, "status": "processed",
                  "speed_processed": "normal", "speed_requested": "normal"}
        self.refunds[refund["id"]] = refund
        if key is not None:
            self.refund_keys[key] = (refund["id"], body)
        payment["amount_refunded"] += amount
        payment["refund_status"] = "full" if payment["amount_refunded"] == payment["amount"] else "partial"
        if payment["refund_status"] == "full":
            payment["status"] = "refunded"
        return 200, refund
