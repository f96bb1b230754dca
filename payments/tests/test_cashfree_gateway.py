"""The Cashfree adapter (PG REST API over requests) against the fake Cashfree server."""

import logging
import time
from datetime import timedelta
from decimal import Decimal

import pytest
from django.utils import timezone

from payments.gateways import GatewayRejected, GatewayUnavailable, get_gateway
from payments.gateways.cashfree_gateway import BASE_URLS, webhook_signature
from payments.tests.fake_cashfree import sign

CUSTOMER = {"id": "7", "phone": "+919876500001", "email": "asha@example.com", "name": "Asha"}


@pytest.fixture
def cashfree(fake_cashfree):
    gateway = get_gateway("cashfree")
    assert gateway.name == "cashfree" and gateway.base_url == fake_cashfree.url
    return gateway


def test_configuration(settings):
    settings.CASHFREE_CLIENT_ID = ""
    with pytest.raises(GatewayUnavailable) as info:
        get_gateway("cashfree")
    assert info.value.status_code == 502 and info.value.code == "gateway_not_configured"
    settings.CASHFREE_CLIENT_ID, settings.CASHFREE_CLIENT_SECRET = "cf_id", "cf_secret"
    settings.CASHFREE_BASE_URL = ""
    settings.CASHFREE_ENVIRONMENT = "production"
    assert get_gateway("cashfree").base_url == BASE_URLS["production"] == "https://api.cashfree.com/pg"
    settings.CASHFREE_ENVIRONMENT = "sandbox"
    assert get_gateway("cashfree").base_url == "https://sandbox.cashfree.com/pg"


def test_create_fetch_pay_refund(cashfree, fake_cashfree):
    order = cashfree.create_order(amount_paise=123456, currency="INR", receipt="kosh_abc123",
                                  notes={"kind": "credit_package", "package_id": "3"}, customer=CUSTOMER)
    assert order.id == "kosh_abc123" and order.amount_paise == 123456 and order.status == "created"
    assert order.checkout_session.startswith("session_kosh_abc123")
    method, path, body, headers = fake_cashfree.requests[-1]
    assert (method, path) == ("POST", "/pg/orders")
    assert body["order_amount"] == Decimal("1234.56") and body["order_currency"] == "INR"
    assert body["customer_details"] == {"customer_id": "kosh7", "customer_phone": "9876500001",
                                        "customer_email": "asha@example.com", "customer_name": "Asha"}
    assert body["order_tags"] == {"kind": "credit_package", "package_id": "3"}
    assert headers["x-api-version"] == "2025-01-01" and headers["x-client-id"] == fake_cashfree.client_id

    assert cashfree.fetch_order(order.id).status == "created"
    assert cashfree.fetch_order_payments(order.id) == []
    failed = fake_cashfree.pay(order.id, status="FAILED")
    paid = fake_cashfree.pay(order.id)
    assert cashfree.fetch_order(order.id).status == "paid"
    payments = cashfree.fetch_order_payments(order.id)
    assert [(p.id, p.status) for p in payments] == [(str(failed["cf_payment_id"]), "failed"),
                                                     (str(paid["cf_payment_id"]), "captured")]
    assert payments[0].error == "transaction is rejected at the remitter bank end"
    assert payments[1].amount_paise == 123456 and payments[1].order_id == order.id

    refund = cashfree.refund(payment_id=payments[1].id, amount_paise=23456, notes={"reason": "duplicate"},
                             receipt="kosh_abc123-r1", order_id=order.id)
    assert (refund.id, refund.amount_paise, refund.status, refund.payment_id) == (
        "kosh_abc123-r1", 23456, "pending", payments[1].id)
    assert fake_cashfree.requests[-1][2]["refund_amount"] == Decimal("234.56")
    fake_cashfree.refunds["kosh_abc123-r1"]["refund_status"] = "SUCCESS"
    assert cashfree.fetch_refund(refund_id="kosh_abc123-r1", order_id=order.id).status == "processed"


