"""Seed 003's bot API: every message and status, auth, idempotency."""

import json
from urllib.parse import quote

import pytest
from rest_framework.test import APIClient

from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user
from tenants.services import api_key_create, tenant_set_status
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"
NO_CREDITS = "You have no credits left. Please purchase a plan to continue."


def deduct(client, body, **headers):
    return client.post("/api/bot/deduct", data=json.dumps(body), content_type="application/json", **headers)


def balance_of(user) -> int:
    return Wallet.objects.get(user=user).balance


@pytest.mark.parametrize(("balance", "message"), [
    (2, "You have 2 credits remaining."),
    (1, "You have 1 credit remaining."),
    (0, NO_CREDITS),
    (1000, "You have 1000 credits remaining."),
])
def test_get_credits_messages(bot_client, tenant, balance, message):
    phone_user(tenant, PHONE, balance)
    response = bot_client.get(f"/api/bot/credits/{PHONE}")
    assert response.status_code == 200
    assert response.json() == {"status": "SUCCESS", "message": message,
                               "data": {"remaining_credits": balance, "user_exists": True}}


def test_first_access_creates_the_user_with_signup_credits(bot_client, tenant):
    first = bot_client.get("/api/bot/credits/9876543210")
    assert first.json() == {"status": "SUCCESS", "message": "You have 3 credits remaining.",
                            "data": {"remaining_credits": 3, "user_exists": False}}
    again = bot_client.get(f"/api/bot/credits/{quote('+91 98765 43210')}")
    assert again.json()["data"] == {"remaining_credits": 3, "user_exists": True}
    row = CreditTransaction.objects.get(wallet__user__phone=PHONE, wallet__user__tenant=tenant)
    assert (row.source, row.credits, row.action) == ("signup_bonus", 3, "credit")


@pytest.mark.parametrize(("balance", "credits", "message", "left"), [
    (2, 1, "Image generated successfully. You have 1 credit remaining.", 1),
    (3, 1, "Image generated successfully. You have 2 credits remaining.", 2),
    (1, 1, "Image generated successfully. You have no credits left.", 0),
    (10, 4, "Image generated successfully. You have 6 credits remaining.", 6),
])
def test_deduct_messages(bot_client, tenant, balance, credits, message, left):
    user = phone_user(tenant, PHONE, balance)
    body = {"phone_number": "98765 43210"} if credits == 1 else {"phone_number": PHONE, "credits": credits}
    response = deduct(bot_client, body)
    assert response.status_code == 200
    payload = response.json()
    assert payload["status"] == "SUCCESS" and payload["message"] == message
    assert payload["data"] == {"remaining_credits": left}  # seed 003's data, exactly
    assert balance_of(user) == left


@pytest.mark.parametrize(("balance", "credits", "message"), [
    (0, 1, NO_CREDITS),
    (1, 2, NO_CREDITS),  # seed 003: the one sentence for any short balance
    (3, 5, NO_CREDITS),
])
def test_insufficient_credits_is_402_and_deducts_nothing(bot_client, tenant, balance, credits, message):
    user = phone_user(tenant, PHONE, balance)
    response = deduct(bot_client, {"phone_number": PHONE, "credits": credits})
    assert response.status_code == 402
    assert response.json() == {"status": "INSUFFICIENT_CREDITS", "message": message,
                               "data": {"remaining_credits": balance}}
    assert balance_of(user) == balance
    assert not CreditTransaction.objects.filter(wallet__user=user, action="debit").exists()


def test_deduct_for_a_new_number_creates_the_user_first(bot_client):
    response = deduct(bot_client, {"phone_number": "+91 98765 43210"})
    assert response.json()["message"] == "Image generated successfully. You have 2 credits remaining."


def test_deduct_records_reference_label_and_key(bot_client, tenant, api_key):
    user = phone_user(tenant, PHONE, 5)
    response = deduct(bot_client, {"phone_number": PHONE, "source": "image_generation", "reference_id": "img_42"})
    assert response.status_code == 200
    row = CreditTransaction.objects.get(wallet__user=user, action="debit")
    assert row.wallet.user == user and row.source == "usage" and row.reference_id == "img_42"
    assert row.metadata == {"api_key": api_key[0].prefix, "label": "image_generation"}


@pytest.mark.parametrize("body", [
    {}, {"credits": 1}, {"phone_number": PHONE, "credits": 0}, {"phone_number": PHONE, "credits": -1},
    {"phone_number": PHONE, "credits": "1"}, {"phone_number": PHONE, "credits": 1.5},
    {"phone_number": PHONE, "credits": True}, {"phone_number": PHONE, "credits": 1001},
    {"phone_number": PHONE, "credits": 10**30}, {"phone_number": PHONE, "amount": 1},
    {"phone_number": 9876543210}, {"phone_number": "not a phone"}, {"phone_number": ""},
    {"phone_number": PHONE, "source": "no spaces allowed"}, {"phone_number": PHONE, "reference_id": "x" * 256},
])
def test_bad_deduct_bodies_are_400(bot_client, tenant, body):
    user = phone_user(tenant, PHONE, 5)
    response = deduct(bot_client, body)
    assert response.status_code == 400, response.content
    payload = response.json()
    assert payload["status"] == "ERROR" and payload["message"]
    assert balance_of(user) == 5


def test_malformed_json_is_400(bot_client):
    response = bot_client.post("/api/bot/deduct", data="{", content_type="application/json")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"


