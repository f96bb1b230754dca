"""Contract audit against seed 000 (token management summary) and DESIGN §4.2/§4.5/§5.

Each test names the seed or DESIGN line it checks; paths, fields, status codes and messages are
the seed's, exactly (no trailing slashes: the seed's curl lines have none).
"""

import time
from datetime import timedelta

import jwt
import pytest
from django.conf import settings
from django.utils import timezone
from rest_framework.test import APIClient

pytestmark = pytest.mark.django_db

USAGE, SET_PLAN = "/api/tokens/usage", "/api/tokens/set-plan"
CREATE, VERIFY = "/api/payments/create-order", "/api/payments/verify"


@pytest.fixture
def sandbox(settings):
    settings.PAYMENT_GATEWAY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.CASHFREE_CLIENT_ID = ""
    settings.CASHFREE_CLIENT_SECRET = ""
    from payments.gateways import get_gateway

    gateway = get_gateway()
    assert gateway.name == "sandbox"
    return gateway


def _external_token(claims: dict) -> str:
    return jwt.encode({"exp": int(time.time()) + 600, **claims}, settings.JWT_SECRET, algorithm="HS256")


# --- GET /api/tokens/usage ------------------------------------------------------------------------

def test_usage_shape_first_call_is_basic(auth_client):
    # "Response: { plan, token_quota, token_used, remaining, plan_end_at? }"; basic: 1000, no end.
    response = auth_client.get(USAGE)
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/json")
    assert response.json() == {"plan": "basic", "token_quota": 1000, "token_used": 0,
                               "remaining": 1000, "plan_end_at": None}


@pytest.mark.parametrize("headers", [{}, {"HTTP_AUTHORIZATION": "Bearer not-a-jwt"},
                                     {"HTTP_AUTHORIZATION": "Basic dXNlcjpwYXNz"}])
def test_usage_without_valid_token_is_401_unauthorized(headers):
    # "Test 6: Unauthorized ... Expected: 401 with error: "unauthorized""
    response = APIClient().get(USAGE, **headers)
    assert response.status_code == 401
    assert response.json() == {"error": "unauthorized"}


@pytest.mark.parametrize("claim", ["user_id", "sub"])
def test_external_jwt_with_user_id_or_sub(user, claim):
    # "Payload must contain either "user_id": <number> OR "sub": <number>"
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {_external_token({claim: user.pk})}")
    response = client.get(USAGE)
    assert response.status_code == 200
    assert response.json()["plan"] == "basic"


def test_external_jwt_with_wrong_signature_is_401(user):
    # "JWT Verification: Always verify JWT signature"
    token = jwt.encode({"user_id": user.pk, "exp": int(time.time()) + 600}, "another-secret",
                       algorithm="HS256")
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {token}")
    response = client.get(USAGE)
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}


def test_set_plan_without_token_is_401_unauthorized():
    response = APIClient().post(SET_PLAN, {"plan": "basic"}, format="json")
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}


# --- POST /api/tokens/set-plan ----------------------------------------------------------------------

SET_PLAN_KEYS = {"status", "message", "plan", "token_quota", "token_used", "remaining"}