def test_refund_id_is_the_idempotency_key(cashfree, fake_cashfree):
    """A refund retried with the same id (say, after a timeout) returns the first one: once."""
    order = cashfree.create_order(amount_paise=90000, currency="INR", receipt="kosh_idem1", customer=CUSTOMER)
    payment_id = str(fake_cashfree.pay(order.id)["cf_payment_id"])
    first = cashfree.refund(payment_id=payment_id, amount_paise=10000, receipt="kosh_idem1-r1", order_id=order.id)
    again = cashfree.refund(payment_id=payment_id, amount_paise=10000, receipt="kosh_idem1-r1", order_id=order.id)
    assert again.id == first.id and len(fake_cashfree.refunds) == 1
    with pytest.raises(GatewayRejected):  # the same id for another amount is not the same refund
        cashfree.refund(payment_id=payment_id, amount_paise=5000, receipt="kosh_idem1-r1", order_id=order.id)


def test_customer_without_phone_gets_the_placeholder(cashfree, fake_cashfree, settings):
    cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_nophone",
                          customer={"id": "9", "phone": "", "email": "", "name": ""})
    details = fake_cashfree.requests[-1][2]["customer_details"]
    assert details == {"customer_id": "kosh9", "customer_phone": settings.CASHFREE_DEFAULT_CUSTOMER_PHONE}
    cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_intl", customer={"id": "9",
                                                                                          "phone": "+14155550100"})
    assert fake_cashfree.requests[-1][2]["customer_details"]["customer_phone"] == "+14155550100"


def test_4xx_is_rejected(cashfree, fake_cashfree):
    with pytest.raises(GatewayRejected, match="order not found") as info:
        cashfree.fetch_order("kosh_missing")
    assert info.value.status_code == 502
    cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_twice", customer=CUSTOMER)
    with pytest.raises(GatewayRejected, match="already present"):
        cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_twice", customer=CUSTOMER)


def test_wrong_secret_is_rejected(cashfree, settings):
    settings.CASHFREE_CLIENT_SECRET = "wrong"
    with pytest.raises(GatewayRejected, match="authentication Failed"):
        get_gateway("cashfree").create_order(amount_paise=10000, currency="INR", receipt="kosh_r", customer=CUSTOMER)


@pytest.mark.parametrize("mode", ["error500", "html502"])
def test_5xx_is_unavailable(cashfree, fake_cashfree, mode):
    fake_cashfree.mode = mode
    with pytest.raises(GatewayUnavailable):
        cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_r", customer=CUSTOMER)


def test_timeout_is_unavailable(fake_cashfree, settings):
    settings.CASHFREE_TIMEOUT = 0.3
    fake_cashfree.mode, fake_cashfree.delay = "sleep", 1.5
    started = time.monotonic()
    with pytest.raises(GatewayUnavailable, match="timed out"):
        get_gateway("cashfree").create_order(amount_paise=10000, currency="INR", receipt="kosh_r", customer=CUSTOMER)
    assert time.monotonic() - started < 1.2


def test_server_down_is_unavailable(cashfree, fake_cashfree):
    fake_cashfree.stop()
    with pytest.raises(GatewayUnavailable):
        cashfree.fetch_order_payments("kosh_x")


def test_every_call_carries_the_timeout_and_headers(cashfree, fake_cashfree, settings):
    seen = []
    real = cashfree.session.request

    def spy(method, url, **kwargs):
        seen.append((method, url.split("/pg", 1)[1], kwargs.get("timeout"), kwargs.get("allow_redirects"),
                     kwargs["headers"]["x-api-version"]))
        return real(method, url, **kwargs)

    cashfree.session.request = spy
    order = cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_t1", customer=CUSTOMER)
    payment_id = str(fake_cashfree.pay(order.id)["cf_payment_id"])
    cashfree.fetch_order(order.id)
    cashfree.fetch_order_payments(order.id)
    cashfree.refund(payment_id=payment_id, amount_paise=100, receipt="kosh_t1-r1", order_id=order.id)
    cashfree.fetch_refund(refund_id="kosh_t1-r1", order_id=order.id)
    assert [(m, p) for m, p, *_ in seen] == [
        ("POST", "/orders"), ("GET", "/orders/kosh_t1"), ("GET", "/orders/kosh_t1/payments"),
        ("POST", "/orders/kosh_t1/refunds"), ("GET", "/orders/kosh_t1/refunds/kosh_t1-r1")]
    assert {(t, r, v) for _, _, t, r, v in seen} == {(settings.CASHFREE_TIMEOUT, False, "2025-01-01")}


