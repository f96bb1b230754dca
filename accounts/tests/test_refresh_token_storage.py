"""Issue 14, item 10: the outstanding-token table holds digests, never a usable refresh token;
rotation, the blacklist and logout keep working."""

import importlib

import pytest
from django.apps import apps as global_apps
from rest_framework.test import APIClient
from rest_framework_simplejwt.token_blacklist.models import BlacklistedToken, OutstandingToken

from accounts.tests.factories import DEFAULT_PASSWORD, UserFactory
from accounts.tokens import token_digest

pytestmark = pytest.mark.django_db


def post(client, path, body):
    return client.post(path, body, format="json")


def _stored_tokens() -> list[str]:
    return list(OutstandingToken.objects.values_list("token", flat=True))


def test_login_refresh_logout_never_store_a_token_in_clear():
    UserFactory(email="asha@example.com")
    client = APIClient()
    login = post(client, "/api/auth/login", {"email": "asha@example.com", "password": DEFAULT_PASSWORD})
    first = login.json()["data"]["refresh"]
    rotated = post(client, "/api/auth/refresh", {"refresh": first})
    assert rotated.status_code == 200
    second = rotated.json()["data"]["refresh"]
    assert post(client, "/api/auth/logout", {"refresh": second}).status_code == 200

    stored = _stored_tokens()
    assert len(stored) == 2
    assert sorted(stored) == sorted([token_digest(first), token_digest(second)])
    text = "".join(stored)
    assert first not in text and second not in text and "eyJ" not in text
    # Both are revoked: the first by rotation, the second by logout.
    assert BlacklistedToken.objects.count() == 2
    assert post(client, "/api/auth/refresh", {"refresh": first}).status_code == 401
    assert post(client, "/api/auth/refresh", {"refresh": second}).status_code == 401


def test_logout_of_a_token_missing_from_the_table_records_only_its_digest():
    from accounts.services import auth_tokens_issue

    refresh = auth_tokens_issue(user=UserFactory())["refresh"]
    OutstandingToken.objects.all().delete()
    assert post(APIClient(), "/api/v1/auth/logout", {"refresh": refresh}).status_code == 200
    assert _stored_tokens() == [token_digest(refresh)]
    assert post(APIClient(), "/api/auth/refresh", {"refresh": refresh}).status_code == 401


def test_migration_hashes_tokens_stored_in_clear_and_they_stay_revocable():
    from accounts.services import auth_tokens_issue

    user = UserFactory()
    live = auth_tokens_issue(user=user)["refresh"]
    revoked = auth_tokens_issue(user=user)["refresh"]
    # As simplejwt used to store them:
    OutstandingToken.objects.filter(token=token_digest(live)).update(token=live)
    OutstandingToken.objects.filter(token=token_digest(revoked)).update(token=revoked)
    assert post(APIClient(), "/api/auth/logout", {"refresh": revoked}).status_code == 200

    migration = importlib.import_module("accounts.migrations.0004_hash_outstanding_refresh_tokens")
    migration.hash_stored_tokens(global_apps, None)
    migration.hash_stored_tokens(global_apps, None)  # a second run changes nothing

    assert sorted(_stored_tokens()) == sorted([token_digest(live), token_digest(revoked)])
    assert post(APIClient(), "/api/auth/refresh", {"refresh": revoked}).status_code == 401
    rotated = post(APIClient(), "/api/auth/refresh", {"refresh": live})
    assert rotated.status_code == 200
    assert post(APIClient(), "/api/auth/refresh", {"refresh": live}).status_code == 401
