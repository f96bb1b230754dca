"""Which gateway an order goes to (DESIGN §4.8): the cheapest for its amount.

Fees come from settings.PAYMENT_FEES: a percent of the amount plus a fixed fee in paise
(defaults: Razorpay 2%, Cashfree 1.5% + ₹3). A fee is computed in paise with Decimal and rounded
once, ROUND_HALF_UP, to whole paise, because that is what is charged; gateways are compared on
those whole paise. GST on the fee is the same 18% on both, so it never changes the order and is
left out. With the defaults both cost ₹12 at ₹600 (the break-even): below it Razorpay is cheaper,
above it Cashfree.

Tie-break: equal fees go to the gateway listed first in CHECKOUT_PREFERENCE, Razorpay: it is the
gateway every existing frontend already loads, and switching saves nothing. (Rounding makes the
tie last a little past ₹600: at ₹601 both charge ₹12.02, so it stays with Razorpay.)
"""

from decimal import Decimal

from django.conf import settings

from config.money import round_paise

CHECKOUT_PREFERENCE = ("razorpay", "cashfree")


def gateway_fee_paise(gateway: str, amount_paise: int) -> int:
    """What `gateway` charges for a payment of `amount_paise` (before GST), in whole paise."""
    fees = settings.PAYMENT_FEES.get(gateway)
    if fees is None:
        raise ValueError(f"no fees configured for gateway {gateway!r}")
    variable = Decimal(int(amount_paise)) * Decimal(str(fees.get("percent", 0))) / 100
    return round_paise(variable) + int(fees.get("fixed_paise", 0))


def _preference(gateway: str) -> int:
    return CHECKOUT_PREFERENCE.index(gateway) if gateway in CHECKOUT_PREFERENCE else len(CHECKOUT_PREFERENCE)


def gateways_by_cost(amount_paise: int, gateways) -> list[str]:
    """`gateways` cheapest first for this amount; equal fees in CHECKOUT_PREFERENCE order."""
    return sorted(gateways, key=lambda name: (gateway_fee_paise(name, amount_paise), _preference(name)))
