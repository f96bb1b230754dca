"""The one small interface every payment gateway implements, and the errors it may raise.

Adapters translate everything the outside world can throw at them (timeouts, refused
connections, 5xx, malformed answers) into `GatewayUnavailable` / `GatewayRejected`, which are
`BadGateway` (502) errors rendered in the caller's envelope.
"""

import hashlib
import hmac
from dataclasses import dataclass, field

from config.errors import BadGateway


class GatewayUnavailable(BadGateway):
    """Timeout, connection error, 5xx or an unreadable answer: try again later."""

    code = "gateway_unavailable"
    default_message = "payment gateway unavailable"


class GatewayRejected(BadGateway):
    """The gateway understood and refused (4xx), e.g. an unknown id or a refund too large."""

    code = "gateway_rejected"
    default_message = "payment gateway rejected the request"


@dataclass(frozen=True)
class GatewayOrder:
    id: str
    amount_paise: int
    currency: str
    status: str  # created | attempted | paid
    receipt: str = ""
    # What the buyer's checkout needs besides the order id (Cashfree's payment_session_id).
    checkout_session: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class GatewayPayment:
    id: str
    order_id: str | None
    amount_paise: int
    currency: str
    status: str  # created | authorized | captured | refunded | failed
    error: str = ""
    raw: dict = field(default_factory=dict, compare=False, repr=False)


@dataclass(frozen=True)
class GatewayRefund:
    id: str
    payment_id: str
    amount_paise: int
    status: str  # pending | processed | failed
    receipt: str = ""  # ours, when we asked for the refund
    raw: dict = field(default_factory=dict, compare=False, repr=False)


def hmac_sha256_hex(secret: str, message: bytes | str) -> str:
    if isinstance(message, str):
        message = message.encode()
    return hmac.new(secret.encode(), message, hashlib.sha256).hexdigest()


def looks_like_signature(value) -> bool:
    """A hex SHA-256 digest; anything else cannot be a valid signature (and must not reach
    hmac.compare_digest, which raises on non-ASCII text)."""
    return (isinstance(value, str) and len(value) == 64 and value.isascii()
            and all(c in "0123456789abcdefABCDEF" for c in value))


class Gateway:
    """Interface. `name` is stored on orders; `checkout` is whose checkout the buyer completes
    (the sandbox plays either); `key_id` is the public key handed to Razorpay Checkout.

    `customer` ({id, phone, email, name}) is what a gateway's checkout needs to know about the
    buyer (Cashfree requires an id and a phone; Razorpay ignores it). Payment statuses use
    Razorpay's words (created | authorized | captured | refunded | failed), refund statuses
    pending | processed | failed, whatever the gateway calls them.
    """

    name: str = ""
    checkout: str = "razorpay"
    key_id: str = ""

    def create_order(self, *, amount_paise: int, currency: str, receipt: str,
                     notes: dict | None = None, customer: dict | None = None) -> GatewayOrder:
        raise NotImplementedError

    def verify_checkout_signature(self, *, order_id: str, payment_id: str, signature: str) -> bool:
        raise NotImplementedError

    def verify_webhook_signature(self, *, body: bytes, signature: str) -> bool:
        raise NotImplementedError

    def fetch_payment(self, payment_id: str) -> GatewayPayment:
        raise NotImplementedError

    def fetch_order(self, order_id: str) -> GatewayOrder:
        raise NotImplementedError

    def fetch_order_payments(self, order_id: str) -> list[GatewayPayment]:
        raise NotImplementedError

    def refund(self, *, payment_id: str, amount_paise: int, notes: dict | None = None,
               receipt: str | None = None, order_id: str | None = None,
               idempotency_key: str | None = None) -> GatewayRefund:
        """`receipt` is our id for the refund (Cashfree uses it as the refund id, so a retry
        cannot refund twice); `order_id` is the gateway order (Cashfree refunds per order). With
        `idempotency_key` (Razorpay's X-Refund-Idempotency), asking again returns the same refund."""
        raise NotImplementedError

    def fetch_refund(self, *, refund_id: str, order_id: str | None = None) -> GatewayRefund:
        raise NotImplementedError

    def find_refund(self, *, receipt: str, payment_id: str, order_id: str) -> GatewayRefund | None:
        """The refund we asked for under `receipt`, if the gateway has it (None: it never arrived)."""
        raise NotImplementedError


def payment_from_entity(entity: dict) -> GatewayPayment:
    """Razorpay's payment entity (also what the sandbox stores) → GatewayPayment."""
    try:
        return GatewayPayment(
            id=str(entity["id"]), order_id=entity.get("order_id"), amount_paise=int(entity["amount"]),
            currency=str(entity.get("currency") or "INR"), status=str(entity.get("status") or ""),
            error=str(entity.get("error_description") or ""), raw=entity,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable payment") from exc


def order_from_entity(entity: dict) -> GatewayOrder:
    try:
        return GatewayOrder(
            id=str(entity["id"]), amount_paise=int(entity["amount"]),
            currency=str(entity.get("currency") or "INR"), status=str(entity.get("status") or ""),
            receipt=str(entity.get("receipt") or ""), raw=entity,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable order") from exc


def refund_from_entity(entity: dict) -> GatewayRefund:
    try:
        return GatewayRefund(
            id=str(entity["id"]), payment_id=str(entity.get("payment_id") or ""),
            amount_paise=int(entity["amount"]), status=str(entity.get("status") or "pending"),
            receipt=str(entity.get("receipt") or ""), raw=entity,
        )
    except (AttributeError, KeyError, TypeError, ValueError) as exc:
        raise GatewayUnavailable("payment gateway sent an unreadable refund") from exc
