"""Cashfree webhooks: signature over timestamp + raw body, a 5-minute window, stored first,
de-duplicated, handled by the same services as Razorpay's. (Razorpay's own: test_webhooks.py.)"""

import json
import time
from decimal import Decimal

import pytest

from payments.models import PaymentOrder, WebhookEvent
from payments.services import order_create
from payments.tests.conftest import event_body, post_webhook
from payments.tests.fake_cashfree import sign

pytestmark = pytest.mark.django_db

HOOK = "/api/v1/payments/webhook/cashfree"


def balance_of(user) -> int:
    from credits.models import Wallet

    wallet = Wallet.objects.filter(user=user).first()
    return wallet.balance if wallet else 0


@pytest.fixture
def cashfree_order(user, fake_cashfree, package):
    """A package order at Cashfree that the buyer paid; verify never came."""
    order = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    assert order.gateway == "cashfree"
    return order, fake_cashfree.pay(order.gateway_order_id)


def post(client, body, headers, **override):
    headers = {**headers, **override}
    return client.post(HOOK, data=body, content_type="application/json",
                       **{k: v for k, v in headers.items() if v is not None})


def test_success_webhook_fulfils_and_redelivery_is_a_duplicate(api_client, fake_cashfree, cashfree_order, user):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)
    first = post(api_client, body, headers)
    assert first.status_code == 200, first.content
    event_id = "cashfree:" + headers["HTTP_X_IDEMPOTENCY_KEY"]
    assert first.json()["data"] == {"event_id": event_id, "duplicate": False, "result": "fulfilled"}
    order.refresh_from_db()
    assert order.status == "paid" and order.fulfilled_via == "webhook"
    assert order.gateway_payment_id == str(payment["cf_payment_id"])
    assert balance_of(user) == 100

    # Cashfree retries: the same event, signed again with a later timestamp
    later = str(int(time.time() * 1000) + 2000)
    retry = post(api_client, body, headers, HTTP_X_WEBHOOK_TIMESTAMP=later,
                 HTTP_X_WEBHOOK_SIGNATURE=sign(fake_cashfree.client_secret, later, body))
    assert retry.status_code == 200 and retry.json()["data"]["duplicate"] is True
    assert post(api_client, body, headers).json()["data"]["duplicate"] is True
    assert WebhookEvent.objects.get().attempts == 1 and balance_of(user) == 100


def test_without_an_idempotency_key_the_body_identifies_the_event(api_client, fake_cashfree, cashfree_order):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)
    headers["HTTP_X_IDEMPOTENCY_KEY"] = None
    answers = [post(api_client, body, headers).json()["data"] for _ in range(2)]
    assert answers[0]["event_id"].startswith("cashfree:sha256:") and answers[0]["event_id"] == answers[1]["event_id"]
    assert [a["duplicate"] for a in answers] == [False, True]


@pytest.mark.parametrize("tamper", ["wrong secret", "body changed", "timestamp changed", "no signature",
                                    "no timestamp", "hex not base64", "razorpay style"])
def test_bad_signatures_are_refused_and_nothing_is_stored(api_client, fake_cashfree, cashfree_order, tamper):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)
    timestamp = headers["HTTP_X_WEBHOOK_TIMESTAMP"]
    if tamper == "wrong secret":
        headers["HTTP_X_WEBHOOK_SIGNATURE"] = sign("not-the-secret", timestamp, body)
    elif tamper == "body changed":
        body = body.replace(b'"payment_amount": 100.00', b'"payment_amount": 1.00')
        assert b'"payment_amount": 1.00' in body
    elif tamper == "timestamp changed":
        headers["HTTP_X_WEBHOOK_TIMESTAMP"] = str(int(timestamp) + 1)
    elif tamper == "no signature":
        headers["HTTP_X_WEBHOOK_SIGNATURE"] = None
    elif tamper == "no timestamp":
        headers["HTTP_X_WEBHOOK_TIMESTAMP"] = None
    elif tamper == "hex not base64":
        import hashlib
        import hmac

        headers["HTTP_X_WEBHOOK_SIGNATURE"] = hmac.new(fake_cashfree.client_secret.encode(),
                                                       timestamp.encode() + body, hashlib.sha256).hexdigest()
    elif tamper == "razorpay style":  # HMAC of the body alone
        import base64
        import hashlib
        import hmac

        headers["HTTP_X_WEBHOOK_SIGNATURE"] = base64.b64encode(
            hmac.new(fake_cashfree.client_secret.encode(), body, hashlib.sha256).digest()).decode()
    response = post(api_client, body, headers)
    assert response.status_code == 400
    assert response.json() == {"success": False, "error": {"code": "invalid_signature",
                                                           "message": "invalid webhook signature"}}
    assert not WebhookEvent.objects.exists()
    assert PaymentOrder.objects.get().status == "created"


