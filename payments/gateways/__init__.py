"""Gateway selection. `PAYMENT_GATEWAY` picks one; empty means Razorpay when `RAZORPAY_KEY_ID`
is set and the in-process sandbox otherwise."""

import logging

from django.conf import settings

from payments.gateways.base import (
    Gateway,
    GatewayOrder,
    GatewayPayment,
    GatewayRefund,
    GatewayRejected,
    GatewayUnavailable,
)

logger = logging.getLogger(__name__)

RAZORPAY = "razorpay"
SANDBOX = "sandbox"
NAMES = (RAZORPAY, SANDBOX)

__all__ = [
    "Gateway", "GatewayOrder", "GatewayPayment", "GatewayRefund", "GatewayRejected",
    "GatewayUnavailable", "active_gateway_name", "get_gateway",
]

_warned_sandbox = False


def active_gateway_name() -> str:
    name = (getattr(settings, "PAYMENT_GATEWAY", "") or "").strip().lower()
    if name:
        if name not in NAMES:
            raise GatewayUnavailable(f"unknown PAYMENT_GATEWAY {name!r}", code="gateway_not_configured")
        return name
    return RAZORPAY if getattr(settings, "RAZORPAY_KEY_ID", "") else SANDBOX


def get_gateway(name: str | None = None) -> Gateway:
    """The gateway called `name` (an order's stored gateway), or the active one."""
    global _warned_sandbox
    name = name or active_gateway_name()
    if name == SANDBOX:
        if not settings.DEBUG and not _warned_sandbox:
            _warned_sandbox = True
            logger.warning("payments: the SANDBOX gateway is active with DEBUG off; payments are "
                           "simulated. Set RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET for real payments.")
        from payments.gateways.sandbox import SandboxGateway

        return SandboxGateway()
    if name == RAZORPAY:
        if not settings.RAZORPAY_KEY_ID or not settings.RAZORPAY_KEY_SECRET:
            logger.error("payments: RAZORPAY_KEY_ID/RAZORPAY_KEY_SECRET are not set")
            raise GatewayUnavailable("payment gateway is not configured", code="gateway_not_configured")
        from payments.gateways.razorpay_gateway import RazorpayGateway

        return RazorpayGateway(
            key_id=settings.RAZORPAY_KEY_ID, key_secret=settings.RAZORPAY_KEY_SECRET,
            webhook_secret=settings.RAZORPAY_WEBHOOK_SECRET, base_url=settings.RAZORPAY_BASE_URL,
            timeout=settings.RAZORPAY_TIMEOUT,
        )
    raise GatewayUnavailable(f"unknown payment gateway {name!r}", code="gateway_not_configured")