def test_path_segments_are_escaped(cashfree, fake_cashfree):
    with pytest.raises(GatewayRejected):
        cashfree.fetch_order("../orders?x=1")
    assert fake_cashfree.requests[-1][1] == "/pg/orders/..%2Forders%3Fx%3D1"


def test_secrets_are_not_logged_or_shown(cashfree, fake_cashfree, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    fake_cashfree.mode = "error500"
    with pytest.raises(GatewayUnavailable) as info:
        cashfree.create_order(amount_paise=10000, currency="INR", receipt="kosh_r", customer=CUSTOMER)
    fake_cashfree.mode = "ok"
    with pytest.raises(GatewayRejected) as rejected:
        cashfree.fetch_order("kosh_missing")
    seen = caplog.text + capsys.readouterr().out + repr(cashfree) + info.value.message + rejected.value.message
    assert fake_cashfree.client_secret not in seen


# --- webhook signatures ------------------------------------------------------------------------

BODY = b'{"data":{"order":{"order_id":"kosh_x"}},"type":"PAYMENT_SUCCESS_WEBHOOK"}'


def test_webhook_signature_is_cashfrees_algorithm(cashfree, fake_cashfree):
    # base64(HMAC-SHA256(secret, timestamp + raw body)), computed independently by the fake
    timestamp = "1746427759733"
    assert webhook_signature("s3cret", timestamp, BODY) == sign("s3cret", timestamp, BODY)
    good = sign(fake_cashfree.client_secret, timestamp, BODY)
    assert cashfree.verify_webhook_signature(body=BODY, signature=good, timestamp=timestamp)
    for body, signature, stamp in [
        (BODY + b" ", good, timestamp), (BODY, good, "1746427759734"), (BODY, good[:-2], timestamp),
        (BODY, sign("guess", timestamp, BODY), timestamp), (BODY, "é" * 44, timestamp), (BODY, "", timestamp),
        (BODY, good, None), (BODY, good, "17464e7759733"), (BODY, "x" * 500, timestamp),
    ]:
        assert not cashfree.verify_webhook_signature(body=body, signature=signature, timestamp=stamp)


def test_webhook_previous_secret_after_rotation(fake_cashfree, settings):
    timestamp = str(int(time.time() * 1000))
    old = sign("old-secret", timestamp, BODY)
    assert not get_gateway("cashfree").verify_webhook_signature(body=BODY, signature=old, timestamp=timestamp)
    settings.CASHFREE_CLIENT_SECRET_PREVIOUS = "old-secret"
    assert get_gateway("cashfree").verify_webhook_signature(body=BODY, signature=old, timestamp=timestamp)
    settings.CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL = (timezone.now() + timedelta(hours=1)).isoformat()
    assert get_gateway("cashfree").verify_webhook_signature(body=BODY, signature=old, timestamp=timestamp)
    settings.CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL = (timezone.now() - timedelta(seconds=1)).isoformat()
    assert not get_gateway("cashfree").verify_webhook_signature(body=BODY, signature=old, timestamp=timestamp)
    settings.CASHFREE_CLIENT_SECRET_PREVIOUS_UNTIL = "next tuesday"  # unreadable: refused, not forever
    assert not get_gateway("cashfree").verify_webhook_signature(body=BODY, signature=old, timestamp=timestamp)
    # the current secret is unaffected by all this
    current = sign(fake_cashfree.client_secret, timestamp, BODY)
    assert get_gateway("cashfree").verify_webhook_signature(body=BODY, signature=current, timestamp=timestamp)


def test_webhook_window_is_five_minutes_either_side(cashfree):
    now = 1_800_000_000.0
    at = lambda seconds: str(int((now + seconds) * 1000))  # noqa: E731
    assert cashfree.webhook_is_fresh(at(0), now=now)
    assert cashfree.webhook_is_fresh(at(-300), now=now) and cashfree.webhook_is_fresh(at(300), now=now)
    assert not cashfree.webhook_is_fresh(at(-301), now=now) and not cashfree.webhook_is_fresh(at(301), now=now)
    assert not cashfree.webhook_is_fresh(str(int(now)), now=now)  # seconds, not milliseconds: 1970
    for bad in [None, "", "abc", "1" * 20, "-5", "١٢٣"]:
        assert not cashfree.webhook_is_fresh(bad, now=now)
