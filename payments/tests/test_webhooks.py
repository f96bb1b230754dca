"""Razorpay webhooks: raw-body HMAC, stored first, de-duplicated, processed once, retried on failure."""

import threading

import pytest
from django.db import connection
from rest_framework.test import APIClient

from payments.models import PaymentOrder, WebhookEvent
from payments.services import order_create
from payments.tests.conftest import event_body, post_webhook, sign_webhook

CREATE, VERIFY = "/api/payments/create-order", "/api/payments/verify"


def usage(user):
    from subscriptions.services import token_usage_get

    return token_usage_get(user=user)


def captured_body(fake, order_id, checkout, event="payment.captured"):
    payment = fake.payments[checkout["razorpay_payment_id"]]
    entities = {"payment": payment}
    if event == "order.paid":
        entities["order"] = fake.orders[order_id]
    return event_body(event, **entities)


@pytest.fixture
def paid_at_gateway(auth_client, fake_razorpay):
    """An order the customer paid at Checkout; verify never came."""
    order_id = auth_client.post(CREATE, {"plan": "standard"}, format="json").json()["order_id"]
    return order_id, fake_razorpay.pay(order_id)


@pytest.mark.django_db
@pytest.mark.parametrize("event", ["payment.captured", "order.paid"])
def test_webhook_fulfils_when_verify_never_came(api_client, auth_client, fake_razorpay, paid_at_gateway, event):
    order_id, checkout = paid_at_gateway
    response = post_webhook(api_client, captured_body(fake_razorpay, order_id, checkout, event))
    assert response.status_code == 200, response.content
    assert response.json()["data"] == {"event_id": "evt_1", "duplicate": False, "result": "fulfilled"}
    order = PaymentOrder.objects.get(gateway_order_id=order_id)
    assert order.status == "paid" and order.fulfilled_via == "webhook"
    assert usage(auth_client.user)["plan"] == "standard"
    # the frontend's verify arriving late gets the same answer, no second upgrade
    late = auth_client.post(VERIFY, {"plan": "standard", **checkout}, format="json")
    assert late.status_code == 200 and late.json() == order.fulfilment_result
    assert usage(auth_client.user)["token_quota"] == 11000


