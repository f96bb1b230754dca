"""Verified tokens are remembered per process (issue 16), but only what depends on the token and
the settings: an expired token, a token signed with an old secret and a deactivated user are
still refused."""

import datetime
import json
import time

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts import authentication
from accounts.serializers import UserSerializer, user_representation
from accounts.tests.factories import UserFactory
from config.renderers import JSONRenderer
from tenants.models import Tenant

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def _empty_cache():
    authentication._verified_tokens.clear()
    yield
    authentication._verified_tokens.clear()


def external(user, seconds=60, key=None):
    return jwt.encode({"sub": str(user.pk), "exp": int(time.time()) + seconds},
                      key or settings.JWT_SECRET, algorithm="HS256")


def me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/auth/me")


def test_a_verified_token_is_checked_once(monkeypatch):
    user = UserFactory()
    token = external(user)
    assert me(token).status_code == 200
    calls = []
    real_decode = jwt.decode
    monkeypatch.setattr(authentication.jwt, "decode", lambda *a, **k: calls.append(1) or real_decode(*a, **k))
    assert me(token).status_code == 200
    assert calls == []


def test_a_remembered_token_is_refused_once_it_expires(monkeypatch):
    user = UserFactory()
    token = external(user, seconds=30)
    assert me(token).status_code == 200
    later = time.time() + 31
    monkeypatch.setattr(authentication.time, "time", lambda: later)
    monkeypatch.setattr(jwt.api_jwt, "datetime", _FrozenDatetime(later))
    response = me(token)
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "Token has expired."


class _FrozenDatetime:
    def __init__(self, at):
        self._now = datetime.datetime.fromtimestamp(at, tz=datetime.UTC)

    def now(self, tz=None):
        return self._now


def test_a_remembered_token_of_a_deactivated_user_is_refused():
    user = UserFactory()
    token = external(user)
    assert me(token).status_code == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    assert me(token).status_code == 401


def test_a_token_signed_with_a_rotated_secret_is_refused(settings):
    user = UserFactory()
    token = external(user)
    assert me(token).status_code == 200
    settings.JWT_SECRET = "another-secret-" * 4
    assert me(token).status_code == 401


def test_the_cache_is_bounded(monkeypatch):
    monkeypatch.setattr(authentication, "VERIFIED_TOKENS_MAX", 3)
    user = UserFactory()
    tokens = [external(user, seconds=60 + n) for n in range(5)]
    for token in tokens:
        assert me(token).status_code == 200
    assert len(authentication._verified_tokens) == 3
    assert [key[0] for key in authentication._verified_tokens] == tokens[2:]


def test_me_renders_what_the_user_serializer_renders():
    tenant = Tenant.objects.create(name="Acme", slug="acme")
    user = UserFactory(name="Asha", phone="+919812345678", business_name="Asha Foods",
                       core_processes=["billing", "stock"], monthly_revenue="125000.50", employees=12,
                       goal_amount="1000000", goal_years=3, tenant=tenant, role="tenant_admin")
    assert user_representation(user) == UserSerializer(user).data
    token = external(user)
    body = me(token).json()["data"]
    assert body == me_through_serializer(user)


def me_through_serializer(user):
    return json.loads(JSONRenderer().render(UserSerializer(user).data))
