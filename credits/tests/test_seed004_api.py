"""Seed 004's credit endpoints: staff master wallet and allocations, tenant wallet and deduct."""

import json

import pytest
from rest_framework.test import APIClient

from credits import services
from credits.models import CreditTransaction, Wallet
from tenants.services import api_key_create, tenant_set_status
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


def post(client, path, body, **headers):
    return client.post(path, data=json.dumps(body), content_type="application/json", **headers)


def test_staff_only(auth_client, bot_client, api_client):
    for path in ("/api/v1/admin/credits/wallet", "/api/v1/admin/credits/tenant-wallets"):
        assert auth_client.get(path).status_code == 403
        assert api_client.get(path).status_code == 401
        assert bot_client.get(path).status_code == 401
    for path in ("/api/v1/admin/credits/purchase", "/api/v1/admin/credits/allocate"):
        response = post(auth_client, path, {"credits": 1, "tenant_id": 1})
        assert response.status_code == 403 and response.json()["success"] is False
    assert Wallet.objects.count() == 0


def test_purchase_then_allocate(staff_client, tenant):
    master = staff_client.get("/api/v1/admin/credits/wallet").json()["data"]
    assert master["balance"] == 0 and master["kind"] == "platform"
    bought = post(staff_client, "/api/v1/admin/credits/purchase",
                  {"credits": 1000, "vendor": "msg91", "amount_paise": 50000, "reference_id": "inv-1"})
    assert bought.status_code == 201
    data = bought.json()["data"]
    assert data["wallet"]["balance"] == 1000 and data["transaction"]["source"] == "payment"
    row = CreditTransaction.objects.get(pk=data["transaction"]["id"])
    assert row.actor == staff_client.user and row.metadata == {"vendor": "msg91", "amount_paise": 50000}

    allocated = post(staff_client, "/api/v1/admin/credits/allocate",
                     {"tenant_id": tenant.pk, "credits": 300, "reason": "March"})
    assert allocated.status_code == 201
    data = allocated.json()["data"]
    assert data["master_wallet"]["balance"] == 700 and data["tenant_wallet"]["balance"] == 300
    assert data["debit"]["transfer_id"] == data["credit"]["transfer_id"]
    assert data["debit"]["source"] == data["credit"]["source"] == "allocation"

    listing = staff_client.get("/api/v1/admin/credits/tenant-wallets").json()["data"]
    rows = {r["tenant_id"]: r for r in listing["results"]}
    assert rows[tenant.pk]["balance"] == 300 and listing["count"] >= 1


def test_allocation_errors(staff_client, tenant):
    services.wallet_grant(wallet=services.wallet_get_platform(), credits=10, source="payment")
    short = post(staff_client, "/api/v1/admin/credits/allocate", {"tenant_id": tenant.pk, "credits": 11})
    assert short.status_code == 402
    assert short.json()["error"] == {"code": "insufficient_credits",
                                     "message": "The master wallet holds 10 credits; 11 requested."}
    missing = post(staff_client, "/api/v1/admin/credits/allocate", {"tenant_id": 999999, "credits": 1})
    assert missing.status_code == 404
    bad = post(staff_client, "/api/v1/admin/credits/allocate", {"tenant_id": tenant.pk, "credits": "5"})
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid"
    assert services.wallet_get_platform().balance == 10


def test_allocation_is_idempotent(staff_client, tenant):
    services.wallet_grant(wallet=services.wallet_get_platform(), credits=10, source="payment")
    body = {"tenant_id": tenant.pk, "credits": 4}
    first = post(staff_client, "/api/v1/admin/credits/allocate", body, HTTP_IDEMPOTENCY_KEY="a1")
    again = post(staff_client, "/api/v1/admin/credits/allocate", body, HTTP_IDEMPOTENCY_KEY="a1")
    assert first.json() == again.json()
    assert post(staff_client, "/api/v1/admin/credits/allocate", {**body, "credits": 5},
                HTTP_IDEMPOTENCY_KEY="a1").status_code == 409
    assert services.wallet_get_platform().balance == 6


def test_tenant_wallet_and_deduct(bot_client, tenant):
    services.wallet_grant(wallet=services.wallet_get_or_create_for_tenant(tenant=tenant), credits=5,
                          source="allocation")
    wallet = bot_client.get("/api/v1/credits/wallet").json()
    assert wallet["success"] is True and wallet["data"]["balance"] == 5
    assert wallet["data"]["tenant_id"] == tenant.pk
    spent = post(bot_client, "/api/v1/credits/deduct", {"credits": 2, "reference_id": "sms-1"})
    assert spent.status_code == 200 and spent.json()["data"]["wallet"]["balance"] == 3
    short = post(bot_client, "/api/v1/credits/deduct", {"credits": 4})
    assert short.status_code == 402
    assert short.json()["error"]["message"] == "The tenant wallet holds 3 credits; 4 requested."
    assert post(bot_client, "/api/v1/credits/deduct", {"credits": 0}).status_code == 400
    # Another tenant's key sees its own (empty) wallet.
    _, raw = api_key_create(tenant=TenantFactory(), name="other", scopes=["bot"])
    assert APIClient(HTTP_X_BOT_SECRET=raw).get("/api/v1/credits/wallet").json()["data"]["balance"] == 0
    tenant_set_status(tenant=tenant, status="suspended")
    assert post(bot_client, "/api/v1/credits/deduct", {"credits": 1}).status_code == 403
    assert services.wallet_get_or_create_for_tenant(tenant=tenant).balance == 3


def test_tenant_endpoints_need_a_key_or_the_tenants_staff(api_client, auth_client, staff_client):
    """An end user's or platform staff's JWT is refused (403): the tenant's wallet is for its keys
    and its staff (DESIGN §4.6)."""
    assert api_client.get("/api/v1/credits/wallet").status_code == 401
    assert auth_client.get("/api/v1/credits/wallet").status_code == 403
    assert post(staff_client, "/api/v1/credits/deduct", {"credits": 1}).status_code == 403
