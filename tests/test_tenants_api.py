"""Seed 004's tenants API (DESIGN §4.6): CRUD, suspend/reactivate/archive, stats, staff, API keys;
bad input answers a 4xx in the success envelope and changes nothing."""

import pytest
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory, platform_support, tenant_admin, tenant_staff
from config.models import AuditEvent
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db
TENANTS = "/api/v1/tenants"


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


def test_create_generates_the_slug_and_numbers_collisions(staff_client):
    first = staff_client.post(TENANTS, {"name": "Acme Study Hall", "email": "Ops@Acme.in", "phone": "9876543210",
                                        "settings": {"free_signup_credits": 5}}, format="json")
    assert first.status_code == 201, first.content
    data = first.json()["data"]
    assert data["slug"] == "acme-study-hall" and data["status"] == "active"
    assert data["email"] == "ops@acme.in" and data["phone"] == "+919876543210"
    assert data["settings"] == {"free_signup_credits": 5}
    second = staff_client.post(TENANTS, {"name": "Acme Study Hall"}, format="json")
    third = staff_client.post(TENANTS, {"name": "Acme  study hall!"}, format="json")
    assert second.json()["data"]["slug"] == "acme-study-hall-2"
    assert third.json()["data"]["slug"] == "acme-study-hall-3"
    event = AuditEvent.objects.get(action="tenant.create", object_id=str(data["id"]))
    assert event.actor == staff_client.user and event.after["slug"] == "acme-study-hall"


@pytest.mark.parametrize("body, field", [
    ({"name": "X", "nope": 1}, "nope"),
    ({"name": 5}, "name"),
    ({}, "name"),
    ({"name": "X", "settings": {"free_signup_credits": -1}}, "settings"),
    ({"name": "X", "settings": {"free_signup_credits": "5"}}, "settings"),
    ({"name": "X", "settings": {"colour": "red"}}, "settings"),
    ({"name": "X", "settings": []}, "settings"),
    ({"name": "X", "phone": "12"}, "phone"),
    ({"name": "X", "email": "not-an-email"}, "email"),
    ({"name": "X", "slug": "Not A Slug"}, "slug"),
    ({"name": "X", "status": "suspended"}, "status"),
    ({"name": "!!!"}, "slug"),
])
def test_create_refuses_bad_input(staff_client, body, field):
    error = _error(staff_client.post(TENANTS, body, format="json"), 400)
    assert field in error["fields"]
    assert not Tenant.objects.exists() and not AuditEvent.objects.exists()


def test_a_given_slug_that_is_taken_is_400(staff_client):
    TenantFactory(slug="taken")
    error = _error(staff_client.post(TENANTS, {"name": "Other", "slug": "taken"}, format="json"), 400, "slug_taken")
    assert "slug" in error["fields"] and Tenant.objects.count() == 1


def test_list_search_status_and_pages(staff_client):
    TenantFactory(name="Alpha", slug="alpha")
    TenantFactory(name="Beta", slug="beta", email="ops@zeta.in")
    TenantFactory(name="Gamma", slug="gamma", status="suspended")
    data = staff_client.get(TENANTS, {"page_size": 2}).json()["data"]
    assert (data["count"], data["total_pages"], len(data["results"])) == (3, 2, 2)
    assert [t["slug"] for t in staff_client.get(TENANTS, {"search": "zeta"}).json()["data"]["results"]] == ["beta"]
    assert [t["slug"] for t in staff_client.get(TENANTS, {"search": "ALP"}).json()["data"]["results"]] == ["alpha"]
    assert [t["slug"] for t in staff_client.get(TENANTS, {"status": "suspended"}).json()["data"]["results"]] \
        == ["gamma"]
    _error(staff_client.get(TENANTS, {"status": "gone"}), 400, "invalid_query")


def test_get_and_put_change_only_the_fields_given(staff_client, tenant):
    path = f"{TENANTS}/{tenant.pk}"
    assert staff_client.get(path).json()["data"]["slug"] == tenant.slug
    response = staff_client.put(path, {"email": "billing@t.in"}, format="json")
    assert response.status_code == 200
    tenant.refresh_from_db()
    assert tenant.email == "billing@t.in" and tenant.name.startswith("Tenant")
    event = AuditEvent.objects.get(action="tenant.update")
    assert event.before["email"] == "" and event.after["email"] == "billing@t.in"
    _error(staff_client.put(path, {"slug": "new"}, format="json"), 400)
    _error(staff_client.put(path, {"settings": {"bogus": 1}}, format="json"), 400)
    tenant.refresh_from_db()
    assert tenant.slug != "new" and tenant.settings == {}
    _error(staff_client.get(f"{TENANTS}/999999"), 404, "tenant_not_found")
    _error(staff_client.get(f"{TENANTS}/abc"), 404)


