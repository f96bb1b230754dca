import pytest
from rest_framework.test import APIClient

from accounts.models import User
from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"


def post(client, path, body):
    return client.post(path, body, format="json")


def test_register_creates_the_account_and_login_returns_it(api_client):
    response = post(api_client, "/api/auth/register",
                    {"email": "New@Example.com", "password": STRONG, "name": "Asha",
                     "phone": "98765 43210", "core_processes": ["sales"], "monthly_revenue": "1500.50"})
    assert response.status_code == 201, response.json()
    assert response.json() == {"success": True, "data": {"email": "new@example.com"},
                               "message": "Registration received. Log in with your email and password."}
    assert User.objects.get(email="new@example.com").check_password(STRONG)
    login = post(api_client, "/api/auth/login", {"email": "new@example.com", "password": STRONG})
    assert login.status_code == 200
    body = login.json()["data"]
    assert body["user"]["phone"] == "+919876543210"
    assert body["user"]["monthly_revenue"] == 1500.5
    assert body["access"] and body["refresh"]


def test_register_refuses_weak_password(api_client):
    weak = post(api_client, "/api/auth/register", {"email": "w@example.com", "password": "123"})
    assert weak.status_code == 400 and weak.json()["error"]["code"] == "weak_password"
    assert not User.objects.filter(email="w@example.com").exists()


def test_register_rejects_bad_phone(api_client):
    response = post(api_client, "/api/auth/register",
                    {"email": "p@example.com", "password": STRONG, "phone": "12"})
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_phone_number"


def test_login_refresh_logout_cycle(api_client):
    user = UserFactory(email="cycle@example.com")
    login = post(api_client, "/api/auth/login", {"email": "cycle@example.com", "password": DEFAULT_PASSWORD})
    assert login.status_code == 200
    tokens = login.json()["data"]
    assert login.json()["data"]["user"]["id"] == user.pk

    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {tokens['access']}")
    assert me.get("/api/auth/me").json()["data"]["email"] == "cycle@example.com"

    rotated = post(api_client, "/api/auth/refresh", {"refresh": tokens["refresh"]})
    assert rotated.status_code == 200
    new = rotated.json()["data"]
    assert new["refresh"] != tokens["refresh"]
    # Rotation blacklists the old refresh token.
    reused = post(api_client, "/api/auth/refresh", {"refresh": tokens["refresh"]})
    assert reused.status_code == 401

    logout = post(api_client, "/api/auth/logout", {"refresh": new["refresh"]})
    assert logout.status_code == 200
    after = post(api_client, "/api/auth/refresh", {"refresh": new["refresh"]})
    assert after.status_code == 401
    assert after.json()["success"] is False


def test_login_wrong_password_and_unknown_email(api_client):
    UserFactory(email="x@example.com")
    assert post(api_client, "/api/auth/login", {"email": "x@example.com", "password": "nope"}).status_code == 401
    assert post(api_client, "/api/auth/login", {"email": "y@example.com", "password": "nope"}).status_code == 401


def test_login_is_throttled(api_client, settings):
    settings.AXES_ENABLED = False  # the failure lockout would answer 429 first
    UserFactory(email="t@example.com")
    codes = [post(api_client, "/api/auth/login", {"email": "t@example.com", "password": "bad"}).status_code
             for _ in range(25)]
    assert codes[0] == 401
    assert codes[-1] == 429
    assert post(api_client, "/api/auth/login", {"email": "t@example.com", "password": "bad"}
                ).json()["error"]["code"] == "throttled"


def test_admin_login_is_for_staff_only(api_client):
    UserFactory(email="staff@example.com", is_staff=True)
    UserFactory(email="plain@example.com")
    ok = post(api_client, "/api/v1/auth/admin/login", {"email": "staff@example.com", "password": DEFAULT_PASSWORD})
    assert ok.status_code == 200
    refused = post(api_client, "/api/v1/auth/admin/login",
                   {"email": "plain@example.com", "password": DEFAULT_PASSWORD})
    assert refused.status_code == 403


def test_v1_refresh_logout_and_verify(api_client):
    UserFactory(email="v1@example.com", is_staff=True)
    tokens = post(api_client, "/api/v1/auth/admin/login",
                  {"email": "v1@example.com", "password": DEFAULT_PASSWORD}).json()["data"]
    verify = post(api_client, "/api/v1/auth/verify", {"token": tokens["access"]})
    assert verify.status_code == 200 and verify.json()["data"]["valid"] is True
    assert post(api_client, "/api/v1/auth/verify", {"token": "garbage"}).status_code == 401
    rotated = post(api_client, "/api/v1/auth/refresh", {"refresh": tokens["refresh"]})
    assert rotated.status_code == 200
    assert post(api_client, "/api/v1/auth/logout", {"refresh": rotated.json()["data"]["refresh"]}).status_code == 200
    assert post(api_client, "/api/v1/auth/refresh", {"refresh": rotated.json()["data"]["refresh"]}).status_code == 401


def test_me_patch_updates_profile(auth_client):
    response = auth_client.patch("/api/auth/me", {"business_name": "Acme", "employees": 12,
                                                   "goal_amount": "250000.00", "goal_years": 3},
                                 format="json")
    assert response.status_code == 200, response.json()
    data = response.json()["data"]
    assert data["business_name"] == "Acme" and data["employees"] == 12 and data["goal_amount"] == 250000
    bad = auth_client.patch("/api/auth/me", {"is_staff": True}, format="json")
    assert bad.status_code == 400
    auth_client.user.refresh_from_db()
    assert auth_client.user.is_staff is False


def test_me_requires_authentication(api_client):
    response = api_client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["success"] is False


@pytest.mark.parametrize("path", ["/api/auth/register", "/api/auth/login", "/api/auth/refresh",
                                  "/api/auth/logout", "/api/v1/auth/admin/login", "/api/v1/auth/logout",
                                  "/api/v1/auth/refresh", "/api/v1/auth/verify"])
@pytest.mark.parametrize("raw", ['{"email": ', "[]", '{"email": 5, "password": []}', "nul"])
def test_malformed_json_is_400_never_500(api_client, path, raw):
    response = api_client.post(path, data=raw, content_type="application/json")
    assert response.status_code == 400, (path, raw, response.content)
    assert response.json()["success"] is False


def test_phone_only_user_has_no_usable_password(db):
    user = User.objects.create_user(phone="+919876543210")
    assert not user.has_usable_password()
