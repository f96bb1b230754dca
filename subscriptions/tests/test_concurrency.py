"""Real threads against PostgreSQL: no lost update, no overdraft, no double provisioning."""

from collections import Counter
from datetime import date
from io import StringIO

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.services import auth_tokens_issue
from accounts.tests.factories import UserFactory, platform_admin
from config.policy import principal_for_user
from config.tests.threads import run_together
from subscriptions import services
from subscriptions.models import Subscription, UsageCounter
from subscriptions.tests.factories import token_state

# The root conftest puts the plan catalog back after each flush of a transactional test.
pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]


def run_threads(count, target):
    """`target(index)` on `count` threads released at once; their results (none may raise)."""
    results = run_together([lambda index=index: target(index) for index in range(count)], timeout=120)
    errors = [result for result in results if isinstance(result, Exception)]
    assert not errors, errors
    return results


def test_fifty_callers_consume_thirty_tokens_against_a_quota_of_1000():
    counter = token_state(plan="basic")  # quota 1,000
    user = counter.subscription.user
    bearer = f"Bearer {auth_tokens_issue(user=user)['access']}"

    def call(_):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=bearer)
        response = client.post("/api/tokens/consume", {"tokens": 30}, format="json")
        return response.status_code, response.json()

    results = run_threads(50, call)
    statuses = Counter(status for status, _ in results)
    assert statuses == {200: 33, 402: 17}
    refusals = [body for status, body in results if status == 402]
    assert all(body == {"error": "quota exceeded", "remaining": 10} for body in refusals)
    counter.refresh_from_db()
    assert (counter.quota, counter.used) == (1000, 990)
    assert sorted(body["token_used"] for status, body in results if status == 200) == list(
        range(30, 991, 30))


def test_concurrent_first_reads_provision_one_subscription():
    user = UserFactory()
    results = run_threads(10, lambda _: services.token_usage_get(user=user))
    assert all(result["token_quota"] == 1000 for result in results)
    assert Subscription.objects.filter(user=user).count() == 1
    assert UsageCounter.objects.filter(subscription__user=user).count() == 1


def test_reset_command_racing_consumers_loses_nothing(clock):
    """A stale counter is reset exactly once, by whichever of the command and the API comes
    first; the other sees the current month and leaves the usage alone."""
    counters = [token_state(plan="basic", used=900, period_start=date(2024, 12, 1))
                for _ in range(20)]
    user_ids = [c.subscription.user_id for c in counters]

    def work(index):
        if index == 0:
            call_command("reset_quotas", "--batch-size", "3", stdout=StringIO())
            return None
        user_id = user_ids[index % len(user_ids)]
        return services.token_consume(user_id=user_id, tokens=7)["token_used"]

    results = run_threads(40, work)
    consumed = Counter(user_ids[i % len(user_ids)] for i in range(1, 40))
    assert all(result is not None for result in results[1:])
    for counter in UsageCounter.objects.filter(pk__in=[c.pk for c in counters]):
        assert counter.period_start == date(2025, 1, 1)
        assert counter.used == 7 * consumed[counter.subscription.user_id]
        assert counter.quota == 1000


def test_plan_change_racing_consumers_keeps_every_consumption(clock):
    counter = token_state(plan="basic", used=0)
    user = counter.subscription.user

    admin = principal_for_user(platform_admin())

    def work(index):
        if index == 0:
            return services.token_plan_change(principal=admin, user=user, plan_code="premium").token_quota
        return services.token_consume(user_id=user.pk, tokens=10)["token_used"]

    results = run_threads(21, work)
    counter.refresh_from_db()
    # The upgrade zeroes `used` and carries the remainder over: quota − used is conserved.
    consumed_before_upgrade = 50_000 + 1_000 - results[0]
    assert counter.quota == results[0]
    assert counter.used == 200 - consumed_before_upgrade
    assert Subscription.objects.get(user=user, status="active").plan.code == "premium"
