"""Issue 14, item 8: password guessing locks an account and an address out (django-axes), on
/admin/login/ and on the API's logins alike, until the cool-off passes or staff unlock it."""

import pytest
from django.core.management import call_command
from django.test import Client
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

PASSWORD = "correct-horse-battery-staple-42"
ADMIN_LOGIN = "/admin/login/?next=/admin/"


@pytest.fixture
def staff():
    return UserFactory(email="boss@example.com", is_staff=True, is_superuser=True, password=PASSWORD)


def admin_login(client, email, password, ip="10.1.1.1"):
    return client.post(ADMIN_LOGIN, {"username": email, "password": password}, REMOTE_ADDR=ip)


def api_login(email, password, ip="10.1.1.1", path="/api/auth/login"):
    return APIClient().post(path, {"email": email, "password": password}, format="json", REMOTE_ADDR=ip)


def test_admin_login_locks_the_account_after_5_failures_even_for_the_right_password(staff, settings):
    client = Client()
    for attempt in range(4):
        assert admin_login(client, staff.email, f"guess-{attempt}", ip=f"10.0.0.{attempt}").status_code == 200
    # The 5th failure (from yet another address) locks the account.
    assert admin_login(client, staff.email, "guess-4", ip="10.0.0.9").status_code == 429
    locked = admin_login(client, staff.email, PASSWORD, ip="10.0.0.10")
    assert locked.status_code == 429
    assert "Too many failed login attempts" in locked.content.decode()
    # Written another way, it is the same account.
    assert admin_login(client, "BOSS@Example.com", PASSWORD, ip="10.0.0.11").status_code == 429

    call_command("axes_reset_username", "boss@example.com")
    assert admin_login(client, staff.email, PASSWORD, ip="10.0.0.12").status_code == 302


def test_admin_login_locks_the_address_after_5_failures_on_any_accounts(staff):
    client = Client()
    for n in range(5):
        admin_login(client, f"nobody{n}@example.com", "guess", ip="10.9.9.9")
    assert admin_login(client, staff.email, PASSWORD, ip="10.9.9.9").status_code == 429
    # The account itself is not locked: from another address it logs in.
    assert admin_login(Client(), staff.email, PASSWORD, ip="10.8.8.8").status_code == 302
    call_command("axes_reset_ip", "10.9.9.9")
    assert admin_login(Client(), staff.email, PASSWORD, ip="10.9.9.9").status_code == 302


def test_api_login_keeps_working_with_axes_installed(staff):
    response = api_login(staff.email, PASSWORD)
    assert response.status_code == 200
    assert response.json()["data"]["access"]
    admin = api_login(staff.email, PASSWORD, path="/api/v1/auth/admin/login")
    assert admin.status_code == 200


def test_api_failures_count_towards_the_same_lockout_and_answer_json(staff):
    for n in range(4):
        assert api_login(staff.email, "guess", ip=f"10.2.0.{n}").status_code == 401
    fifth = api_login(staff.email, "guess", ip="10.2.0.9", path="/api/v1/auth/admin/login")
    assert fifth.status_code == 429
    assert fifth.json() == {"success": False, "error": {
        "code": "locked_out",
        "message": "Too many failed login attempts. Try again later or ask an administrator to unlock."}}
    # The right password is refused now, on the API and on the admin form.
    assert api_login(staff.email, PASSWORD, ip="10.2.0.10").status_code == 429
    assert admin_login(Client(), staff.email, PASSWORD, ip="10.2.0.11").status_code == 429
    call_command("axes_reset")
    assert api_login(staff.email, PASSWORD, ip="10.2.0.12").status_code == 200


def test_lockout_of_one_account_leaves_others_alone(staff):
    other = UserFactory(email="other@example.com", password=PASSWORD)
    for n in range(5):
        api_login(staff.email, "guess", ip=f"10.3.0.{n}")
    assert api_login(other.email, PASSWORD, ip="10.3.1.1").status_code == 200


def test_forwarded_for_is_trusted_only_behind_configured_proxies(staff, settings):
    from accounts.lockout import client_ip

    class Request:
        META = {"REMOTE_ADDR": "10.0.0.1", "HTTP_X_FORWARDED_FOR": "6.6.6.6, 203.0.113.7"}

    assert client_ip(Request()) == "10.0.0.1"
    settings.TRUSTED_PROXY_COUNT = 1
    assert client_ip(Request()) == "203.0.113.7"  # what our proxy saw, not the forged 6.6.6.6
