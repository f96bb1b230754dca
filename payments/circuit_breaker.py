"""A circuit breaker per gateway, kept in Django's cache so every worker agrees (Redis when
REDIS_URL is set; the local-memory cache otherwise, which is per process).

closed: calls go through; each failure counts, a success resets the count. After
PAYMENT_BREAKER_FAILURES consecutive failures (within PAYMENT_BREAKER_WINDOW seconds of each
other) the breaker opens: the gateway is left out of routing for PAYMENT_BREAKER_COOLDOWN
seconds. Then it is half-open: exactly one caller (an atomic cache.add) gets to probe it; a
success closes the breaker, a failure opens it for another cool-down. A probe that never reports
back (its worker died) frees the slot after PROBE_SECONDS.
"""

import logging
import time

from django.conf import settings
from django.core.cache import cache

logger = logging.getLogger(__name__)

PROBE_SECONDS = 60
CLOSED, OPEN, HALF_OPEN = "closed", "open", "half_open"


def _key(gateway: str, part: str) -> str:
    return f"payments:breaker:{gateway}:{part}"


class CircuitBreaker:
    def __init__(self, gateway: str, *, failures: int | None = None, cooldown: int | None = None,
                 window: int | None = None):
        self.gateway = gateway
        self.threshold = max(1, failures if failures is not None else settings.PAYMENT_BREAKER_FAILURES)
        self.cooldown = cooldown if cooldown is not None else settings.PAYMENT_BREAKER_COOLDOWN
        self.window = window if window is not None else settings.PAYMENT_BREAKER_WINDOW

    def state(self, now: float | None = None) -> str:
        open_until = cache.get(_key(self.gateway, "open_until"))
        if open_until is None:
            return CLOSED
        return OPEN if (now or time.time()) < open_until else HALF_OPEN

    def allow(self, now: float | None = None) -> bool:
        """May a call go to this gateway now? Closed: yes. Open: no. Half-open: only to the one
        caller that wins the probe slot."""
        state = self.state(now)
        if state == CLOSED:
            return True
        if state == OPEN:
            return False
        won = cache.add(_key(self.gateway, "probe"), 1, timeout=PROBE_SECONDS)
        if won:
            logger.info("circuit breaker %s: half-open, probing", self.gateway)
        return won

    def record_success(self) -> None:
        if cache.get(_key(self.gateway, "open_until")) is not None:
            logger.warning("circuit breaker %s: closed again", self.gateway)
        cache.delete_many([_key(self.gateway, part) for part in ("failures", "open_until", "probe")])

    def record_failure(self, now: float | None = None) -> None:
        now = now or time.time()
        if cache.get(_key(self.gateway, "open_until")) is not None:
            # A failed probe (or a call that started before the breaker opened): another cool-down.
            self._open(now)
            return
        failures_key = _key(self.gateway, "failures")
        cache.add(failures_key, 0, timeout=self.window)
        try:
            failures = cache.incr(failures_key)
        except ValueError:  # expired between add and incr
            cache.set(failures_key, 1, timeout=self.window)
            failures = 1
        if failures >= self.threshold:
            self._open(now)

    def _open(self, now: float) -> None:
        # Kept well past the cool-down so the half-open state (and its probe) can be seen.
        cache.set(_key(self.gateway, "open_until"), now + self.cooldown, timeout=self.cooldown + 24 * 3600)
        cache.delete_many([_key(self.gateway, "failures"), _key(self.gateway, "probe")])
        logger.warning("circuit breaker %s: open for %ss", self.gateway, self.cooldown)
