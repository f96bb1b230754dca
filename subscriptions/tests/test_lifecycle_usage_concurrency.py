"""Usage recording under real concurrency on PostgreSQL: every outcome is counted exactly."""

from collections import Counter

import pytest

from accounts.tests.factories import UserFactory
from config.tests.threads import run_together
from subscriptions.models import UsageCounter
from subscriptions.tests.factories import telephony_subscription

pytestmark = [
    pytest.mark.django_db(transaction=True),
    pytest.mark.postgres_only,  # real threads need PostgreSQL row locks
]


@pytest.fixture
def staff(client_for):
    user = UserFactory(is_staff=True)
    return lambda: client_for(user)


def _post(client, subscription, **body):
    return client.post(f"/api/subscriptions/{subscription.pk}/usage", body, format="json")


def _used(subscription, metric):
    return UsageCounter.objects.get(subscription=subscription, metric=metric).used


def test_concurrent_minutes_lose_no_update(staff):
    subscription = telephony_subscription()
    clients = [staff() for _ in range(40)]
    results = run_together([lambda c=c: _post(c, subscription, metric="minutes", quantity=3)
                            for c in clients])
    assert Counter(r.status_code for r in results) == {200: 40}, results
    assert _used(subscription, "minutes") == 120
    assert clients[0].get(f"/api/subscriptions/{subscription.pk}/usage").json()["data"]["usage"]["minutes"][
        "overage"] == 20


def test_concurrent_counts_are_refused_exactly_over_the_limit(staff):
    subscription = telephony_subscription()  # STARTER: 2 extensions
    values = [i % 5 for i in range(30)]  # 0..4, six of each
    clients = [staff() for _ in values]
    results = run_together([lambda c=c, v=v: _post(c, subscription, metric="extensions", used=v)
                            for c, v in zip(clients, values, strict=True)])
    outcomes = Counter((v, r.status_code) for v, r in zip(values, results, strict=True))
    assert outcomes == {(0, 200): 6, (1, 200): 6, (2, 200): 6, (3, 409): 6, (4, 409): 6}, outcomes
    assert _used(subscription, "extensions") in (0, 1, 2)


def test_one_idempotency_key_from_many_threads_records_once(staff):
    subscription = telephony_subscription()
    client = staff()
    results = run_together([
        lambda: client.post(f"/api/subscriptions/{subscription.pk}/usage", {"metric": "minutes", "quantity": 9},
                            format="json", HTTP_IDEMPOTENCY_KEY="cdr-77")
        for _ in range(8)])
    assert [r.status_code for r in results] == [200] * 8, results
    assert all(r.json() == results[0].json() for r in results)  # (a replay's keys may come in another order)
    assert _used(subscription, "minutes") == 9


def test_minutes_racing_a_suspension_are_counted_exactly(staff):
    from subscriptions.lifecycle.services import subscription_suspend

    subscription = telephony_subscription()
    clients = [staff() for _ in range(20)]
    suspend = [lambda: subscription_suspend(subscription_id=subscription.pk, actor=None, reason="race")]
    results = run_together([lambda c=c: _post(c, subscription, metric="minutes", quantity=5)
                            for c in clients] + suspend)
    codes = Counter(r.status_code for r in results[:-1])
    assert set(codes) <= {200, 409} and sum(codes.values()) == 20, results
    assert _used(subscription, "minutes") == 5 * codes[200]
    subscription.refresh_from_db()
    assert subscription.status == "suspended"
