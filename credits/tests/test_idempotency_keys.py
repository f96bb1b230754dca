"""Ledger idempotency keys (the second line of defence behind the stored HTTP answers): scoped
per caller, so two callers may use the same key, and never truncated, so long keys stay distinct."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from config.idempotency import idempotency_records_purge
from credits import services
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user
from tenants.services import api_key_create

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def balance_of(user) -> int:
    return Wallet.objects.get(user=user).balance


def second_key_client(tenant, scopes=("bot",)):
    _, raw = api_key_create(tenant=tenant, name="second bot", scopes=list(scopes))
    return APIClient(HTTP_X_BOT_SECRET=raw)


def forget_http_answers():
    """Drop the stored HTTP answers, so only the ledger key can keep an effect single."""
    idempotency_records_purge(older_than=timedelta(seconds=-1))


# Scoped per caller ---------------------------------------------------------------------------

def test_two_keys_of_one_tenant_may_use_the_same_idempotency_key_on_one_user(bot_client, tenant):
    user = phone_user(tenant, PHONE, 10)
    other = second_key_client(tenant)
    first = post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    second = post(other, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert first.status_code == second.status_code == 200
    debits = CreditTransaction.objects.filter(wallet__user=user, action="debit")
    assert debits.count() == 2
    assert balance_of(user) == 8
    # Another amount under the same key is not a reuse by that caller: no 409.
    third = second_key_client(tenant)
    changed = post(third, "/api/bot/deduct", {"phone_number": PHONE, "credits": 3}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert changed.status_code == 200, changed.content
    assert balance_of(user) == 5
    # The same caller retrying (after its stored answer is gone) still replays.
    forget_http_answers()
    again = post(other, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert again.status_code == 200
    assert debits.count() == 3  # the two keyed debits and the 3-credit one; no fourth
    assert balance_of(user) == 5


def test_tenant_deduct_keys_are_scoped_per_api_key(bot_client, tenant):
    services.wallet_grant(wallet=services.wallet_get_or_create_for_tenant(tenant=tenant), credits=10,
                          source="allocation")
    other = second_key_client(tenant)
    first = post(bot_client, "/api/v1/credits/deduct", {"credits": 2}, HTTP_IDEMPOTENCY_KEY="sms-1")
    second = post(other, "/api/v1/credits/deduct", {"credits": 3}, HTTP_IDEMPOTENCY_KEY="sms-1")
    assert first.status_code == 200 and second.status_code == 200, second.content
    assert second.json()["data"]["wallet"]["balance"] == 5
    forget_http_answers()
    again = post(other, "/api/v1/credits/deduct", {"credits": 3}, HTTP_IDEMPOTENCY_KEY="sms-1")
    assert again.json()["data"]["transaction"]["id"] == second.json()["data"]["transaction"]["id"]
    assert services.wallet_get_or_create_for_tenant(tenant=tenant).balance == 5


def test_two_staff_may_use_the_same_idempotency_key_on_the_master_wallet(staff_client, client_for, tenant):
    colleague = client_for(UserFactory(is_staff=True))
    for client, credits in ((staff_client, 100), (colleague, 50)):
        response = post(client, "/api/v1/admin/credits/purchase", {"credits": credits},
                        HTTP_IDEMPOTENCY_KEY="buy-1")
        assert response.status_code == 201, response.content
    assert services.wallet_get_platform().balance == 150
    for client, credits in ((staff_client, 10), (colleague, 20)):
        response = post(client, "/api/v1/admin/credits/allocate", {"tenant_id": tenant.pk, "credits": credits},
                        HTTP_IDEMPOTENCY_KEY="alloc-1")
        assert response.status_code == 201, response.content
    assert services.wallet_get_platform().balance == 120
    assert services.wallet_get_or_create_for_tenant(tenant=tenant).balance == 30
    # Each staff member's own retry still replays, for both endpoints.
    forget_http_answers()
    assert post(colleague, "/api/v1/admin/credits/purchase", {"credits": 50},
                HTTP_IDEMPOTENCY_KEY="buy-1").status_code == 201
    assert post(colleague, "/api/v1/admin/credits/allocate", {"tenant_id": tenant.pk, "credits": 20},
                HTTP_IDEMPOTENCY_KEY="alloc-1").status_code == 201
    assert services.wallet_get_platform().balance == 120
    assert CreditTransaction.objects.filter(wallet=services.wallet_get_platform()).count() == 4


# Never truncated -----------------------------------------------------------------------------

def test_long_idempotency_keys_that_share_a_prefix_stay_distinct(bot_client, tenant):
    user = phone_user(tenant, PHONE, 10)
    key_a, key_b = "k" * 254 + "a", "k" * 254 + "b"
    for key in (key_a, key_b):
        response = post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY=key)
        assert response.status_code == 200
    assert balance_of(user) == 8
    keys = list(CreditTransaction.objects.filter(wallet__user=user, action="debit")
                .values_list("idempotency_key", flat=True))
    assert len(set(keys)) == 2 and all(len(k) <= 255 for k in keys)
    # A long key still replays once its stored HTTP answer is gone.
    forget_http_answers()
    again = post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY=key_a)
    assert again.status_code == 200 and balance_of(user) == 8


def test_long_keys_stay_distinct_for_tenant_deduct_and_purchase(bot_client, staff_client, tenant):
    services.wallet_grant(wallet=services.wallet_get_or_create_for_tenant(tenant=tenant), credits=10,
                          source="allocation")
    for suffix in "ab":
        key = "x" * 254 + suffix
        assert post(bot_client, "/api/v1/credits/deduct", {"credits": 1},
                    HTTP_IDEMPOTENCY_KEY=key).status_code == 200
        assert post(staff_client, "/api/v1/admin/credits/purchase", {"credits": 5},
                    HTTP_IDEMPOTENCY_KEY=key).status_code == 201
    assert services.wallet_get_or_create_for_tenant(tenant=tenant).balance == 8
    assert services.wallet_get_platform().balance == 10
