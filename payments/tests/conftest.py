import json
import time

import pytest

from payments.gateways.base import hmac_sha256_hex
from payments.tests.fake_cashfree import FakeCashfree
from payments.tests.fake_razorpay import FakeRazorpay

WEBHOOK_SECRET = "whsec_test_only_0123456789"


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Users are made by the dozen here; PBKDF2's 1M rounds would dominate the run time.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def catalog(db):
    """The plan/package catalog (a data migration); reloaded because transactional tests
    truncate every table when they finish."""
    from plans.catalog import catalog_load
    from plans.models import AddOn, CreditPackage, RatePlan

    catalog_load(RatePlan, AddOn, CreditPackage)


@pytest.fixture
def fake_razorpay(settings, catalog):
    """A running fake Razorpay; the app is configured to use the real adapter against it."""
    server = FakeRazorpay().start()
    settings.PAYMENT_GATEWAY = ""
    settings.RAZORPAY_KEY_ID = server.key_id
    settings.RAZORPAY_KEY_SECRET = server.key_secret
    settings.RAZORPAY_WEBHOOK_SECRET = WEBHOOK_SECRET
    settings.RAZORPAY_BASE_URL = server.url
    settings.RAZORPAY_TIMEOUT = 2.0
    yield server
    server.stop()


@pytest.fixture
def fake_cashfree(settings, catalog):
    """A running fake Cashfree; the app is configured to use the real adapter against it."""
    server = FakeCashfree().start()
    settings.CASHFREE_CLIENT_ID = server.client_id
    settings.CASHFREE_CLIENT_SECRET = server.client_secret
    settings.CASHFREE_CLIENT_SECRET_PREVIOUS = ""
    settings.CASHFREE_BASE_URL = server.url
    settings.CASHFREE_ENVIRONMENT = "sandbox"
    settings.CASHFREE_TIMEOUT = 2.0
    yield server
    server.stop()


@pytest.fixture
def sandbox(settings, catalog):
    settings.PAYMENT_GATEWAY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.CASHFREE_CLIENT_ID = ""
    settings.CASHFREE_CLIENT_SECRET = ""
    from payments.gateways import get_gateway

    gateway = get_gateway()
    assert gateway.name == "sandbox"
    return gateway


@pytest.fixture
def package(catalog):
    from plans.models import CreditPackage

    return CreditPackage.objects.get(name="Premium Pack")  # 100 credits, ₹100


def sign_webhook(body: bytes, secret: str = WEBHOOK_SECRET) -> str:
    return hmac_sha256_hex(secret, body)


def event_body(event: str, **entities) -> bytes:
    return json.dumps({
        "entity": "event", "account_id": "acc_TestAccount", "event": event,
        "contains": list(entities),
        "payload": {name: {"entity": entity} for name, entity in entities.items()},
        "created_at": int(time.time()),
    }).encode()


def post_webhook(client, body: bytes, *, event_id: str | None = "evt_1", signature: str | None = None,
                 path="/api/payments/webhook/razorpay"):
    headers = {"HTTP_X_RAZORPAY_SIGNATURE": sign_webhook(body) if signature is None else signature}
    if event_id is not None:
        headers["HTTP_X_RAZORPAY_EVENT_ID"] = event_id
    return client.post(path, data=body, content_type="application/json", **headers)
