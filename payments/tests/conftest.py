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


@pytest.fixture
def invoice_seller(settings):
    """The seller the invoice tests issue as (a Karnataka GSTIN); a module takes it with
    `pytest.mark.usefixtures("invoice_seller")`."""
    from payments.tests.invoicing import use_seller

    use_seller(settings)


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


# --- no network call inside a database transaction ---------------------------------------------

GATEWAY_NETWORK_METHODS = ("create_order", "fetch_payment", "fetch_order", "fetch_order_payments",
                           "refund", "fetch_refund", "find_refund", "fetch_payment_refunds")


def open_transactions(using=None) -> list:
    """Our own atomic blocks open on this thread's connection (the test's wrapping transaction
    does not count)."""
    from django.db import connections

    connection = connections[using or "default"]
    return [block for block in connection.atomic_blocks if not getattr(block, "_from_testcase", False)]


class GatewayCalls(list):
    """The names of the gateway calls a test made; `violations`: those made inside a transaction."""

    def __init__(self):
        super().__init__()
        self.violations: list[str] = []


@pytest.fixture(autouse=True)
def gateway_calls_outside_transactions(monkeypatch):
    """Every payments test: a gateway's network call made while one of our transactions is open
    fails the test (at the call, and at teardown in case a view turned the AssertionError into a
    500). Yields the calls made."""
    from payments.gateways.cashfree_gateway import CashfreeGateway
    from payments.gateways.razorpay_gateway import RazorpayGateway
    from payments.gateways.sandbox import SandboxGateway

    calls = GatewayCalls()
    for gateway_class in (CashfreeGateway, RazorpayGateway, SandboxGateway):
        for name in GATEWAY_NETWORK_METHODS:
            original = gateway_class.__dict__.get(name)
            if original is None:  # not this gateway's (or inherited): nothing to guard
                continue

            def guarded(self, *args, _original=original, _name=name, **kwargs):
                if open_transactions():
                    calls.violations.append(_name)
                    raise AssertionError(f"{type(self).__name__}.{_name} called inside a database transaction")
                calls.append(_name)
                return _original(self, *args, **kwargs)

            monkeypatch.setattr(gateway_class, name, guarded)
    yield calls
    assert not calls.violations, f"gateway called inside a transaction: {calls.violations}"
