"""Contract audit against seed 002 (rate plans and subscriptions) as amended by DESIGN §4.1/§4.3/§5.

Not covered here (rebuilt elsewhere): :id/change-plan, :id/pay, process_subscriptions.
"""

from decimal import Decimal

import pytest
from rest_framework.test import APIClient

from plans.models import RatePlan
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db

PUBLIC, CALC = "/api/rate-plans/public", "/api/rate-plans/calculate-price"
SUBS = "/api/subscriptions"
MINE = "/api/subscriptions/my-subscription"
CREATE, VERIFY = "/api/subscriptions/create-with-payment", "/api/subscriptions/verify-payment"

SUBSCRIPTION_KEYS = {"id", "customerId", "ratePlanId", "status", "billingCycle", "startDate",
                     "currentPeriodStart", "currentPeriodEnd", "nextBillingDate", "autoRenew",
                     "cancelAtPeriodEnd", "scheduledChange", "metadata", "ratePlan"}
CUSTOMER_DATA = {"firstName": "John", "lastName": "Doe", "phone": "+919876543210",
                 "company": "ABC Corp", "address": "123 Main St", "city": "Mumbai",
                 "state": "Maharashtra", "country": "IN", "postalCode": "400001",
                 "gstNumber": "27AAPFU0939F1ZV"}
EXAMPLE_ADDONS = {"extraTollFreeNumbers": 2, "extraExtensions": 5}


@pytest.fixture
def sandbox(settings):
    settings.PAYMENT_GATEWAY = ""
    settings.RAZORPAY_KEY_ID = ""
    settings.RAZORPAY_KEY_SECRET = ""
    settings.CASHFREE_CLIENT_ID = ""
    settings.CASHFREE_CLIENT_SECRET = ""
    from payments.gateways import get_gateway

    return get_gateway()


@pytest.fixture
def starter():
    return RatePlan.objects.get(product="telephony", code="STARTER")


def _number(value):
    return isinstance(value, int | float) and not isinstance(value, bool)


def _assert_error_envelope(response, status):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert isinstance(body["error"]["code"], str) and isinstance(body["error"]["message"], str)
    return body["error"]


def _buy(client, sandbox, plan, cycle="quarterly", addons=None):
    response = client.post(CREATE, {"planId": plan.pk, "billingCycle": cycle,
                                    "addons": addons if addons is not None else EXAMPLE_ADDONS,
                                    "customerData": CUSTOMER_DATA}, format="json")
    assert response.status_code in (200, 201), response.content
    data = response.json()["data"]
    checkout = sandbox.pay(order_id=data["orderId"], amount_paise=data["amount"], currency="INR")
    return data, {**checkout, "subscriptionId": data["subscriptionId"]}


# --- rate plans ------------------------------------------------------------------------------------

def test_public_plans_shape():
    response = APIClient().get(PUBLIC)
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    plans = body["data"]
    # DESIGN §4.3: seed 002's frontend sees exactly STARTER, PROFESSIONAL and CALL_CENTER
    assert [p["plan_code"] for p in plans] == ["STARTER", "PROFESSIONAL", "CALL_CENTER"]
    starter = plans[0]
    for key in ("id", "plan_code", "planName", "monthlyPrice", "annualPrice", "currency", "limits",
                "billingCycle", "features", "metadata"):
        assert key in starter, key
    assert isinstance(starter["id"], int)
    assert starter["planName"] == "Starter Plan"
    assert starter["monthlyPrice"] == 349 and starter["annualPrice"] == 3349  # JSON numbers, ₹
    assert starter["currency"] == "INR" and starter["billingCycle"] == "monthly"
    assert {k: starter["limits"][k] for k in ("tollFreeNumbers", "includedMinutes", "extensions",
                                              "pricePerMinute")} == {
        "tollFreeNumbers": 1, "includedMinutes": 100, "extensions": 2, "pricePerMinute": 1.99}
    assert isinstance(starter["features"], list)
    addons = starter["metadata"]["addOns"]
    assert addons["extraTollFreeNumber"]["payg"] == 1 and addons["extraTollFreeNumber"]["oneTime"] == 199
    assert addons["extraExtension"]["payg"] == 1 and addons["extraExtension"]["oneTime"] == 99


