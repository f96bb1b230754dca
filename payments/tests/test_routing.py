"""Cost routing (pure) and the circuit breaker (cache-backed)."""

import pytest

from payments.circuit_breaker import CLOSED, HALF_OPEN, OPEN, CircuitBreaker
from payments.routing import gateway_fee_paise, gateways_by_cost

BOTH = ["cashfree", "razorpay"]


@pytest.mark.parametrize("rupees, razorpay_fee, cashfree_fee, cheapest", [
    (1, 2, 302, "razorpay"),
    (100, 200, 450, "razorpay"),
    (599, 1198, 1199, "razorpay"),     # ₹0.01 below break-even: Razorpay by a paisa
    (600, 1200, 1200, "razorpay"),     # break-even: a tie, Razorpay by preference
    (601, 1202, 1202, "razorpay"),     # 0.015 × 60100 = 901.5 → 902: still a tie in whole paise
    (602, 1204, 1203, "cashfree"),
    (1000, 2000, 1800, "cashfree"),
    (100000, 200000, 150300, "cashfree"),
])
def test_cheapest_around_break_even(rupees, razorpay_fee, cashfree_fee, cheapest):
    amount = rupees * 100
    assert gateway_fee_paise("razorpay", amount) == razorpay_fee
    assert gateway_fee_paise("cashfree", amount) == cashfree_fee
    assert gateways_by_cost(amount, BOTH)[0] == cheapest
    assert gateways_by_cost(amount, list(reversed(BOTH)))[0] == cheapest  # input order does not matter


def test_fees_round_half_up_in_paise():
    assert gateway_fee_paise("cashfree", 100) == 302          # 1.5 → 2, + 300
    assert gateway_fee_paise("cashfree", 33) == 300           # 0.495 → 0
    assert gateway_fee_paise("razorpay", 25) == 1             # 0.5 → 1
    assert gateway_fee_paise("razorpay", 24) == 0             # 0.48 → 0


def test_fees_come_from_settings(settings):
    settings.PAYMENT_FEES = {"razorpay": {"percent": "1.9", "fixed_paise": 0},
                             "cashfree": {"percent": "1.75", "fixed_paise": 0}}
    assert gateway_fee_paise("razorpay", 100_000) == 1900
    assert gateways_by_cost(10_000, BOTH) == ["cashfree", "razorpay"]  # 175 < 190 paise
    assert gateways_by_cost(100, BOTH) == ["razorpay", "cashfree"]  # both round to 2 paise: a tie
    with pytest.raises(ValueError):
        gateway_fee_paise("paypal", 100)


def test_one_gateway_is_its_own_route():
    assert gateways_by_cost(5_000_000, ["razorpay"]) == ["razorpay"]


# --- the circuit breaker -------------------------------------------------------------------------

def test_breaker_opens_after_consecutive_failures_and_a_success_resets_the_count():
    breaker = CircuitBreaker("cashfree", failures=3, cooldown=60, window=300)
    breaker.record_failure(now=1000)
    breaker.record_failure(now=1001)
    breaker.record_success()  # not consecutive any more
    breaker.record_failure(now=1002)
    breaker.record_failure(now=1003)
    assert breaker.state(now=1003) == CLOSED and breaker.allow(now=1003)
    breaker.record_failure(now=1004)
    assert breaker.state(now=1004) == OPEN and not breaker.allow(now=1050)
    # another worker sees the same state: it lives in the cache, not in this object
    assert CircuitBreaker("cashfree").state(now=1050) == OPEN
    assert CircuitBreaker("razorpay").state(now=1050) == CLOSED


def test_breaker_half_open_lets_exactly_one_probe_through():
    breaker = CircuitBreaker("razorpay", failures=1, cooldown=60)
    breaker.record_failure(now=1000)
    assert breaker.state(now=1059) == OPEN
    assert breaker.state(now=1060) == HALF_OPEN
    assert breaker.allow(now=1061) is True            # the probe
    assert CircuitBreaker("razorpay").allow(now=1061) is False   # everyone else waits
    breaker.record_success()
    assert breaker.state(now=1062) == CLOSED and CircuitBreaker("razorpay").allow(now=1062)


def test_breaker_failed_probe_opens_for_another_cooldown():
    breaker = CircuitBreaker("razorpay", failures=1, cooldown=60)
    breaker.record_failure(now=1000)
    assert breaker.allow(now=1070)
    breaker.record_failure(now=1071)
    assert breaker.state(now=1100) == OPEN and not breaker.allow(now=1130)
    assert breaker.state(now=1131) == HALF_OPEN and breaker.allow(now=1131)


def test_half_open_probe_goes_to_exactly_one_of_many_concurrent_callers():
    import threading

    breaker = CircuitBreaker("cashfree", failures=1, cooldown=60)
    breaker.record_failure(now=1000)
    start, results = threading.Barrier(12), []

    def caller():
        start.wait()
        results.append(CircuitBreaker("cashfree").allow(now=1100))

    threads = [threading.Thread(target=caller) for _ in range(12)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert sorted(results) == [False] * 11 + [True]
