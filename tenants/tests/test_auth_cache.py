"""The API-key cache (DESIGN §4.6, issue 16): no query per request once a key is cached, and a
revoked key or a suspended tenant refused at once on the worker that made the change, within
API_KEY_CACHE_SECONDS on the others (at once everywhere with Redis), every time with the cache off.

"Another worker" is simulated by a change that bypasses this process's invalidation (a
QuerySet.update(), as another process would leave this process's memory untouched)."""

import shutil
import socket
import subprocess
import time

import pytest
from django.core.cache import caches
from django.db import connection
from django.test import RequestFactory
from django.test.utils import CaptureQueriesContext
from rest_framework.views import APIView

from config.envelopes import success_response
from config.permissions import HasApiKey
from tenants.authentication import ApiKeyAuthentication
from tenants.cache import api_key_by_raw_key
from tenants.keys import key_prefix
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create, api_key_revoke, tenant_set_status

pytestmark = pytest.mark.django_db


class Whoami(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request):
        return success_response({"tenant": request.auth.tenant.slug})


def call(raw):
    return Whoami.as_view()(RequestFactory().get("/whoami", HTTP_X_BOT_SECRET=raw))


def queries_of(raw) -> tuple[int, int]:
    with CaptureQueriesContext(connection) as captured:
        status = call(raw).status_code
    return status, len(captured.captured_queries)


@pytest.fixture
def key(tenant):
    return api_key_create(tenant=tenant, name="bot")


def test_a_cached_key_costs_no_query(key):
    _, raw = key
    assert queries_of(raw)[0] == 200  # resolves the key, caches it, records last_used_at
    assert queries_of(raw) == (200, 0)


def test_an_unknown_key_is_not_cached(key):
    _, raw = key
    wrong = raw[:-1] + ("x" if raw[-1] != "x" else "y")
    assert queries_of(wrong) == (401, 1)
    assert queries_of(wrong) == (401, 1)


def test_revoked_key_is_refused_at_once_on_this_worker(key):
    api_key, raw = key
    assert call(raw).status_code == 200
    api_key_revoke(api_key=api_key)
    response = call(raw)
    assert response.status_code == 401
    assert response.data["error"]["message"] == "API key has been revoked."


def test_revoked_key_elsewhere_is_refused_within_the_bound(key, settings):
    settings.API_KEY_CACHE_SECONDS = 1
    api_key, raw = key
    assert call(raw).status_code == 200
    ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=api_key.created_at)  # another worker
    assert call(raw).status_code == 200  # this worker's copy is at most 1 s old
    time.sleep(1.1)
    assert call(raw).status_code == 401


def test_suspended_tenant_is_refused_at_once_and_reactivation_too(key, tenant):
    _, raw = key
    assert call(raw).status_code == 200
    tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
    response = call(raw)
    assert response.status_code == 403
    assert response.data["error"]["message"] == "Tenant is suspended."
    tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
    assert call(raw).status_code == 200


def test_a_saved_tenant_or_key_is_forgotten_too(key, tenant):
    """The admin and other code that save() a row go through the signal receivers."""
    api_key, raw = key
    assert call(raw).status_code == 200
    tenant.status = Tenant.Status.SUSPENDED
    tenant.save()
    assert call(raw).status_code == 403
    tenant.status = Tenant.Status.ACTIVE
    tenant.save()
    assert call(raw).status_code == 200
    api_key.revoked_at = api_key.created_at
    api_key.save()
    assert call(raw).status_code == 401


def test_suspension_elsewhere_is_refused_within_the_bound(key, tenant, settings):
    settings.API_KEY_CACHE_SECONDS = 1
    _, raw = key
    assert call(raw).status_code == 200
    Tenant.objects.filter(pk=tenant.pk).update(status=Tenant.Status.SUSPENDED)  # another worker
    assert call(raw).status_code == 200
    time.sleep(1.1)
    assert call(raw).status_code == 403


def test_cache_off_reads_the_key_every_time(key, settings):
    settings.API_KEY_CACHE_SECONDS = 0
    api_key, raw = key
    assert call(raw).status_code == 200
    assert queries_of(raw) == (200, 1)
    ApiKey.objects.filter(pk=api_key.pk).update(revoked_at=api_key.created_at)
    assert call(raw).status_code == 401


def test_last_used_is_written_at_most_once_a_minute_per_worker(key):
    api_key, raw = key
    call(raw)
    first = ApiKey.objects.get(pk=api_key.pk).last_used_at
    assert first is not None
    for _ in range(3):
        assert queries_of(raw) == (200, 0)
    assert ApiKey.objects.get(pk=api_key.pk).last_used_at == first


# --- Redis: one cache shared by every worker ----------------------------------------------------

@pytest.fixture
def redis_url():
    server_binary = shutil.which("redis-server")
    if server_binary is None:
        pytest.skip("redis-server is not installed")
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    server = subprocess.Popen([server_binary, "--port", str(port), "--bind", "127.0.0.1", "--save", "",
                               "--appendonly", "no"], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"redis://127.0.0.1:{port}/0"
    try:
        import redis

        client = redis.Redis.from_url(url)
        for _ in range(100):
            try:
                client.ping()
                break
            except redis.ConnectionError:
                time.sleep(0.05)
        yield url
    finally:
        server.terminate()
        server.wait(timeout=10)


def test_with_redis_a_revocation_reaches_every_worker_at_once(key, settings, redis_url):
    from django.core.cache.backends.redis import RedisCache

    settings.CACHES = {**settings.CACHES, "auth": {
        "BACKEND": "django.core.cache.backends.redis.RedisCache", "LOCATION": redis_url,
        "KEY_PREFIX": "kosh:auth"}}
    api_key, raw = key
    other_worker = RedisCache(redis_url, {"KEY_PREFIX": "kosh:auth"})  # its own client, same Redis
    try:
        assert isinstance(caches["auth"], RedisCache)
        assert call(raw).status_code == 200
        prefix = key_prefix(raw)
        # The other worker finds the entry this one cached: no query.
        with CaptureQueriesContext(connection) as captured:
            assert other_worker.get(f"apikey:{api_key.key_hash}") is not None
            assert api_key_by_raw_key(raw, prefix=prefix).pk == api_key.pk
        assert len(captured.captured_queries) == 0
        api_key_revoke(api_key=api_key)
        assert other_worker.get(f"apikey:{api_key.key_hash}") is None  # gone for everyone
        assert call(raw).status_code == 401
    finally:
        caches["auth"].clear()
