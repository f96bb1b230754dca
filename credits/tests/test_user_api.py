"""/api/users/:phone and /api/credits/history/:user_id: not public (API key of the user's tenant,
staff, or the user), anyone else 401/404."""

import pytest
from rest_framework.test import APIClient

from accounts.models import User
from credits import services
from credits.models import Wallet
from credits.tests.factories import phone_user
from tenants.services import api_key_create
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"


@pytest.fixture
def customer(tenant):
    user = phone_user(tenant, PHONE, 5)
    wallet = Wallet.objects.get(user=user)
    services.wallet_deduct(wallet=wallet, credits=2, reference_id="img_1")
    services.wallet_grant(wallet=wallet, credits=10, source="payment", reference_id="pay_1")
    return user


def key_client(tenant, scopes=("bot",)):
    _, raw = api_key_create(tenant=tenant, name="k", scopes=list(scopes))
    return APIClient(HTTP_X_BOT_SECRET=raw)


def test_profile_for_the_tenants_key(bot_client, customer):
    response = bot_client.get("/api/users/9876543210")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "SUCCESS" and body["message"] == "User profile retrieved successfully"
    assert body["data"]["id"] == customer.pk and body["data"]["phone_number"] == PHONE
    assert body["data"]["credits"] == 13 and body["data"]["created_at"]


def test_profile_visibility(customer, client_for, staff_client, api_client):
    assert client_for(customer).get(f"/api/users/{PHONE}").status_code == 200
    assert staff_client.get(f"/api/users/{PHONE}").status_code == 200
    other = phone_user(customer.tenant, "+919812345678", 1)
    assert client_for(other).get(f"/api/users/{PHONE}").status_code == 404
    assert key_client(TenantFactory()).get(f"/api/users/{PHONE}").status_code == 404
    anonymous = api_client.get(f"/api/users/{PHONE}")
    assert anonymous.status_code == 401 and anonymous.json()["status"] == "ERROR"
    assert key_client(customer.tenant, scopes=["payments"]).get(f"/api/users/{PHONE}").status_code == 403
    not_found = staff_client.get("/api/users/9999999999")
    assert not_found.status_code == 404
    assert not_found.json() == {"status": "ERROR", "message": "User not found."}
    assert staff_client.get("/api/users/xyz").status_code == 400


def test_profile_read_creates_nobody(bot_client):
    assert bot_client.get(f"/api/users/{PHONE}").status_code == 404
    assert not User.objects.filter(phone=PHONE).exists()


def test_staff_names_the_tenant_when_a_number_is_shared(customer, staff_client):
    other_tenant = TenantFactory()
    phone_user(other_tenant, PHONE, 1)
    ambiguous = staff_client.get(f"/api/users/{PHONE}")
    assert ambiguous.status_code == 400 and ambiguous.json()["status"] == "ERROR"
    chosen = staff_client.get(f"/api/users/{PHONE}?tenant={other_tenant.slug}")
    assert chosen.status_code == 200 and chosen.json()["data"]["credits"] == 1


def test_history_newest_first_with_total(bot_client, customer):
    response = bot_client.get(f"/api/credits/history/{customer.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["status"] == "SUCCESS" and body["message"] == "Credit history retrieved successfully"
    data = body["data"]
    assert data["user_id"] == customer.pk and data["total"] == 3
    assert [(t["action"], t["credits"], t["source"], t["reference_id"]) for t in data["transactions"]] == [
        ("credit", 10, "payment", "pay_1"), ("debit", 2, "usage", "img_1"), ("credit", 5, "adjustment", None)]
    first = data["transactions"][0]
    assert set(first) == {"id", "user_id", "action", "credits", "balance_after", "source", "reference_id",
                          "created_at"}
    assert first["user_id"] == customer.pk and first["balance_after"] == 13
    limited = bot_client.get(f"/api/credits/history/{customer.pk}?limit=1").json()["data"]
    assert len(limited["transactions"]) == 1 and limited["total"] == 3


def test_history_limit_is_capped_at_200(bot_client, customer):
    wallet = Wallet.objects.get(user=customer)
    for _ in range(205):
        services.wallet_grant(wallet=wallet, credits=1, source="adjustment")
    data = bot_client.get(f"/api/credits/history/{customer.pk}?limit=500").json()["data"]
    assert len(data["transactions"]) == 200 and data["total"] == 208
    assert len(bot_client.get(f"/api/credits/history/{customer.pk}").json()["data"]["transactions"]) == 50


@pytest.mark.parametrize("limit", ["0", "-1", "abc", "1.5", ""])
def test_history_bad_limit_is_400(bot_client, customer, limit):
    response = bot_client.get(f"/api/credits/history/{customer.pk}?limit={limit}")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"


def test_history_visibility(customer, client_for, staff_client, api_client):
    path = f"/api/credits/history/{customer.pk}"
    assert client_for(customer).get(path).status_code == 200
    assert staff_client.get(path).status_code == 200
    assert client_for(phone_user(customer.tenant, "+919812345678", 1)).get(path).status_code == 404
    assert key_client(TenantFactory()).get(path).status_code == 404
    assert api_client.get(path).status_code == 401
    assert staff_client.get("/api/credits/history/999999").status_code == 404
    assert staff_client.get("/api/credits/history/abc").status_code == 400


def test_history_of_a_user_without_a_wallet_is_empty(client_for, user):
    data = client_for(user).get(f"/api/credits/history/{user.pk}").json()["data"]
    assert data == {"user_id": user.pk, "transactions": [], "total": 0}


@pytest.mark.parametrize("user_id, status", [("0", 400), ("-1", 400), ("1.0", 400),
                                             ("9223372036854775807", 404), ("9223372036854775808", 400)])
def test_history_user_id_follows_the_one_id_rule(staff_client, user_id, status):
    """`config.ids.positive_id`: a positive bigint, else 400 (never a 500 from the database)."""
    response = staff_client.get(f"/api/credits/history/{user_id}")
    assert response.status_code == status
    expected = "Invalid user id." if status == 400 else "User not found."
    assert response.json() == {"status": "ERROR", "message": expected}


# ?tenant= on /api/users/<phone> -------------------------------------------------------------

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


# ?limit= on /api/credits/history/<id> ----------------------------------------------------------

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