@pytest.mark.parametrize("seconds, accepted", [(-301, False), (-290, True), (290, True), (301, False),
                                               (-3 * 24 * 3600, False)])
def test_stale_or_future_timestamps_are_refused(api_client, fake_cashfree, cashfree_order, seconds, accepted):
    order, payment = cashfree_order
    stamp = int((time.time() + seconds) * 1000)
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id,
                                          payment=payment, timestamp_ms=stamp)
    response = post(api_client, body, headers)
    if accepted:
        assert response.status_code == 200 and response.json()["data"]["result"] == "fulfilled"
    else:
        assert response.status_code == 400 and response.json()["error"]["code"] == "stale_webhook"
        assert not WebhookEvent.objects.exists() and PaymentOrder.objects.get().status == "created"


def test_previous_secret_verifies_after_a_rotation(api_client, fake_cashfree, cashfree_order, settings):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id,
                                          payment=payment, secret="the-old-secret")
    assert post(api_client, body, headers).status_code == 400
    settings.CASHFREE_CLIENT_SECRET_PREVIOUS = "the-old-secret"
    response = post(api_client, body, headers)
    assert response.status_code == 200 and response.json()["data"]["result"] == "fulfilled"


def test_event_for_an_unknown_order_is_stored_and_acknowledged(api_client, fake_cashfree, cashfree_order):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)
    body = body.replace(order.gateway_order_id.encode(), b"order_from_another_system")
    headers["HTTP_X_WEBHOOK_SIGNATURE"] = sign(fake_cashfree.client_secret, headers["HTTP_X_WEBHOOK_TIMESTAMP"], body)
    response = post(api_client, body, headers)
    assert response.status_code == 200 and response.json()["data"]["result"] == "ignored: unknown order"
    event = WebhookEvent.objects.get()
    assert (event.gateway, event.event_type, event.processed_at is not None) == (
        "cashfree", "PAYMENT_SUCCESS_WEBHOOK", True)
    assert PaymentOrder.objects.get().status == "created"


def test_a_razorpay_order_id_in_a_cashfree_event_is_not_ours(api_client, fake_cashfree, fake_razorpay, user, package):
    """Orders are found by (gateway, gateway order id): Cashfree cannot settle a Razorpay order."""
    razorpay_order = order_create(user=user, package_id=package.pk)
    cashfree_order = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    payment = fake_cashfree.pay(cashfree_order.gateway_order_id)
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=cashfree_order.gateway_order_id,
                                          payment=payment)
    body = body.replace(cashfree_order.gateway_order_id.encode(), razorpay_order.gateway_order_id.encode())
    headers["HTTP_X_WEBHOOK_SIGNATURE"] = sign(fake_cashfree.client_secret, headers["HTTP_X_WEBHOOK_TIMESTAMP"], body)
    assert post(api_client, body, headers).json()["data"]["result"] == "ignored: unknown order"
    razorpay_order.refresh_from_db()
    assert razorpay_order.status == "created"


def test_failed_then_paid(api_client, fake_cashfree, user, package):
    order = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    failed = fake_cashfree.pay(order.gateway_order_id, status="FAILED")
    body, headers = fake_cashfree.webhook("PAYMENT_FAILED_WEBHOOK", order_id=order.gateway_order_id, payment=failed)
    assert post(api_client, body, headers).json()["data"]["result"] == "order failed"
    order.refresh_from_db()
    assert order.status == "failed" and "rejected at the remitter bank" in order.failure_reason
    # the buyer tries again at the same checkout, and pays
    paid = fake_cashfree.pay(order.gateway_order_id)
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=paid)
    assert post(api_client, body, headers).json()["data"]["result"] == "fulfilled"
    order.refresh_from_db()
    assert order.status == "paid" and balance_of(user) == 100


def test_user_dropped_leaves_the_order_open(api_client, fake_cashfree, user, package):
    order = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    dropped = fake_cashfree.pay(order.gateway_order_id, status="USER_DROPPED")
    body, headers = fake_cashfree.webhook("PAYMENT_USER_DROPPED_WEBHOOK", order_id=order.gateway_order_id,
                                          payment=dropped)
    assert post(api_client, body, headers).json()["data"]["result"].startswith("noted")
    order.refresh_from_db()
    assert order.status == "created"


