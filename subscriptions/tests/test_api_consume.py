"""POST api/tokens/consume: callers, refusals, idempotency and the query budget."""

from datetime import date, timedelta

import pytest
from django.db import connection, transaction
from django.test.utils import CaptureQueriesContext
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from subscriptions.models import UsageCounter
from subscriptions.services import CONSUME_MAX
from subscriptions.tests.factories import token_state
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

CONSUME = "/api/tokens/consume"


def consume(client, body, **extra):
    return client.post(CONSUME, body, format="json", **extra)


def used(user) -> int:
    return UsageCounter.objects.get(subscription__user=user, subscription__status="active").used


def key_client(raw) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_X_BOT_SECRET=raw)
    return client


def test_consume_returns_usage_fields(auth_client, clock):
    token_state(user=auth_client.user, plan="standard", end=clock.now + timedelta(days=1))
    response = consume(auth_client, {"tokens": 1_234})
    assert response.status_code == 200
    assert response.json() == {"plan": "standard", "token_quota": 10_000, "token_used": 1_234,
                               "remaining": 8_766, "plan_end_at": "2025-01-16T12:00:00Z"}


def test_consume_refuses_past_the_quota_with_remaining(auth_client):
    token_state(user=auth_client.user, used=990)
    response = consume(auth_client, {"tokens": 11})
    assert (response.status_code, response.json()) == (402, {"error": "quota exceeded", "remaining": 10})
    assert used(auth_client.user) == 990
    assert consume(auth_client, {"tokens": 10}).json()["remaining"] == 0


def test_first_consume_provisions_basic(auth_client):
    response = consume(auth_client, {"tokens": 1})
    assert response.status_code == 200 and response.json()["token_quota"] == 1000


def test_api_key_consumes_for_a_user_of_its_tenant(api_key):
    key, raw = api_key
    member = UserFactory(tenant=key.tenant)
    token_state(user=member)
    client = key_client(raw)
    response = consume(client, {"tokens": 40, "user_id": member.pk})
    assert response.status_code == 200 and response.json()["token_used"] == 40
    # Authorization: Api-Key works too.
    other = APIClient()
    other.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    assert consume(other, {"tokens": 2, "user_id": member.pk}).json()["token_used"] == 42


def test_api_key_for_another_tenant_or_unknown_user_is_404(api_key):
    _, raw = api_key
    outsider = UserFactory(tenant=TenantFactory())
    token_state(user=outsider)
    client = key_client(raw)
    for user_id in (outsider.pk, 10**12):
        response = consume(client, {"tokens": 1, "user_id": user_id})
        assert (response.status_code, response.json()) == (404, {"error": "user not found"})
    assert used(outsider) == 0


def test_api_key_needs_user_id_and_the_tokens_scope(tenant, api_key):
    from tenants.services import api_key_create

    response = consume(key_client(api_key[1]), {"tokens": 1})
    assert (response.status_code, response.json()) == (400, {"error": "user_id required"})
    _, raw = api_key_create(tenant=tenant, name="payments only", scopes=["payments"])
    member = UserFactory(tenant=tenant)
    response = consume(key_client(raw), {"tokens": 1, "user_id": member.pk})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})


def test_staff_consumes_for_another_user_and_users_only_for_themselves(staff_client, auth_client):
    customer = UserFactory()
    assert consume(staff_client, {"tokens": 5, "user_id": customer.pk}).status_code == 200
    assert used(customer) == 5
    response = consume(auth_client, {"tokens": 5, "user_id": customer.pk})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})
    assert used(customer) == 5
    assert consume(auth_client, {"tokens": 5, "user_id": auth_client.user.pk}).status_code == 200


def test_suspended_subscription_cannot_consume(auth_client):
    token_state(user=auth_client.user, status="suspended")
    response = consume(auth_client, {"tokens": 1})
    assert (response.status_code, response.json()) == (403, {"error": "subscription not active"})


# --- idempotency ---------------------------------------------------------------------------

