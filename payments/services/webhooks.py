"""Gateway webhooks: verified on the raw body, stored (committed) first, then handled.

Delivery is at least once and in any order. The event id (``X-Razorpay-Event-Id``, which stays
the same on redelivery; a SHA-256 of the body when absent) is unique, so a redelivery finds the
stored event; `processed_at` is set in the same transaction as the handler's effects.

What the gateway hears back:
- unsigned, or not a JSON object → 400, nothing stored;
- signed but unusable (a field of the wrong type, too long, with a NUL byte or other control
  characters, a missing entity) or contradicting its order (another currency or amount, a payment
  for an order already paid by another) → stored, `unprocessable` with the reason in `result`,
  logged, and 200 so the gateway stops retrying: the same payload would fail the same way forever.
  `reconcile_payments` asks the gateway again about the order;
- a transient failure (the database went away, a deadlock) → 500, and the gateway retries;
- any other handler failure → 500 up to MAX_ATTEMPTS deliveries, then `unprocessable` and 200.
"""

import hashlib
import logging
import re

from django.db import DatabaseError, DataError, InterfaceError, OperationalError, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import Conflict, InvalidInput, ServiceError
from config.parsers import json_loads_bounded
from payments.gateways import CASHFREE, GatewayRefund, get_gateway
from payments.models import WebhookEvent
from payments.selectors import order_find_by_gateway_id
from payments.services.fulfilment import InvalidSignature, order_fulfil
from payments.services.orders import order_mark_failed
from payments.services.refunds import refund_sync_from_gateway
from payments.services.webhooks_cashfree import cashfree_event_dispatch

logger = logging.getLogger(__name__)

MAX_EVENT_ID = 128
MAX_ATTEMPTS = 5
MAX_TEXT = 255
# Razorpay's names: "payment.captured", "refund.processed", "payment.dispute.created" ...
EVENT_TYPE = re.compile(r"[a-z0-9_]+(\.[a-z0-9_]+){0,4}")
# Razorpay's ids: "pay_29QQoUBi66xm2f", "order_…", "rfnd_…"; our columns hold 64 characters.
IDENTIFIER = re.compile(r"[A-Za-z0-9_-]{1,64}")
CURRENCY = re.compile(r"[A-Z]{3}")
# The header is not covered by the signature: printable ASCII only.
EVENT_ID = re.compile(rf"[\x21-\x7e]{{1,{MAX_EVENT_ID}}}")
# Amounts beyond any real payment (10^13 rupees) are refused before they reach a query.
MAX_AMOUNT = 10**15
_TRANSIENT = (OperationalError, InterfaceError)


class WebhookProcessingFailed(ServiceError):
    status_code = 500
    code = "webhook_processing_failed"
    default_message = "Webhook could not be processed; it will be retried."


class _Malformed(Exception):
    """A field is missing, of the wrong type, too long or holds characters it may not."""


class _Refused(Exception):
    """The payload cannot be acted on, now or ever: recorded as unprocessable."""


def _event_type(payload: dict) -> str:
    value = payload.get("event")
    if not isinstance(value, str) or len(value) > 100 or not EVENT_TYPE.fullmatch(value):
        raise _Malformed("event type is missing or not a dotted lowercase name")
    return value


def webhook_event_receive(*, body: bytes, signature: str | None, event_id: str | None,
                          gateway_name: str | None = None) -> tuple[WebhookEvent, bool]:
    """Check the signature, then store the event in its own committed transaction.
    Returns (event, created). Invalid signature, body or event id → 400, nothing stored."""
    gateway = get_gateway(gateway_name)
    if not signature or not gateway.verify_webhook_signature(body=body, signature=signature):
        logger.warning("%s webhook with a missing or invalid signature refused", gateway.name)
        raise InvalidSignature("invalid webhook signature")
    try:
        text = body.decode("utf-8")
        payload = json_loads_bounded(text)  # nesting that would exhaust the stack is a ValueError
    except (ValueError, UnicodeDecodeError) as exc:
        raise InvalidInput("webhook body is not UTF-8 JSON", code="invalid_body") from exc
    if not isinstance(payload, dict):
        raise InvalidInput("webhook body is not a JSON object", code="invalid_body")
    event_id = (event_id or "").strip()
    if event_id and not EVENT_ID.fullmatch(event_id):
        raise InvalidInput("event id must be 1 to 128 printable ASCII characters", code="invalid_event_id")
    event_id = event_id or f"sha256:{hashlib.sha256(body).hexdigest()}"
    try:
        event_type = _event_type(payload)
    except _Malformed:
        event_type = ""  # stored as is, refused when processed (the body keeps what was sent)
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            event_id=event_id,
            defaults={"gateway": gateway.name, "event_type": event_type,
                      "body": text, "signature_verified": True},
        )
    return event, created


