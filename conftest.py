"""Fixtures shared by every app's tests."""

import pytest
from django.core.cache import caches
from django.db import connection
from rest_framework.test import APIClient


def pytest_collection_modifyitems(config, items):
    """`@pytest.mark.postgres_only` tests skip on any other database (`make test-sqlite`)."""
    if connection.vendor == "postgresql":
        return
    skip = pytest.mark.skip(reason="needs PostgreSQL")
    for item in items:
        if item.get_closest_marker("postgres_only"):
            item.add_marker(skip)


@pytest.fixture(autouse=True)
def _clear_cache():
    # Throttle counters, cached API keys, users and the catalog: each test starts with none.
    for cache in caches.all():
        cache.clear()
    yield
    for cache in caches.all():
        cache.clear()


@pytest.fixture(autouse=True)
def _catalog_after_flush(request):
    """`transaction=True` tests truncate every table, the migrated catalog included; put it back."""
    marker = request.node.get_closest_marker("django_db")
    if marker is None or not marker.kwargs.get("transaction"):
        return
    request.getfixturevalue("transactional_db")
    from plans.catalog import catalog_load
    from plans.models import AddOn, CreditPackage, RatePlan

    catalog_load(RatePlan, AddOn, CreditPackage)


@pytest.fixture
def api_client():
    return APIClient()


@pytest.fixture
def user(db):
    from accounts.tests.factories import UserFactory

    return UserFactory()


@pytest.fixture
def staff_user(db):
    """Platform staff with a writing role (role `admin`, no tenant): what "staff" meant before roles."""
    from accounts.tests.factories import platform_admin

    return platform_admin()


def _bearer(user):
    from accounts.services import auth_tokens_issue

    return f"Bearer {auth_tokens_issue(user=user)['access']}"


@pytest.fixture
def auth_client(user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_bearer(user))
    client.user = user
    return client


@pytest.fixture
def staff_client(staff_user):
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=_bearer(staff_user))
    client.user = staff_user
    return client


@pytest.fixture
def client_for():
    """client_for(user) -> an APIClient authenticated as that user with a fresh access token."""

    def make(user):
        client = APIClient()
        client.credentials(HTTP_AUTHORIZATION=_bearer(user))
        client.user = user
        return client

    return make


@pytest.fixture
def tenant(db):
    from tenants.tests.factories import TenantFactory

    return TenantFactory()


@pytest.fixture
def api_key(tenant):
    """(ApiKey, raw key) for `tenant` with every scope."""
    from tenants.services import api_key_create

    return api_key_create(tenant=tenant, name="test bot", scopes=["bot", "tokens", "payments"])


@pytest.fixture
def bot_client(api_key):
    client = APIClient()
    client.credentials(HTTP_X_BOT_SECRET=api_key[1])
    client.api_key = api_key[0]
    return client


# --- phone sign-in (DESIGN §4.9) ------------------------------------------------------------------

@pytest.fixture
def otp_receiver(settings):
    """Codes go by the real webhook sender to a fake receiver on 127.0.0.1; `.code_for(phone)`
    reads the code it got."""
    from accounts.tests.fake_receiver import WEBHOOK_SECRET, FakeReceiver

    receiver = FakeReceiver().start()
    settings.OTP_SENDER = "webhook"
    settings.OTP_WEBHOOK_URL = f"{receiver.url}/otp"
    settings.OTP_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.OTP_SEND_TIMEOUT = 2.0
    yield receiver
    receiver.stop()


@pytest.fixture
def phone_code(api_client, otp_receiver):
    """phone_code(phone, tenant_slug) -> the code just sent to that number (start → receiver)."""

    def request(phone: str, tenant_slug: str | None = None) -> str:
        body = {"phone_number": phone, **({"tenant": tenant_slug} if tenant_slug else {})}
        response = api_client.post("/api/auth/phone/start", body, format="json")
        assert response.status_code == 200, response.content
        return otp_receiver.code_for(response.json()["data"]["phone_number"])

    return request
