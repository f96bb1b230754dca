"""Externally issued HS256 tokens (seed 000): `user_id` or `sub`, an `exp`, no jti/token_type."""

import time

import jwt
import pytest
from django.conf import settings
from rest_framework.test import APIClient

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db


def external(payload, key=None):
    return jwt.encode(payload, key or settings.JWT_SECRET, algorithm="HS256")


def me(token):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    return client.get("/api/auth/me")


def test_external_token_with_sub():
    user = UserFactory()
    response = me(external({"sub": str(user.pk), "exp": int(time.time()) + 60}))
    assert response.status_code == 200
    assert response.json()["data"]["id"] == user.pk


def test_external_token_with_numeric_user_id():
    user = UserFactory()
    assert me(external({"user_id": user.pk, "exp": int(time.time()) + 60})).status_code == 200


def test_bad_signature_is_401():
    user = UserFactory()
    assert me(external({"sub": user.pk, "exp": int(time.time()) + 60}, key="wrong" * 10)).status_code == 401


def test_expired_token_is_401():
    user = UserFactory()
    assert me(external({"sub": user.pk, "exp": int(time.time()) - 5})).status_code == 401


def test_token_without_exp_is_401():
    user = UserFactory()
    assert me(external({"sub": user.pk})).status_code == 401


def test_unknown_user_is_401():
    assert me(external({"sub": 987654321, "exp": int(time.time()) + 60})).status_code == 401


def test_inactive_user_is_401():
    user = UserFactory(is_active=False)
    assert me(external({"sub": user.pk, "exp": int(time.time()) + 60})).status_code == 401


@pytest.mark.parametrize("claim", [{"sub": "abc"}, {"sub": True}, {"user_id": 1.5}, {}])
def test_non_numeric_subject_is_401(claim):
    UserFactory()
    assert me(external({**claim, "exp": int(time.time()) + 60})).status_code == 401


def test_refresh_token_is_not_an_access_token(api_client):
    from accounts.services import auth_tokens_issue

    user = UserFactory()
    tokens = auth_tokens_issue(user=user)
    assert me(tokens["refresh"]).status_code == 401
    assert me(tokens["access"]).status_code == 200


def test_other_algorithms_are_refused():
    user = UserFactory()
    token = jwt.encode({"sub": user.pk, "exp": int(time.time()) + 60}, None, algorithm="none")
    assert me(token).status_code == 401


def test_user_of_suspended_tenant_is_refused(tenant):
    from tenants.services import tenant_set_status

    user = UserFactory(tenant=tenant)
    token = external({"sub": user.pk, "exp": int(time.time()) + 60})
    assert me(token).status_code == 200
    tenant_set_status(tenant=tenant, status="suspended")
    assert me(token).status_code == 403


@pytest.mark.parametrize("header", [" ", "Bearer", "Bearer a b", "Token abc"])
def test_odd_authorization_headers_are_401_not_500(header):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=header)
    assert client.get("/api/auth/me").status_code == 401
