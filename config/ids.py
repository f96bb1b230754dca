"""Parsing of the ids clients send: one rule everywhere.

An id is a positive integer that fits a PostgreSQL bigint, given as a JSON integer or as a
string of ASCII digits (seed 003's frontends keep ids as strings). Anything else (booleans,
floats, signs, spaces inside, non-ASCII digits, over-long strings) is not an id.
"""

MAX_ID = 2**63 - 1
_MAX_DIGITS = len(str(MAX_ID))


def positive_id(value) -> int | None:
    """The id in ``value``, or None when it is not one."""
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (0 < len(value) <= _MAX_DIGITS and value.isascii() and value.isdigit()):
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value
