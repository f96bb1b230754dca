"""Money conversions, the one place paise become rupees and back (DESIGN §3).

Amounts are stored as integer paise; rupee figures are ``Decimal`` quantized to 0.01 with
ROUND_HALF_UP. Never float.
"""

from decimal import ROUND_HALF_UP, Decimal

_CENT = Decimal("0.01")
_ONE = Decimal(1)


def rupees(paise: int) -> Decimal:
    """Integer paise → rupees as Decimal quantized to 0.01 (ROUND_HALF_UP)."""
    return (Decimal(int(paise)) / 100).quantize(_CENT, rounding=ROUND_HALF_UP)


def paise(rupee_amount: Decimal | int | str) -> int:
    """Rupees → integer paise, ROUND_HALF_UP."""
    return int((Decimal(rupee_amount) * 100).quantize(_ONE, rounding=ROUND_HALF_UP))


def round_paise(amount: Decimal | int) -> int:
    """A fractional amount of paise → whole paise, ROUND_HALF_UP."""
    return int(Decimal(amount).quantize(_ONE, rounding=ROUND_HALF_UP))
