"""A fake Cashfree PG API on 127.0.0.1 for driving the real adapter over HTTP.

It answers the endpoints the adapter calls, with Cashfree's JSON shapes (amounts in rupees as
JSON numbers with two decimals) and errors ({message, code, type}): POST /pg/orders,
GET /pg/orders/{id}, GET /pg/orders/{id}/payments, POST /pg/orders/{id}/refunds,
GET /pg/orders/{id}/refunds/{refund_id}. Requests need x-client-id, x-client-secret and
x-api-version. `mode` makes it misbehave and `stop()` closes the socket, as in
config.tests.fake_server.
`pay()` plays the buyer at Cashfree's checkout; `webhook()` builds a signed notification.
"""

import base64
import hashlib
import hmac
import json
import re
import time
from decimal import Decimal
from itertools import count

from config.tests.fake_server import FakeServer

_ORDER_ID = re.compile(r"[A-Za-z0-9_-]{3,45}")
_DEC = re.compile(r'"__dec__(-?[0-9]+\.[0-9]{2})"')


def _error(message, code, kind="invalid_request_error"):
    return {"message": message, "code": code, "type": kind}


def _money(value) -> Decimal:
    return Decimal(value).quantize(Decimal("0.01"))


def dumps(body) -> str:
    """JSON with Decimal amounts as numbers with two decimals, as Cashfree writes them."""
    def encode(value):
        if isinstance(value, Decimal):
            return f"__dec__{_money(value)}"
        raise TypeError(type(value))

    return _DEC.sub(r"\1", json.dumps(body, default=encode))


def sign(secret: str, timestamp: str, body: bytes) -> str:
    return base64.b64encode(hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()).decode()


