"""Signed webhooks that lie or carry hostile fields (issue 14, items 4 and 6): recorded as
unprocessable with a reason and answered 2xx (the same payload would fail forever), or refused with
a 400 when unsigned or unparseable; never a 5xx, never retried forever."""

import json

import pytest

from payments.models import PaymentOrder, WebhookEvent
from payments.tests.conftest import event_body, post_webhook, sign_webhook
from payments.tests.test_webhooks import CREATE, captured_body, usage

pytestmark = pytest.mark.django_db


@pytest.fixture
def paid_at_gateway(auth_client, fake_razorpay):
    order_id = auth_client.post(CREATE, {"plan": "standard"}, format="json").json()["order_id"]
    return order_id, fake_razorpay.pay(order_id)


def _payment(fake, checkout, **changes):
    return {**fake.payments[checkout["razorpay_payment_id"]], **changes}


def _deliver(api_client, body: bytes, event_id="evt_h"):
    response = post_webhook(api_client, body, event_id=event_id)
    assert response.status_code < 500, response.content
    return response


def _unprocessable(response, event_id="evt_h", contains=""):
    assert response.status_code == 200, response.content
    event = WebhookEvent.objects.get(event_id=event_id)
    assert event.unprocessable and event.processed_at is not None, event.result
    assert contains in event.result
    assert response.json()["data"]["result"] == event.result
    return event


# --- item 4: currency and amount against the order --------------------------------------------------

def test_a_captured_payment_in_another_currency_does_not_fulfil(api_client, auth_client, fake_razorpay,
                                                                 paid_at_gateway):
    order_id, checkout = paid_at_gateway
    usd = _payment(fake_razorpay, checkout, currency="USD")  # the right number, the wrong money
    response = _deliver(api_client, event_body("payment.captured", payment=usd))
    _unprocessable(response, contains="currency does not match")
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"
    assert usage(auth_client.user)["plan"] == "basic"
    # redelivered: the same answer, still not fulfilled, no 5xx
    again = _deliver(api_client, event_body("payment.captured", payment=usd))
    assert again.json()["data"]["duplicate"] is True
    # the real INR capture still fulfils
    inr = _deliver(api_client, captured_body(fake_razorpay, order_id, checkout), event_id="evt_inr")
    assert inr.json()["data"]["result"] == "fulfilled"


