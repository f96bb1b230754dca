"""Phone sign-in reaches the bot's user and wallet (DESIGN §4.9, seed 003): the web (a code) and the
bot (an API key) see one balance and one history."""

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.merge import account_merge
from accounts.models import User
from accounts.tests.factories import PhoneUserFactory, UserFactory
from config.errors import Conflict
from credits import services
from credits.models import CreditTransaction, Wallet
from credits.selectors import user_history
from credits.tests.factories import phone_user
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"
VERIFY = "/api/auth/phone/verify"


@pytest.fixture
def demo(settings, tenant):
    settings.DEFAULT_TENANT_SLUG = tenant.slug
    return tenant


def sign_in(phone_code, phone=PHONE) -> APIClient:
    code = phone_code(phone)
    response = APIClient().post(VERIFY, {"phone_number": phone, "code": code}, format="json")
    assert response.status_code == 200, response.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {response.json()['data']['access']}")
    client.user = User.objects.get(pk=response.json()["data"]["user"]["id"])
    return client


def test_a_new_number_gets_the_tenants_signup_credits_as_from_the_bot(demo, phone_code, bot_client):
    demo.settings = {"free_signup_credits": 7}
    demo.save()
    web = sign_in(phone_code)
    wallet = Wallet.objects.get(user=web.user)
    assert wallet.balance == 7
    grant = CreditTransaction.objects.get(wallet=wallet)
    assert (grant.action, grant.source, grant.credits) == ("credit", "signup_bonus", 7)
    bot = bot_client.get(f"/api/bot/credits/{PHONE}").json()
    assert bot["data"] == {"remaining_credits": 7, "user_exists": True}
    assert User.objects.filter(phone=PHONE).count() == 1


def test_without_a_tenant_override_free_signup_credits_apply(demo, phone_code, settings):
    settings.FREE_SIGNUP_CREDITS = 4
    demo.settings = {}
    demo.save()
    assert Wallet.objects.get(user=sign_in(phone_code).user).balance == 4


def test_web_and_bot_see_one_balance_and_one_history(demo, phone_code, bot_client):
    bot_user = phone_user(demo, PHONE, 38)
    web = sign_in(phone_code)
    assert web.user.pk == bot_user.pk
    profile = web.get(f"/api/users/{PHONE}")
    assert profile.status_code == 200
    assert profile.json()["data"]["credits"] == 38 and profile.json()["data"]["id"] == bot_user.pk

    deducted = bot_client.post("/api/bot/deduct", {"phone_number": PHONE}, format="json")
    assert deducted.json()["data"]["remaining_credits"] == 37
    assert web.get(f"/api/users/{PHONE}").json()["data"]["credits"] == 37
    history = web.get(f"/api/credits/history/{bot_user.pk}").json()["data"]
    assert history["total"] == 2 and history["transactions"][0]["action"] == "debit"
    assert bot_client.get(f"/api/credits/history/{bot_user.pk}").json()["data"] == history


def test_a_signed_in_phone_user_sees_only_themself(demo, phone_code):
    other = phone_user(demo, "+919876500001", 5)
    web = sign_in(phone_code)
    assert web.get(f"/api/users/{other.phone}").status_code == 404
    assert web.get(f"/api/credits/history/{other.pk}").status_code == 404


# --- the wallet's part in a merge ---------------------------------------------------------------------

def test_merge_moves_the_balance_by_a_paired_transfer_and_joins_the_history(demo):
    web_user = UserFactory()
    services.wallet_grant(wallet=services.wallet_get_or_create_for_user(user=web_user), credits=20,
                          source="payment", reference_id="pay_web")
    bot_user = phone_user(demo, PHONE, 38)
    summary = account_merge(survivor=web_user, retired=bot_user, actor=web_user)
    assert summary["credits_moved"] == 38 and summary["merged_user_id"] == bot_user.pk

    debit, credit = CreditTransaction.objects.filter(source="transfer").order_by("id")
    assert debit.transfer_id == credit.transfer_id
    assert (debit.wallet.user_id, debit.action, debit.credits, debit.balance_after) == (bot_user.pk, "debit", 38, 0)
    assert (credit.wallet.user_id, credit.action, credit.credits, credit.balance_after) == (web_user.pk, "credit",
                                                                                           38, 58)
    assert debit.reference_id == credit.reference_id == f"account-merge:{bot_user.pk}"
    assert Wallet.objects.get(user=web_user).balance == 58
    assert Wallet.objects.get(user=bot_user).balance == 0
    call_command("audit_ledger")  # raises on any disagreement

    rows, total = user_history(user=web_user, limit=50)
    assert total == 4  # web payment, bot's funds, and both sides of the transfer
    assert {r.wallet.user_id for r in rows} == {web_user.pk, bot_user.pk}


def test_merging_an_empty_or_absent_wallet_moves_nothing(demo):
    web_user = UserFactory()
    absent = PhoneUserFactory(tenant=demo, phone="+919876500002")
    assert account_merge(survivor=web_user, retired=absent)["credits_moved"] == 0
    empty = phone_user(demo, "+919876500003", 0)
    assert account_merge(survivor=web_user, retired=empty)["credits_moved"] == 0
    assert not CreditTransaction.objects.filter(source="transfer").exists()


def test_the_bot_finds_the_merged_account(demo, bot_client):
    web_user = UserFactory()
    bot_user = phone_user(demo, PHONE, 38)
    account_merge(survivor=web_user, retired=bot_user)
    answer = bot_client.get(f"/api/bot/credits/{PHONE}").json()
    assert answer["data"] == {"remaining_credits": 38, "user_exists": True}
    assert bot_client.get(f"/api/users/{PHONE}").json()["data"]["id"] == web_user.pk
    assert bot_client.post("/api/bot/deduct", {"phone_number": PHONE}, format="json").json()["data"][
        "remaining_credits"] == 37
    assert Wallet.objects.get(user=web_user).balance == 37
    history = bot_client.get(f"/api/credits/history/{web_user.pk}").json()["data"]
    assert history["total"] == 4 and all(t["user_id"] == web_user.pk for t in history["transactions"])
    bot_user.refresh_from_db()
    assert (bot_user.is_active, bot_user.phone, bot_user.merged_into_id) == (False, None, web_user.pk)


def test_another_tenants_number_is_not_merged(demo):
    web_user = UserFactory(tenant=TenantFactory())
    bot_user = phone_user(demo, PHONE, 5)
    with pytest.raises(Conflict):
        account_merge(survivor=web_user, retired=bot_user)
    assert Wallet.objects.get(user=bot_user).balance == 5