def webhook_event_process(*, event_id: int) -> WebhookEvent:
    """Handle a stored event once. A refused payload is recorded as unprocessable (2xx). A failure
    is recorded (attempts, error) in its own write and raised as WebhookProcessingFailed (5xx),
    leaving the event unprocessed for the gateway's retry, MAX_ATTEMPTS times at most."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_id)
            if event.processed_at is not None:
                return event
            try:
                with transaction.atomic():
                    result, unprocessable = _dispatch(event), False
            except _Refused as exc:
                result, unprocessable = str(exc), True
                logger.error("webhook %s (%s) unprocessable: %s", event.event_id, event.event_type, exc)
            _finish(event, result=result, unprocessable=unprocessable)
        logger.info("webhook %s (%s) processed: %s", event.event_id, event.event_type, event.result)
        return event
    except Exception as exc:
        logger.exception("webhook event %s failed", event_id)
        error = f"{type(exc).__name__}: {exc}"[:2000].replace("\x00", "\\x00")
        if _give_up(event_id, exc, error):
            return WebhookEvent.objects.get(pk=event_id)
        raise WebhookProcessingFailed() from exc


def _finish(event: WebhookEvent, *, result: str, unprocessable: bool, failed: bool = False) -> None:
    event.processed_at = timezone.now()
    event.attempts += 1
    event.result = result[:255]
    event.unprocessable = unprocessable
    if not failed:
        event.error = ""
    event.save(update_fields=["processed_at", "attempts", "result", "unprocessable", "error"])


def _give_up(event_id: int, exc: Exception, error: str) -> bool:
    """Record a failed attempt. A value the database refuses (it would refuse it on every
    redelivery) or the MAX_ATTEMPTS-th failure closes the event as unprocessable: True."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().filter(pk=event_id).first()
            if event is None or event.processed_at is not None:
                return event is not None
            # DataError: a value the database refuses; ValueError: one the driver refuses (a NUL).
            deterministic = isinstance(exc, (DataError, ValueError))
            if deterministic or (not isinstance(exc, _TRANSIENT) and event.attempts + 1 >= MAX_ATTEMPTS):
                event.error = error
                _finish(event, result=f"unprocessable: handler failed ({type(exc).__name__})",
                        unprocessable=True, failed=True)
                logger.error("webhook %s closed as unprocessable after %s attempt(s)", event.event_id,
                             event.attempts)
                return True
            WebhookEvent.objects.filter(pk=event_id).update(attempts=F("attempts") + 1, error=error)
    except DatabaseError:
        logger.exception("could not record the failure of webhook event %s", event_id)
    return False


# --- reading a payload: every field checked before it reaches a query ---------------------------

def _entity(payload: dict, name: str) -> dict:
    try:
        entity = payload["payload"][name]["entity"]
    except (KeyError, TypeError, IndexError) as exc:
        raise _Malformed(f"no {name} entity") from exc
    if not isinstance(entity, dict):
        raise _Malformed(f"{name} entity is not an object")
    return entity


def _identifier(entity: dict, name: str, field: str, *, required: bool = True) -> str | None:
    value = entity.get(field)
    if value is None and not required:
        return None
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise _Malformed(f"{name}.{field} is not an id")
    return value


def _amount(entity: dict, name: str) -> int:
    value = entity.get("amount")
    if isinstance(value, bool) or not isinstance(value, int) or not 0 < value <= MAX_AMOUNT:
        raise _Malformed(f"{name}.amount is not a positive whole number of paise")
    return value


