"""Issue 10's done-when: an operator runs seed 004's portal flow through the API alone.

Platform admin logs in (/api/v1/auth/admin/login) → creates a tenant → its tenant_admin → its API
key → buys credits into the master wallet → allocates them to the tenant → the tenant spends with
its admin's JWT and with its key → the operator suspends the tenant (key and staff refused, nothing
spent) → the audit log shows every operator step with its actor; the ledger shows the spending.
"""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import super_admin
from credits.models import CreditTransaction

pytestmark = pytest.mark.django_db
OPERATOR_PASSWORD = "operator-pass-phrase-42"
TENANT_ADMIN_PASSWORD = "tenant-admin-pass-phrase-7"


def _ok(response, status=200):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is True
    return body["data"]


def _bearer(access: str) -> APIClient:
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {access}")
    return client


def test_seed_004_portal_flow():
    operator_account = super_admin(email="admin@studyspot.com", password=OPERATOR_PASSWORD)

    login = _ok(APIClient().post("/api/v1/auth/admin/login",
                                 {"email": "admin@studyspot.com", "password": OPERATOR_PASSWORD}, format="json"))
    operator = _bearer(login["access"])

    tenant = _ok(operator.post("/api/v1/tenants", {
        "name": "Sunrise Library", "email": "owner@sunrise.in", "phone": "+919812345678",
        "settings": {"free_signup_credits": 2}}, format="json"), 201)
    assert tenant["slug"] == "sunrise-library" and tenant["status"] == "active"
    tid = tenant["id"]

    staff = _ok(operator.post(f"/api/v1/tenants/{tid}/users", {
        "email": "manager@sunrise.in", "password": TENANT_ADMIN_PASSWORD, "name": "Manager",
        "role": "tenant_admin"}, format="json"), 201)
    assert staff["role"] == "tenant_admin" and staff["tenant_id"] == tid

    key = _ok(operator.post(f"/api/v1/tenants/{tid}/api-keys", {"name": "sms bot", "scopes": ["bot"]},
                            format="json"), 201)
    raw_key = key["key"]

    bought = _ok(operator.post("/api/v1/admin/credits/purchase",
                               {"credits": 10_000, "vendor": "msg91", "reason": "November stock"},
                               format="json"), 201)
    assert bought["wallet"]["balance"] == 10_000

    allocated = _ok(operator.post("/api/v1/admin/credits/allocate",
                                  {"tenant_id": tid, "credits": 2_500, "reason": "Starter pack"},
                                  format="json"), 201)
    assert allocated["master_wallet"]["balance"] == 7_500 and allocated["tenant_wallet"]["balance"] == 2_500

    # The tenant's admin signs in where tenant staff do, and spends with the JWT ...
    staff_login = _ok(APIClient().post("/api/auth/login", {"email": "manager@sunrise.in",
                                                           "password": TENANT_ADMIN_PASSWORD}, format="json"))
    manager = _bearer(staff_login["access"])
    spent = _ok(manager.post("/api/v1/credits/deduct", {"credits": 100, "reason": "SMS batch"}, format="json"))
    assert spent["wallet"]["balance"] == 2_400
    # ... and its bot with the key.
    bot = APIClient()
    bot.credentials(HTTP_X_BOT_SECRET=raw_key)
    spent = _ok(bot.post("/api/v1/credits/deduct", {"credits": 40, "reason": "OTP"}, format="json"))
    assert spent["wallet"]["balance"] == 2_360
    assert _ok(manager.get("/api/v1/credits/wallet"))["balance"] == 2_360

    # Figures so far.
    stats = _ok(operator.get(f"/api/v1/tenants/{tid}/stats"))
    assert (stats["wallet_balance"], stats["credits_granted_30d"], stats["credits_used_30d"]) == (2_360, 2_500, 140)
    assert stats["active_api_keys"] == 1 and stats["staff"] == 1

    # Suspension: both ways in are refused at once, nothing is spent.
    suspended = _ok(operator.post(f"/api/v1/tenants/{tid}/suspend", {"reason": "KYC pending"}, format="json"))
    assert suspended["status"] == "suspended"
    assert bot.post("/api/v1/credits/deduct", {"credits": 1}, format="json").status_code == 403
    assert manager.post("/api/v1/credits/deduct", {"credits": 1}, format="json").status_code == 403
    assert bot.get("/api/v1/credits/wallet").status_code == 403
    assert manager.get("/api/v1/credits/wallet").status_code == 403
    assert _ok(operator.get("/api/v1/admin/credits/tenant-wallets"))["results"][0]["balance"] == 2_360

    # The audit trail: every operator step, newest first, each with its actor.
    trail = _ok(operator.get("/api/v1/admin/audit-logs", {"tenant": tid}))["results"]
    steps = [(event["action"], event["actor_id"]) for event in reversed(trail)]
    assert steps == [
        ("tenant.create", operator_account.pk),
        ("tenant.user.create", operator_account.pk),
        ("api_key.create", operator_account.pk),
        ("credits.allocate", operator_account.pk),
        ("tenant.suspend", operator_account.pk),
    ]
    assert all(event["actor_label"] == "admin@studyspot.com" for event in trail)
    assert trail[0]["reason"] == "KYC pending" and trail[0]["before"]["status"] == "active"
    purchase = _ok(operator.get("/api/v1/admin/audit-logs", {"action": "credits.purchase"}))["results"]
    assert [(e["actor_id"], e["tenant_id"]) for e in purchase] == [(operator_account.pk, None)]
    mine = _ok(operator.get(f"/api/v1/admin/users/{operator_account.pk}/activity"))
    assert mine["count"] == 6

    # The spending is in the ledger, with who spent it.
    debits = CreditTransaction.objects.filter(wallet__tenant_id=tid, action="debit").order_by("id")
    assert [(d.credits, d.actor and d.actor.email) for d in debits] == [(100, "manager@sunrise.in"), (40, None)]
    assert debits[1].metadata == {"api_key": key["prefix"]}
