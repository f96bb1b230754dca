"""The JWT user cache (DESIGN §4.6, issue 16): no query for the user once cached, and a
deactivated user or a suspended tenant refused at once on the worker that made the change and
within API_KEY_CACHE_SECONDS elsewhere ("elsewhere" = a QuerySet.update() that bypasses this
process's invalidation, as another process would)."""

import time

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.models import User
from accounts.services import user_update
from accounts.tests.factories import UserFactory
from tenants.models import Tenant
from tenants.services import tenant_set_status

pytestmark = pytest.mark.django_db


def me(client) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        status = client.get("/api/auth/me").status_code
    return status, len(captured.captured_queries)


def test_the_user_is_read_once_then_cached(client_for):
    client = client_for(UserFactory())
    assert me(client) == (200, 1)
    assert me(client) == (200, 0)


def test_a_deactivated_user_is_refused_at_once_on_this_worker(client_for):
    user = UserFactory()
    client = client_for(user)
    assert me(client)[0] == 200
    user.is_active = False
    user.save(update_fields=["is_active"])
    response = client.get("/api/auth/me")
    assert response.status_code == 401
    assert response.json()["error"]["message"] == "User is inactive."


def test_a_user_deactivated_elsewhere_is_refused_within_the_bound(client_for, settings):
    settings.API_KEY_CACHE_SECONDS = 1
    user = UserFactory()
    client = client_for(user)
    assert me(client)[0] == 200
    User.objects.filter(pk=user.pk).update(is_active=False)  # another worker
    assert me(client)[0] == 200  # this worker's copy is at most 1 s old
    time.sleep(1.1)
    assert me(client)[0] == 401


def test_a_profile_change_shows_at_once(client_for):
    user = UserFactory(name="Asha")
    client = client_for(user)
    assert client.get("/api/auth/me").json()["data"]["name"] == "Asha"
    user_update(user=User.objects.get(pk=user.pk), name="Asha R")
    assert client.get("/api/auth/me").json()["data"]["name"] == "Asha R"


def test_a_suspended_tenant_refuses_its_users_at_once(client_for, tenant):
    client = client_for(UserFactory(tenant=tenant))
    assert me(client)[0] == 200
    tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
    assert me(client)[0] == 403
    tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
    assert me(client)[0] == 200


def test_a_tenant_suspended_elsewhere_refuses_its_users_within_the_bound(client_for, tenant, settings):
    settings.API_KEY_CACHE_SECONDS = 1
    client = client_for(UserFactory(tenant=tenant))
    assert me(client)[0] == 200
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)  # another worker
    assert me(client)[0] == 200
    time.sleep(1.1)
    assert me(client)[0] == 403


def test_cache_off_reads_the_user_every_time(client_for, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    user = UserFactory()
    client = client_for(user)
    assert me(client) == (200, 1)
    assert me(client) == (200, 1)
    User.objects.filter(pk=user.pk).update(is_active=False)
    assert me(client)[0] == 401
