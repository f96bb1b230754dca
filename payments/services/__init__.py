"""Every write of the payments app. Views, admin, commands and webhooks call these."""

from payments.services.fulfilment import InvalidSignature, order_fulfil, order_verify
from payments.services.merges import orders_merge
from payments.services.orders import (
    InvalidPlan,
    order_create,
    order_mark_failed,
    orders_expire,
)
from payments.services.reconcile import order_reconcile, orders_reconcile
from payments.services.refunds import order_refund, refund_sync_from_gateway
from payments.services.webhooks import (
    WebhookProcessingFailed,
    webhook_event_process,
    webhook_event_receive,
)

__all__ = [
    "InvalidPlan", "InvalidSignature", "WebhookProcessingFailed", "order_create",
    "order_fulfil", "order_mark_failed", "order_reconcile", "order_refund", "order_verify",
    "orders_expire", "orders_merge", "orders_reconcile", "refund_sync_from_gateway", "webhook_event_process",
    "webhook_event_receive",
]