def test_invalid_phone_in_path_is_400(bot_client):
    response = bot_client.get("/api/bot/credits/12abc")
    assert response.status_code == 400
    assert response.json() == {"status": "ERROR", "message": "Invalid phone number."}


def test_bot_endpoints_need_a_valid_key(tenant):
    anonymous = APIClient()
    for response in (anonymous.get(f"/api/bot/credits/{PHONE}"), deduct(anonymous, {"phone_number": PHONE}),
                     anonymous.get(f"/api/bot/credits/{PHONE}", HTTP_X_BOT_SECRET="kosh_nope_nope")):
        assert response.status_code == 401
        assert response.json()["status"] == "ERROR"
    _, raw = api_key_create(tenant=tenant, name="payments only", scopes=["payments"])
    scoped = APIClient(HTTP_X_BOT_SECRET=raw)
    assert scoped.get(f"/api/bot/credits/{PHONE}").status_code == 403
    # Authorization: Api-Key works as well as X-Bot-Secret.
    _, raw = api_key_create(tenant=tenant, name="bot", scopes=["bot"])
    assert APIClient(HTTP_AUTHORIZATION=f"Api-Key {raw}").get(f"/api/bot/credits/{PHONE}").status_code == 200


def test_user_jwt_is_not_a_bot_key(auth_client):
    assert auth_client.get(f"/api/bot/credits/{PHONE}").status_code == 401


def test_suspended_tenant_key_is_403_and_nothing_is_deducted(bot_client, tenant):
    user = phone_user(tenant, PHONE, 5)
    tenant_set_status(tenant=tenant, status="suspended")
    response = deduct(bot_client, {"phone_number": PHONE})
    assert response.status_code == 403
    assert response.json()["status"] == "ERROR"
    assert bot_client.get(f"/api/bot/credits/{PHONE}").status_code == 403
    assert balance_of(user) == 5


def test_another_tenants_key_never_touches_this_tenants_user(bot_client, tenant):
    other = TenantFactory()
    theirs = phone_user(other, PHONE, 9)
    response = bot_client.get(f"/api/bot/credits/{PHONE}")
    assert response.json()["data"] == {"remaining_credits": 3, "user_exists": False}
    deduct(bot_client, {"phone_number": PHONE, "credits": 3})
    assert balance_of(theirs) == 9
    assert not CreditTransaction.objects.filter(wallet__user=theirs, action="debit").exists()


def test_idempotent_replay_and_conflict(bot_client, tenant):
    user = phone_user(tenant, PHONE, 5)
    first = deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    again = deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert first.status_code == again.status_code == 200
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert balance_of(user) == 4
    changed = deduct(bot_client, {"phone_number": PHONE, "credits": 2}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert changed.status_code == 409
    assert changed.json() == {"status": "ERROR",
                              "message": "Idempotency-Key was already used with a different request body."}
    assert balance_of(user) == 4
    other = deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-2")
    assert other.json()["data"]["remaining_credits"] == 3


def test_ledger_keeps_the_effect_single_after_the_stored_answer_is_gone(bot_client, tenant):
    from config.idempotency import idempotency_records_purge

    user = phone_user(tenant, PHONE, 5)
    deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    from datetime import timedelta
    idempotency_records_purge(older_than=timedelta(seconds=-1))
    again = deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert again.status_code == 200 and balance_of(user) == 4


@pytest.mark.postgres_only  # counts the PostgreSQL path's queries
def test_deduct_request_is_one_sql_statement_once_the_key_is_cached(bot_client, tenant):
    """P2 (issue 16): the key comes from the cache; the deduction and its ledger row are one
    statement."""
    from django.db import connection
    from django.test.utils import CaptureQueriesContext

    phone_user(tenant, PHONE, 5)
    bot_client.get(f"/api/bot/credits/{PHONE}")  # caches the key, records last_used_at
    with CaptureQueriesContext(connection) as captured:
        response = deduct(bot_client, {"phone_number": PHONE})
    assert response.status_code == 200 and response.json()["data"]["remaining_credits"] == 4
    assert len(captured.captured_queries) == 1
    assert captured.captured_queries[0]["sql"].split()[:2] == ["WITH", "moved"]


@pytest.mark.postgres_only
def test_the_deduction_statement_is_prepared_once_per_connection(bot_client, tenant):
    """PostgreSQL parses and plans the bot's deduction once per connection (config.db)."""
    from django.db import connection

    phone_user(tenant, PHONE, 5)
    for left in (4, 3, 2):
        assert deduct(bot_client, {"phone_number": PHONE}).json()["data"]["remaining_credits"] == left
    with connection.cursor() as cursor:
        cursor.execute("SELECT statement FROM pg_prepared_statements")
        prepared = [row[0] for row in cursor.fetchall()]
    assert len([sql for sql in prepared if "WITH moved AS" in sql and "u.phone" in sql]) == 1


@pytest.mark.parametrize(("balance", "credits"), [(0, 1), (4, 10), (1, 2), (999, 1000)])
def test_short_balance_is_the_seed_message(bot_client, tenant, balance, credits):
    user = phone_user(tenant, PHONE, balance)
    response = deduct(bot_client, {"phone_number": PHONE, "credits": credits})
    assert response.status_code == 402
    assert response.json() == {"status": "INSUFFICIENT_CREDITS", "message": NO_CREDITS,
                               "data": {"remaining_credits": balance}}
    assert balance_of(user) == balance
