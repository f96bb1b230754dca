"""Seed 000: buying a token plan (flat envelope), through the real adapter and the fake Razorpay."""

import pytest

from payments.models import PaymentOrder

pytestmark = pytest.mark.django_db

CREATE, VERIFY = "/api/payments/create-order", "/api/payments/verify"


def usage(client):
    response = client.get("/api/tokens/usage")
    assert response.status_code == 200, response.content
    return response.json()


def create(client, plan="standard", **extra):
    return client.post(CREATE, {"plan": plan}, format="json", **extra)


def verify_body(checkout, plan="standard"):
    return {"plan": plan, **checkout}


def test_buy_standard_end_to_end(auth_client, fake_razorpay):
    before = usage(auth_client)
    assert before["plan"] == "basic" and before["remaining"] == 1000

    response = create(auth_client)
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"order_id", "amount", "currency", "plan", "key_id"}
    assert body["amount"] == 2900 and body["currency"] == "INR" and body["plan"] == "standard"
    assert body["key_id"] == fake_razorpay.key_id
    assert fake_razorpay.orders[body["order_id"]]["amount"] == 2900  # the server priced it

    order = PaymentOrder.objects.get(gateway_order_id=body["order_id"])
    assert (order.user, order.kind, order.plan.code, order.status, order.gateway) == (
        auth_client.user, "token_plan", "standard", "created", "razorpay")

    checkout = fake_razorpay.pay(body["order_id"])
    response = auth_client.post(VERIFY, verify_body(checkout), format="json")
    assert response.status_code == 200, response.content
    answer = response.json()
    # answers like set-plan (seed 001): carry-over of the 1000 unused basic tokens
    assert answer == {"status": "ok", "message": answer["message"], "plan": "standard",
                      "token_quota": 11000, "token_used": 0, "remaining": 11000}
    after = usage(auth_client)
    assert after["plan"] == "standard" and after["token_quota"] == 11000 and after["plan_end_at"]

    order.refresh_from_db()
    assert order.status == "paid" and order.gateway_payment_id == checkout["razorpay_payment_id"]
    assert order.fulfilled_via == "verify" and order.fulfilment_result == answer


def test_verify_replayed_answers_the_same_and_fulfils_once(auth_client, fake_razorpay):
    order_id = create(auth_client).json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    first = auth_client.post(VERIFY, verify_body(checkout), format="json")
    second = auth_client.post(VERIFY, verify_body(checkout), format="json")
    third = auth_client.post(VERIFY, verify_body(checkout), format="json",
                             HTTP_IDEMPOTENCY_KEY="verify-1")
    assert first.status_code == second.status_code == third.status_code == 200
    assert first.json() == second.json() == third.json()
    assert usage(auth_client)["token_quota"] == 11000  # not 11000 + 10000 + ...


def test_bad_signature_changes_nothing(auth_client, fake_razorpay):
    order_id = create(auth_client).json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    for signature in ["0" * 64, checkout["razorpay_signature"].upper()[:-1] + "0", "nope"]:
        response = auth_client.post(VERIFY, {**verify_body(checkout), "razorpay_signature": signature},
                                    format="json")
        assert response.status_code == 400
        assert response.json() == {"error": "invalid signature"}
    # a real signature of another payment does not verify this one
    response = auth_client.post(VERIFY, {**verify_body(checkout), "razorpay_payment_id": "pay_forged"},
                                format="json")
    assert response.status_code == 400
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"
    assert usage(auth_client)["plan"] == "basic"


