"""Gateway selection. `PAYMENT_GATEWAY` picks one; empty means Razorpay when `RAZORPAY_KEY_ID`
is set and the in-process sandbox otherwise. That is the gateway of seed 000/002/003's checkout
(their frontends load Razorpay Checkout). Routed checkouts (DESIGN §4.8) ask
`checkout_gateways` which of Razorpay and Cashfree can take an order."""

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
CASHFREE = "cashfree"
SANDBOX = "sandbox"
NAMES = (RAZORPAY, SANDBOX)  # what PAYMENT_GATEWAY may say
CHECKOUTS = (RAZORPAY, CASHFREE)  # what a buyer can be routed to

__all__ = [
    "CASHFREE", "CHECKOUTS", "RAZORPAY", "SANDBOX", "Gateway", "GatewayOrder", "GatewayPayment",
    "GatewayRefund", "GatewayRejected", "GatewayUnavailable", "active_gateway_name",
    "cashfree_configured", "checkout_gateways", "get_gateway",
]

_warned_sandbox = False


def active_gateway_name() -> str:
    name = (getattr(settings, "PAYMENT_GATEWAY", "") or "").strip().lower()
    if name:
        if name not in NAMES:
            raise GatewayUnavailable(f"unknown PAYMENT_GATEWAY {name!r}", code="gateway_not_configured")
        return name
    return RAZORPAY if getattr(settings, "RAZORPAY_KEY_ID", "") else SANDBOX


def cashfree_configured() -> bool:
    return bool(getattr(settings, "CASHFREE_CLIENT_ID", ""))


def _configured(name: str) -> bool:
    return bool(settings.RAZORPAY_KEY_ID) if name == RAZORPAY else cashfree_configured()


def checkout_gateways(names) -> list[tuple[str, "Gateway | None"]]:
    """(checkout name, adapter) for each of `names` that can take an order now, in the given order.

    The sandbox plays every checkout when PAYMENT_GATEWAY=sandbox, or when no gateway has keys
    (`make run`). Otherwise only gateways with keys take orders, so a simulated gateway never
    stands beside a real one. The adapter is None when building it failed (half-configured):
    the caller records that as a failed attempt and moves on.
    """
    mode = (getattr(settings, "PAYMENT_GATEWAY", "") or "").strip().lower()
    if mode == SANDBOX or (not mode and not any(_configured(n) for n in CHECKOUTS)):
        from payments.gateways.sandbox import SandboxGateway

        get_gateway(SANDBOX)  # warns once when DEBUG is off
        return [(name, SandboxGateway(checkout=name)) for name in names]
    available = []
    for name in names:
        if not _configured(name):
            continue
        try:
            available.append((name, get_gateway(name)))
        except GatewayUnavailable:
            available.append((name, None))
    if not available:
        raise GatewayUnavailable("payment gateway is not configured", code="gateway_not_configured")
    return available


def _previous_secret_until():
    raw = (getattr(settings, "CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL", "") or "").strip()
    if not raw:
        return None
    from django.utils.dateparse import parse_datetime

    until = parse_datetime(raw)
    if until is None or until.tzinfo is None:
        logger.error("CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL is not an ISO 8601 time with a zone: "
                     "the previous secret is refused")
        from datetime import UTC, datetime

        return datetime.fromtimestamp(0, tz=UTC)
    return until


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
    if name == CASHFREE:
        if not settings.CASHFREE_CLIENT_ID or not settings.CASHFREE_CLIENT_SECRET:
            logger.error("payments: CASHFREE_CLIENT_ID/CASHFREE_CLIENT_SECRET are not set")
            raise GatewayUnavailable("payment gateway is not configured", code="gateway_not_configured")
        from payments.gateways.cashfree_gateway import CashfreeGateway

        return CashfreeGateway(
            client_id=settings.CASHFREE_CLIENT_ID, client_secret=settings.CASHFREE_CLIENT_SECRET,
            previous_secret=settings.CASHFREE_CLIENT_SECRET_PREVIOUS,
            previous_secret_until=_previous_secret_until(),
            environment=settings.CASHFREE_ENVIRONMENT, base_url=settings.CASHFREE_BASE_URL,
            api_version=settings.CASHFREE_API_VERSION, timeout=settings.CASHFREE_TIMEOUT,
            webhook_tolerance=settings.CASHFREE_WEBHOOK_TOLERANCE_SECONDS,
            return_url=settings.CASHFREE_RETURN_URL,
            default_phone=settings.CASHFREE_DEFAULT_CUSTOMER_PHONE, order_ttl=settings.PAYMENT_ORDER_TTL,
        )
    raise GatewayUnavailable(f"unknown payment gateway {name!r}", code="gateway_not_configured")
