"""Cashfree Payment Gateway: its documented PG REST API over `requests`, with a configurable base
URL and a timeout on every call. Secrets never leave this object: not in logs, not in exceptions,
not in repr.

Why not the official SDK: `cashfree-pg` 6.0.1 (the current major, read in full) cannot be
pointed at another host and is unsafe to ship as it is:
- every `Cashfree.PG*` method builds its own `Configuration(host=...)` from a hard-coded
  `https://api.cashfree.com/pg` / `https://sandbox.cashfree.com/pg`, so no base URL can be set
  (the fake server the tests need, a proxy, a regional host);
- each call writes that configuration, credentials included, into the process-wide
  `ApiClient.get_default()`, shared by every thread of a worker;
- its transport (`rest.RESTClientObject`) hard-codes `cert_reqs=ssl.CERT_NONE`, whatever
  `Configuration.verify_ssl` says: TLS certificates are never checked, so the client secret is
  sent to whoever answers;
- it requires `urllib3<2.1.0`, which would downgrade the urllib3 that `requests` (and so the
  Razorpay SDK) uses here from 2.8 to 2.0.7, a release with published advisories;
- `PGVerifyWebhookSignature` compares with `==` (not constant time), has no timestamp window and
  no second secret for rotations; its refund model rejects the "FAILED" status its own
  documentation lists; amounts travel as floats.
A timeout it could take (`_request_timeout` per call). Everything else would mean patching its
internals, so this adapter calls the same endpoints with the same headers itself (x-client-id,
x-client-secret, x-api-version): POST /orders, GET /orders/{id}, GET /orders/{id}/payments,
POST /orders/{id}/refunds, GET /orders/{id}/refunds/{refund_id}.

Amounts: Cashfree speaks rupees with two decimals. Answers are parsed with `Decimal`, never
float; an amount is sent as the JSON number of its exact two-decimal value.
"""

import base64
import hashlib
import hmac
import json
import logging
import time
from datetime import UTC, datetime, timedelta
from decimal import Decimal, InvalidOperation
from urllib.parse import quote

import requests

from config.money import paise, rupees
from payments.gateways.base import (
    Gateway,
    GatewayOrder,
    GatewayPayment,
    GatewayRefund,
    GatewayRejected,
    GatewayUnavailable,
)

logger = logging.getLogger(__name__)

BASE_URLS = {"production": "https://api.cashfree.com/pg", "sandbox": "https://sandbox.cashfree.com/pg"}

# Cashfree's words → the interface's (Razorpay's) words.
PAYMENT_STATUSES = {"SUCCESS": "captured", "FAILED": "failed", "USER_DROPPED": "failed",
                    "CANCELLED": "failed", "VOID": "failed", "PENDING": "created",
                    "NOT_ATTEMPTED": "created", "FLAGGED": "authorized"}
REFUND_STATUSES = {"SUCCESS": "processed", "PENDING": "pending", "ONHOLD": "pending",
                   "CANCELLED": "failed", "FAILED": "failed"}
ORDER_STATUSES = {"ACTIVE": "created", "PAID": "paid", "EXPIRED": "expired", "TERMINATED": "expired",
                  "TERMINATION_REQUESTED": "expired"}

# Cashfree lets an order live between 15 minutes and 30 days.
MIN_ORDER_TTL, MAX_ORDER_TTL = 15 * 60, 30 * 24 * 3600
MAX_TAGS = 10
MAX_SIGNATURE_LENGTH = 128


def webhook_signature(secret: str, timestamp: str, body: bytes) -> str:
    """base64(HMAC-SHA256(secret, x-webhook-timestamp + raw body)), as Cashfree signs."""
    digest = hmac.new(secret.encode(), timestamp.encode() + body, hashlib.sha256).digest()
    return base64.b64encode(digest).decode()


