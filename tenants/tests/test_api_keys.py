import hashlib

import pytest
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.urls import reverse
from rest_framework.test import APIClient
from rest_framework.views import APIView

from config.envelopes import success_response
from config.permissions import HasApiKey
from tenants.authentication import ApiKeyAuthentication
from tenants.models import ApiKey
from tenants.services import api_key_create, api_key_revoke, tenant_set_status

pytestmark = pytest.mark.django_db


class Whoami(APIView):
    authentication_classes = [ApiKeyAuthentication]
    permission_classes = [HasApiKey]

    def get(self, request):
        return success_response({"tenant": request.auth.tenant.slug})


@pytest.fixture
def call():
    from django.test import RequestFactory

    factory = RequestFactory()

    def make(**headers):
        return Whoami.as_view()(factory.get("/whoami", **headers))

    return make


def test_key_is_stored_only_as_a_hash(tenant):
    api_key, raw = api_key_create(tenant=tenant, name="bot")
    stored = ApiKey.objects.get(pk=api_key.pk)
    assert stored.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert raw.split("_")[1] == stored.prefix
    for field in ApiKey._meta.concrete_fields:
        value = getattr(stored, field.attname)
        assert raw not in str(value)


def test_both_headers_are_accepted(tenant, call):
    _, raw = api_key_create(tenant=tenant, name="bot")
    assert call(HTTP_X_BOT_SECRET=raw).status_code == 200
    assert call(HTTP_AUTHORIZATION=f"Api-Key {raw}").status_code == 200


def test_missing_or_wrong_key_is_401(tenant, call):
    _, raw = api_key_create(tenant=tenant, name="bot")
    assert call().status_code == 401
    assert call(HTTP_X_BOT_SECRET=raw[:-1] + ("x" if raw[-1] != "x" else "y")).status_code == 401
    assert call(HTTP_X_BOT_SECRET="not-a-key").status_code == 401


def test_revoked_key_is_refused(tenant, call):
    api_key, raw = api_key_create(tenant=tenant, name="bot")
    api_key_revoke(api_key=api_key)
    assert call(HTTP_X_BOT_SECRET=raw).status_code == 401


def test_suspended_tenant_key_is_refused(tenant, call):
    _, raw = api_key_create(tenant=tenant, name="bot")
    tenant_set_status(tenant=tenant, status="suspended")
    response = call(HTTP_X_BOT_SECRET=raw)
    assert response.status_code == 403
    assert response.data["error"]["message"] == "Tenant is suspended."


def test_last_used_is_recorded(tenant, call):
    api_key, raw = api_key_create(tenant=tenant, name="bot")
    assert api_key.last_used_at is None
    call(HTTP_X_BOT_SECRET=raw)
    api_key.refresh_from_db()
    assert api_key.last_used_at is not None


def test_api_key_cannot_use_jwt_only_endpoints(tenant):
    _, raw = api_key_create(tenant=tenant, name="bot")
    client = APIClient()
    client.credentials(HTTP_X_BOT_SECRET=raw)
    assert client.get("/api/auth/me").status_code == 401


def test_create_api_key_command_prints_key_once(tenant, capsys):
    call_command("create_api_key", "--tenant", tenant.slug, "--name", "cli", "--scope", "bot")
    out = capsys.readouterr().out
    raw = out.strip().splitlines()[-1]
    api_key = ApiKey.objects.get(name="cli")
    assert api_key.key_hash == hashlib.sha256(raw.encode()).hexdigest()
    assert api_key.scopes == ["bot"]


def test_seed_demo_is_idempotent(capsys):
    call_command("seed_demo")
    call_command("seed_demo")
    from tenants.models import Tenant

    User = get_user_model()
    assert User.objects.filter(is_superuser=True).count() == 1
    assert Tenant.objects.filter(slug="demo").count() == 1
    assert ApiKey.objects.filter(tenant__slug="demo", name="demo-bot").count() == 1


def test_api_key_admin_never_shows_the_hash(admin_client, api_key):
    # admin_client: pytest-django's client logged in as a superuser.
    url = reverse("admin:tenants_apikey_change", args=[api_key[0].pk])
    page = admin_client.get(url).content.decode()
    assert api_key[0].key_hash not in page
    assert api_key[1] not in page

