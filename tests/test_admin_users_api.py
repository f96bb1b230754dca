"""Seed 004's admin users API (DESIGN §4.6): platform staff accounts for super_admin/admin; only a
super_admin makes or touches a super_admin; nobody deactivates themselves or changes their own
role (409); a deactivated admin's tokens stop at once; everything audited."""

import pytest
from rest_framework.test import APIClient

from accounts.services import auth_tokens_issue
from accounts.tests.factories import (
    DEFAULT_PASSWORD,
    UserFactory,
    platform_admin,
    platform_support,
    super_admin,
    tenant_admin,
)
from config.models import AuditEvent
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db
USERS = "/api/v1/admin/users"
PASSWORD = "a-long-pass-phrase-9"


def _error(response, status, code=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    if code:
        assert body["error"]["code"] == code, body
    return body["error"]


@pytest.fixture
def root(client_for):
    return client_for(super_admin(email="root@kosh.in"))


@pytest.fixture
def admin(client_for):
    return client_for(platform_admin(email="ops@kosh.in"))


def test_create_list_get(root, admin):
    created = admin.post(USERS, {"email": "Help@Kosh.in", "password": PASSWORD, "name": "Help", "role": "support"},
                         format="json")
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert data["email"] == "help@kosh.in" and data["role"] == "support" and data["tenant_id"] is None
    assert "password" not in data
    UserFactory(email="customer@x.in")
    tenant_admin(TenantFactory(), email="tadmin@x.in")
    listed = admin.get(USERS).json()["data"]
    assert {u["email"] for u in listed["results"]} == {"root@kosh.in", "ops@kosh.in", "help@kosh.in"}
    assert [u["email"] for u in admin.get(USERS, {"role": "support"}).json()["data"]["results"]] == ["help@kosh.in"]
    assert admin.get(f"{USERS}/{data['id']}").json()["data"]["name"] == "Help"
    customer = UserFactory()
    _error(admin.get(f"{USERS}/{customer.pk}"), 404, "admin_user_not_found")
    event = AuditEvent.objects.get(action="admin_user.create")
    assert event.actor == admin.user and event.after["role"] == "support"
    assert APIClient().post("/api/v1/auth/admin/login", {"email": "help@kosh.in", "password": PASSWORD},
                            format="json").status_code == 200


@pytest.mark.parametrize("body, field, code", [
    ({"email": "n@kosh.in", "password": PASSWORD, "role": "god"}, "role", "invalid_role"),
    ({"email": "n@kosh.in", "password": PASSWORD, "role": "tenant_admin"}, "role", "invalid_role"),
    ({"email": "n@kosh.in", "password": PASSWORD, "role": "admin", "is_superuser": True}, "is_superuser", None),
    ({"email": "n@kosh.in", "password": "123", "role": "admin"}, "password", "weak_password"),
    ({"email": "n@kosh.in", "password": PASSWORD, "role": ["admin"]}, "role", None),
    ({"email": "ops@kosh.in", "password": PASSWORD, "role": "admin"}, "email", "email_taken"),
])
def test_create_refuses_bad_input(admin, body, field, code):
    before = AuditEvent.objects.count()
    error = _error(admin.post(USERS, body, format="json"), 400, code)
    assert field in error["fields"]
    assert not UserFactory._meta.model.objects.filter(email="n@kosh.in").exists()
    assert AuditEvent.objects.count() == before


def test_only_a_super_admin_makes_or_touches_a_super_admin(root, admin):
    body = {"email": "boss@kosh.in", "password": PASSWORD, "role": "super_admin"}
    _error(admin.post(USERS, body, format="json"), 403, "super_admin_required")
    assert root.post(USERS, body, format="json").status_code == 201
    helper = platform_support(email="s@kosh.in")
    _error(admin.put(f"{USERS}/{helper.pk}", {"role": "super_admin"}, format="json"), 403)
    helper.refresh_from_db()
    assert helper.role == "support" and not helper.is_superuser
    _error(admin.delete(f"{USERS}/{root.user.pk}"), 403)
    _error(admin.put(f"{USERS}/{root.user.pk}", {"name": "x"}, format="json"), 403)
    promoted = root.put(f"{USERS}/{helper.pk}", {"role": "super_admin"}, format="json")
    assert promoted.status_code == 200 and promoted.json()["data"]["role"] == "super_admin"
    helper.refresh_from_db()
    assert helper.is_superuser and helper.is_staff


def test_nobody_deactivates_themselves_or_changes_their_own_role(root, admin):
    _error(admin.delete(f"{USERS}/{admin.user.pk}"), 409, "cannot_deactivate_self")
    _error(admin.put(f"{USERS}/{admin.user.pk}", {"role": "support"}, format="json"), 409, "own_role")
    _error(admin.put(f"{USERS}/{admin.user.pk}", {"is_active": False}, format="json"), 409, "cannot_deactivate_self")
    _error(root.put(f"{USERS}/{root.user.pk}", {"role": "admin"}, format="json"), 409, "own_role")
    admin.user.refresh_from_db()
    assert admin.user.role == "admin" and admin.user.is_active
    # one's own name is fine
    assert admin.put(f"{USERS}/{admin.user.pk}", {"name": "Ops"}, format="json").status_code == 200


def test_put_changes_only_the_fields_given_and_refuses_bad_ones(admin):
    helper = platform_support(email="s@kosh.in", name="Old")
    path = f"{USERS}/{helper.pk}"
    assert admin.put(path, {"name": "New"}, format="json").status_code == 200
    helper.refresh_from_db()
    assert (helper.name, helper.email, helper.role) == ("New", "s@kosh.in", "support")
    _error(admin.put(path, {"email": "ops@kosh.in"}, format="json"), 400, "email_taken")
    _error(admin.put(path, {"role": "owner"}, format="json"), 400, "invalid_role")
    _error(admin.put(path, {"is_active": "no"}, format="json"), 400)
    _error(admin.put(path, {"tenant_id": 3}, format="json"), 400)
    helper.refresh_from_db()
    assert (helper.email, helper.role, helper.is_active) == ("s@kosh.in", "support", True)
    event = AuditEvent.objects.get(action="admin_user.update")
    assert event.before["name"] == "Old" and event.after["name"] == "New"


def test_deactivated_admins_tokens_stop_at_once_and_login_is_refused(admin):
    victim = platform_admin(email="gone@kosh.in")
    tokens = auth_tokens_issue(user=victim)
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert client.get("/api/v1/admin/credits/wallet").status_code == 200  # the user is cached now
    response = admin.delete(f"{USERS}/{victim.pk}", {"reason": "left"}, format="json")
    assert response.status_code == 200 and response.json()["data"]["is_active"] is False
    assert client.get("/api/v1/admin/credits/wallet").status_code == 401
    assert APIClient().post("/api/v1/auth/refresh", {"refresh": tokens["refresh"]}, format="json").status_code == 401
    assert APIClient().post("/api/v1/auth/admin/login", {"email": "gone@kosh.in", "password": DEFAULT_PASSWORD},
                            format="json").status_code == 401
    _error(admin.delete(f"{USERS}/{victim.pk}"), 409, "admin_user_inactive")
    event = AuditEvent.objects.get(action="admin_user.deactivate")
    assert event.reason == "left" and event.actor == admin.user and event.after["is_active"] is False
    # reactivating through PUT
    assert admin.put(f"{USERS}/{victim.pk}", {"is_active": True}, format="json").status_code == 200


def test_activity_lists_that_admins_events(admin, root, tenant):
    admin.post(f"/api/v1/tenants/{tenant.pk}/suspend", {"reason": "late"}, format="json")
    root.post("/api/v1/tenants", {"name": "Someone else's"}, format="json")
    data = root.get(f"{USERS}/{admin.user.pk}/activity").json()["data"]
    assert data["count"] == 1 and data["results"][0]["action"] == "tenant.suspend"
    assert data["results"][0]["actor_id"] == admin.user.pk
    _error(root.get(f"{USERS}/{admin.user.pk}/activity", {"page": "0"}), 400)


def test_support_tenant_staff_and_users_are_refused(client_for, tenant):
    for person in (platform_support(), tenant_admin(tenant), UserFactory()):
        client = client_for(person)
        _error(client.get(USERS), 403)
        _error(client.post(USERS, {"email": "x@kosh.in", "password": PASSWORD, "role": "admin"}, format="json"), 403)
    _error(APIClient().get(USERS), 401)


def test_admin_login_is_for_platform_staff_only(tenant):
    tenant_admin(tenant, email="t@x.in")
    UserFactory(email="u@x.in")
    platform_support(email="s@kosh.in")
    for email in ("t@x.in", "u@x.in"):
        response = APIClient().post("/api/v1/auth/admin/login", {"email": email, "password": DEFAULT_PASSWORD},
                                    format="json")
        assert response.status_code == 403 and response.json()["success"] is False
        assert "data" not in response.json() and "refresh" not in response.content.decode()
    ok = APIClient().post("/api/v1/auth/admin/login", {"email": "s@kosh.in", "password": DEFAULT_PASSWORD},
                          format="json")
    assert ok.status_code == 200 and ok.json()["data"]["access"]
