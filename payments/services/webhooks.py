"""Gateway webhooks: verified on the raw body, stored (committed) first, then handled.

Delivery is at least once and in any order. The event id (``X-Razorpay-Event-Id``, which stays
the same on redelivery; a SHA-256 of the body when absent) is unique, so a redelivery finds the
stored event; `processed_at` is set in the same transaction as the handler's effects, so a
handler failure leaves the event unprocessed for the gateway's retry (we answer 5xx).
"""

import hashlib
import json
import logging

from django.db import DatabaseError, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import BadGateway, Conflict, InvalidInput, ServiceError
from config.parsers import json_loads_bounded
from payments.gateways import CASHFREE, get_gateway
from payments.gateways.base import refund_from_entity
from payments.models import WebhookEvent
from payments.selectors import order_find_by_gateway_id
from payments.services.fulfilment import InvalidSignature, order_fulfil
from payments.services.orders import order_mark_failed
from payments.services.refunds import refund_sync_from_gateway
from payments.services.webhooks_cashfree import cashfree_event_dispatch

logger = logging.getLogger(__name__)

MAX_EVENT_ID = 128


class WebhookProcessingFailed(ServiceError):
    status_code = 500
    code = "webhook_processing_failed"
    default_message = "Webhook could not be processed; it will be retried."


class _Malformed(Exception):
    pass


def webhook_event_receive(*, body: bytes, signature: str | None, event_id: str | None,
                          gateway_name: str | None = None) -> tuple[WebhookEvent, bool]:
    """Check the signature, then store the event in its own committed transaction.
    Returns (event, created). Invalid signature or body → 400, nothing stored."""
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
    if len(event_id) > MAX_EVENT_ID:
        raise InvalidInput("event id is too long", code="invalid_event_id")
    event_id = event_id or f"sha256:{hashlib.sha256(body).hexdigest()}"
    event_type = payload.get("event")
    event_type = event_type[:100] if isinstance(event_type, str) else ""
    with transaction.atomic():
        event, created = WebhookEvent.objects.get_or_create(
            event_id=event_id,
            defaults={"gateway": gateway.name, "event_type": event_type,
                      "body": text, "signature_verified": True},
        )
    return event, created


def webhook_event_process(*, event_id: int) -> WebhookEvent:
    """Handle a stored event once. A failure is recorded (attempts, error) in its own write and
    raised as WebhookProcessingFailed (5xx), leaving the event unprocessed."""
    try:
        with transaction.atomic():
            event = WebhookEvent.objects.select_for_update().get(pk=event_id)
            if event.processed_at is not None:
                return event
            result = _dispatch(event)
            event.processed_at = timezone.now()
            event.attempts += 1
            event.result = result[:255]
            event.error = ""
            event.save(update_fields=["processed_at", "attempts", "result", "error"])
        logger.info("webhook %s (%s) processed: %s", event.event_id, event.event_type, event.result)
        return event
    except Exception as exc:
        logger.exception("webhook event %s failed", event_id)
        try:
            WebhookEvent.objects.filter(pk=event_id).update(
                attempts=F("attempts") + 1, error=f"{type(exc).__name__}: {exc}"[:2000])
        except DatabaseError:
            logger.exception("could not record the failure of webhook event %s", event_id)
        raise WebhookProcessingFailed() from exc


def _entity(payload: dict, name: str) -> dict:
    try:
        entity = payload["payload"][name]["entity"]
    except (KeyError, TypeError) as exc:
        raise _Malformed(f"no {name} entity") from exc
    if not isinstance(entity, dict):
        raise _Malformed(f"{name} entity is not an object")
    return entity


def _on_paid(event: WebhookEvent, payload: dict) -> str:
    payment = _entity(payload, "payment")
    gateway_order_id = payment.get("order_id")
    if not gateway_order_id and event.event_type == "order.paid":
        gateway_order_id = _entity(payload, "order").get("id")
    order = order_find_by_gateway_id(gateway=event.gateway, gateway_order_id=gateway_order_id)
    if order is None:
        return "ignored: unknown order"
    payment_id, amount = payment.get("id"), payment.get("amount")
    if not isinstance(payment_id, str) or isinstance(amount, bool) or not isinstance(amount, int):
        raise _Malformed("payment without id or amount")
    if event.event_type == "payment.captured" and payment.get("status") not in (None, "captured"):
        return f"ignored: payment status {payment.get('status')}"
    try:
        _, fulfilled = order_fulfil(order_id=order.pk, payment_id=payment_id, source="webhook",
                                    amount_paise=amount)
    except (Conflict, InvalidInput) as exc:
        return f"rejected: {exc.message}"
    return "fulfilled" if fulfilled else "already fulfilled"


def _on_payment_failed(event: WebhookEvent, payload: dict) -> str:
    payment = _entity(payload, "payment")
    order = order_find_by_gateway_id(gateway=event.gateway, gateway_order_id=payment.get("order_id"))
    if order is None:
        return "ignored: unknown order"
    reason = payment.get("error_description") or payment.get("error_code") or "payment failed"
    _, changed = order_mark_failed(order_id=order.pk, reason=str(reason))
    return "order failed" if changed else f"ignored: order is {order.status}"


def _on_refund(event: WebhookEvent, payload: dict) -> str:
    try:
        remote = refund_from_entity(_entity(payload, "refund"))
    except BadGateway as exc:
        raise _Malformed("unreadable refund entity") from exc
    status = event.event_type.split(".", 1)[1]  # created | processed | failed
    return refund_sync_from_gateway(remote=remote, event_status=status)


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
        return cashfree_event_dispatch(event)
    handler = _HANDLERS.get(event.event_type)
    if handler is None:
        return f"ignored: {event.event_type or 'no event type'}"
    try:
        payload = json.loads(event.body)
        return handler(event, payload)
    except _Malformed as exc:
        logger.error("webhook %s malformed: %s", event.event_id, exc)
        return f"rejected: malformed payload ({exc})"
