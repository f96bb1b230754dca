"""The real Razorpay adapter (official SDK over HTTP) against the fake server, and the sandbox."""

import logging

import pytest

from payments.gateways import GatewayRejected, GatewayUnavailable, active_gateway_name, get_gateway
from payments.gateways.base import hmac_sha256_hex
from payments.tests.conftest import WEBHOOK_SECRET


@pytest.fixture
def razorpay(fake_razorpay):
    gateway = get_gateway()
    assert gateway.name == "razorpay"
    return gateway


def test_selection(settings):
    settings.PAYMENT_GATEWAY = ""
    settings.RAZORPAY_KEY_ID = ""
    assert active_gateway_name() == "sandbox"
    settings.RAZORPAY_KEY_ID = "rzp_live_x"
    assert active_gateway_name() == "razorpay"
    settings.PAYMENT_GATEWAY = "sandbox"
    assert active_gateway_name() == "sandbox"
    settings.PAYMENT_GATEWAY = "paypal"
    with pytest.raises(GatewayUnavailable):
        active_gateway_name()


def test_razorpay_without_secret_is_a_502_not_a_crash(settings):
    settings.PAYMENT_GATEWAY = "razorpay"
    settings.RAZORPAY_KEY_ID = "rzp_test_x"
    settings.RAZORPAY_KEY_SECRET = ""
    with pytest.raises(GatewayUnavailable) as info:
        get_gateway()
    assert info.value.status_code == 502


def test_create_fetch_pay_refund_through_the_sdk(razorpay, fake_razorpay):
    order = razorpay.create_order(amount_paise=2900, currency="INR", receipt="kosh_r1", notes={"a": "b"})
    assert order.id.startswith("order_") and order.amount_paise == 2900 and order.status == "created"
    method, path, body = fake_razorpay.requests[-1]
    assert (method, path) == ("POST", "/v1/orders")
    assert body == {"amount": 2900, "currency": "INR", "receipt": "kosh_r1", "payment_capture": 1,
                    "notes": {"a": "b"}}

    checkout = fake_razorpay.pay(order.id)
    assert razorpay.fetch_order(order.id).status == "paid"
    [payment] = razorpay.fetch_order_payments(order.id)
    assert payment.id == checkout["razorpay_payment_id"] and payment.status == "captured"
    assert razorpay.fetch_payment(payment.id).amount_paise == 2900

    refund = razorpay.refund(payment_id=payment.id, amount_paise=900, notes={"reason": "x"}, receipt="r-1")
    assert refund.id.startswith("rfnd_") and refund.amount_paise == 900 and refund.status == "processed"
    assert fake_razorpay.requests[-1][1] == f"/v1/payments/{payment.id}/refund"
    assert fake_razorpay.requests[-1][2]["amount"] == 900


def test_checkout_signature(razorpay, fake_razorpay):
    order = razorpay.create_order(amount_paise=2900, currency="INR", receipt="kosh_r2")
    checkout = fake_razorpay.pay(order.id)
    assert razorpay.verify_checkout_signature(order_id=order.id, payment_id=checkout["razorpay_payment_id"],
                                              signature=checkout["razorpay_signature"])
    for bad in ["0" * 64, checkout["razorpay_signature"][:-1], "é" * 64, "", "x" * 200]:
        assert not razorpay.verify_checkout_signature(
            order_id=order.id, payment_id=checkout["razorpay_payment_id"], signature=bad)
    # a valid signature for another payment id does not carry over
    assert not razorpay.verify_checkout_signature(order_id=order.id, payment_id="pay_other",
                                                  signature=checkout["razorpay_signature"])


def test_webhook_signature(razorpay, settings):
    body = b'{"event":"payment.captured"}'
    assert razorpay.verify_webhook_signature(body=body, signature=hmac_sha256_hex(WEBHOOK_SECRET, body))
    assert not razorpay.verify_webhook_signature(body=body + b" ", signature=hmac_sha256_hex(WEBHOOK_SECRET, body))
    assert not razorpay.verify_webhook_signature(body=b"\xff\xfe", signature=hmac_sha256_hex(WEBHOOK_SECRET, b"\xff\xfe"))
    settings.RAZORPAY_WEBHOOK_SECRET = ""
    assert not get_gateway().verify_webhook_signature(body=body, signature=hmac_sha256_hex("", body))