def test_calculate_price_worked_example(starter):
    response = APIClient().post(CALC, {"planId": starter.pk, "billingCycle": "quarterly",
                                       "addons": EXAMPLE_ADDONS}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert {"id": data["plan"]["id"], "name": data["plan"]["name"], "code": data["plan"]["code"]} == {
        "id": starter.pk, "name": "Starter Plan", "code": "STARTER"}
    assert data["billingCycle"] == "quarterly" and data["currency"] == "INR"
    pricing = data["pricing"]
    assert {k: pricing[k] for k in ("basePrice", "setupFee", "subtotal", "gst", "total")} == {
        "basePrice": 1047, "setupFee": 0, "subtotal": 1047, "gst": 188.46, "total": 1235.46}
    assert all(_number(pricing[k]) for k in ("basePrice", "setupFee", "subtotal", "gst", "total"))
    assert [{k: a[k] for k in ("type", "quantity", "unitPrice", "total", "description")}
            for a in data["addons"]] == [
        {"type": "extraTollFreeNumbers", "quantity": 2, "unitPrice": 1, "total": 2,
         "description": "Extra Toll-Free Numbers (PAYG)"},
        {"type": "extraExtensions", "quantity": 5, "unitPrice": 1, "total": 5,
         "description": "Extra Extensions (PAYG)"},
    ]
    assert "features" in data and "limits" in data


def test_calculate_price_monthly_addons_are_one_time(starter):
    # DESIGN §4.1 / seed 002: "Monthly: ₹199 one-time charge (OTC)", in the subtotal
    response = APIClient().post(CALC, {"planId": starter.pk, "billingCycle": "monthly",
                                       "addons": {"extraTollFreeNumbers": 1}}, format="json")
    pricing = response.json()["data"]["pricing"]
    assert pricing["subtotal"] == 548 and pricing["gst"] == 98.64 and pricing["total"] == 646.64


def test_calculate_price_unknown_plan_and_bad_input():
    _assert_error_envelope(APIClient().post(CALC, {"planId": 999999, "billingCycle": "monthly"},
                                            format="json"), 404)
    _assert_error_envelope(APIClient().post(CALC, {"planId": 1, "billingCycle": "weekly"},
                                            format="json"), 400)


@pytest.mark.parametrize("method, path", [("get", "/api/rate-plans"), ("get", "/api/rate-plans/1"),
                                          ("get", "/api/rate-plans/code/STARTER"),
                                          ("post", "/api/rate-plans"), ("put", "/api/rate-plans/1"),
                                          ("delete", "/api/rate-plans/1")])
def test_admin_rate_plan_endpoints_need_staff(auth_client, method, path):
    # "Admin Endpoints (Requires Admin Role)"
    assert getattr(APIClient(), method)(path, {}, format="json").status_code == 401
    _assert_error_envelope(getattr(auth_client, method)(path, {}, format="json"), 403)


def test_admin_rate_plan_reads(staff_client, starter):
    RatePlan.objects.filter(pk=starter.pk).update(is_active=False)
    listed = staff_client.get("/api/rate-plans", {"product": "telephony", "page": 1, "page_size": 2})
    assert listed.status_code == 200 and listed.json()["success"] is True
    # DESIGN §5: "Lists in the success envelope are pages: data: {results, count, page, page_size,
    # total_pages} with ?page=&page_size="
    page = listed.json()["data"]
    assert page == {**page, "count": 3, "page": 1, "page_size": 2, "total_pages": 2}
    assert set(page) == {"results", "count", "page", "page_size", "total_pages"}
    assert starter.pk in [p["id"] for p in page["results"]]  # "including inactive ones"
    assert len(page["results"]) == 2
    one = staff_client.get(f"/api/rate-plans/{starter.pk}")
    assert one.status_code == 200 and one.json()["data"]["plan_code"] == "STARTER"
    by_code = staff_client.get("/api/rate-plans/code/STARTER")
    assert by_code.status_code == 200 and by_code.json()["data"]["id"] == starter.pk
    _assert_error_envelope(staff_client.get("/api/rate-plans/999999"), 404)
    _assert_error_envelope(staff_client.get("/api/rate-plans/code/NOPE"), 404)


# --- checkout ------------------------------------------------------------------------------------

def test_create_with_payment_answer(auth_client, sandbox, starter):
    response = auth_client.post(CREATE, {"planId": starter.pk, "billingCycle": "quarterly",
                                         "addons": EXAMPLE_ADDONS, "customerData": CUSTOMER_DATA},
                                format="json")
    assert response.status_code in (200, 201)
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    for key in ("orderId", "subscriptionId", "amount", "currency", "key", "pricing", "customer"):
        assert key in data, key
    assert data["amount"] == 123546 and isinstance(data["amount"], int)  # paise
    assert data["currency"] == "INR" and isinstance(data["subscriptionId"], int)
    assert data["pricing"]["pricing"]["total"] == 1235.46
    assert data["pricing"]["billingCycle"] == "quarterly" and data["pricing"]["currency"] == "INR"
    assert isinstance(data["pricing"]["addons"], list) and "plan" in data["pricing"]
    customer = data["customer"]
    assert set(customer) >= {"id", "name", "email", "contact"}
    assert customer["id"] == auth_client.user.pk and customer["name"] == "John Doe"
    assert customer["contact"] == "+919876543210"
    assert Subscription.objects.get(pk=data["subscriptionId"]).status == "pending"


def test_create_with_payment_unauthorized(starter):
    response = APIClient().post(CREATE, {"planId": starter.pk, "billingCycle": "monthly"}, format="json")
    _assert_error_envelope(response, 401)


def test_verify_payment_activates(auth_client, sandbox, starter):
    order, checkout = _buy(auth_client, sandbox, starter)
    response = auth_client.post(VERIFY, checkout, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["message"] == "Payment verified and subscription activated"
    subscription, payment = body["data"]["subscription"], body["data"]["payment"]
    assert subscription["id"] == order["subscriptionId"] and subscription["status"] == "active"
    assert subscription["customerId"] == auth_client.user.pk
    for key in ("startDate", "currentPeriodStart", "currentPeriodEnd", "nextBillingDate", "ratePlan"):
        assert subscription[key], key
    assert set(payment) >= {"id", "amount", "currency", "status", "transactionId"}
    assert payment["amount"] == 1235.46 and payment["currency"] == "INR"  # ₹ here, per the seed
    assert payment["status"] == "completed"
    assert payment["transactionId"] == checkout["razorpay_payment_id"]
    # a replay answers 200 with the same body (DESIGN §4.3)
    again = auth_client.post(VERIFY, checkout, format="json")
    assert again.status_code == 200 and again.json() == body


def test_verify_payment_bad_signature(auth_client, sandbox, starter):
    _, checkout = _buy(auth_client, sandbox, starter)
    _assert_error_envelope(auth_client.post(VERIFY, {**checkout, "razorpay_signature": "0" * 64},
                                            format="json"), 400)
    assert Subscription.objects.get(pk=checkout["subscriptionId"]).status == "pending"


def test_my_subscription(auth_client, sandbox, starter):
    _assert_error_envelope(auth_client.get(MINE), 404)  # "none → 404"
    _, checkout = _buy(auth_client, sandbox, starter)
    auth_client.post(VERIFY, checkout, format="json")
    response = auth_client.get(MINE)
    assert response.status_code == 200 and response.json()["success"] is True
    data = response.json()["data"]
    assert SUBSCRIPTION_KEYS <= set(data)
    assert data["status"] == "active" and data["billingCycle"] == "quarterly"
    assert data["ratePlanId"] == starter.pk and data["autoRenew"] is True
    assert set(data["metadata"]) >= {"pricing", "addons"}
    assert set(data["ratePlan"]) >= {"id", "planName", "plan_code", "limits"}
    assert data["currentPeriodStart"].endswith("Z") or data["currentPeriodStart"].endswith("+00:00")
    # nextBillingDate is the day after currentPeriodEnd (seed 002: 04-10 → 04-11)
    assert data["nextBillingDate"][:10] > data["currentPeriodEnd"][:10]


def _active(client, sandbox, plan):
    _, checkout = _buy(client, sandbox, plan)
    assert client.post(VERIFY, checkout, format="json").status_code == 200
    return checkout["subscriptionId"]


def test_get_and_put_subscription(auth_client, client_for, sandbox, starter):
    from accounts.tests.factories import UserFactory

    sub_id = _active(auth_client, sandbox, starter)
    got = auth_client.get(f"{SUBS}/{sub_id}")
    assert got.status_code == 200 and SUBSCRIPTION_KEYS <= set(got.json()["data"])
    _assert_error_envelope(client_for(UserFactory()).get(f"{SUBS}/{sub_id}"), 404)  # not yours
    put = auth_client.put(f"{SUBS}/{sub_id}", {"autoRenew": False}, format="json")
    assert put.status_code == 200 and put.json()["data"]["autoRenew"] is False
    _assert_error_envelope(auth_client.put(f"{SUBS}/{sub_id}", {"status": "cancelled"}, format="json"), 400)


def test_cancel_at_period_end_then_immediate(auth_client, sandbox, starter):
    sub_id = _active(auth_client, sandbox, starter)
    response = auth_client.post(f"{SUBS}/{sub_id}/cancel", {"reason": "moving"}, format="json")
    assert response.status_code == 200
    data = response.json()["data"]
    assert (data["status"], data["cancelAtPeriodEnd"], data["autoRenew"]) == ("active", True, False)
    response = auth_client.post(f"{SUBS}/{sub_id}/cancel", {"immediate": True}, format="json")
    assert response.status_code == 200 and response.json()["data"]["status"] == "cancelled"
    _assert_error_envelope(auth_client.post(f"{SUBS}/{sub_id}/cancel", {}, format="json"), 409)


def test_staff_actions(auth_client, staff_client, sandbox, starter):
    sub_id = _active(auth_client, sandbox, starter)
    for action in ("suspend", "activate", "renew"):
        _assert_error_envelope(auth_client.post(f"{SUBS}/{sub_id}/{action}", {}, format="json"), 403)
    suspended = staff_client.post(f"{SUBS}/{sub_id}/suspend", {"reason": "abuse"}, format="json")
    assert suspended.status_code == 200 and suspended.json()["data"]["status"] == "suspended"
    activated = staff_client.post(f"{SUBS}/{sub_id}/activate", {"reason": "ok"}, format="json")
    assert activated.status_code == 200 and activated.json()["data"]["status"] == "active"
    end = activated.json()["data"]["currentPeriodEnd"]
    renewed = staff_client.post(f"{SUBS}/{sub_id}/renew", {"reason": "offline"}, format="json")
    assert renewed.status_code == 200 and renewed.json()["data"]["currentPeriodStart"][:10] == end[:10]


def test_staff_list_is_paginated(auth_client, staff_client, sandbox, starter):
    _active(auth_client, sandbox, starter)
    _assert_error_envelope(auth_client.get(SUBS), 403)
    response = staff_client.get(SUBS, {"status": "active", "page": 1, "page_size": 10})
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) == {"results", "count", "page", "page_size", "total_pages"}
    assert data["count"] == 1 and data["page"] == 1 and data["page_size"] == 10
    assert SUBSCRIPTION_KEYS <= set(data["results"][0])


def test_legacy_create(auth_client, staff_client, starter):
    # regular user: a plan whose total is not 0 → 402
    _assert_error_envelope(auth_client.post(SUBS, {"planId": starter.pk, "billingCycle": "monthly"},
                                            format="json"), 402)
    response = staff_client.post(SUBS, {"planId": starter.pk, "billingCycle": "monthly",
                                        "customerId": auth_client.user.pk, "reason": "cheque"},
                                 format="json")
    assert response.status_code in (200, 201)
    data = response.json()["data"]
    assert data["customerId"] == auth_client.user.pk and data["ratePlanId"] == starter.pk


def test_usage_get_and_post(auth_client, staff_client, sandbox, starter):
    sub_id = _active(auth_client, sandbox, starter)
    recorded = staff_client.post(f"{SUBS}/{sub_id}/usage", {"metric": "minutes", "quantity": 130},
                                 format="json")
    assert recorded.status_code == 200, recorded.content
    _assert_error_envelope(auth_client.post(f"{SUBS}/{sub_id}/usage",
                                            {"metric": "minutes", "quantity": 1}, format="json"), 403)
    response = auth_client.get(f"{SUBS}/{sub_id}/usage")
    assert response.status_code == 200
    data = response.json()["data"]
    assert {"periodStart", "periodEnd", "usage"} <= set(data)
    minutes = data["usage"]["minutes"]
    assert {k: minutes[k] for k in ("included", "used", "remaining", "overage")} == {
        "included": 100, "used": 130, "remaining": 0, "overage": 30}
    assert minutes["overageCharge"] == float(Decimal("59.70"))
    # limits are the plan's plus add-on quantities
    assert data["usage"]["tollFreeNumbers"]["limit"] == 1 + 2
    assert data["usage"]["extensions"]["limit"] == 2 + 5
    over = staff_client.post(f"{SUBS}/{sub_id}/usage", {"metric": "extensions", "used": 8}, format="json")
    _assert_error_envelope(over, 409)


def test_create_with_payment_when_already_active_is_conflict(auth_client, sandbox, starter):
    # DESIGN §4.3: "an active, past_due or suspended one → 409 (use change-plan)"
    _active(auth_client, sandbox, starter)
    response = auth_client.post(CREATE, {"planId": starter.pk, "billingCycle": "monthly",
                                         "customerData": CUSTOMER_DATA}, format="json")
    _assert_error_envelope(response, 409)


def test_create_with_payment_bad_gstin_is_400(auth_client, sandbox, starter):
    # DESIGN §4.3: "GSTIN checked for format and check digit"
    response = auth_client.post(CREATE, {"planId": starter.pk, "billingCycle": "monthly",
                                         "customerData": {**CUSTOMER_DATA, "gstNumber": "27AAPFU0939F1ZX"}},
                                format="json")
    _assert_error_envelope(response, 400)
    assert not Subscription.objects.filter(user=auth_client.user).exists()


def test_verify_payment_for_another_subscription_changes_nothing(auth_client, sandbox, starter, client_for):
    # DESIGN §4.3: "checks ... that the order belongs to that subscription and caller"
    from accounts.tests.factories import UserFactory

    _, checkout = _buy(auth_client, sandbox, starter)
    other = client_for(UserFactory())
    response = other.post(VERIFY, checkout, format="json")
    assert response.status_code in (400, 404)
    _assert_error_envelope(response, response.status_code)
    assert Subscription.objects.get(pk=checkout["subscriptionId"]).status == "pending"


def test_my_subscription_product_query(auth_client):
    # DESIGN §4.3: DEFAULT_PLAN_PRODUCT ... "when no ?product= is given"
    auth_client.get("/api/tokens/usage")  # provisions the basic token plan
    _assert_error_envelope(auth_client.get(MINE), 404)
    response = auth_client.get(MINE, {"product": "tokens"})
    assert response.status_code == 200 and response.json()["data"]["ratePlan"]["plan_code"] == "basic"