def test_set_plan_invalid_plan(auth_client):
    # "Test 5: Invalid plan ... Expected: 400 with error: "invalid plan""
    auth_client.get(USAGE)
    response = auth_client.post(SET_PLAN, {"plan": "invalid"}, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid plan"}


@pytest.mark.parametrize("raw", ["{not json", "[]", '"basic"', "{}"])
def test_set_plan_invalid_body(auth_client, raw):
    # '400 Bad Request {"error":"invalid body"}'
    auth_client.get(USAGE)
    response = auth_client.post(SET_PLAN, raw, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid body"}


def test_set_plan_downgrade_answer(staff_client):
    # "Test 3: POST /api/tokens/set-plan (downgrade) {"plan":"basic"} Expected: 200 with new quota"
    staff_client.post(SET_PLAN, {"plan": "premium"}, format="json")
    response = staff_client.post(SET_PLAN, {"plan": "basic"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == SET_PLAN_KEYS
    assert body == {"status": "ok", "message": "downgraded to basic", "plan": "basic",
                    "token_quota": 1000, "token_used": 0, "remaining": 1000}
    assert staff_client.get(USAGE).json()["plan_end_at"] is None  # "For basic plan: plan_end_at = NULL"


def test_set_plan_upgrade_carry_over_and_plan_end_at(staff_client):
    # "Previous: quota=10K, used=3K → remaining=7K; Upgrade to Premium: New quota = 57K, New used = 0"
    from subscriptions import services

    staff_client.post(SET_PLAN, {"plan": "standard", "reset_used": True}, format="json")
    quota = staff_client.get(USAGE).json()["token_quota"]
    services.token_consume(user_id=staff_client.user.pk, tokens=3000, tenant_id=None)
    before = timezone.now()
    response = staff_client.post(SET_PLAN, {"plan": "premium"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "upgraded to premium with carry-over",
                               "plan": "premium", "token_quota": 50000 + quota - 3000,
                               "token_used": 0, "remaining": 50000 + quota - 3000}
    # "For paid plans (standard, premium): plan_end_at = NOW() + 30 days"
    usage = staff_client.get(USAGE).json()
    end = timezone.datetime.fromisoformat(usage["plan_end_at"].replace("Z", "+00:00"))
    assert before + timedelta(days=30) - timedelta(seconds=5) <= end <= timezone.now() + timedelta(days=30)


def test_set_plan_reset_used(staff_client):
    # "Test 4: Verify reset_used works {"plan":"standard","reset_used":true} Expected: 200 with token_used=0"
    from subscriptions import services

    staff_client.post(SET_PLAN, {"plan": "standard"}, format="json")
    services.token_consume(user_id=staff_client.user.pk, tokens=500, tenant_id=None)
    response = staff_client.post(SET_PLAN, {"plan": "standard", "reset_used": True}, format="json")
    assert response.status_code == 200
    assert response.json()["token_used"] == 0 and response.json()["message"] == "plan confirmed"


def test_regular_user_paid_upgrade_is_payment_required(auth_client):
    # DESIGN §4.2: "set-plan by a regular user to a paid tier answers 402 {"error": "payment required"}"
    auth_client.get(USAGE)
    response = auth_client.post(SET_PLAN, {"plan": "premium"}, format="json")
    assert response.status_code == 402
    assert response.json() == {"error": "payment required"}
    assert auth_client.get(USAGE).json()["plan"] == "basic"


def test_self_service_upgrade_setting_reproduces_seed_demo(auth_client, settings):
    # DESIGN §4.2: "TOKENS_SELF_SERVICE_UPGRADE ... on reproduces seed 000's demo behaviour"
    settings.TOKENS_SELF_SERVICE_UPGRADE = True
    auth_client.get(USAGE)
    response = auth_client.post(SET_PLAN, {"plan": "premium"}, format="json")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "upgraded to premium with carry-over",
                               "plan": "premium", "token_quota": 51000, "token_used": 0,
                               "remaining": 51000}


# --- POST /api/payments/create-order + /api/payments/verify (plan) ---------------------------------

@pytest.mark.parametrize("plan, amount", [("standard", 2900), ("premium", 9900)])
def test_create_order_shape(auth_client, sandbox, plan, amount):
    # "Body: { plan: "standard"|"premium" } Response: { order_id, amount, currency, plan, key_id }"
    response = auth_client.post(CREATE, {"plan": plan}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert set(body) == {"order_id", "amount", "currency", "plan", "key_id"}
    assert body["amount"] == amount and isinstance(body["amount"], int)  # paise, "Price: ₹29"
    assert body["currency"] == "INR" and body["plan"] == plan
    assert isinstance(body["order_id"], str) and isinstance(body["key_id"], str)


def test_create_order_invalid_plan(auth_client, sandbox):
    response = auth_client.post(CREATE, {"plan": "invalid"}, format="json")
    assert response.status_code == 400 and response.json() == {"error": "invalid plan"}


def test_create_order_unauthorized(sandbox):
    response = APIClient().post(CREATE, {"plan": "standard"}, format="json")
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}


def test_verify_upgrades_with_set_plan_answer(auth_client, sandbox):
    # "Body: { plan, razorpay_order_id, razorpay_payment_id, razorpay_signature, reset_used? }
    #  Response: { status, message, plan, token_quota, token_used, remaining }"
    order = auth_client.post(CREATE, {"plan": "premium"}, format="json").json()
    checkout = sandbox.pay(order_id=order["order_id"], amount_paise=order["amount"], currency="INR")
    response = auth_client.post(VERIFY, {"plan": "premium", **checkout, "reset_used": False}, format="json")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "message": "upgraded to premium with carry-over",
                               "plan": "premium", "token_quota": 51000, "token_used": 0,
                               "remaining": 51000}
    assert auth_client.get(USAGE).json()["plan_end_at"] is not None


def test_verify_unauthorized(sandbox):
    response = APIClient().post(VERIFY, {"plan": "standard", "razorpay_order_id": "order_x",
                                         "razorpay_payment_id": "pay_x", "razorpay_signature": "0" * 64},
                                format="json")
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}


# --- GET /api/health (seed 001's main.py, DESIGN §5) ----------------------------------------------

def test_health():
    response = APIClient().get("/api/health")
    assert response.status_code == 200 and response.json()["status"] == "ok"


def test_create_order_for_basic_is_refused(auth_client, sandbox):
    # "Body: { plan: "standard"|"premium" }": the free plan is never sold
    response = auth_client.post(CREATE, {"plan": "basic"}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"error"}


def test_verify_with_another_plan_than_the_order_is_rejected(auth_client, sandbox):
    # DESIGN §4.5: "a plan/package_id in the verify body that disagrees is rejected"
    order = auth_client.post(CREATE, {"plan": "standard"}, format="json").json()
    checkout = sandbox.pay(order_id=order["order_id"], amount_paise=order["amount"], currency="INR")
    response = auth_client.post(VERIFY, {"plan": "premium", **checkout}, format="json")
    assert response.status_code == 400 and set(response.json()) == {"error"}
    assert auth_client.get(USAGE).json()["plan"] == "basic"


@pytest.mark.parametrize("method", ["get", "put", "delete"])
def test_set_plan_other_methods_keep_the_flat_envelope(auth_client, method):
    # DESIGN §5: flat errors {"error": "…"} on the token paths
    response = getattr(auth_client, method)(SET_PLAN)
    assert response.status_code == 405 and set(response.json()) == {"error"}