def test_json_400_is_rejected(razorpay):
    with pytest.raises(GatewayRejected) as info:
        razorpay.fetch_payment("pay_missing")
    assert info.value.status_code == 502
    assert "does not exist" in info.value.message


def test_wrong_key_is_rejected(razorpay, settings):
    settings.RAZORPAY_KEY_SECRET = "wrong"
    with pytest.raises(GatewayRejected, match="Authentication failed"):
        get_gateway().create_order(amount_paise=2900, currency="INR", receipt="r")


@pytest.mark.parametrize("mode", ["error500", "html502"])
def test_5xx_is_unavailable(razorpay, fake_razorpay, mode):
    fake_razorpay.mode = mode
    with pytest.raises(GatewayUnavailable):
        razorpay.create_order(amount_paise=2900, currency="INR", receipt="r")


def test_timeout_is_unavailable(razorpay, fake_razorpay, settings):
    settings.RAZORPAY_TIMEOUT = 0.3
    fake_razorpay.mode, fake_razorpay.delay = "sleep", 1.5
    with pytest.raises(GatewayUnavailable, match="timed out"):
        get_gateway().create_order(amount_paise=2900, currency="INR", receipt="r")


def test_server_down_is_unavailable(razorpay, fake_razorpay):
    fake_razorpay.stop()
    with pytest.raises(GatewayUnavailable):
        razorpay.fetch_order("order_x")


def test_secrets_are_not_logged_or_shown(razorpay, fake_razorpay, caplog, capsys):
    caplog.set_level(logging.DEBUG)
    fake_razorpay.mode = "error500"
    with pytest.raises(GatewayUnavailable) as info:
        razorpay.create_order(amount_paise=2900, currency="INR", receipt="r")
    fake_razorpay.stop()
    with pytest.raises(GatewayUnavailable):
        razorpay.fetch_order("order_x")
    seen = caplog.text + capsys.readouterr().out + repr(razorpay) + info.value.message
    assert fake_razorpay.key_secret not in seen and WEBHOOK_SECRET not in seen


def test_sandbox_gateway(sandbox):
    order = sandbox.create_order(amount_paise=10000, currency="INR", receipt="r")
    checkout = sandbox.pay(order_id=order.id, amount_paise=10000, currency="INR")
    assert set(checkout) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}
    assert sandbox.verify_checkout_signature(order_id=order.id, payment_id=checkout["razorpay_payment_id"],
                                             signature=checkout["razorpay_signature"])
    assert not sandbox.verify_checkout_signature(order_id=order.id, payment_id="pay_x",
                                                 signature=checkout["razorpay_signature"])
    assert sandbox.pay(order_id=order.id, amount_paise=10000, currency="INR") == checkout  # paid once
    [payment] = sandbox.fetch_order_payments(order.id)
    assert payment.status == "captured"
    refund = sandbox.refund(payment_id=payment.id, amount_paise=4000)
    assert refund.status == "processed"
    with pytest.raises(GatewayRejected):
        sandbox.refund(payment_id=payment.id, amount_paise=6001)
    body = b'{"event":"x"}'
    assert sandbox.verify_webhook_signature(body=body, signature=sandbox.webhook_signature(body))
    assert not sandbox.verify_webhook_signature(body=body, signature=hmac_sha256_hex("guess", body))


def test_every_sdk_call_carries_the_timeout(razorpay, fake_razorpay, settings):
    seen = []
    session = razorpay.client.session
    for verb in ("get", "post"):
        real = getattr(session, verb)

        def spy(url, *args, _real=real, **kwargs):
            seen.append((url.rsplit("/v1/", 1)[1], kwargs.get("timeout")))
            return _real(url, *args, **kwargs)

        setattr(session, verb, spy)
    order = razorpay.create_order(amount_paise=2900, currency="INR", receipt="r")
    payment_id = fake_razorpay.pay(order.id)["razorpay_payment_id"]
    razorpay.fetch_order(order.id)
    razorpay.fetch_order_payments(order.id)
    razorpay.fetch_payment(payment_id)
    razorpay.refund(payment_id=payment_id, amount_paise=100)
    assert len(seen) == 5 and {timeout for _, timeout in seen} == {settings.RAZORPAY_TIMEOUT}
