"""Cashfree webhooks (DESIGN §4.8): verified on the raw body, stored (committed) first,
de-duplicated, then handled by the same services as Razorpay's (`order_fulfil`,
`order_mark_failed`, `refund_sync_from_gateway`) through `webhook_event_process`.

- Signature: `x-webhook-signature` = base64(HMAC-SHA256(client secret, `x-webhook-timestamp` +
  raw body)), compared in constant time; the previous secret also verifies while
  CASHFREE_CLIENT_SECRET_PREVIOUS is set (and, if set, until CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL).
- Freshness: the timestamp (milliseconds since the epoch) must be within
  CASHFREE_WEBHOOK_TOLERANCE_SECONDS (5 minutes) of now, either side; a recorded request
  replayed later is refused. Every delivery, retries included, is signed when it is sent.
- De-duplication: the event id is Cashfree's `x-idempotency-key` (the same on redelivery), or a
  SHA-256 of the body when absent, prefixed with "cashfree:".
- A genuine event about an order we do not know is stored and acknowledged (2xx) so Cashfree
  stops retrying.
"""

import hashlib
import json
import logging
from decimal import Decimal

from django.db import transaction

from config.errors import BadGateway, Conflict, InvalidInput
from config.parsers import json_loads_bounded
from payments.gateways import CASHFREE, GatewayUnavailable, get_gateway
from payments.gateways.cashfree_gateway import paise_from_rupees, refund_from_cashfree
from payments.models import GatewayAttempt, WebhookEvent
from payments.selectors import order_find_by_gateway_id
from payments.services.fulfilment import InvalidSignature, order_fulfil
from payments.services.orders import order_mark_failed
from payments.services.refunds import refund_sync_from_gateway

logger = logging.getLogger(__name__)

EVENT_PREFIX = "cashfree:"
MAX_EVENT_ID = 128 - len(EVENT_PREFIX)


class StaleWebhook(InvalidInput):
    code = "stale_webhook"
    default_message = "webhook timestamp is outside the accepted window"


class _Malformed(Exception):
    pass


def cashfree_webhook_receive(*, body: bytes, signature: str | None, timestamp: str | None,
                             idempotency_key: str | None) -> tuple[WebhookEvent, bool]:
    """Check signature and timestamp, then store the event in its own committed transaction.
    Returns (event, created). A bad signature or a stale timestamp → 400, nothing stored."""
    try:
        gateway = get_gateway(CASHFREE)
    except GatewayUnavailable:
        logger.error("a Cashfree webhook arrived but Cashfree is not configured: refused")
        raise InvalidSignature("invalid webhook signature") from None
    if not signature or not gateway.verify_webhook_signature(body=body, signature=signature,
                                                             timestamp=timestamp):
        logger.warning("cashfree webhook with a missing or invalid signature refused")
        raise InvalidSignature("invalid webhook signature")
    if not gateway.webhook_is_fresh(timestamp):
        logger.warning("cashfree webhook with timestamp %s refused: outside the window", timestamp)
        raise StaleWebhook()
    try:
        text = body.decode("utf-8")
        payload = json_loads_bounded(text)  # nesting that would exhaust the stack is a ValueError
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("webhook body is not UTF-8 JSON", code="invalid_body") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("webhook body is not a JSON object", code="invalid_body")
    key = (idempotency_key or "").strip()
    if len(key) > MAX_EVENT_ID or not _printable_ascii(key):
        raise InvalidInput("event id must be at most 120 printable ASCII characters", code="invalid_event_id")
    event_id = EVENT_PREFIX + (key or f"sha256:{hashlib.sha256(body).hexdigest()}")
    event_type = payload.get("type")
    # Anything else (a NUL byte, control characters) is stored as no type and refused when processed.
    event_type = event_type if isinstance(event_type, str) and len(event_type) <= 100 \
        and _printable_ascii(event_type) else ""
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            event_id=event_id,
            defaults={"gateway": CASHFREE, "event_type": event_type, "body": text, "signature_verified": True},
        )
    return event, created


def _printable_ascii(value: str) -> bool:
    return value.isascii() and value.isprintable()


def _section(payload: dict, name: str) -> dict:
    data = payload.get("data")
    section = data.get(name) if isinstance(data, dict) else None
    if not isinstance(section, dict):
        raise _Malformed(f"no data.{name}")
    return section


def _paise(value, what: str) -> int:
    try:
        return paise_from_rupees(value)
    except BadGateway as exc:
        raise _Malformed(f"unreadable {what}") from exc