class FakeCashfree(FakeServer):
    path_prefix = "/pg"
    server_error = _error("internal server error", "internal_error", "api_error")
    dumps = staticmethod(dumps)

    def __init__(self, *, client_id="cf_test_fake", client_secret="cf_fake_secret", api_version="2025-01-01"):
        super().__init__()
        self.client_id = client_id
        self.client_secret = client_secret
        self.api_version = api_version
        self.orders: dict[str, dict] = {}
        self.payments: dict[str, list] = {}
        self.refunds: dict[str, dict] = {}
        self.requests: list[tuple[str, str, dict | None, dict]] = []
        self.refund_status = "PENDING"
        self._ids = count(5_000_000_001)

    def calls(self, method: str, prefix: str) -> list:
        return [r for r in self.requests if r[0] == method and r[1].startswith("/pg" + prefix)]

    # --- what a buyer at Cashfree's checkout, or Cashfree itself, would do ------------------------
    def pay(self, order_id: str, *, status: str = "SUCCESS", amount: Decimal | None = None) -> dict:
        """A payment attempt for the order; returns the payment entity."""
        with self.lock:
            order = self.orders[order_id]
            payment = {
                "cf_payment_id": next(self._ids), "order_id": order_id, "entity": "payment",
                "is_captured": status == "SUCCESS", "order_amount": order["order_amount"],
                "payment_group": "upi", "payment_currency": order["order_currency"],
                "payment_amount": order["order_amount"] if amount is None else _money(amount),
                "payment_time": "2026-01-01T10:00:00+05:30", "payment_status": status,
                "payment_message": "00::Transaction success" if status == "SUCCESS" else "01::REJECTED",
                "bank_reference": "234928698581", "payment_method": {"upi": {"channel": "collect"}},
                "error_details": None if status == "SUCCESS" else {
                    "error_code": "TRANSACTION_DECLINED", "error_reason": "bank_rejected",
                    "error_description": "transaction is rejected at the remitter bank end",
                    "error_source": "bank"},
            }
            self.payments.setdefault(order_id, []).append(payment)
            if status == "SUCCESS":
                order["order_status"] = "PAID"
        return payment

    def webhook(self, event_type: str, *, order_id: str | None = None, payment: dict | None = None,
                refund: dict | None = None, secret: str | None = None,
                timestamp_ms: int | None = None) -> tuple[bytes, dict]:
        """(raw body, headers as Django test-client kwargs) of a signed notification."""
        if refund is not None:
            data = {"refund": refund}
        else:
            order = self.orders[order_id]
            data = {"order": {"order_id": order_id, "order_amount": order["order_amount"],
                              "order_currency": order["order_currency"], "order_tags": order["order_tags"]},
                    "payment": payment,
                    "customer_details": order["customer_details"],
                    "payment_gateway_details": {"gateway_name": "CASHFREE"}}
        body = dumps({"data": data, "event_time": "2026-01-01T10:00:01+05:30", "type": event_type}).encode()
        timestamp = str(int(time.time() * 1000) if timestamp_ms is None else timestamp_ms)
        headers = {"HTTP_X_WEBHOOK_SIGNATURE": sign(secret or self.client_secret, timestamp, body),
                   "HTTP_X_WEBHOOK_TIMESTAMP": timestamp, "HTTP_X_WEBHOOK_VERSION": self.api_version,
                   "HTTP_X_IDEMPOTENCY_KEY": base64.b64encode(hashlib.sha256(body).digest()).decode()}
        return body, headers

    # --- HTTP -----------------------------------------------------------------------------------
    def _handle(self, handler, method):
        body = self._read_json(handler, parse_float=Decimal)
        path = handler.path.split("?", 1)[0]
        self.requests.append((method, path, body, dict(handler.headers)))
        if self._misbehave(handler):
            return
        if (handler.headers.get("x-client-id") != self.client_id
                or handler.headers.get("x-client-secret") != self.client_secret):
            return self._send(handler, 401, _error("authentication Failed", "request_failed",
                                                   "authentication_error"))
        if not handler.headers.get("x-api-version"):
            return self._send(handler, 400, _error("x-api-version is missing in the request",
                                                   "request_failed"))
        status, answer = self._route(method, path, body)
        self._send(handler, status, answer)

    def _route(self, method, path, body):
        with self.lock:
            if method == "POST" and path == "/pg/orders":
                return self._create_order(body)
            match = re.fullmatch(r"/pg/orders/([^/]+)(?:/(payments|refunds)(?:/([^/]+))?)?", path)
            if not match:
                return 404, _error("bad URL, please check API documentation", "request_failed")
            order = self.orders.get(match.group(1))
            if order is None:
                return 404, _error("order not found", "order_not_found")
            sub, ident = match.group(2), match.group(3)
            if method == "GET" and sub is None:
                return 200, order
            if method == "GET" and sub == "payments" and ident is None:
                return 200, self.payments.get(order["order_id"], [])
            if method == "POST" and sub == "refunds" and ident is None:
                return self._refund(order, body)
            if method == "GET" and sub == "refunds" and ident is not None:
                refund = self.refunds.get(ident)
                if refund is None or refund["order_id"] != order["order_id"]:
                    return 404, _error("refund not found", "refund_not_found")
                return 200, refund
        return 404, _error("bad URL, please check API documentation", "request_failed")

    def _create_order(self, body):
        if not isinstance(body, dict):
            return 400, _error("request body is invalid", "request_invalid")
        order_id, amount = body.get("order_id"), body.get("order_amount")
        if not isinstance(order_id, str) or not _ORDER_ID.fullmatch(order_id):
            return 400, _error("order_id : should be alphanumeric, '_' and '-' only", "order_id_invalid")
        if (not isinstance(amount, (int, Decimal)) or isinstance(amount, bool) or amount < 1
                or Decimal(amount).as_tuple().exponent < -2):
            return 400, _error("order_amount : invalid value provided", "order_amount_invalid")
        customer = body.get("customer_details")
        if not isinstance(customer, dict) or not customer.get("customer_id") or not customer.get("customer_phone"):
            return 400, _error("customer_details.customer_phone : is missing in the request",
                               "customer_details_missing")
        if order_id in self.orders:
            return 409, _error("order with same id is already present", "order_already_exists")
        order = {"cf_order_id": str(next(self._ids)), "order_id": order_id, "entity": "order",
                 "order_currency": body.get("order_currency") or "INR", "order_amount": _money(amount),
                 "order_status": "ACTIVE", "payment_session_id": f"session_{order_id}_{next(self._ids)}",
                 "order_expiry_time": body.get("order_expiry_time"), "order_note": None,
                 "created_at": "2026-01-01T10:00:00+05:30", "order_splits": [],
                 "customer_details": customer, "order_meta": body.get("order_meta") or {},
                 "order_tags": body.get("order_tags")}
        self.orders[order_id] = order
        return 200, order

    def _refund(self, order, body):
        if not isinstance(body, dict):
            return 400, _error("request body is invalid", "request_invalid")
        refund_id, amount = body.get("refund_id"), body.get("refund_amount")
        if refund_id in self.refunds:
            return 409, _error("refund with same id is already present", "refund_already_exists")
        paid = [p for p in self.payments.get(order["order_id"], []) if p["payment_status"] == "SUCCESS"]
        if order["order_status"] != "PAID" or not paid:
            return 400, _error("order is not paid", "order_not_paid")
        refunded = sum((r["refund_amount"] for r in self.refunds.values()
                        if r["order_id"] == order["order_id"] and r["refund_status"] != "CANCELLED"), Decimal(0))
        if (not isinstance(amount, (int, Decimal)) or isinstance(amount, bool) or amount <= 0
                or _money(amount) > order["order_amount"] - refunded):
            return 400, _error("refund_amount : should be less than or equal to the order amount",
                               "refund_amount_invalid")
        refund = {"cf_payment_id": paid[0]["cf_payment_id"], "cf_refund_id": str(next(self._ids)),
                  "order_id": order["order_id"], "refund_id": refund_id, "entity": "refund",
                  "refund_amount": _money(amount), "refund_currency": order["order_currency"],
                  "refund_note": body.get("refund_note"), "refund_status": self.refund_status,
                  "refund_arn": None, "refund_charge": Decimal(0),
                  "status_description": "In Progress", "metadata": None, "refund_splits": [],
                  "refund_type": "MERCHANT_INITIATED", "refund_mode": "STANDARD",
                  "created_at": "2026-01-01T11:00:00+05:30", "processed_at": None,
                  "refund_speed": {"requested": "STANDARD", "accepted": "STANDARD"}}
        self.refunds[refund_id] = refund
        return 200, refund
