"""GET /api/wallet and /api/wallet/transactions (success envelope, JWT)."""

from datetime import timedelta

import pytest
from django.utils import timezone

from credits import services
from credits.models import CreditTransaction
from credits.tests.factories import funded_wallet

pytestmark = pytest.mark.django_db


def test_balance_before_and_after_the_wallet_exists(auth_client):
    empty = auth_client.get("/api/wallet")
    assert empty.json() == {"success": True, "data": {"balance": 0, "updated_at": None}}
    funded_wallet(7, user=auth_client.user)
    data = auth_client.get("/api/wallet").json()["data"]
    assert data["balance"] == 7 and data["updated_at"]


def test_wallet_needs_a_person(api_client, bot_client):
    assert api_client.get("/api/wallet").status_code == 401
    assert bot_client.get("/api/wallet").status_code == 401
    assert api_client.get("/api/wallet/transactions").json()["success"] is False


@pytest.fixture
def history(auth_client):
    wallet = funded_wallet(20, user=auth_client.user)  # 1 adjustment credit
    for n in range(1, 6):
        services.wallet_deduct(wallet=wallet, credits=n, reference_id=f"gen{n}")
    services.wallet_grant(wallet=wallet, credits=4, source="refund")
    funded_wallet(9)  # someone else's
    return wallet


def test_transactions_are_mine_newest_first_and_paginated(auth_client, history):
    data = auth_client.get("/api/wallet/transactions?page_size=3").json()["data"]
    assert data["count"] == 7 and data["total_pages"] == 3 and data["page"] == 1 and data["page_size"] == 3
    assert [(t["action"], t["credits"]) for t in data["results"]] == [("credit", 4), ("debit", 5), ("debit", 4)]
    last = auth_client.get("/api/wallet/transactions?page_size=3&page=3").json()["data"]
    assert [(t["action"], t["credits"], t["source"]) for t in last["results"]] == [("credit", 20, "adjustment")]
    beyond = auth_client.get("/api/wallet/transactions?page_size=3&page=9").json()["data"]
    assert beyond["results"] == [] and beyond["count"] == 7


def test_transaction_filters(auth_client, history):
    def get(query):
        return auth_client.get(f"/api/wallet/transactions?{query}").json()["data"]

    assert get("action=debit")["count"] == 5
    assert get("source=refund")["count"] == 1
    assert get("action=credit&source=usage")["count"] == 0
    today = timezone.now().date()
    assert get(f"created_after={today}&created_before={today}")["count"] == 7
    assert get(f"created_after={today + timedelta(days=1)}")["count"] == 0
    assert get(f"created_before={today - timedelta(days=1)}")["count"] == 0


@pytest.mark.parametrize("query", ["action=steal", "source=gift", "created_after=yesterday",
                                   "created_before=2024-13-01", "page=0", "page=x", "page_size=101",
                                   "page_size=-1"])
def test_bad_filters_are_400(auth_client, history, query):
    response = auth_client.get(f"/api/wallet/transactions?{query}")
    assert response.status_code == 400
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == "invalid_query" and body["error"]["message"]


def test_transactions_query_count_is_bounded(auth_client, history, django_assert_max_num_queries):
    for _ in range(10):
        services.wallet_grant(wallet=history, credits=1, source="adjustment")
    with django_assert_max_num_queries(3):  # user, count, page
        assert auth_client.get("/api/wallet/transactions?page_size=50").status_code == 200
    assert CreditTransaction.objects.filter(wallet=history).count() == 17
