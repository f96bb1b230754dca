"""Regressions for reviewed defects: caller-scoped ledger keys, untruncated keys, `?tenant=` and
`?limit=` parsing, the seed's short-balance message, deactivated phone users."""

import json
from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import UserFactory
from config.idempotency import idempotency_records_purge
from credits import services
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user
from tenants.services import api_key_create

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"
NO_CREDITS = "You have no credits left. Please purchase a plan to continue."


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def second_key_client(tenant, scopes=("bot",)):
    _, raw = api_key_create(tenant=tenant, name="second bot", scopes=list(scopes))
    return APIClient(HTTP_X_BOT_SECRET=raw)


def balance_of(user) -> int:
    return Wallet.objects.get(user=user).balance


def forget_http_answers():
    """Drop the stored HTTP answers, so only the ledger key can keep an effect single."""
    idempotency_records_purge(older_than=timedelta(seconds=-1))


# --- 1. ledger keys are scoped per caller ---------------------------------------------------------

def test_two_keys_of_one_tenant_may_use_the_same_idempotency_key_on_one_user(bot_client, tenant):
    user = phone_user(tenant, PHONE, 10)
    other = second_key_client(tenant)
    first = post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    second = post(other, "/api/bot/deduct", {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert first.status_code == second.status_code == 200
    assert second.json()["data"]["transaction_id"] != first.json()["data"]["transaction_id"]
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
    assert again.json()["data"]["transaction_id"] == second.json()["data"]["transaction_id"]
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


# --- 2. ledger keys are never truncated -----------------------------------------------------------

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


# --- 3. ?tenant= on /api/users/<phone> -----------------------------------------------------------

@pytest.mark.parametrize("value", ["%00", "a%00b", "not a slug", "x" * 101, "%C3%A9t%C3%A9", ""])
def test_malformed_tenant_parameter_is_400_for_every_caller(bot_client, staff_client, client_for, tenant,
                                                              value):
    customer = phone_user(tenant, PHONE, 5)
    for client in (staff_client, bot_client, client_for(customer)):
        response = client.get(f"/api/users/{PHONE}?tenant={value}")
        assert response.status_code == 400, (client, response.content)
        body = response.json()
        assert body["status"] == "ERROR" and "tenant" in body["message"]


def test_tenant_parameter_is_ignored_for_keys_and_users(bot_client, client_for, tenant):
    from tenants.tests.factories import TenantFactory

    customer = phone_user(tenant, PHONE, 5)
    other = TenantFactory()
    for client in (bot_client, client_for(customer)):
        response = client.get(f"/api/users/{PHONE}?tenant={other.slug}")
        assert response.status_code == 200, response.content
        assert response.json()["data"]["id"] == customer.pk


def test_staff_tenant_parameter_still_filters(staff_client, tenant):
    phone_user(tenant, PHONE, 5)
    assert staff_client.get(f"/api/users/{PHONE}?tenant=no-such-tenant").status_code == 404
    assert staff_client.get(f"/api/users/{PHONE}?tenant={tenant.slug}").json()["data"]["credits"] == 5


# --- 4. ?limit= on /api/credits/history/<id> -----------------------------------------------------

def test_limit_with_leading_zeros_is_its_value(bot_client, tenant):
    customer = phone_user(tenant, PHONE, 5)
    data = bot_client.get(f"/api/credits/history/{customer.pk}?limit=0000000000005").json()["data"]
    assert data["total"] == 1 and len(data["transactions"]) == 1
    data = bot_client.get(f"/api/credits/history/{customer.pk}?limit=00000000000000000001").json()
    assert data["status"] == "SUCCESS" and len(data["data"]["transactions"]) == 1


@pytest.mark.parametrize("limit", ["9" * 5000, "1" * 4301, "0" * 5000, "9" * 40, "%EF%BC%95", "5 ", "+5"])
def test_nonsense_limit_is_400_not_500(bot_client, tenant, limit):
    customer = phone_user(tenant, PHONE, 5)
    response = bot_client.get(f"/api/credits/history/{customer.pk}?limit={limit}")
    assert response.status_code == 400, response.content[:200]
    assert response.json()["status"] == "ERROR"


def test_long_but_sane_limit_is_capped(bot_client, tenant):
    customer = phone_user(tenant, PHONE, 5)
    response = bot_client.get(f"/api/credits/history/{customer.pk}?limit=999999999999999")
    assert response.status_code == 200 and len(response.json()["data"]["transactions"]) == 1


# --- 5. the seed's message for every short balance -------------------------------------------------

@pytest.mark.parametrize(("balance", "credits"), [(0, 1), (4, 10), (1, 2), (999, 1000)])
def test_short_balance_is_the_seed_message(bot_client, tenant, balance, credits):
    user = phone_user(tenant, PHONE, balance)
    response = post(bot_client, "/api/bot/deduct", {"phone_number": PHONE, "credits": credits})
    assert response.status_code == 402
    assert response.json() == {"status": "INSUFFICIENT_CREDITS", "message": NO_CREDITS,
                               "data": {"remaining_credits": balance}}
    assert balance_of(user) == balance


# --- 6. deactivated phone users -----------------------------------------------------------------

def deactivate(user):
    User.objects.filter(pk=user.pk).update(is_active=False)


INACTIVE = {"status": "ERROR", "message": "User is inactive."}


def test_deactivated_user_is_not_charged(bot_client, tenant):
    user = phone_user(tenant, PHONE, 5)
    deactivate(user)
    for body, key in (({"phone_number": PHONE}, None), ({"phone_number": PHONE, "credits": 9}, None),
                      ({"phone_number": "98765 43210"}, "gen-1")):
        headers = {"HTTP_IDEMPOTENCY_KEY": key} if key else {}
        response = post(bot_client, "/api/bot/deduct", body, **headers)
        assert response.status_code == 403, response.content
        assert response.json() == INACTIVE
    assert balance_of(user) == 5
    assert not CreditTransaction.objects.filter(wallet__user=user, action="debit").exists()


def test_deactivated_user_credits_read_is_403(bot_client, tenant):
    user = phone_user(tenant, PHONE, 5)
    deactivate(user)
    response = bot_client.get(f"/api/bot/credits/{PHONE}")
    assert response.status_code == 403 and response.json() == INACTIVE


def test_deactivated_user_without_a_wallet_is_not_recreated_nor_given_one(bot_client, tenant):
    from accounts.tests.factories import PhoneUserFactory

    user = PhoneUserFactory(tenant=tenant, phone=PHONE, is_active=False)
    assert bot_client.get(f"/api/bot/credits/{PHONE}").status_code == 403
    assert post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}).status_code == 403
    assert User.objects.filter(tenant=tenant, phone=PHONE).count() == 1
    assert not Wallet.objects.filter(user=user).exists()
    assert not CreditTransaction.objects.exists()


def test_reactivated_user_is_charged_again(bot_client, tenant):
    user = phone_user(tenant, PHONE, 5)
    deactivate(user)
    assert post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}).status_code == 403
    User.objects.filter(pk=user.pk).update(is_active=True)
    assert post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}).status_code == 200
    assert balance_of(user) == 4


def test_deactivated_user_costs_no_extra_query_on_the_hot_path(bot_client, tenant,
                                                              django_assert_max_num_queries):
    phone_user(tenant, PHONE, 5)
    bot_client.get(f"/api/bot/credits/{PHONE}")  # records last_used_at (once a minute)
    with django_assert_max_num_queries(2):  # the key (with its tenant); the deduction by phone
        assert post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}).status_code == 200