def test_suspend_refuses_keys_and_staff_at_once_then_reactivate(staff_client, client_for, tenant, api_key):
    staff_member = tenant_staff(tenant)
    member = client_for(staff_member)
    bot = APIClient()
    bot.credentials(HTTP_X_BOT_SECRET=api_key[1])
    assert member.get("/api/v1/credits/wallet").status_code == 200
    assert bot.get("/api/v1/credits/wallet").status_code == 200  # both now cached
    path = f"{TENANTS}/{tenant.pk}"
    _error(staff_client.post(f"{path}/suspend", {}, format="json"), 400)
    response = staff_client.post(f"{path}/suspend", {"reason": "unpaid invoice"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["status"] == "suspended"
    assert response.json()["data"]["suspended_reason"] == "unpaid invoice"
    assert member.get("/api/v1/credits/wallet").status_code == 403
    assert bot.get("/api/v1/credits/wallet").status_code == 403
    _error(staff_client.post(f"{path}/suspend", {"reason": "again"}, format="json"), 409, "tenant_already_suspended")
    assert AuditEvent.objects.filter(action="tenant.suspend").count() == 1
    event = AuditEvent.objects.get(action="tenant.suspend")
    assert event.reason == "unpaid invoice" and event.before["status"] == "active"
    assert staff_client.post(f"{path}/reactivate", {}, format="json").status_code == 200
    assert member.get("/api/v1/credits/wallet").status_code == 200
    assert bot.get("/api/v1/credits/wallet").status_code == 200
    _error(staff_client.post(f"{path}/reactivate", {}, format="json"), 409, "tenant_already_active")


def test_delete_archives_revokes_keys_refuses_logins_and_is_final(staff_client, client_for, tenant, api_key):
    from credits.services import wallet_get_or_create_for_tenant, wallet_grant

    wallet_grant(wallet=wallet_get_or_create_for_tenant(tenant=tenant), credits=10, source="adjustment", reason="t")
    person = tenant_admin(tenant, email="boss@t.in")
    member = client_for(person)
    bot = APIClient()
    bot.credentials(HTTP_X_BOT_SECRET=api_key[1])
    assert bot.get("/api/v1/credits/wallet").status_code == 200
    response = staff_client.delete(f"{TENANTS}/{tenant.pk}", {"reason": "closed"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["status"] == "archived"
    assert Tenant.objects.filter(pk=tenant.pk).exists()
    assert not ApiKey.objects.filter(tenant=tenant, revoked_at__isnull=True).exists()
    assert bot.get("/api/v1/credits/wallet").status_code == 401
    assert member.get("/api/v1/credits/wallet").status_code == 401
    from accounts.tests.factories import DEFAULT_PASSWORD

    login = APIClient().post("/api/auth/login", {"email": "boss@t.in", "password": DEFAULT_PASSWORD}, format="json")
    assert login.status_code == 401
    from credits.models import CreditTransaction

    assert CreditTransaction.objects.filter(wallet__tenant=tenant).count() == 1  # ledger kept
    event = AuditEvent.objects.get(action="tenant.archive")
    assert event.after["revoked_api_keys"] == [api_key[0].prefix] and event.reason == "closed"
    path = f"{TENANTS}/{tenant.pk}"
    _error(staff_client.delete(path), 409, "tenant_archived")
    _error(staff_client.post(f"{path}/reactivate", {}, format="json"), 409, "tenant_archived")
    _error(staff_client.post(f"{path}/suspend", {"reason": "x"}, format="json"), 409, "tenant_archived")
    _error(staff_client.put(path, {"name": "Back"}, format="json"), 409, "tenant_archived")
    _error(staff_client.post(f"{path}/api-keys", {"name": "k"}, format="json"), 409, "tenant_archived")


def test_stats(staff_client, client_for, tenant):
    from credits.services import (
        master_wallet_purchase,
        tenant_wallet_allocate,
        wallet_deduct,
        wallet_get_or_create_for_tenant,
    )

    UserFactory(tenant=tenant, phone="+919811111111")
    tenant_staff(tenant)
    api_key_create(tenant=tenant, name="k")
    master_wallet_purchase(credits=100, actor=None, reason="buy")
    tenant_wallet_allocate(tenant=tenant, credits=60, actor=None, reason="alloc")
    wallet_deduct(wallet=wallet_get_or_create_for_tenant(tenant=tenant), credits=15, actor=None, reason="use")
    data = staff_client.get(f"{TENANTS}/{tenant.pk}/stats").json()["data"]
    assert data["users"] == 1 and data["staff"] == 1 and data["active_api_keys"] == 1
    assert data["wallet_balance"] == 45 and data["credits_granted_30d"] == 60 and data["credits_used_30d"] == 15
    assert data["revenue_paise"] == 0 and data["live_subscriptions"] == 0 and data["window_days"] == 30
    # the tenant's own admin sees them; its staff and another tenant's admin do not
    assert client_for(tenant_admin(tenant)).get(f"{TENANTS}/{tenant.pk}/stats").status_code == 200
    assert client_for(tenant_staff(tenant)).get(f"{TENANTS}/{tenant.pk}/stats").status_code == 403
    assert client_for(tenant_admin(TenantFactory())).get(f"{TENANTS}/{tenant.pk}/stats").status_code == 404


def test_tenant_admin_manages_its_own_staff_and_keys_only(client_for, tenant):
    admin = client_for(tenant_admin(tenant))
    created = admin.post(f"{TENANTS}/{tenant.pk}/users", {"email": "desk@t.in", "password": "a-long-pass-phrase-9",
                                                           "name": "Desk", "role": "tenant_staff"}, format="json")
    assert created.status_code == 201, created.content
    assert created.json()["data"]["role"] == "tenant_staff" and created.json()["data"]["tenant_id"] == tenant.pk
    assert "password" not in created.json()["data"]
    listed = admin.get(f"{TENANTS}/{tenant.pk}/users").json()["data"]
    assert {u["email"] for u in listed["results"]} >= {"desk@t.in"}
    key = admin.post(f"{TENANTS}/{tenant.pk}/api-keys", {"name": "bot", "scopes": ["bot"]}, format="json")
    assert key.status_code == 201 and key.json()["data"]["key"].startswith("kosh_")
    keys = admin.get(f"{TENANTS}/{tenant.pk}/api-keys").json()["data"]["results"]
    assert keys[0]["prefix"] == key.json()["data"]["prefix"]
    assert "key" not in keys[0] and "key_hash" not in keys[0]
    event = AuditEvent.objects.get(action="api_key.create")
    assert event.actor.tenant_id == tenant.pk and event.tenant_id == tenant.pk

    other = TenantFactory()
    for path in (f"{TENANTS}/{other.pk}/users", f"{TENANTS}/{other.pk}/api-keys"):
        _error(admin.get(path), 404)
        _error(admin.post(path, {"name": "x", "email": "x@x.in", "password": "a-long-pass-phrase-9",
                                 "role": "tenant_staff"}, format="json"), 404)
    assert not ApiKey.objects.filter(tenant=other).exists()
    # tenant_staff (not admin) may not manage either
    staff_only = client_for(tenant_staff(tenant))
    _error(staff_only.post(f"{TENANTS}/{tenant.pk}/api-keys", {"name": "x"}, format="json"), 403)
    _error(staff_only.get(f"{TENANTS}/{tenant.pk}/users"), 403)


@pytest.mark.parametrize("body, field, code", [
    ({"email": "a@t.in", "password": "a-long-pass-phrase-9", "role": "owner"}, "role", "invalid_role"),
    ({"email": "a@t.in", "password": "a-long-pass-phrase-9", "role": "admin"}, "role", "invalid_role"),
    ({"email": "a@t.in", "password": "short", "role": "tenant_staff"}, "password", "weak_password"),
    ({"email": "a@t.in", "password": "a-long-pass-phrase-9", "role": "tenant_staff", "tenant": 2}, "tenant", None),
    ({"email": 5, "password": "a-long-pass-phrase-9", "role": "tenant_staff"}, "email", None),
])
def test_staff_create_refuses_bad_input(staff_client, tenant, body, field, code):
    error = _error(staff_client.post(f"{TENANTS}/{tenant.pk}/users", body, format="json"), 400, code)
    assert field in error["fields"]
    assert not tenant.users.exists() and not AuditEvent.objects.exists()


def test_staff_email_taken_is_400(staff_client, tenant):
    UserFactory(email="a@t.in")
    _error(staff_client.post(f"{TENANTS}/{tenant.pk}/users", {"email": "A@t.in", "password": "a-long-pass-phrase-9",
                                                               "role": "tenant_admin"}, format="json"),
           400, "email_taken")


def test_keys_revoke_and_bad_input(staff_client, tenant):
    path = f"{TENANTS}/{tenant.pk}/api-keys"
    _error(staff_client.post(path, {"name": "x", "scopes": ["root"]}, format="json"), 400)
    _error(staff_client.post(path, {"name": "x", "scopes": "bot"}, format="json"), 400)
    _error(staff_client.post(path, {"scopes": ["bot"]}, format="json"), 400)
    assert not ApiKey.objects.exists()
    created = staff_client.post(path, {"name": "bot"}, format="json").json()["data"]
    assert created["scopes"] == ["bot"]
    bot = APIClient()
    bot.credentials(HTTP_X_BOT_SECRET=created["key"])
    assert bot.get("/api/v1/credits/wallet").status_code == 200
    revoke = f"{path}/{created['id']}/revoke"
    assert staff_client.post(revoke, {"reason": "leaked"}, format="json").json()["data"]["active"] is False
    assert bot.get("/api/v1/credits/wallet").status_code == 401
    _error(staff_client.post(revoke, {}, format="json"), 409, "api_key_already_revoked")
    other_key, _ = api_key_create(tenant=TenantFactory(), name="other")
    _error(staff_client.post(f"{path}/{other_key.pk}/revoke", {}, format="json"), 404, "api_key_not_found")
    assert ApiKey.objects.get(pk=other_key.pk).revoked_at is None


def test_support_reads_but_does_not_write(client_for, tenant):
    support = client_for(platform_support())
    assert support.get(TENANTS).status_code == 200
    assert support.get(f"{TENANTS}/{tenant.pk}/stats").status_code == 200
    _error(support.post(TENANTS, {"name": "X"}, format="json"), 403)
    _error(support.post(f"{TENANTS}/{tenant.pk}/suspend", {"reason": "x"}, format="json"), 403)
    assert Tenant.objects.get(pk=tenant.pk).status == "active"


def test_admin_actions_go_through_the_services(client):
    from accounts.tests.factories import super_admin

    operator = super_admin()
    client.force_login(operator)
    active, archived = TenantFactory(), TenantFactory(status="archived")
    response = client.post("/admin/tenants/tenant/", {"action": "suspend", "_selected_action": [active.pk, archived.pk]})
    assert response.status_code == 302
    active.refresh_from_db()
    archived.refresh_from_db()
    assert (active.status, archived.status) == ("suspended", "archived")
    event = AuditEvent.objects.get(action="tenant.suspend")
    assert event.actor == operator and event.object_id == str(active.pk)
    client.post("/admin/tenants/tenant/", {"action": "reactivate", "_selected_action": [active.pk, archived.pk]})
    active.refresh_from_db()
    archived.refresh_from_db()
    assert (active.status, archived.status) == ("active", "archived")
    # the change form shows the status but does not take it
    page = client.get(f"/admin/tenants/tenant/{archived.pk}/change/")
    assert page.status_code == 200 and b'name="status"' not in page.content


def test_stats_count_paid_orders_and_live_subscriptions_of_the_tenant_only(staff_client, tenant):
    from datetime import timedelta

    from django.utils import timezone

    from payments.models import PaymentOrder
    from plans.catalog import catalog_load
    from plans.models import AddOn, CreditPackage, RatePlan
    from subscriptions.tests.factories import SubscriptionFactory

    catalog_load(RatePlan, AddOn, CreditPackage)
    package = CreditPackage.objects.order_by("pk").first()
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    mine, theirs = UserFactory(tenant=tenant, phone="+919822222222"), UserFactory(tenant=TenantFactory())

    def order(user, n, status, paise):
        fields = {"gateway_payment_id": f"pay_Stats{n}", "fulfilled_at": timezone.now()} if status == "paid" else {}
        PaymentOrder.objects.create(
            user=user, kind="credit_package", package=package, credits=package.credits, amount_paise=paise,
            currency="INR", gateway="sandbox", checkout="razorpay", gateway_order_id=f"order_Stats{n}",
            receipt=f"kosh_stats_{n}", status=status, **fields)

    order(mine, 1, "paid", 49_900)
    order(mine, 2, "paid", 10_000)
    order(mine, 3, "created", 99_900)
    order(theirs, 4, "paid", 77_700)
    for user, status in ((mine, "active"), (theirs, "active")):
        SubscriptionFactory(user=user, plan=plan, billing_cycle="monthly", status=status,
                            current_period_end=timezone.now() + timedelta(days=30))
    data = staff_client.get(f"{TENANTS}/{tenant.pk}/stats").json()["data"]
    assert (data["revenue_paise"], data["paid_orders"], data["live_subscriptions"]) == (59_900, 2, 1)