def test_same_key_and_body_replays_without_consuming_again(auth_client):
    token_state(user=auth_client.user)
    first = consume(auth_client, {"tokens": 100}, HTTP_IDEMPOTENCY_KEY="k-1")
    again = consume(auth_client, {"tokens": 100}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == again.status_code == 200
    assert first.json() == again.json() and again.json()["token_used"] == 100
    assert again["Idempotent-Replayed"] == "true"
    assert used(auth_client.user) == 100
    other = consume(auth_client, {"tokens": 100}, HTTP_IDEMPOTENCY_KEY="k-2")
    assert other.json()["token_used"] == 200


def test_same_key_with_another_body_is_409(auth_client):
    token_state(user=auth_client.user)
    consume(auth_client, {"tokens": 100}, HTTP_IDEMPOTENCY_KEY="k-1")
    response = consume(auth_client, {"tokens": 101}, HTTP_IDEMPOTENCY_KEY="k-1")
    assert response.status_code == 409
    assert set(response.json()) == {"error"} and "Idempotency-Key" in response.json()["error"]
    assert used(auth_client.user) == 100


def test_refusals_are_not_stored_under_the_key(auth_client):
    token_state(user=auth_client.user, used=1_000)
    assert consume(auth_client, {"tokens": 5}, HTTP_IDEMPOTENCY_KEY="k").status_code == 402
    UsageCounter.objects.filter(subscription__user=auth_client.user).update(used=0)
    response = consume(auth_client, {"tokens": 5}, HTTP_IDEMPOTENCY_KEY="k")
    assert response.status_code == 200 and response.json()["token_used"] == 5


def test_keys_are_scoped_per_caller(client_for):
    a, b = UserFactory(), UserFactory()
    for user in (a, b):
        token_state(user=user)
        assert consume(client_for(user), {"tokens": 7}, HTTP_IDEMPOTENCY_KEY="same").status_code == 200
    assert used(a) == used(b) == 7


# --- input ---------------------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {}, {"tokens": 0}, {"tokens": -5}, {"tokens": "5"}, {"tokens": 5.0}, {"tokens": 5.5},
    {"tokens": True}, {"tokens": None}, {"tokens": [5]}, {"tokens": CONSUME_MAX + 1},
    {"tokens": 10**40}, {"tokens": 5, "user_id": "1"}, {"tokens": 5, "user_id": -1},
    {"tokens": 5, "note": "x"}, [5], 5, "5", None,
])
def test_consume_malformed_bodies(auth_client, body):
    token_state(user=auth_client.user)
    response = consume(auth_client, body)
    assert (response.status_code, response.json()) == (400, {"error": "invalid body"})
    assert used(auth_client.user) == 0


@pytest.mark.parametrize("raw", [b"{", b'{"tokens": 1e400}', b'{"tokens": NaN}', b"\x00"])
def test_consume_unparseable_json(auth_client, raw):
    response = auth_client.post(CONSUME, raw, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"error": "invalid body"})


def test_bad_idempotency_key_is_400(auth_client):
    response = consume(auth_client, {"tokens": 1}, HTTP_IDEMPOTENCY_KEY="x" * 300)
    assert response.status_code == 400 and set(response.json()) == {"error"}


# --- the query budget ----------------------------------------------------------------------

@pytest.mark.postgres_only  # counts the PostgreSQL path's queries
def test_consume_request_costs_at_most_two_queries(auth_client, django_assert_max_num_queries):
    token_state(user=auth_client.user, period_start=date(2024, 12, 1), used=300)  # stale, too
    with django_assert_max_num_queries(2):  # the JWT user (not cached yet) + the update
        response = consume(auth_client, {"tokens": 10})
    assert response.json()["token_used"] == 10
    with CaptureQueriesContext(connection) as captured:
        consume(auth_client, {"tokens": 10})
    statements = [q["sql"].lstrip().split()[0].upper() for q in captured.captured_queries]
    assert statements == ["UPDATE"]  # the JWT user comes from the cache


@pytest.mark.postgres_only  # counts the PostgreSQL path's queries
def test_api_key_consume_costs_at_most_two_queries(api_key, django_assert_max_num_queries):
    key, raw = api_key
    member = UserFactory(tenant=key.tenant)
    token_state(user=member)
    client = key_client(raw)
    consume(client, {"tokens": 1, "user_id": member.pk})  # stamps last_used_at, caches the key
    with django_assert_max_num_queries(2):
        response = consume(client, {"tokens": 1, "user_id": member.pk})
    assert response.json()["token_used"] == 2


def test_usage_request_costs_one_query_once_the_user_is_cached(auth_client, django_assert_num_queries):
    token_state(user=auth_client.user)
    with django_assert_num_queries(2):  # the JWT user, then the counter
        assert auth_client.get("/api/tokens/usage").status_code == 200
    with django_assert_num_queries(1):
        assert auth_client.get("/api/tokens/usage").status_code == 200


def _prepared_on_this_connection() -> list[str]:
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        return [row[0] for row in cursor.fetchall()]


@pytest.mark.postgres_only
def test_usage_reads_the_prepared_statement_after_a_rolled_back_transaction(auth_client):
    """The peek is a statement PostgreSQL prepares once per connection; a rollback does not
    break it."""
    token_state(user=auth_client.user)
    assert auth_client.get("/api/tokens/usage").json()["token_used"] == 0
    with pytest.raises(RuntimeError), transaction.atomic():
        auth_client.get("/api/tokens/usage")
        raise RuntimeError
    with CaptureQueriesContext(connection) as captured:
        assert auth_client.get("/api/tokens/usage").json()["token_used"] == 0
    assert len(captured.captured_queries) == 1
    peeks = [sql for sql in _prepared_on_this_connection() if "current_period_end" in sql]
    assert len(peeks) == 1 and captured.captured_queries[0]["sql"].strip().startswith("SELECT p.code")


@pytest.mark.parametrize("prepared", [True, False])
def test_usage_is_the_same_with_or_without_prepared_statements(auth_client, settings, prepared):
    settings.DB_PREPARED_STATEMENTS = prepared
    token_state(user=auth_client.user)
    consume(auth_client, {"tokens": 3})
    body = auth_client.get("/api/tokens/usage").json()
    assert (body["plan"], body["token_used"], body["remaining"]) == ("basic", 3, 997)
