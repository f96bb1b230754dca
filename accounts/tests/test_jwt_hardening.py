"""Issue 14, item 11: token lifetime bounded, numeric time claims, optional issuer/audience, and a
deploy warning for a short JWT_SECRET."""

import time

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient
from rest_framework_simplejwt import state

from accounts.services import auth_tokens_issue
from accounts.tests.factories import UserFactory
from config.tests.settings_probe import run_manage

pytestmark = pytest.mark.django_db


def me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/auth/me")


def external(**claims):
    return jwt.encode(claims, settings.JWT_SECRET, algorithm="HS256")


@pytest.fixture
def user():
    return UserFactory()


@pytest.mark.parametrize("exp", [10**30, 1e30, "9999999999", str(int(time.time()) + 60), True, None,
                                 [int(time.time()) + 60]])
def test_absurd_or_non_numeric_exp_is_refused(user, exp):
    response = me(external(sub=user.pk, exp=exp))
    assert response.status_code == 401, (exp, response.content)


def test_exp_beyond_the_maximum_lifetime_is_refused(user, settings):
    settings.JWT_MAX_TOKEN_LIFETIME = 3600
    assert me(external(sub=user.pk, exp=int(time.time()) + 3600 - 5)).status_code == 200
    response = me(external(sub=user.pk, exp=int(time.time()) + 3600 + 60))
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token lifetime is too long."


def test_default_maximum_lifetime_is_a_day():
    assert settings.JWT_MAX_TOKEN_LIFETIME == 24 * 3600


@pytest.mark.parametrize("exp_offset", [60, 60.5])
def test_numeric_exp_within_bounds_is_accepted(user, exp_offset):
    assert me(external(sub=user.pk, exp=time.time() + exp_offset)).status_code == 200


@pytest.mark.parametrize("iat", [int(time.time()) + 3600, "1700000000", True])
def test_iat_in_the_future_or_not_a_number_is_refused(user, iat):
    assert me(external(sub=user.pk, exp=int(time.time()) + 60, iat=iat)).status_code == 401


def test_iat_in_the_past_is_fine(user):
    now = int(time.time())
    assert me(external(sub=user.pk, exp=now + 60, iat=now - 10)).status_code == 200


def test_our_own_tokens_still_work(user):
    tokens = auth_tokens_issue(user=user)
    assert me(tokens["access"]).status_code == 200
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200
    assert me(refreshed.json()["data"]["access"]).status_code == 200


@pytest.fixture
def issuer_and_audience(settings, monkeypatch):
    settings.JWT_ISSUER, settings.JWT_AUDIENCE = "https://auth.example.com", "kosh"
    # simplejwt builds its token backend once at import; point it at the same values.
    monkeypatch.setattr(state.token_backend, "issuer", settings.JWT_ISSUER)
    monkeypatch.setattr(state.token_backend, "audience", settings.JWT_AUDIENCE)


@pytest.mark.parametrize("claims, status", [
    ({}, 401),
    ({"iss": "https://auth.example.com"}, 401),
    ({"aud": "kosh"}, 401),
    ({"iss": "https://evil.example.com", "aud": "kosh"}, 401),
    ({"iss": "https://auth.example.com", "aud": "other"}, 401),
    ({"iss": "https://auth.example.com", "aud": "kosh"}, 200),
    ({"iss": "https://auth.example.com", "aud": ["other", "kosh"]}, 200),
])
def test_issuer_and_audience_are_enforced_when_set(user, issuer_and_audience, claims, status):
    assert me(external(sub=user.pk, exp=int(time.time()) + 60, **claims)).status_code == status


def test_our_tokens_carry_the_configured_issuer_and_audience(user, issuer_and_audience):
    tokens = auth_tokens_issue(user=user)
    payload = jwt.decode(tokens["access"], options={"verify_signature": False})
    assert payload["iss"] == "https://auth.example.com" and payload["aud"] == "kosh"
    assert me(tokens["access"]).status_code == 200
    refreshed = APIClient().post("/api/auth/refresh", {"refresh": tokens["refresh"]}, format="json")
    assert refreshed.status_code == 200


def test_tokens_without_issuer_are_unaffected_when_none_is_configured(user):
    assert me(external(sub=user.pk, exp=int(time.time()) + 60)).status_code == 200


DEPLOY_ENV = {
    "DEBUG": "false", "SECRET_KEY": "p" * 20 + "roduction-secret-key-with-enough-entropy-91x",
    "ALLOWED_HOSTS": "api.example.com", "RAZORPAY_KEY_ID": "rzp_live_x",
    "RAZORPAY_KEY_SECRET": "s" * 24, "RAZORPAY_WEBHOOK_SECRET": "w" * 24,
}


def test_check_deploy_warns_about_a_short_jwt_secret():
    result = run_manage("check", "--deploy", JWT_SECRET="j" * 31, **DEPLOY_ENV)
    assert "accounts.W001" in result.stdout + result.stderr


def test_check_deploy_accepts_a_32_byte_jwt_secret():
    result = run_manage("check", "--deploy", JWT_SECRET="j" * 32, **DEPLOY_ENV)
    assert result.returncode == 0, result.stdout + result.stderr
    assert "accounts.W001" not in result.stdout + result.stderr
