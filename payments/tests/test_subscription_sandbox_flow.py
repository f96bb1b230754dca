"""Seed 002's seven-step user flow against the sandbox gateway, as the README walks through it."""

import pytest

pytestmark = pytest.mark.django_db


def test_seed_002_user_flow_with_the_sandbox(api_client, sandbox):
    # 1. browse plans (no auth): exactly seed 002's three
    plans = api_client.get("/api/rate-plans/public").json()["data"]
    assert [p["plan_code"] for p in plans] == ["STARTER", "PROFESSIONAL", "CALL_CENTER"]
    starter = plans[0]
    # 2. calculate the price (no auth)
    addons = {"extraTollFreeNumbers": 2, "extraExtensions": 5}
    quote = api_client.post("/api/rate-plans/calculate-price",
                            {"planId": starter["id"], "billingCycle": "quarterly", "addons": addons},
                            format="json").json()["data"]
    assert quote["pricing"]["total"] == 1235.46
    # 3. register and log in
    api_client.post("/api/auth/register", {"email": "john@example.com", "password": "a-long-passphrase-42",
                                            "name": "John Doe"}, format="json")
    login = api_client.post("/api/auth/login", {"email": "john@example.com", "password": "a-long-passphrase-42"},
                            format="json").json()
    api_client.credentials(HTTP_AUTHORIZATION=f"Bearer {login['data']['access']}")
    # 4. create the order
    created = api_client.post("/api/subscriptions/create-with-payment", {
        "planId": starter["id"], "billingCycle": "quarterly", "addons": addons,
        "customerData": {"firstName": "John", "lastName": "Doe", "phone": "+919876543210", "company": "ABC Corp",
                         "address": "123 Main St", "city": "Mumbai", "state": "Maharashtra", "country": "IN",
                         "postalCode": "400001", "gstNumber": "27AAPFU0939F1ZV"},
    }, format="json")
    assert created.status_code == 201, created.content
    data = created.json()["data"]
    assert (data["amount"], data["currency"], data["key"]) == (123546, "INR", "rzp_test_sandbox")
    # 5. pay at (sandbox) Checkout
    checkout = api_client.post("/api/payments/sandbox/pay", {"order_id": data["orderId"]}, format="json").json()
    # 6. verify
    verified = api_client.post("/api/subscriptions/verify-payment",
                               {**checkout, "subscriptionId": data["subscriptionId"]}, format="json").json()
    assert verified["message"] == "Payment verified and subscription activated"
    assert verified["data"]["payment"]["amount"] == 1235.46
    assert verified["data"]["payment"]["transactionId"] == checkout["razorpay_payment_id"]
    # 7. the dashboard
    mine = api_client.get("/api/subscriptions/my-subscription").json()["data"]
    assert (mine["id"], mine["status"], mine["billingCycle"]) == (data["subscriptionId"], "active", "quarterly")
    usage = api_client.get(f"/api/subscriptions/{mine['id']}/usage").json()["data"]["usage"]
    assert usage["tollFreeNumbers"]["limit"] == 3 and usage["extensions"]["limit"] == 7
    orders = api_client.get("/api/payments").json()["data"]
    assert orders["results"][0]["status"] == "paid"
