"""GET api/tokens/usage and POST api/tokens/set-plan: seed 000's curl checklist and the trust rules."""

from datetime import timedelta

import pytest
from django.test import override_settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.tests.factories import token_state
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

USAGE = "/api/tokens/usage"
SET_PLAN = "/api/tokens/set-plan"


def set_plan(client, body, **extra):
    return client.post(SET_PLAN, body, format="json", **extra)


def state(user) -> UsageCounter:
    return UsageCounter.objects.select_related("subscription__plan").get(
        subscription__user=user, subscription__status="active")


# --- seed 000 checklist --------------------------------------------------------------------

def test_1_usage_provisions_basic(auth_client):
    response = auth_client.get(USAGE)
    assert response.status_code == 200
    assert response.json() == {"plan": "basic", "token_quota": 1000, "token_used": 0,
                               "remaining": 1000, "plan_end_at": None}


@override_settings(TOKENS_SELF_SERVICE_UPGRADE=True)
def test_2_upgrade_with_carry_over(auth_client, clock):
    token_state(user=auth_client.user, plan="standard", quota=10_000, used=3_000,
                end=clock.now + timedelta(days=2))
    response = set_plan(auth_client, {"plan": "premium"})
    assert response.status_code == 200, response.json()
    assert response.json() == {"status": "ok", "message": "upgraded to premium with carry-over",
                               "plan": "premium", "token_quota": 57_000, "token_used": 0,
                               "remaining": 57_000}
    usage = auth_client.get(USAGE).json()
    assert usage["plan_end_at"] == "2025-02-14T12:00:00Z"  # now + 30 days


def test_3_downgrade_to_basic(auth_client, clock):
    token_state(user=auth_client.user, plan="premium", quota=57_000, used=2_000,
                end=clock.now + timedelta(days=20))
    response = set_plan(auth_client, {"plan": "basic"})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "downgraded to basic", "plan": "basic",
                               "token_quota": 1_000, "token_used": 2_000, "remaining": -1_000}
    assert auth_client.get(USAGE).json()["plan_end_at"] is None


def test_4_same_tier_with_reset_by_staff(staff_client, clock):
    token_state(user=staff_client.user, plan="standard", quota=10_000, used=4_321,
                end=clock.now + timedelta(days=20))
    response = set_plan(staff_client, {"plan": "standard", "reset_used": True})
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "plan confirmed", "plan": "standard",
                               "token_quota": 10_000, "token_used": 0, "remaining": 10_000}


def test_5_invalid_plan(auth_client):
    response = set_plan(auth_client, {"plan": "invalid"})
    assert (response.status_code, response.json()) == (400, {"error": "invalid plan"})


@pytest.mark.parametrize("header", [None, "Bearer not-a-jwt", "Basic dXNlcjpwYXNz", "Bearer"])
def test_6_unauthorized(header):
    client = APIClient()
    if header:
        client.credentials(HTTP_AUTHORIZATION=header)
    for response in (client.get(USAGE), set_plan(client, {"plan": "basic"}),
                     client.post("/api/tokens/consume", {"tokens": 1}, format="json")):
        assert (response.status_code, response.json()) == (401, {"error": "unauthorized"})


def test_seed_reset_used_scenario_for_a_regular_user_is_forbidden(auth_client):
    response = set_plan(auth_client, {"plan": "standard", "reset_used": True})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})


# --- trust rules ---------------------------------------------------------------------------

@pytest.mark.parametrize("plan", ["standard", "premium"])
def test_regular_user_needs_payment_for_a_paid_upgrade(auth_client, plan):
    auth_client.get(USAGE)
    response = set_plan(auth_client, {"plan": plan})
    assert (response.status_code, response.json()) == (402, {"error": "payment required"})
    assert state(auth_client.user).subscription.plan.code == "basic"


def test_regular_user_may_downgrade_and_confirm(auth_client, clock):
    token_state(user=auth_client.user, plan="premium", used=10, end=clock.now + timedelta(days=3))
    assert set_plan(auth_client, {"plan": "premium"}).json()["message"] == "plan confirmed"
    assert set_plan(auth_client, {"plan": "premium", "reset_used": False}).status_code == 200
    assert set_plan(auth_client, {"plan": "standard"}).json()["message"] == "downgraded to standard"
    assert set_plan(auth_client, {"plan": "basic"}).json()["message"] == "downgraded to basic"
    assert set_plan(auth_client, {"plan": "basic"}).json()["message"] == "plan confirmed"


@override_settings(TOKENS_SELF_SERVICE_UPGRADE=True)
def test_self_service_setting_allows_upgrades_but_never_resets(auth_client):
    assert set_plan(auth_client, {"plan": "standard"}).status_code == 200
    response = set_plan(auth_client, {"plan": "premium", "reset_used": True})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})


def test_staff_may_upgrade_and_reset_for_another_user(staff_client):
    customer = UserFactory()
    token_state(user=customer, plan="basic", used=250)
    response = set_plan(staff_client, {"plan": "premium", "user_id": customer.pk, "reset_used": True})
    assert response.status_code == 200
    assert response.json()["token_quota"] == 50_750
    counter = state(customer)
    assert counter.subscription.plan.code == "premium"
    assert not Subscription.objects.filter(user=staff_client.user).exists()
    event = SubscriptionEvent.objects.get(subscription=counter.subscription, kind="plan_changed")
    assert event.actor == staff_client.user


def test_staff_for_an_unknown_user_is_404(staff_client):
    response = set_plan(staff_client, {"plan": "basic", "user_id": 987_654_321})
    assert (response.status_code, response.json()) == (404, {"error": "user not found"})


