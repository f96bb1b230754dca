"""GET/POST /api/subscriptions/:id/usage: overage, limits plus add-ons, who may record, bad input,
idempotency, one conditional UPDATE per recording, counters per period."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from subscriptions import clock
from subscriptions.lifecycle import services
from subscriptions.models import UsageCounter
from subscriptions.tests.factories import telephony_subscription

pytestmark = pytest.mark.django_db


def url(subscription):
    return f"/api/subscriptions/{subscription.pk}/usage"


def record(client, subscription, **body):
    return client.post(url(subscription), body, format="json")


def error(response, status, code=None, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    if field:
        assert field in body["error"]["fields"], body
    return body


@pytest.fixture
def usage_key(tenant):
    from tenants.services import api_key_create

    key, raw = api_key_create(tenant=tenant, name="switch", scopes=["usage"])
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    return client


def test_usage_with_overage_and_add_on_limits(auth_client, staff_client):
    subscription = telephony_subscription(user=auth_client.user, billing_cycle="quarterly",
                                          addons={"extraTollFreeNumbers": 2, "extraExtensions": 5})
    assert record(staff_client, subscription, metric="minutes", quantity=100).status_code == 200
    assert record(staff_client, subscription, metric="minutes", quantity=30).status_code == 200
    assert record(staff_client, subscription, metric="tollFreeNumbers", used=3).status_code == 200
    assert record(staff_client, subscription, metric="extensions", used=4).status_code == 200
    body = auth_client.get(url(subscription)).json()
    assert body["success"] is True
    data = body["data"]
    assert data["subscriptionId"] == subscription.pk
    assert data["periodStart"] and data["periodEnd"] and data["periodEnd"] > data["periodStart"]
    # monthly STARTER's example: 130 minutes, 100 included → 30 × ₹1.99 = ₹59.70
    assert data["usage"] == {
        "minutes": {"included": 100, "used": 130, "remaining": 0, "overage": 30, "pricePerMinute": 1.99,
                    "overageCharge": 59.7},
        "tollFreeNumbers": {"limit": 3, "used": 3, "remaining": 0},
        "extensions": {"limit": 7, "used": 4, "remaining": 3},
    }


def test_recording_answers_the_usage(staff_client):
    subscription = telephony_subscription()
    data = record(staff_client, subscription, metric="minutes", quantity=42).json()["data"]
    assert data["usage"]["minutes"] == {"included": 100, "used": 42, "remaining": 58, "overage": 0,
                                        "pricePerMinute": 1.99, "overageCharge": 0}


def test_a_count_over_the_limit_is_409_and_unchanged(staff_client):
    subscription = telephony_subscription()  # STARTER: 1 number, 2 extensions
    record(staff_client, subscription, metric="extensions", used=2)
    error(record(staff_client, subscription, metric="extensions", used=3), 409, "usage_limit_exceeded", "used")
    error(record(staff_client, subscription, metric="tollFreeNumbers", used=2), 409, "usage_limit_exceeded")
    counters = {c.metric: c.used for c in UsageCounter.objects.filter(subscription=subscription)}
    assert counters == {"minutes": 0, "tollFreeNumbers": 0, "extensions": 2}
    assert record(staff_client, subscription, metric="extensions", used=0).status_code == 200


@pytest.mark.parametrize("status", ["pending", "suspended", "cancelled"])
def test_a_subscription_that_is_not_usable_is_409(staff_client, status):
    subscription = telephony_subscription(status=status)
    error(record(staff_client, subscription, metric="minutes", quantity=1), 409, "subscription_not_usable")
    assert not UsageCounter.objects.filter(subscription=subscription, used__gt=0).exists()


def test_past_due_is_still_usable(staff_client):
    subscription = telephony_subscription(status="past_due")
    assert record(staff_client, subscription, metric="minutes", quantity=5).status_code == 200


@pytest.mark.parametrize("body, field", [
    ({"metric": "minutes", "quantity": 0}, "quantity"),
    ({"metric": "minutes", "quantity": -5}, "quantity"),
    ({"metric": "minutes", "quantity": 1.5}, "quantity"),
    ({"metric": "minutes", "quantity": "5"}, "quantity"),
    ({"metric": "minutes", "quantity": 10**12}, "quantity"),
    ({"metric": "minutes", "quantity": True}, "quantity"),
    ({"metric": "minutes"}, "quantity"),
    ({"metric": "minutes", "used": 5}, "used"),
    ({"metric": "extensions", "quantity": 5}, "quantity"),
    ({"metric": "extensions", "used": -1}, "used"),
    ({"metric": "seconds", "quantity": 5}, "metric"),
    ({"quantity": 5}, "metric"),
    ({"metric": "minutes", "quantity": 5, "note": "x"}, "note"),
])
def test_bad_input_is_400(staff_client, body, field):
    subscription = telephony_subscription()
    error(record(staff_client, subscription, **body), 400, field=field)
    assert not UsageCounter.objects.filter(subscription=subscription, used__gt=0).exists()


def test_who_may_read_and_record(auth_client, staff_client, client_for, tenant, usage_key, bot_client):
    from tenants.tests.factories import TenantFactory

    mine = telephony_subscription(user=auth_client.user)
    error(record(auth_client, mine, metric="minutes", quantity=5), 403)  # the owner only reads
    assert auth_client.get(url(mine)).status_code == 200
    error(client_for(UserFactory()).get(url(mine)), 404)
    # an API key with scope "usage" of the subscriber's tenant
    member = telephony_subscription(user=UserFactory(tenant=tenant))
    assert record(usage_key, member, metric="minutes", quantity=7).status_code == 200
    assert usage_key.get(url(member)).json()["data"]["usage"]["minutes"]["used"] == 7
    error(record(usage_key, mine, metric="minutes", quantity=7), 404)  # no tenant
    stranger = telephony_subscription(user=UserFactory(tenant=TenantFactory()))
    error(record(usage_key, stranger, metric="minutes", quantity=7), 404)
    error(bot_client.get(url(member)), 403)  # a key without scope "usage"
    error(record(bot_client, member, metric="minutes", quantity=7), 403)
    error(APIClient().get(url(member)), 401)
    assert UsageCounter.objects.get(subscription=member, metric="minutes").used == 7


def test_usage_scope_can_be_given_to_api_keys(staff_client, tenant):
    from tenants.models import ApiKey

    assert "usage" in ApiKey.Scope.values


def test_idempotency_key_records_once(staff_client):
    subscription = telephony_subscription()
    body = {"metric": "minutes", "quantity": 10}
    first = staff_client.post(url(subscription), body, format="json", HTTP_IDEMPOTENCY_KEY="cdr-1")
    again = staff_client.post(url(subscription), body, format="json", HTTP_IDEMPOTENCY_KEY="cdr-1")
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert UsageCounter.objects.get(subscription=subscription, metric="minutes").used == 10
    error(staff_client.post(url(subscription), {**body, "quantity": 11}, format="json",
                            HTTP_IDEMPOTENCY_KEY="cdr-1"), 409, "idempotency_key_reused")


def test_recording_is_one_conditional_update(staff_client):
    subscription = telephony_subscription()
    with CaptureQueriesContext(connection) as queries:
        assert record(staff_client, subscription, metric="minutes", quantity=3).status_code == 200
    writes = [q["sql"] for q in queries if not q["sql"].lstrip().upper().startswith(("SELECT", "SAVEPOINT",
                                                                                       "RELEASE"))]
    assert len(writes) == 1 and writes[0].startswith("UPDATE"), writes
    assert "EXISTS" in writes[0] and "FOR UPDATE" not in " ".join(q["sql"] for q in queries)
    assert len(queries) <= 5  # the staff user, the subscription, the UPDATE, the answer's counters


def test_minutes_start_again_each_period_counts_carry_over(staff_client):
    subscription = telephony_subscription()
    record(staff_client, subscription, metric="minutes", quantity=130)
    record(staff_client, subscription, metric="extensions", used=2)
    services.subscription_renew(subscription_id=subscription.pk, actor=None)  # the next period
    data = staff_client.get(url(subscription)).json()["data"]["usage"]
    assert data["minutes"]["used"] == 0 and data["minutes"]["overage"] == 0
    assert data["extensions"]["used"] == 2
    record(staff_client, subscription, metric="minutes", quantity=4)
    counter = UsageCounter.objects.get(subscription=subscription, metric="minutes")
    subscription.refresh_from_db()
    assert counter.used == 4 and counter.period_start == subscription.current_period_start.date()


def test_a_period_that_moved_since_the_lookup_is_not_charged_to_the_old_one(staff_client):
    from subscriptions.lifecycle.usage import subscription_usage_record

    subscription = telephony_subscription()
    stale = type(subscription).objects.get(pk=subscription.pk)
    subscription_usage_record(subscription=stale, metric="minutes", amount=50)
    services.subscription_renew(subscription_id=subscription.pk, actor=None)
    result = subscription_usage_record(subscription=stale, metric="minutes", amount=5)  # looked up before
    assert result["usage"]["minutes"]["used"] == 5


def test_missing_counters_are_made_on_first_use(staff_client):
    subscription = telephony_subscription()
    UsageCounter.objects.filter(subscription=subscription).delete()
    assert record(staff_client, subscription, metric="minutes", quantity=2).status_code == 200
    assert UsageCounter.objects.filter(subscription=subscription).count() == 3


def test_a_pending_subscription_reads_zero(auth_client):
    subscription = telephony_subscription(user=auth_client.user, status="pending")
    data = auth_client.get(url(subscription)).json()["data"]
    assert data["periodStart"] is None and data["usage"]["minutes"]["used"] == 0
    assert data["usage"]["extensions"] == {"limit": 2, "used": 0, "remaining": 2}


def test_clock_is_the_subscriptions_clock(monkeypatch, staff_client):
    later = clock.now() + timedelta(days=3)
    monkeypatch.setattr(clock, "now", lambda: later)
    subscription = telephony_subscription()
    assert subscription.current_period_start == later


@pytest.mark.parametrize("limits", [{}, {"extensions": "Infinity", "includedMinutes": "NaN"},
                                    {"extensions": [2], "includedMinutes": {"a": 1}, "pricePerMinute": "x"},
                                    {"extensions": -3, "includedMinutes": 2.5, "pricePerMinute": True}])
def test_odd_plan_limits_read_as_zero(auth_client, limits):
    from plans.models import RatePlan

    subscription = telephony_subscription(user=auth_client.user)
    RatePlan.objects.filter(pk=subscription.plan_id).update(limits=limits)
    usage = auth_client.get(url(subscription)).json()["data"]["usage"]
    assert usage["minutes"]["included"] == 0 and usage["extensions"]["limit"] == 0
    assert usage["minutes"]["pricePerMinute"] == 0