def _currency(entity: dict, name: str) -> str:
    value = entity.get("currency")
    if not isinstance(value, str) or not CURRENCY.fullmatch(value):
        raise _Malformed(f"{name}.currency is not a currency code")
    return value


def _word(entity: dict, name: str, field: str) -> str | None:
    """A status-like word, or None when absent."""
    value = entity.get(field)
    if value is None:
        return None
    if not isinstance(value, str) or not IDENTIFIER.fullmatch(value):
        raise _Malformed(f"{name}.{field} is not a word")
    return value


def _text(value) -> str:
    """Free text for our own records (an error description): printable characters only, cut short."""
    if not isinstance(value, str):
        return ""
    return "".join(c for c in value if c.isprintable())[:MAX_TEXT]


# --- handlers -------------------------------------------------------------------------------------

def _on_paid(event: WebhookEvent, payload: dict) -> str:
    payment = _entity(payload, "payment")
    gateway_order_id = _identifier(payment, "payment", "order_id", required=False)
    if gateway_order_id is None and event.event_type == "order.paid":
        gateway_order_id = _identifier(_entity(payload, "order"), "order", "id")
    order = order_find_by_gateway_id(gateway=event.gateway, gateway_order_id=gateway_order_id)
    if order is None:
        return "ignored: unknown order"
    payment_id = _identifier(payment, "payment", "id")
    amount, currency = _amount(payment, "payment"), _currency(payment, "payment")
    status = _word(payment, "payment", "status")
    if event.event_type == "payment.captured" and status not in (None, "captured"):
        return f"ignored: payment status {status}"
    try:
        _, fulfilled = order_fulfil(order_id=order.pk, payment_id=payment_id, source="webhook",
                                    amount_paise=amount, currency=currency)
    except (Conflict, InvalidInput) as exc:
        raise _Refused(f"rejected: {exc.message}") from exc
    return "fulfilled" if fulfilled else "already fulfilled"


def _on_payment_failed(event: WebhookEvent, payload: dict) -> str:
    payment = _entity(payload, "payment")
    gateway_order_id = _identifier(payment, "payment", "order_id", required=False)
    order = order_find_by_gateway_id(gateway=event.gateway, gateway_order_id=gateway_order_id)
    if order is None:
        return "ignored: unknown order"
    reason = _text(payment.get("error_description")) or _text(payment.get("error_code")) or "payment failed"
    _, changed = order_mark_failed(order_id=order.pk, reason=reason)
    return "order failed" if changed else f"ignored: order is {order.status}"


def _on_refund(event: WebhookEvent, payload: dict) -> str:
    entity = _entity(payload, "refund")
    receipt = entity.get("receipt")
    remote = GatewayRefund(
        id=_identifier(entity, "refund", "id"),
        payment_id=_identifier(entity, "refund", "payment_id"),
        amount_paise=_amount(entity, "refund"),
        status=_word(entity, "refund", "status") or "pending",
        receipt=receipt if isinstance(receipt, str) and IDENTIFIER.fullmatch(receipt) else "",
        raw=entity,
    )
    status = event.event_type.split(".", 1)[1]  # created | processed | failed
    result = refund_sync_from_gateway(remote=remote, event_status=status)
    if result.startswith("rejected"):
        raise _Refused(result)
    return result


_HANDLERS = {
    "payment.captured": _on_paid,
    "order.paid": _on_paid,
    "payment.failed": _on_payment_failed,
    "refund.created": _on_refund,
    "refund.processed": _on_refund,
    "refund.failed": _on_refund,
}


def _dispatch(event: WebhookEvent) -> str:
    if event.gateway == CASHFREE:
        result = cashfree_event_dispatch(event)
        if result.startswith("rejected"):
            raise _Refused(result)
        return result
    try:
        try:
            payload = json_loads_bounded(event.body)
        except ValueError as exc:
            raise _Malformed("body is not JSON") from exc
        if not isinstance(payload, dict):
            raise _Malformed("body is not a JSON object")
        event_type = _event_type(payload)
        handler = _HANDLERS.get(event_type)
        if handler is None:
            return f"ignored: {event_type}"
        return handler(event, payload)
    except _Malformed as exc:
        raise _Refused(f"rejected: malformed payload ({exc})") from exc