@pytest.mark.parametrize("change, result", [
    ({"payment_amount": Decimal("99.99")}, "rejected: payment amount does not match the order"),
    ({"payment_currency": "USD"}, "rejected: payment currency does not match the order"),
    ({"payment_amount": "lots"}, "rejected: malformed payload (unreadable payment amount)"),
    ({"cf_payment_id": None}, "rejected: malformed payload (payment without cf_payment_id)"),
    ({"payment_status": "PENDING"}, "ignored: payment status PENDING"),
])
def test_payment_that_does_not_match_the_order_is_refused(api_client, fake_cashfree, cashfree_order, user,
                                                         change, result):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id,
                                          payment={**payment, **change})
    response = post(api_client, body, headers)
    assert response.status_code == 200 and response.json()["data"]["result"] == result
    order.refresh_from_db()
    assert order.status == "created" and balance_of(user) == 0


def test_an_amount_with_fractional_paise_is_refused(api_client, fake_cashfree, cashfree_order, user):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)
    body = body.replace(b'"payment_amount": 100.00', b'"payment_amount": 100.001')
    assert b"100.001" in body
    headers["HTTP_X_WEBHOOK_SIGNATURE"] = sign(fake_cashfree.client_secret, headers["HTTP_X_WEBHOOK_TIMESTAMP"], body)
    result = post(api_client, body, headers).json()["data"]["result"]
    assert result == "rejected: malformed payload (unreadable payment amount)" and balance_of(user) == 0


def test_malformed_and_unknown_events_are_acknowledged(api_client, fake_cashfree):
    from payments.tests.fake_cashfree import sign as cf_sign

    for payload, result in [({"type": "PAYMENT_SUCCESS_WEBHOOK", "data": []},
                             "rejected: malformed payload (no data.order)"),
                            ({"type": "SETTLEMENT_WEBHOOK", "data": {}}, "ignored: SETTLEMENT_WEBHOOK"),
                            ({"data": {}}, "ignored: no event type")]:
        body = json.dumps(payload).encode()
        stamp = str(int(time.time() * 1000))
        response = api_client.post(HOOK, data=body, content_type="application/json",
                                   HTTP_X_WEBHOOK_TIMESTAMP=stamp,
                                   HTTP_X_WEBHOOK_SIGNATURE=cf_sign(fake_cashfree.client_secret, stamp, body))
        assert response.status_code == 200 and response.json()["data"]["result"] == result
    for raw in [b"[]", b"not json", b"\xff\xfe"]:
        stamp = str(int(time.time() * 1000))
        response = api_client.post(HOOK, data=raw, content_type="application/json", HTTP_X_WEBHOOK_TIMESTAMP=stamp,
                                   HTTP_X_WEBHOOK_SIGNATURE=cf_sign(fake_cashfree.client_secret, stamp, raw))
        assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_body"


def test_handler_failure_is_a_500_and_the_retry_succeeds(api_client, fake_cashfree, cashfree_order, user,
                                                        monkeypatch):
    from payments.services import fulfilment

    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)

    def broken(order, payment_id):
        raise RuntimeError("credits service down")

    monkeypatch.setitem(fulfilment._FULFILLERS, PaymentOrder.Kind.CREDIT_PACKAGE, broken)
    assert post(api_client, body, headers).status_code == 500
    event = WebhookEvent.objects.get()
    assert event.processed_at is None and event.attempts == 1 and "credits service down" in event.error
    monkeypatch.undo()
    retry = post(api_client, body, headers)
    assert retry.status_code == 200 and retry.json()["data"] == {
        "event_id": event.event_id, "duplicate": True, "result": "fulfilled"}
    assert balance_of(user) == 100


def test_refused_when_cashfree_is_not_configured(api_client, fake_cashfree, cashfree_order, settings):
    order, payment = cashfree_order
    body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.gateway_order_id, payment=payment)
    settings.CASHFREE_CLIENT_ID = settings.CASHFREE_CLIENT_SECRET = ""
    response = post(api_client, body, headers)
    assert response.status_code == 400 and response.json()["error"]["code"] == "invalid_signature"
    assert not WebhookEvent.objects.exists()


def test_razorpay_replay_of_an_old_event_has_no_second_effect(api_client, auth_client, fake_razorpay):
    """Razorpay signs the body only (no timestamp, and its retries resend the same body for a day),
    so there is no window to enforce: an event replayed days later is found by its event id."""
    order_id = auth_client.post("/api/payments/create-order", {"plan": "standard"}, format="json").json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    payment = dict(fake_razorpay.payments[checkout["razorpay_payment_id"]], created_at=int(time.time()) - 3 * 86400)
    body = event_body("payment.captured", payment=payment)
    assert post_webhook(api_client, body, event_id="evt_old").json()["data"]["result"] == "fulfilled"
    replay = post_webhook(api_client, body, event_id="evt_old")
    assert replay.status_code == 200 and replay.json()["data"]["duplicate"] is True
    from subscriptions.services import token_usage_get

    assert token_usage_get(user=auth_client.user)["token_quota"] == 11000  # upgraded once