def test_a_wrong_amount_is_unprocessable(api_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    response = _deliver(api_client, event_body("payment.captured",
                                               payment=_payment(fake_razorpay, checkout, amount=100)))
    _unprocessable(response, contains="amount does not match")
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


def test_reconcile_refuses_a_payment_in_another_currency(user, fake_razorpay, package):
    from io import StringIO

    from django.core.management import call_command

    from payments.services import order_create, order_reconcile

    order = order_create(user=user, package_id=package.pk)
    checkout = fake_razorpay.pay(order.gateway_order_id)
    fake_razorpay.payments[checkout["razorpay_payment_id"]]["currency"] = "USD"
    assert order_reconcile(order_id=order.pk) == "rejected"
    order.refresh_from_db()
    assert order.status == "created"
    call_command("reconcile_payments", "--grace-minutes", "0", stdout=StringIO())
    order.refresh_from_db()
    assert order.status == "created"


# --- item 6: hostile fields in signed webhooks --------------------------------------------------------

def test_a_nul_byte_in_the_event_type_is_unprocessable_not_500(api_client, fake_razorpay, paid_at_gateway):
    order_id, checkout = paid_at_gateway
    body = json.dumps({"event": "payment.captured\u0000", "payload": {
        "payment": {"entity": _payment(fake_razorpay, checkout)}}}).encode()
    response = _deliver(api_client, body)
    event = _unprocessable(response, contains="event type")
    assert event.event_type == ""  # nothing the database refuses was stored
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


def test_a_nul_byte_in_the_payment_id_is_unprocessable_and_never_stuck(api_client, fake_razorpay,
                                                                       paid_at_gateway):
    order_id, checkout = paid_at_gateway
    body = event_body("payment.captured", payment=_payment(fake_razorpay, checkout, id="pay_\u0000evil"))
    for _ in range(3):  # every redelivery answers 2xx
        response = _deliver(api_client, body)
    event = _unprocessable(response, contains="payment.id")
    assert event.attempts == 1
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


@pytest.mark.parametrize("changes, reason", [
    ({"id": 12345}, "payment.id"),
    ({"id": "x" * 100_000}, "payment.id"),
    ({"id": ["pay_1"]}, "payment.id"),
    ({"amount": "2900"}, "payment.amount"),
    ({"amount": 2900.0}, "payment.amount"),
    ({"amount": True}, "payment.amount"),
    ({"amount": -2900}, "payment.amount"),
    ({"amount": 10**40}, "payment.amount"),
    ({"currency": None}, "payment.currency"),
    ({"currency": 356}, "payment.currency"),
    ({"currency": "inr\u0000"}, "payment.currency"),
    ({"status": {"captured": True}}, "payment.status"),
    ({"order_id": {"id": "x"}}, "payment.order_id"),
    ({"order_id": "order_\u0000"}, "payment.order_id"),
    ({"order_id": "o" * 1000}, "payment.order_id"),
])
def test_hostile_payment_fields_are_unprocessable(api_client, fake_razorpay, paid_at_gateway, changes, reason):
    order_id, checkout = paid_at_gateway
    response = _deliver(api_client, event_body("payment.captured",
                                               payment=_payment(fake_razorpay, checkout, **changes)))
    _unprocessable(response, contains=reason)
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


@pytest.mark.parametrize("payload", [
    {"event": "payment.captured"},
    {"event": "payment.captured", "payload": []},
    {"event": "payment.captured", "payload": "x"},
    {"event": "payment.captured", "payload": {"payment": []}},
    {"event": "payment.captured", "payload": {"payment": {"entity": "pay_1"}}},
    {"event": "refund.processed", "payload": {"refund": {"entity": {"id": "rfnd_1"}}}},
    {"event": "refund.processed", "payload": {"refund": {"entity": {"id": "rfnd_\u0000", "amount": 100,
                                                                    "payment_id": "pay_1"}}}},
    {"event": 42},
    {"event": ["payment.captured"]},
    {"event": "x" * 5000},
    {"event": None},
    {},
])
def test_missing_or_mistyped_entities_are_unprocessable(api_client, fake_razorpay, payload):
    response = _deliver(api_client, json.dumps(payload).encode())
    _unprocessable(response, contains="malformed")


def test_free_text_is_cleaned_not_refused(api_client, auth_client, fake_razorpay):
    order_id = auth_client.post(CREATE, {"plan": "standard"}, format="json").json()["order_id"]
    failed = fake_razorpay.pay(order_id, status="failed")
    payment = {**fake_razorpay.payments[failed["razorpay_payment_id"]],
               "error_description": "declined\u0000 by \u001bbank" + "!" * 1000}
    response = _deliver(api_client, event_body("payment.failed", payment=payment))
    assert response.json()["data"]["result"] == "order failed"
    order = PaymentOrder.objects.get(gateway_order_id=order_id)
    assert order.failure_reason.startswith("declined by bank") and "\x00" not in order.failure_reason


@pytest.mark.parametrize("event_id", ["evt\u0000nul", "evt\nnewline", "e" * 129, "évènement"])
def test_a_bad_event_id_header_is_400_and_not_stored(api_client, fake_razorpay, event_id):
    body = event_body("payment.captured")
    response = api_client.post("/api/payments/webhook/razorpay", data=body, content_type="application/json",
                               HTTP_X_RAZORPAY_SIGNATURE=sign_webhook(body), HTTP_X_RAZORPAY_EVENT_ID=event_id)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_deeply_nested_signed_json_is_400_not_500(api_client, fake_razorpay):
    body = ('{"event": "payment.captured", "payload": ' + "[" * 100_000 + "]" * 100_000 + "}").encode()
    response = post_webhook(api_client, body)
    assert response.status_code == 400
    assert not WebhookEvent.objects.exists()


def test_a_handler_that_keeps_failing_is_closed_after_max_attempts(api_client, fake_razorpay, paid_at_gateway,
                                                                   monkeypatch):
    from payments.services import webhooks

    order_id, checkout = paid_at_gateway

    def broken(event, payload):
        raise RuntimeError("a bug that fails this payload every time")

    monkeypatch.setitem(webhooks._HANDLERS, "payment.captured", broken)
    body = captured_body(fake_razorpay, order_id, checkout)
    statuses = [post_webhook(api_client, body, event_id="evt_bug").status_code
                for _ in range(webhooks.MAX_ATTEMPTS + 2)]
    assert statuses == [500] * (webhooks.MAX_ATTEMPTS - 1) + [200] * 3
    event = WebhookEvent.objects.get(event_id="evt_bug")
    assert event.unprocessable and event.attempts == webhooks.MAX_ATTEMPTS and "a bug" in event.error


@pytest.mark.postgres_only  # SQLite stores a NUL
def test_a_value_the_database_refuses_closes_the_event_at_once(api_client, fake_razorpay, paid_at_gateway,
                                                               monkeypatch):
    """Whatever slips past the checks and makes the driver or the database refuse a value fails the
    same way on every redelivery: unprocessable at once, not 500 forever."""
    from payments.services import webhooks

    order_id, checkout = paid_at_gateway

    def nul_to_the_database(event, payload):
        return PaymentOrder.objects.filter(gateway_order_id="order_\x00").exists()

    monkeypatch.setitem(webhooks._HANDLERS, "payment.captured", nul_to_the_database)
    response = post_webhook(api_client, captured_body(fake_razorpay, order_id, checkout), event_id="evt_nul")
    event = _unprocessable(response, event_id="evt_nul", contains="handler failed")
    assert event.attempts == 1 and "NUL" in event.error


def test_signed_deeply_nested_webhook_body_is_a_400(api_client, fake_razorpay):
    body = ('{"event": "payment.captured", "payload": ' + "[" * 1000 + "]" * 1000 + "}").encode()
    response = post_webhook(api_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_body"
    assert not WebhookEvent.objects.exists()
