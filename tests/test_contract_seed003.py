"""Contract audit against seed 003 (WhatsApp credit bot) as amended by DESIGN §4.4/§4.5/§5.

Envelope `{"status", "message", "data"}`; errors `{"status": "ERROR", "message"}` (DESIGN §5);
402 for insufficient credits (DESIGN §5).
"""

import pytest
from rest_framework.test import APIClient

from plans.models import CreditPackage

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"
TRANSACTION_KEYS = {"id", "user_id", "action", "credits", "source", "reference_id", "created_at"}


@pytest.fixture
def sandbox(settings):
    settings.PAYMENT_GATEWAY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.CASHFREE_CLIENT_ID = ""
    settings.CASHFREE_CLIENT_SECRET = ""
    from payments.gateways import get_gateway

    return get_gateway()


def _status_error(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["status"] == "ERROR" and isinstance(body["message"], str) and body["message"]
    return body


def _ok(response, message):
    assert response.status_code == 200, response.content
    body = response.json()
    assert set(body) == {"status", "message", "data"}
    assert body["status"] == "SUCCESS" and body["message"] == message
    return body["data"]


def _deduct(client, phone=PHONE):
    return client.post("/api/bot/deduct", {"phone_number": phone}, format="json")


# --- bot API ---------------------------------------------------------------------------------------

def test_bot_credits_new_user_gets_three(bot_client):
    # "Auto User Creation: ... Credits 3 free credits"; "You have 2 credits remaining." wording
    data = _ok(bot_client.get(f"/api/bot/credits/{PHONE}"), "You have 3 credits remaining.")
    assert data["remaining_credits"] == 3 and isinstance(data["user_exists"], bool)
    data = _ok(bot_client.get(f"/api/bot/credits/{PHONE}"), "You have 3 credits remaining.")
    assert data == {"remaining_credits": 3, "user_exists": True}


@pytest.mark.parametrize("headers", [{}, {"HTTP_X_BOT_SECRET": "wrong-secret"}])
def test_bot_endpoints_need_the_secret(headers):
    # "Bot API Protection: All bot endpoints require x-bot-secret header"
    _status_error(APIClient().get(f"/api/bot/credits/{PHONE}", **headers), 401)
    _status_error(APIClient().post("/api/bot/deduct", {"phone_number": PHONE}, format="json", **headers), 401)


def test_deduct_messages_and_insufficient(bot_client):
    assert _ok(_deduct(bot_client), "Image generated successfully. You have 2 credits remaining.") == {
        "remaining_credits": 2}
    assert _ok(_deduct(bot_client), "Image generated successfully. You have 1 credit remaining.") == {
        "remaining_credits": 1}
    _ok(_deduct(bot_client), "Image generated successfully. You have no credits left.")
    response = _deduct(bot_client)
    assert response.status_code == 402
    assert response.json() == {
        "status": "INSUFFICIENT_CREDITS",
        "message": "You have no credits left. Please purchase a plan to continue.",
        "data": {"remaining_credits": 0},
    }
    _ok(bot_client.get(f"/api/bot/credits/{PHONE}"),
        "You have no credits left. Please purchase a plan to continue.")


@pytest.mark.parametrize("body", [{}, {"phone_number": ""}, {"phone_number": "not a phone"},
                                  {"phone_number": 919876543210}])
def test_deduct_bad_input(bot_client, body):
    _status_error(bot_client.post("/api/bot/deduct", body, format="json"), 400)


def test_bot_accepts_api_key_authorization_header(api_key):
    # DESIGN §4.6: "X-Bot-Secret: <key> and Authorization: Api-Key <key> are both accepted"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}")
    _ok(client.get(f"/api/bot/credits/{PHONE}"), "You have 3 credits remaining.")


# --- frontend API ----------------------------------------------------------------------------------

def test_user_profile(bot_client):
    bot_client.get(f"/api/bot/credits/{PHONE}")
    data = _ok(bot_client.get(f"/api/users/{PHONE}"), "User profile retrieved successfully")
    assert set(data) >= {"id", "phone_number", "credits", "created_at"}
    assert data["phone_number"] == PHONE and data["credits"] == 3
    assert isinstance(data["credits"], int)


def test_credit_history(bot_client):
    bot_client.get(f"/api/bot/credits/{PHONE}")
    _deduct(bot_client)
    user_id = _ok(bot_client.get(f"/api/users/{PHONE}"), "User profile retrieved successfully")["id"]
    data = _ok(bot_client.get(f"/api/credits/history/{user_id}", {"limit": 50}),
               "Credit history retrieved successfully")
    assert set(data) >= {"user_id", "transactions", "total"}
    assert str(data["user_id"]) == str(user_id) and data["total"] == 2
    first, second = data["transactions"]  # newest first
    assert TRANSACTION_KEYS <= set(first)
    assert (first["action"], first["credits"]) == ("debit", 1)
    assert (second["action"], second["credits"]) == ("credit", 3)
    assert first["source"] == "image_generation" or first["source"] == "usage"
    limited = _ok(bot_client.get(f"/api/credits/history/{user_id}", {"limit": 1}),
                  "Credit history retrieved successfully")
    assert len(limited["transactions"]) == 1


def test_user_profile_unknown_and_unauthenticated(bot_client):
    _status_error(bot_client.get("/api/users/+919999999999"), 404)
    _status_error(APIClient().get(f"/api/users/{PHONE}"), 401)


# --- payments (package) ----------------------------------------------------------------------------

def test_package_purchase(bot_client, sandbox):
    package = CreditPackage.objects.get(name="Premium Pack")  # ₹100, 100 credits
    bot_client.get(f"/api/bot/credits/{PHONE}")
    data = _ok(bot_client.post("/api/payments/create-order",
                               {"package_id": package.pk, "phone_number": PHONE}, format="json"),
               "Order created successfully")
    assert set(data) >= {"order_id", "amount", "currency", "package"}
    assert data["amount"] == 10000 and data["currency"] == "INR"  # paise
    assert {k: data["package"][k] for k in ("id", "name", "credits", "price")} == {
        "id": package.pk, "name": "Premium Pack", "credits": 100, "price": 100}
    checkout = sandbox.pay(order_id=data["order_id"], amount_paise=data["amount"], currency="INR")
    verified = _ok(bot_client.post("/api/payments/verify",
                                   {**checkout, "phone_number": PHONE, "package_id": package.pk},
                                   format="json"),
                   "Payment verified and credits added successfully")
    assert verified == {"payment_id": checkout["razorpay_payment_id"], "order_id": data["order_id"],
                        "credits_added": 100, "remaining_credits": 103}


def test_package_verify_bad_signature(bot_client, sandbox):
    package = CreditPackage.objects.get(name="Premium Pack")
    data = bot_client.post("/api/payments/create-order", {"package_id": package.pk, "phone_number": PHONE},
                           format="json").json()["data"]
    checkout = sandbox.pay(order_id=data["order_id"], amount_paise=data["amount"], currency="INR")
    _status_error(bot_client.post("/api/payments/verify",
                                  {**checkout, "razorpay_signature": "0" * 64, "phone_number": PHONE,
                                   "package_id": package.pk}, format="json"), 400)


def test_package_unknown(bot_client, sandbox):
    # DESIGN: bad input → a clear 4xx in the endpoint's envelope (status style here)
    response = bot_client.post("/api/payments/create-order", {"package_id": 999999, "phone_number": PHONE},
                               format="json")
    assert response.status_code in (400, 404)
    _status_error(response, response.status_code)


def test_package_verify_with_another_package_is_rejected(bot_client, sandbox):
    # DESIGN §4.5: "a plan/package_id in the verify body that disagrees is rejected"
    package = CreditPackage.objects.get(name="Premium Pack")
    other = CreditPackage.objects.get(name="Pro Pack")
    data = bot_client.post("/api/payments/create-order", {"package_id": package.pk, "phone_number": PHONE},
                           format="json").json()["data"]
    checkout = sandbox.pay(order_id=data["order_id"], amount_paise=data["amount"], currency="INR")
    _status_error(bot_client.post("/api/payments/verify",
                                  {**checkout, "phone_number": PHONE, "package_id": other.pk},
                                  format="json"), 400)
    assert _ok(bot_client.get(f"/api/users/{PHONE}"), "User profile retrieved successfully")["credits"] == 3


def test_user_reads_own_profile_and_history_with_jwt(bot_client, client_for):
    # DESIGN §5: /api/users/:phone and /api/credits/history/:user_id — "API key of the user's
    # tenant, staff, or the user"
    from accounts.models import User

    bot_client.get(f"/api/bot/credits/{PHONE}")
    me = User.objects.get(phone=PHONE)
    client = client_for(me)
    profile = _ok(client.get(f"/api/users/{PHONE}"), "User profile retrieved successfully")
    assert profile["id"] == me.pk and profile["credits"] == 3
    history = _ok(client.get(f"/api/credits/history/{me.pk}"), "Credit history retrieved successfully")
    assert history["total"] == 1


def test_history_of_another_user_is_not_found(bot_client, auth_client):
    bot_client.get(f"/api/bot/credits/{PHONE}")
    user_id = _ok(bot_client.get(f"/api/users/{PHONE}"), "User profile retrieved successfully")["id"]
    _status_error(auth_client.get(f"/api/credits/history/{user_id}"), 404)