@pytest.mark.django_db
def test_redelivered_three_times_fulfils_once(api_client, auth_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    body = captured_body(fake_razorpay, order_id, checkout)
    answers = [post_webhook(api_client, body, event_id="evt_same") for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 200]
    assert [a.json()["data"]["duplicate"] for a in answers] == [False, True, True]
    assert WebhookEvent.objects.count() == 1
    event = WebhookEvent.objects.get()
    assert event.attempts == 1 and event.processed_at and event.signature_verified
    assert usage(auth_client.user)["token_quota"] == 11000
    # a different event id for the same payment (payment.captured then order.paid) is harmless
    again = post_webhook(api_client, captured_body(fake_razorpay, order_id, checkout, "order.paid"),
                         event_id="evt_other")
    assert again.json()["data"]["result"] == "already fulfilled"
    assert usage(auth_client.user)["token_quota"] == 11000


@pytest.mark.django_db
def test_event_id_falls_back_to_body_hash(api_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    body = captured_body(fake_razorpay, order_id, checkout)
    first = post_webhook(api_client, body, event_id=None)
    second = post_webhook(api_client, body, event_id=None)
    assert first.json()["data"]["event_id"].startswith("sha256:")
    assert second.json()["data"]["duplicate"] is True
    assert WebhookEvent.objects.count() == 1


@pytest.mark.django_db
@pytest.mark.parametrize("signature", ["", "0" * 64, "not-hex", None])
def test_bad_or_missing_signature_is_400_and_not_stored(api_client, fake_razorpay, paid_at_gateway, signature):
    order_id, checkout = paid_at_gateway
    body = captured_body(fake_razorpay, order_id, checkout)
    if signature is None:
        response = api_client.post("/api/payments/webhook/razorpay", data=body, content_type="application/json")
    else:
        response = post_webhook(api_client, body, signature=signature)
    assert response.status_code == 400
    assert response.json()["success"] is False
    assert not WebhookEvent.objects.exists()
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


@pytest.mark.django_db
def test_signature_covers_the_raw_body(api_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    body = captured_body(fake_razorpay, order_id, checkout)
    tampered = body.replace(b'"amount": 2900', b'"amount": 1')
    response = post_webhook(api_client, tampered, signature=sign_webhook(body))
    assert response.status_code == 400


@pytest.mark.django_db
@pytest.mark.parametrize("body", [b"not json", b"[1,2]", b"", b"\xff\xfe"])
def test_signed_garbage_is_400_never_500(api_client, fake_razorpay, body):
    response = post_webhook(api_client, body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


@pytest.mark.django_db
def test_v1_alias(api_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    response = post_webhook(api_client, captured_body(fake_razorpay, order_id, checkout),
                            path="/api/v1/payments/webhook/razorpay")
    assert response.status_code == 200 and response.json()["data"]["result"] == "fulfilled"


@pytest.mark.django_db
def test_handler_failure_is_5xx_then_the_retry_succeeds(api_client, auth_client, fake_razorpay, paid_at_gateway,
                                                        monkeypatch):
    from payments.services import fulfilment

    order_id, checkout = paid_at_gateway
    body = captured_body(fake_razorpay, order_id, checkout)
    real = fulfilment._FULFILLERS[PaymentOrder.Kind.TOKEN_PLAN]

    def broken(order, payment_id):
        real(order, payment_id)  # the effect happens ... and then the handler dies
        raise RuntimeError("database hiccup")

    monkeypatch.setitem(fulfilment._FULFILLERS, PaymentOrder.Kind.TOKEN_PLAN, broken)
    response = post_webhook(api_client, body, event_id="evt_retry")
    assert response.status_code == 500
    assert response.json()["error"]["code"] == "webhook_processing_failed"
    event = WebhookEvent.objects.get(event_id="evt_retry")
    assert event.processed_at is None and event.attempts == 1 and "database hiccup" in event.error
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"
    assert usage(auth_client.user)["plan"] == "basic"  # rolled back with the handler

    monkeypatch.setitem(fulfilment._FULFILLERS, PaymentOrder.Kind.TOKEN_PLAN, real)
    response = post_webhook(api_client, body, event_id="evt_retry")  # Razorpay retries
    assert response.status_code == 200 and response.json()["data"]["result"] == "fulfilled"
    event.refresh_from_db()
    assert event.processed_at and event.attempts == 2 and event.error == ""
    assert usage(auth_client.user)["token_quota"] == 11000


@pytest.mark.django_db
def test_payment_failed_marks_failed_unless_paid(api_client, auth_client, fake_razorpay):
    order_id = auth_client.post(CREATE, {"plan": "standard"}, format="json").json()["order_id"]
    failed = fake_razorpay.pay(order_id, status="failed")
    body = event_body("payment.failed", payment=fake_razorpay.payments[failed["razorpay_payment_id"]])
    assert post_webhook(api_client, body, event_id="evt_f1").json()["data"]["result"] == "order failed"
    order = PaymentOrder.objects.get(gateway_order_id=order_id)
    assert order.status == "failed" and "declined" in order.failure_reason

    # the customer retries at Checkout and pays: a failed order can still be paid
    checkout = fake_razorpay.pay(order_id)
    assert auth_client.post(VERIFY, {"plan": "standard", **checkout}, format="json").status_code == 200
    order.refresh_from_db()
    assert order.status == "paid"
    # a late payment.failed (out of order delivery) does not unpay it
    result = post_webhook(api_client, body, event_id="evt_f2").json()["data"]["result"]
    assert result == "ignored: order is paid"
    order.refresh_from_db()
    assert order.status == "paid"


@pytest.mark.django_db
def test_amount_mismatch_and_unknown_orders_are_recorded_not_retried(api_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    payment = dict(fake_razorpay.payments[checkout["razorpay_payment_id"]], amount=100)
    response = post_webhook(api_client, event_body("payment.captured", payment=payment), event_id="e1")
    assert response.status_code == 200
    assert response.json()["data"]["result"] == "rejected: payment amount does not match the order"
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"
    unknown = dict(payment, order_id="order_NotOurs", amount=2900)
    response = post_webhook(api_client, event_body("payment.captured", payment=unknown), event_id="e2")
    assert response.json()["data"]["result"] == "ignored: unknown order"
    response = post_webhook(api_client, event_body("payment.captured"), event_id="e3")
    assert response.status_code == 200 and response.json()["data"]["result"].startswith("rejected: malformed")
    response = post_webhook(api_client, event_body("subscription.charged"), event_id="e4")
    assert response.json()["data"]["result"] == "ignored: subscription.charged"


@pytest.mark.django_db
def test_reprocess_service_is_idempotent(api_client, fake_razorpay, paid_at_gateway):
    from payments.services import webhook_event_process

    order_id, checkout = paid_at_gateway
    post_webhook(api_client, captured_body(fake_razorpay, order_id, checkout), event_id="e1")
    event = webhook_event_process(event_id=WebhookEvent.objects.get().pk)
    assert event.attempts == 1 and event.result == "fulfilled"


# --- races (real threads, real row locks) --------------------------------------------------------

def _in_thread(results, index, fn):
    try:
        results[index] = fn()
    except Exception as exc:  # pragma: no cover - reported by the assertion below
        results[index] = exc
    finally:
        connection.close()


def _race_verify_and_webhook(fake, user, verify_client, event_id):
    order = order_create(user=user, plan_code="standard")
    checkout = fake.pay(order.gateway_order_id)
    body = captured_body(fake, order.gateway_order_id, checkout)
    barrier = threading.Barrier(2)

    def verify():
        barrier.wait()
        return verify_client.post(VERIFY, {"plan": "standard", **checkout}, format="json")

    def webhook():
        barrier.wait()
        return post_webhook(APIClient(), body, event_id=event_id)

    results = [None, None]
    threads = [threading.Thread(target=_in_thread, args=(results, i, fn)) for i, fn in
               enumerate([verify, webhook])]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    order.refresh_from_db()
    return order, results


@pytest.mark.postgres_only  # real threads need PostgreSQL row locks
@pytest.mark.django_db(transaction=True)
def test_verify_and_webhook_racing_fulfil_once(fake_razorpay, client_for):
    from accounts.tests.factories import UserFactory
    from subscriptions.models import SubscriptionEvent

    for round_ in range(3):
        user = UserFactory()
        order, results = _race_verify_and_webhook(fake_razorpay, user, client_for(user), f"evt_race_{round_}")
        assert [r.status_code for r in results] == [200, 200], results
        assert results[1].json()["data"]["result"] in ("fulfilled", "already fulfilled")
        assert order.status == "paid"
        assert usage(user)["token_quota"] == 11000  # one upgrade, one carry-over
        changes = SubscriptionEvent.objects.filter(subscription__user=user, kind="plan_changed")
        assert changes.count() == 1


@pytest.mark.postgres_only  # real threads need PostgreSQL row locks
@pytest.mark.django_db(transaction=True)
def test_concurrent_redeliveries_fulfil_once(fake_razorpay, package):
    from accounts.tests.factories import UserFactory
    from credits.models import CreditTransaction

    user = UserFactory()
    order = order_create(user=user, package_id=package.pk)
    checkout = fake_razorpay.pay(order.gateway_order_id)
    body = captured_body(fake_razorpay, order.gateway_order_id, checkout)
    barrier = threading.Barrier(4)

    def deliver():
        barrier.wait()
        return post_webhook(APIClient(), body, event_id="evt_burst")

    results = [None] * 4
    threads = [threading.Thread(target=_in_thread, args=(results, i, deliver)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert [r.status_code for r in results] == [200] * 4, results
    assert CreditTransaction.objects.filter(wallet__user=user, source="payment").count() == 1
    assert WebhookEvent.objects.filter(event_id="evt_burst").count() == 1


@pytest.mark.django_db
def test_signed_utf16_json_is_400(api_client, fake_razorpay):
    body = '{"event": "payment.captured"}'.encode("utf-16")
    assert post_webhook(api_client, body).status_code == 400