def _amount_for_wire(amount_paise: int) -> float:
    """The JSON number Cashfree expects (rupees, two decimals). The shortest repr of a float with
    at most two decimals is exactly those digits, so nothing is lost; checked anyway."""
    value = rupees(amount_paise)
    number = float(value)
    if Decimal(repr(number)) != value:
        raise ValueError(f"{amount_paise} paise cannot be sent exactly")
    return number


def paise_from_rupees(value) -> int:
    if isinstance(value, bool) or not isinstance(value, (int, Decimal, str)):
        raise GatewayUnavailable("payment gateway sent an unreadable amount")
    try:
        amount = Decimal(value)
    except InvalidOperation as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable amount") from exc
    if amount.as_tuple().exponent < -2 or amount < 0:
        raise GatewayUnavailable("payment gateway sent an unreadable amount")
    return paise(amount)


def order_from_cashfree(entity) -> GatewayOrder:
    try:
        return GatewayOrder(
            id=str(entity["order_id"]), amount_paise=paise_from_rupees(entity["order_amount"]),
            currency=str(entity.get("order_currency") or "INR"),
            status=ORDER_STATUSES.get(entity.get("order_status"), str(entity.get("order_status") or "").lower()),
            receipt=str(entity["order_id"]), checkout_session=str(entity.get("payment_session_id") or ""),
            raw=entity,
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable order") from exc


def payment_from_cashfree(entity) -> GatewayPayment:
    try:
        error = entity.get("error_details") or {}
        return GatewayPayment(
            id=str(entity["cf_payment_id"]), order_id=entity.get("order_id"),
            amount_paise=paise_from_rupees(entity["payment_amount"]),
            currency=str(entity.get("payment_currency") or "INR"),
            status=PAYMENT_STATUSES.get(entity.get("payment_status"), "created"),
            error=str((error.get("error_description") if isinstance(error, dict) else "")
                      or entity.get("payment_message") or ""),
            raw=entity,
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable payment") from exc


def refund_from_cashfree(entity) -> GatewayRefund:
    """Our refund id (Cashfree's `refund_id`) is the refund's id: we chose it, it is unique."""
    try:
        return GatewayRefund(
            id=str(entity["refund_id"]), payment_id=str(entity.get("cf_payment_id") or ""),
            amount_paise=paise_from_rupees(entity["refund_amount"]),
            status=REFUND_STATUSES.get(entity.get("refund_status"), "pending"),
            receipt=str(entity["refund_id"]), raw=entity,
        )
    except (AttributeError, KeyError, TypeError) as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable refund") from exc


def _customer_phone(phone: str, default: str) -> str:
    """Cashfree wants 10 Indian digits, or an international number with its "+"."""
    if phone.startswith("+91") and len(phone) == 13:
        return phone[3:]
    if phone.startswith("+") and 8 <= len(phone) <= 16:
        return phone
    return default


class CashfreeGateway(Gateway):
    name = "cashfree"
    checkout = "cashfree"

    def __init__(self, *, client_id: str, client_secret: str, environment: str, base_url: str,
                 api_version: str, timeout: float, previous_secret: str = "",
                 previous_secret_until: datetime | None = None, webhook_tolerance: int = 300,
                 return_url: str = "", default_phone: str = "9999999999", order_ttl: int = 24 * 3600):
        self.client_id = client_id
        self._client_secret = client_secret
        self._previous_secret = previous_secret
        self._previous_secret_until = previous_secret_until
        self.environment = environment
        self.base_url = (base_url or BASE_URLS.get(environment, BASE_URLS["sandbox"])).rstrip("/")
        self.api_version = api_version
        self.timeout = timeout
        self.webhook_tolerance = webhook_tolerance
        self.return_url = return_url
        self.default_phone = default_phone
        self.order_ttl = min(max(order_ttl, MIN_ORDER_TTL), MAX_ORDER_TTL)
        self.session = requests.Session()

    def __repr__(self):
        return f"<CashfreeGateway client_id={self.client_id!r} environment={self.environment!r}>"

    # --- HTTP ------------------------------------------------------------------------------
    def _call(self, what: str, method: str, path: str, body: dict | None = None):
        """One API call with the timeout; every failure becomes a 502 error. 5xx, 429, timeouts,
        refused connections and unreadable answers are GatewayUnavailable (worth trying the other
        gateway); other 4xx are GatewayRejected."""
        headers = {"x-client-id": self.client_id, "x-client-secret": self._client_secret,
                   "x-api-version": self.api_version, "Accept": "application/json"}
        data = None
        if body is not None:
            headers["Content-Type"] = "application/json"
            data = json.dumps(body).encode()
        try:
            response = self.session.request(method, self.base_url + path, data=data, headers=headers,
                                            timeout=self.timeout, allow_redirects=False)
        except requests.exceptions.Timeout as exc:
            logger.warning("cashfree %s timed out after %ss", what, self.timeout)
            raise GatewayUnavailable("payment gateway timed out") from exc
        except requests.exceptions.RequestException as exc:
            logger.warning("cashfree %s failed: %s", what, type(exc).__name__)
            raise GatewayUnavailable() from exc
        try:
            answer = json.loads(response.content, parse_float=Decimal)
        except (ValueError, UnicodeDecodeError):
            answer = None
        status = response.status_code
        if 200 <= status < 300:
            if answer is None:
                raise GatewayUnavailable("payment gateway sent an unreadable answer")
            return answer
        message = answer.get("message") if isinstance(answer, dict) else None
        message = message if isinstance(message, str) else f"HTTP {status}"
        if status >= 500 or status == 429 or status < 400:
            logger.warning("cashfree %s failed: HTTP %s %s", what, status, message)
            raise GatewayUnavailable()
        logger.warning("cashfree %s rejected: HTTP %s %s", what, status, message)
        error = GatewayRejected(f"payment gateway rejected the request: {message}")
        error.gateway_status = status
        raise error

    @staticmethod
    def _segment(value: str) -> str:
        return quote(str(value), safe="")

    # --- the interface -----------------------------------------------------------------------
    def create_order(self, *, amount_paise, currency, receipt, notes=None, customer=None) -> GatewayOrder:
        """The order id is our receipt, so an order Cashfree created for a request that timed out
        is still known to us by its id (see GatewayAttempt)."""
        customer = customer or {}
        details = {"customer_id": f"kosh{customer.get('id') or 'guest'}"[:50],
                   "customer_phone": _customer_phone(customer.get("phone") or "", self.default_phone)}
        email, name = customer.get("email") or "", customer.get("name") or ""
        if 3 <= len(email) <= 100:
            details["customer_email"] = email
        if 3 <= len(name) <= 100:
            details["customer_name"] = name
        tags = {str(k)[:64]: str(v)[:255] for k, v in (notes or {}).items() if str(v)}
        expiry = datetime.now(UTC) + timedelta(seconds=self.order_ttl)
        body = {"order_id": receipt, "order_amount": _amount_for_wire(amount_paise),
                "order_currency": currency, "customer_details": details,
                "order_expiry_time": expiry.isoformat(timespec="seconds"),
                "order_tags": dict(list(tags.items())[:MAX_TAGS])}
        if self.return_url:
            body["order_meta"] = {"return_url": self.return_url}
        order = order_from_cashfree(self._call("order create", "POST", "/orders", body))
        if not order.checkout_session:
            raise GatewayUnavailable("payment gateway sent an order without a payment session")
        return order

    def verify_checkout_signature(self, *, order_id, payment_id, signature) -> bool:
        # Cashfree's checkout returns no signature; verify asks Cashfree for the order's payments.
        return False

    def fetch_order(self, order_id) -> GatewayOrder:
        return order_from_cashfree(self._call("order fetch", "GET", f"/orders/{self._segment(order_id)}"))

    def fetch_order_payments(self, order_id) -> list[GatewayPayment]:
        answer = self._call("order payments", "GET", f"/orders/{self._segment(order_id)}/payments")
        if not isinstance(answer, list):
            raise GatewayUnavailable("payment gateway sent an unreadable answer")
        return [payment_from_cashfree(item) for item in answer]

    def fetch_payment(self, payment_id) -> GatewayPayment:
        # Cashfree finds a payment only through its order: GET /orders/{id}/payments/{cf_payment_id}.
        raise GatewayRejected("Cashfree payments are fetched through their order")

    def refund(self, *, payment_id, amount_paise, notes=None, receipt=None, order_id=None,
               idempotency_key=None) -> GatewayRefund:
        """`receipt` is the refund id. Cashfree refuses a second refund with the same id (409): the
        one it already has is fetched and returned, so a retried refund never refunds twice."""
        if not order_id or not receipt:
            raise ValueError("a Cashfree refund needs the order id and our refund id")
        note = str((notes or {}).get("reason") or "refund")[:100]
        body = {"refund_amount": _amount_for_wire(amount_paise), "refund_id": receipt,
                "refund_note": note if len(note) >= 3 else "refund", "refund_speed": "STANDARD"}
        try:
            answer = self._call("refund", "POST", f"/orders/{self._segment(order_id)}/refunds", body)
        except GatewayRejected as exc:
            if getattr(exc, "gateway_status", None) != 409:
                raise
            remote = self.fetch_refund(refund_id=receipt, order_id=order_id)
            if remote.amount_paise != amount_paise:
                raise
            return remote
        remote = refund_from_cashfree(answer)
        if payment_id and remote.payment_id and remote.payment_id != str(payment_id):
            logger.error("cashfree refund %s is for payment %s, expected %s", remote.id, remote.payment_id,
                         payment_id)
        return remote

    def fetch_refund(self, *, refund_id, order_id=None) -> GatewayRefund:
        if not order_id:
            raise ValueError("a Cashfree refund is fetched through its order")
        return refund_from_cashfree(self._call(
            "refund fetch", "GET", f"/orders/{self._segment(order_id)}/refunds/{self._segment(refund_id)}"))

    def find_refund(self, *, receipt, payment_id=None, order_id=None) -> GatewayRefund | None:
        """Our receipt is Cashfree's refund id: fetched directly; 404 means it never arrived."""
        try:
            return self.fetch_refund(refund_id=receipt, order_id=order_id)
        except GatewayRejected as exc:
            if getattr(exc, "gateway_status", None) == 404:
                return None
            raise

    # --- webhooks ----------------------------------------------------------------------------
    def _webhook_secrets(self, now: float) -> list[str]:
        secrets = [self._client_secret] if self._client_secret else []
        if self._previous_secret and (self._previous_secret_until is None
                                      or now < self._previous_secret_until.timestamp()):
            secrets.append(self._previous_secret)
        return secrets

    def verify_webhook_signature(self, *, body: bytes, signature: str, timestamp: str | None = None,
                                 now: float | None = None) -> bool:
        """The signature over timestamp + raw body, with the current secret or (after a rotation)
        the previous one; compared in constant time."""
        if not isinstance(signature, str) or not signature.isascii() or len(signature) > MAX_SIGNATURE_LENGTH:
            return False
        if not isinstance(timestamp, str) or not timestamp.isascii() or not timestamp.isdigit():
            return False
        secrets = self._webhook_secrets(time.time() if now is None else now)
        if not secrets:
            logger.error("CASHFREE_CLIENT_SECRET is not set: every Cashfree webhook is refused")
            return False
        matches = [hmac.compare_digest(webhook_signature(secret, timestamp, body).encode(), signature.encode())
                   for secret in secrets]
        return any(matches)

    def webhook_is_fresh(self, timestamp: str, now: float | None = None) -> bool:
        """Within the tolerance either side of now; the timestamp is milliseconds since the epoch."""
        if not isinstance(timestamp, str) or not timestamp.isascii() or not timestamp.isdigit() \
                or len(timestamp) > 16:
            return False
        now_ms = (time.time() if now is None else now) * 1000
        return abs(now_ms - int(timestamp)) <= self.webhook_tolerance * 1000