def test_tenant_staff_only_reach_their_tenant(client_for):
    tenant = TenantFactory()
    staff = UserFactory(role="tenant_admin", tenant=tenant)
    member, outsider = UserFactory(tenant=tenant), UserFactory()
    client = client_for(staff)
    assert set_plan(client, {"plan": "basic", "user_id": member.pk, "reset_used": True}).status_code == 200
    response = set_plan(client, {"plan": "premium", "user_id": outsider.pk})
    assert (response.status_code, response.json()) == (404, {"error": "user not found"})


def test_only_platform_staff_give_a_paid_plan_without_payment(client_for, staff_client):
    """Tenant staff act for their tenant's users like a tokens key: a paid upgrade goes through
    payment (402); platform super_admin/admin may grant it; support may not act for anyone."""
    from accounts.tests.factories import platform_support

    tenant = TenantFactory()
    member = UserFactory(tenant=tenant)
    tenant_client = client_for(UserFactory(role="tenant_admin", tenant=tenant))
    response = set_plan(tenant_client, {"plan": "premium", "user_id": member.pk})
    assert (response.status_code, response.json()) == (402, {"error": "payment required"})
    response = set_plan(client_for(platform_support()), {"plan": "basic", "user_id": member.pk})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})
    assert set_plan(staff_client, {"plan": "premium", "user_id": member.pk}).json()["plan"] == "premium"


def test_regular_user_cannot_act_for_someone_else(auth_client):
    other = UserFactory()
    response = set_plan(auth_client, {"plan": "basic", "user_id": other.pk})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})
    assert not Subscription.objects.filter(user=other).exists()
    assert set_plan(auth_client, {"plan": "basic", "user_id": auth_client.user.pk}).status_code == 200


def test_precedence_invalid_plan_before_403_and_402(auth_client):
    other = UserFactory()
    for body in ({"plan": "gold", "reset_used": True},
                 {"plan": "gold", "user_id": other.pk}):
        response = set_plan(auth_client, body)
        assert (response.status_code, response.json()) == (400, {"error": "invalid plan"})
    # A regular user asking for a paid upgrade with a reset: the 403 wins over the 402.
    response = set_plan(auth_client, {"plan": "premium", "reset_used": True})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})


def test_api_key_may_reset_for_its_tenant_users_but_not_sell_upgrades(api_key):
    key, raw = api_key
    member = UserFactory(tenant=key.tenant)
    token_state(user=member, plan="basic", used=600)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {raw}")
    response = set_plan(client, {"plan": "basic", "reset_used": True, "user_id": member.pk})
    assert response.status_code == 200 and response.json()["token_used"] == 0
    response = set_plan(client, {"plan": "premium", "user_id": member.pk})
    assert (response.status_code, response.json()) == (402, {"error": "payment required"})
    outsider = UserFactory()
    response = set_plan(client, {"plan": "basic", "user_id": outsider.pk})
    assert (response.status_code, response.json()) == (404, {"error": "user not found"})
    response = set_plan(client, {"plan": "basic"})
    assert (response.status_code, response.json()) == (400, {"error": "user_id required"})
    event = SubscriptionEvent.objects.get(kind="plan_changed")
    assert event.actor is None and key.prefix in event.reason


def test_api_key_without_tokens_scope_is_forbidden(tenant):
    from tenants.services import api_key_create

    _, raw = api_key_create(tenant=tenant, name="bot only", scopes=["bot"])
    client = APIClient()
    client.credentials(HTTP_X_BOT_SECRET=raw)
    member = UserFactory(tenant=tenant)
    response = set_plan(client, {"plan": "basic", "user_id": member.pk})
    assert (response.status_code, response.json()) == (403, {"error": "forbidden"})


def test_usage_is_not_open_to_api_keys(bot_client):
    assert bot_client.get(USAGE).status_code == 401


# --- malformed input -----------------------------------------------------------------------

@pytest.mark.parametrize("body", [
    {}, {"plan": None}, {"plan": 1}, {"plan": ["basic"]}, {"plan": {"code": "basic"}},
    {"plan": "basic", "reset_used": "true"}, {"plan": "basic", "reset_used": 1},
    {"plan": "basic", "reset_used": None}, {"plan": "basic", "user_id": "5"},
    {"plan": "basic", "user_id": 0}, {"plan": "basic", "user_id": 2**64},
    {"plan": "basic", "extra": 1}, ["basic"], "basic", 42, None,
])
def test_set_plan_malformed_bodies(auth_client, body):
    response = set_plan(auth_client, body)
    assert (response.status_code, response.json()) == (400, {"error": "invalid body"})


@pytest.mark.parametrize("raw", [b"{", b"not json", b'{"plan": "basic",}', b"\xff\xfe", b""])
def test_set_plan_unparseable_json(auth_client, raw):
    response = auth_client.post(SET_PLAN, raw, content_type="application/json")
    assert (response.status_code, response.json()) == (400, {"error": "invalid body"})


def test_set_plan_form_encoded_body(auth_client):
    response = auth_client.post(SET_PLAN, {"plan": "basic"})  # multipart, not JSON
    assert (response.status_code, response.json()) == (415, {"error": "invalid body"})


@pytest.mark.parametrize("plan", ["", " basic", "BASIC", "x" * 5000])
def test_set_plan_unknown_strings_are_invalid_plan(auth_client, plan):
    response = set_plan(auth_client, {"plan": plan})
    assert (response.status_code, response.json()) == (400, {"error": "invalid plan"})