def test_tampered_plan_is_refused(auth_client, fake_razorpay):
    order_id = create(auth_client, "standard").json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    response = auth_client.post(VERIFY, verify_body(checkout, plan="premium"), format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "plan does not match the order"}
    response = auth_client.post(VERIFY, {**checkout, "package_id": 1}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"
    assert usage(auth_client)["plan"] == "basic"


def test_verify_without_plan_uses_the_stored_purchase(auth_client, fake_razorpay):
    order_id = create(auth_client, "premium").json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    response = auth_client.post(VERIFY, checkout, format="json")
    assert response.status_code == 200 and response.json()["plan"] == "premium"


def test_someone_elses_order_is_not_found(auth_client, client_for, fake_razorpay):
    from accounts.tests.factories import UserFactory

    order_id = create(auth_client).json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    other = client_for(UserFactory())
    response = other.post(VERIFY, verify_body(checkout), format="json")
    assert response.status_code == 404 and response.json() == {"error": "order not found"}
    assert usage(other)["plan"] == "basic"
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


@pytest.mark.parametrize("plan, message", [("basic", "free plan needs no payment"), ("gold", "invalid plan"),
                                           ("STARTER", "invalid plan")])
def test_free_and_unknown_plans_are_400(auth_client, fake_razorpay, plan, message):
    response = create(auth_client, plan)
    assert response.status_code == 400 and response.json() == {"error": message}
    assert not fake_razorpay.requests and not PaymentOrder.objects.exists()


def test_lower_plan_is_refused_same_plan_renews(auth_client, fake_razorpay):
    order_id = create(auth_client, "premium").json()["order_id"]
    assert auth_client.post(VERIFY, fake_razorpay.pay(order_id), format="json").status_code == 200
    end_before = usage(auth_client)["plan_end_at"]
    response = create(auth_client, "standard")
    assert response.status_code == 400 and response.json() == {"error": "plan is lower than your current plan"}
    renewal = create(auth_client, "premium").json()["order_id"]
    assert auth_client.post(VERIFY, fake_razorpay.pay(renewal), format="json").status_code == 200
    assert usage(auth_client)["plan_end_at"] > end_before


def test_api_key_cannot_buy_plans(bot_client, fake_razorpay):
    response = bot_client.post(CREATE, {"plan": "standard"}, format="json")
    assert response.status_code == 403 and response.json() == {"error": "forbidden"}


def test_unauthenticated_is_401_in_the_flat_envelope(api_client, fake_razorpay):
    response = api_client.post(CREATE, {"plan": "standard"}, format="json")
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}


def test_idempotency_key_returns_the_same_order(auth_client, fake_razorpay):
    first = create(auth_client, HTTP_IDEMPOTENCY_KEY="k1")
    second = create(auth_client, HTTP_IDEMPOTENCY_KEY="k1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert PaymentOrder.objects.count() == 1 and len(fake_razorpay.calls("POST", "/v1/orders")) == 1
    conflict = create(auth_client, "premium", HTTP_IDEMPOTENCY_KEY="k1")
    assert conflict.status_code == 409 and "error" in conflict.json()


@pytest.mark.parametrize("mode", ["stopped", "error500", "html502", "sleep"])
def test_gateway_down_is_502_and_no_order(auth_client, fake_razorpay, settings, mode):
    if mode == "stopped":
        fake_razorpay.stop()
    else:
        fake_razorpay.mode = mode
        fake_razorpay.delay = 1.0
        settings.RAZORPAY_TIMEOUT = 0.3
    response = create(auth_client)
    assert response.status_code == 502
    assert response.json() == {"error": "payment gateway timed out" if mode == "sleep"
                               else "payment gateway unavailable"}
    assert not PaymentOrder.objects.exists()


def test_gateway_down_with_idempotency_key_then_retry(auth_client, fake_razorpay):
    fake_razorpay.mode = "error500"
    assert create(auth_client, HTTP_IDEMPOTENCY_KEY="k2").status_code == 502
    fake_razorpay.mode = "ok"
    response = create(auth_client, HTTP_IDEMPOTENCY_KEY="k2")  # a failure is not stored: retry works
    assert response.status_code == 200
    assert PaymentOrder.objects.count() == 1


def test_verify_does_not_need_the_gateway(auth_client, fake_razorpay):
    order_id = create(auth_client).json()["order_id"]
    checkout = fake_razorpay.pay(order_id)
    fake_razorpay.stop()
    assert auth_client.post(VERIFY, verify_body(checkout), format="json").status_code == 200


def test_create_order_is_throttled(auth_client, fake_razorpay, monkeypatch):
    from payments.views import PaymentsThrottle

    monkeypatch.setattr(PaymentsThrottle, "THROTTLE_RATES", {"payments": "2/min"})
    codes = [create(auth_client, "premium").status_code for _ in range(3)]
    assert codes == [200, 200, 429]


def test_throttled_create_order_does_not_block_verify(auth_client, fake_razorpay, monkeypatch):
    from payments.views import PaymentsThrottle

    monkeypatch.setattr(PaymentsThrottle, "THROTTLE_RATES", {"payments": "2/min"})
    order_id = create(auth_client, "premium").json()["order_id"]
    assert create(auth_client, "premium").status_code == 200
    assert create(auth_client, "premium").status_code == 429
    checkout = fake_razorpay.pay(order_id)
    body = {**verify_body(checkout), "plan": "premium"}
    assert auth_client.post(VERIFY, body, format="json").status_code == 200