def _unknown_order(gateway_order_id) -> str:
    """An order id no PaymentOrder has. If it is one of our abandoned attempts, it was paid
    although its checkout never reached a buyer (which cannot happen): staff must refund it."""
    abandoned = (GatewayAttempt.objects.filter(gateway=CASHFREE, gateway_order_id=gateway_order_id)
                 .exclude(outcome=GatewayAttempt.Outcome.CREATED).first()) if gateway_order_id else None
    if abandoned is not None:
        logger.error("cashfree order %s was abandoned (receipt %s) but a payment event arrived: "
                     "never fulfilled; refund it at Cashfree", gateway_order_id, abandoned.receipt)
        return "ignored: abandoned gateway order (refund it at the gateway)"
    return "ignored: unknown order"


def _on_payment_success(event: WebhookEvent, payload: dict) -> str:
    order_data, payment = _section(payload, "order"), _section(payload, "payment")
    gateway_order_id = order_data.get("order_id")
    order = order_find_by_gateway_id(gateway=CASHFREE, gateway_order_id=gateway_order_id)
    if order is None:
        return _unknown_order(gateway_order_id)
    if payment.get("payment_status") not in (None, "SUCCESS"):
        return f"ignored: payment status {payment.get('payment_status')}"
    payment_id = payment.get("cf_payment_id")
    if isinstance(payment_id, bool) or not isinstance(payment_id, (int, str)) or not str(payment_id):
        raise _Malformed("payment without cf_payment_id")
    amount = _paise(payment.get("payment_amount"), "payment amount")
    currency = payment.get("payment_currency") or order_data.get("order_currency")
    if currency != order.currency:
        logger.error("order %s: cashfree payment %s in %s, order in %s", order.gateway_order_id, payment_id,
                     currency, order.currency)
        return "rejected: payment currency does not match the order"
    try:
        _, fulfilled = order_fulfil(order_id=order.pk, payment_id=str(payment_id), source="webhook",
                                    amount_paise=amount)
    except (Conflict, InvalidInput) as exc:
        return f"rejected: {exc.message}"
    return "fulfilled" if fulfilled else "already fulfilled"


def _on_payment_failed(event: WebhookEvent, payload: dict) -> str:
    order_data, payment = _section(payload, "order"), _section(payload, "payment")
    order = order_find_by_gateway_id(gateway=CASHFREE, gateway_order_id=order_data.get("order_id"))
    if order is None:
        return "ignored: unknown order"
    error = payment.get("error_details")
    reason = ((error.get("error_description") or error.get("error_code")) if isinstance(error, dict) else None) \
        or payment.get("payment_message") or "payment failed"
    # A failed order can still be paid by another attempt at the same checkout; order_fulfil
    # accepts that payment later.
    _, changed = order_mark_failed(order_id=order.pk, reason=str(reason))
    return "order failed" if changed else f"ignored: order is {order.status}"


def _on_user_dropped(event: WebhookEvent, payload: dict) -> str:
    order = order_find_by_gateway_id(gateway=CASHFREE, gateway_order_id=_section(payload, "order").get("order_id"))
    if order is None:
        return "ignored: unknown order"
    return "noted: the buyer left checkout (the order stays open until it expires)"


# Cashfree refund statuses → refund_sync_from_gateway's words.
_REFUND_EVENT_STATUS = {"SUCCESS": "processed", "CANCELLED": "failed", "FAILED": "failed",
                        "PENDING": "created", "ONHOLD": "created"}


def _on_refund(event: WebhookEvent, payload: dict) -> str:
    entity = _section(payload, "refund")
    try:
        remote = refund_from_cashfree(entity)
    except BadGateway as exc:
        raise _Malformed("unreadable refund") from exc
    status = _REFUND_EVENT_STATUS.get(entity.get("refund_status"), "created")
    return refund_sync_from_gateway(remote=remote, event_status=status)


_HANDLERS = {
    "PAYMENT_SUCCESS_WEBHOOK": _on_payment_success,
    "PAYMENT_FAILED_WEBHOOK": _on_payment_failed,
    "PAYMENT_USER_DROPPED_WEBHOOK": _on_user_dropped,
    "REFUND_STATUS_WEBHOOK": _on_refund,
    "AUTO_REFUND_STATUS_WEBHOOK": _on_refund,
}


def cashfree_event_dispatch(event: WebhookEvent) -> str:
    """Handle a stored Cashfree event (called by webhook_event_process, inside its transaction)."""
    handler = _HANDLERS.get(event.event_type)
    if handler is None:
        return f"ignored: {event.event_type or 'no event type'}"
    try:
        payload = json.loads(event.body, parse_float=Decimal)  # amounts are rupees: never float
        if not isinstance(payload, dict):
            raise _Malformed("not a JSON object")
        return handler(event, payload)
    except _Malformed as exc:
        logger.error("cashfree webhook %s malformed: %s", event.event_id, exc)
        return f"rejected: malformed payload ({exc})"


