"""Every write of the payments app. Views, admin, commands and webhooks call these."""

from payments.services.checkout import (
    ROUTED_CHECKOUTS,
    Purchase,
    checkout_fields,
    order_confirm,
    order_open,
)
from payments.services.fulfilment import InvalidSignature, order_fulfil, order_verify
from payments.services.merges import orders_merge
from payments.services.orders import (
    InvalidPlan,
    order_create,
    order_mark_failed,
    orders_expire,
    purchase_credit_package,
    purchase_token_plan,
)
from payments.services.reconcile import order_reconcile, orders_reconcile
from payments.services.refunds import (
    order_refund,
    refund_settle,
    refund_sync_from_gateway,
    refunds_reconcile,
)
from payments.services.webhooks import (
    WebhookProcessingFailed,
    webhook_event_process,
    webhook_event_receive,
)
from payments.services.webhooks_cashfree import StaleWebhook, cashfree_webhook_receive

__all__ = [
    "ROUTED_CHECKOUTS", "InvalidPlan", "InvalidSignature", "Purchase", "StaleWebhook",
    "WebhookProcessingFailed", "cashfree_webhook_receive", "checkout_fields", "order_confirm",
    "order_open", "purchase_credit_package", "purchase_token_plan", "order_create",
    "order_fulfil", "order_mark_failed", "order_reconcile", "order_refund", "order_verify",
    "orders_expire", "orders_merge", "orders_reconcile", "refund_settle", "refund_sync_from_gateway",
    "refunds_reconcile", "webhook_event_process", "webhook_event_receive",
]
