"""The per-address limit on code requests, `OTP_START_RATE` (default `20/hour`).

A fixed-window counter in the default cache: `cache.add` + `cache.incr` are atomic on Redis and
on the in-process cache, so with `REDIS_URL` every app server counts in one place (DESIGN §7).
The window is aligned to the clock, so a client can make up to twice the rate across a boundary;
the per-number limit (3 codes per 15 minutes, counted in the database) holds regardless.
"""

import time

from django.conf import settings
from django.core.cache import cache

_PERIODS = {"s": 1, "m": 60, "h": 3600, "d": 86400}
_KEY_PREFIX = "kosh:otp:start:addr"


def rate_parse(rate: str) -> tuple[int, int]:
    """"20/hour" -> (20, 3600). The period is read from its first letter, as DRF reads its
    throttle rates: s(econd), m(inute), h(our), d(ay). Raises ValueError when malformed."""
    count, _, period = (rate or "").partition("/")
    count, period = count.strip(), period.strip().lower()
    if not (count.isascii() and count.isdigit()) or int(count) < 1 or not period or period[0] not in _PERIODS:
        raise ValueError(f"Invalid rate {rate!r}: expected e.g. '20/hour'.")
    return int(count), _PERIODS[period[0]]


def address_hit(address: str, *, now: float | None = None) -> int | None:
    """Count one code request from `address`; None if allowed, else seconds until the window ends."""
    limit, window = rate_parse(settings.OTP_START_RATE)
    now = time.time() if now is None else now
    bucket = int(now // window)
    key = f"{_KEY_PREFIX}:{window}:{bucket}:{address}"
    cache.add(key, 0, timeout=window)
    try:
        count = cache.incr(key)
    except ValueError:  # evicted between add and incr: this is the first hit of a new counter
        cache.set(key, 1, timeout=window)
        count = 1
    if count > limit:
        return max(1, int((bucket + 1) * window - now))
    return None
