"""The purchase flow `make run` offers with the sandbox gateway, exactly as the README's curl does it."""

import pytest

pytestmark = pytest.mark.django_db

PAY = "/api/payments/sandbox/pay"


def test_buy_standard_tokens_and_a_package_with_the_sandbox(api_client, sandbox, package):
    # register → login
    api_client.post("/api/auth/register", {"email": "asha@example.com", "password": "a-long-passphrase-42",
                                            "name": "Asha"}, format="json")
    login = api_client.post("/api/auth/login", {"email": "asha@example.com",
                                                "password": "a-long-passphrase-42"}, format="json")
    assert login.status_code == 200, login.content
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['data']['access']}")

    # tokens: create-order → sandbox/pay → verify → usage
    order = api_client.post("/api/payments/create-order", {"plan": "standard"}, format="json").json()
    assert order["key_id"] == "rzp_test_sandbox" and order["amount"] == 2900
    checkout = api_client.post(PAY, {"order_id": order["order_id"]}, format="json")
    assert checkout.status_code == 200
    checkout = checkout.json()
    assert set(checkout) == {"razorpay_order_id", "razorpay_payment_id", "razorpay_signature"}
    verified = api_client.post("/api/payments/verify", {"plan": "standard", **checkout}, format="json")
    assert verified.status_code == 200 and verified.json()["plan"] == "standard"
    usage = api_client.get("/api/tokens/usage").json()
    assert usage["plan"] == "standard" and usage["token_quota"] == 11000

    # credits: create-order → sandbox/pay → verify → wallet
    created = api_client.post("/api/payments/create-order", {"package_id": package.pk}, format="json").json()
    checkout = api_client.post(PAY, {"order_id": created["data"]["order_id"]}, format="json").json()
    verified = api_client.post("/api/payments/verify", {"package_id": package.pk, **checkout}, format="json")
    assert verified.status_code == 200
    assert verified.json()["data"]["credits_added"] == 100
    wallet = api_client.get("/api/wallet")
    assert wallet.status_code == 200 and wallet.json()["data"]["balance"] == 100

    orders = api_client.get("/api/payments").json()["data"]
    assert orders["count"] == 2 and {o["status"] for o in orders["results"]} == {"paid"}


def test_sandbox_pay_twice_returns_the_same_payment(auth_client, sandbox):
    order_id = auth_client.post("/api/payments/create-order", {"plan": "premium"}, format="json").json()["order_id"]
    first = auth_client.post(PAY, {"order_id": order_id}, format="json").json()
    auth_client.post("/api/payments/verify", {"plan": "premium", **first}, format="json")
    assert auth_client.post(PAY, {"order_id": order_id}, format="json").json() == first


def test_sandbox_pay_is_for_the_order_owner(auth_client, client_for, sandbox):
    from accounts.tests.factories import UserFactory

    order_id = auth_client.post("/api/payments/create-order", {"plan": "premium"}, format="json").json()["order_id"]
    assert client_for(UserFactory()).post(PAY, {"order_id": order_id}, format="json").status_code == 404
    assert auth_client.post(PAY, {"order_id": "order_nope"}, format="json").status_code == 404
    assert auth_client.post(PAY, {}, format="json").status_code == 400


def test_sandbox_pay_does_not_exist_with_razorpay(auth_client, api_client, fake_razorpay):
    order_id = auth_client.post("/api/payments/create-order", {"plan": "premium"}, format="json").json()["order_id"]
    assert auth_client.post(PAY, {"order_id": order_id}, format="json").status_code == 404
    assert api_client.post(PAY, {"order_id": order_id}, format="json").status_code == 404  # not even 401


def test_sandbox_webhook(api_client, auth_client, sandbox):
    from payments.tests.conftest import event_body

    order_id = auth_client.post("/api/payments/create-order", {"plan": "standard"}, format="json").json()["order_id"]
    checkout = auth_client.post(PAY, {"order_id": order_id}, format="json").json()
    payment = sandbox.fetch_payment(checkout["razorpay_payment_id"]).raw
    body = event_body("payment.captured", payment=payment)
    response = api_client.post("/api/payments/webhook/razorpay", data=body, content_type="application/json",
                               HTTP_X_RAZORPAY_SIGNATURE=sandbox.webhook_signature(body),
                               HTTP_X_RAZORPAY_EVENT_ID="evt_sbx")
    assert response.status_code == 200 and response.json()["data"]["result"] == "fulfilled"
