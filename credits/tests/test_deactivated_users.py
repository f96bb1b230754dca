"""Deactivated phone users: refused (403 "User is inactive.") on the bot API, never charged,
never recreated nor given a wallet; charged again once reactivated."""

import json

import pytest

from accounts.models import User
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def balance_of(user) -> int:
    return Wallet.objects.get(user=user).balance


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


@pytest.mark.postgres_only  # counts the PostgreSQL path's queries
def test_deactivated_user_costs_no_extra_query_on_the_hot_path(bot_client, tenant,
                                                              django_assert_max_num_queries):
    phone_user(tenant, PHONE, 5)
    bot_client.get(f"/api/bot/credits/{PHONE}")  # records last_used_at (once a minute)
    with django_assert_max_num_queries(2):  # the key (with its tenant); the deduction by phone
        assert post(bot_client, "/api/bot/deduct", {"phone_number": PHONE}).status_code == 200
