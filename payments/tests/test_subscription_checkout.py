"""Seed 002's checkout: create-with-payment and verify-payment, through the real Razorpay adapter
(fake server) — and the webhook, reconcile and admin paths that reach the same order_fulfil."""

from decimal import Decimal

import pytest

from accounts.models import BillingProfile
from accounts.tests.factories import UserFactory
from payments.models import PaymentOrder
from payments.tests.conftest import event_body, post_webhook
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.tests.factories import telephony_plan, telephony_subscription

pytestmark = pytest.mark.django_db

CREATE = "/api/subscriptions/create-with-payment"
VERIFY = "/api/subscriptions/verify-payment"

CUSTOMER = {"firstName": "John", "lastName": "Doe", "phone": "+919876543210", "company": "ABC Corp",
            "address": "123 Main St", "city": "Mumbai", "state": "Maharashtra", "country": "IN",
            "postalCode": "400001", "gstNumber": "27AAPFU0939F1ZV"}


def seed_body(**changes):
    """Seed 002's example request: quarterly STARTER with 2 extra numbers and 5 extensions."""
    body = {"planId": telephony_plan().pk, "billingCycle": "quarterly",
            "addons": {"extraTollFreeNumbers": 2, "extraExtensions": 5}, "customerData": dict(CUSTOMER)}
    body.update(changes)
    return body


def create(client, **changes):
    return client.post(CREATE, seed_body(**changes), format="json")


def error(response, status, code, *path):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    assert body["error"]["message"]
    fields = body["error"].get("fields", {})
    for key in path:
        assert key in fields, body
        fields = fields[key]
    return body


def nothing_written():
    assert not Subscription.objects.filter(product="telephony").exists()
    assert not PaymentOrder.objects.exists()
    assert not BillingProfile.objects.exists()


def verify_body(checkout, subscription_id):
    return {**checkout, "subscriptionId": subscription_id}


# --- create-with-payment ------------------------------------------------------------------------

def test_create_with_payment_answers_seed_002(auth_client, fake_razorpay):
    response = create(auth_client)
    assert response.status_code == 201, response.content
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    subscription = Subscription.objects.get(pk=data["subscriptionId"])
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert data["amount"] == 123546 and data["currency"] == "INR" and data["key"] == "rzp_test_fake"
    assert data["orderId"] in fake_razorpay.orders and fake_razorpay.orders[data["orderId"]]["amount"] == 123546
    assert data["pricing"]["plan"]["code"] == "STARTER" and data["pricing"]["billingCycle"] == "quarterly"
    assert data["pricing"]["pricing"] == {"basePrice": 1047, "setupFee": 0, "addonsTotal": 0, "subtotal": 1047,
                                          "gstRate": 18, "gst": 188.46, "total": 1235.46}
    assert [(a["type"], a["quantity"], a["unitPrice"], a["total"]) for a in data["pricing"]["addons"]] == [
        ("extraTollFreeNumbers", 2, 1, 2), ("extraExtensions", 5, 1, 5)]
    user = auth_client.user
    assert data["customer"] == {"id": user.pk, "name": "John Doe", "email": user.email,
                                "contact": "+919876543210"}
    # the pending subscription and its order
    assert (subscription.status, subscription.user_id, subscription.billing_cycle) == ("pending", user.pk,
                                                                                       "quarterly")
    assert subscription.addons == {"extraTollFreeNumber": 2, "extraExtension": 5}
    assert subscription.period_price_paise == 104700 and subscription.pricing["totalPaise"] == 123546
    assert (order.kind, order.purpose, order.subscription_id, order.amount_paise, order.tax_paise) == (
        "subscription", "checkout", subscription.pk, 123546, 18846)
    assert order.lines == [{"kind": "plan", "code": "STARTER", "description": "Starter Plan (quarterly)",
                            "quantity": 1, "unitPaise": 104700, "amountPaise": 104700}]
    # customerData became the billing profile
    profile = BillingProfile.objects.get(user=user)
    assert (profile.gstin, profile.state_code, profile.phone, profile.company) == (
        "27AAPFU0939F1ZV", "27", "+919876543210", "ABC Corp")
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="checkout_opened").count() == 1


def test_monthly_one_time_add_ons_are_order_lines(auth_client, fake_razorpay):
    data = create(auth_client, billingCycle="monthly").json()["data"]
    # 349 + 2 × 199 + 5 × 99 = 1242; GST 223.56
    assert data["amount"] == 146556 and data["pricing"]["pricing"]["subtotal"] == 1242
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert [(line["code"], line["quantity"], line["amountPaise"]) for line in order.lines] == [
        ("STARTER", 1, 34900), ("extraTollFreeNumber", 2, 39800), ("extraExtension", 5, 49500)]


def test_customer_data_is_optional_and_phone_is_normalised(auth_client, fake_razorpay):
    body = seed_body()
    del body["customerData"]
    assert auth_client.post(CREATE, body, format="json").status_code == 201
    data = create(auth_client, customerData={"phone": "98765 43210", "gstNumber": " 29aagcb7383j1z4 "}).json()["data"]
    assert data["customer"]["contact"] == "+919876543210"
    assert BillingProfile.objects.get(user=auth_client.user).gstin == "29AAGCB7383J1Z4"


@pytest.mark.parametrize("customer, code, field", [
    ({"gstNumber": "27AAPFU0939F1ZW"}, "invalid_gstin", "gstNumber"),       # check character off by one
    ({"gstNumber": "27AAPFU0939F1Z"}, "invalid_gstin", "gstNumber"),
    ({"gstNumber": "00AAPFU0939F1ZV"}, "invalid_gstin", "gstNumber"),
    ({"gstNumber": "27AAPFU0939F1ZV", "country": "US"}, "invalid_gstin", "gstNumber"),
    ({"phone": "12345"}, "invalid_phone_number", "phone"),
    ({"phone": "+91 98765"}, "invalid_phone_number", "phone"),
    ({"postalCode": "4000"}, "invalid_postal_code", "postalCode"),
    ({"country": "ZZ"}, "invalid_country", "country"),
    ({"firstName": "J" * 101}, "invalid_billing_profile", "firstName"),
    ({"address": "A" * 700}, "invalid", "address"),                          # over the shape's limit
    ({"city": "Mum\u0000bai"}, "invalid", "city"),
    ({"city": "Mum\u0007bai"}, "invalid_billing_profile", "city"),
    ({"shoeSize": 9}, "invalid", "shoeSize"),
    ({"phone": 9876543210}, "invalid", "phone"),
])
def test_malformed_customer_data_is_400_and_nothing_is_written(auth_client, fake_razorpay, customer, code, field):
    response = create(auth_client, customerData={**CUSTOMER, **customer})
    error(response, 400, code, "customerData", field)
    nothing_written()
    assert not fake_razorpay.calls("POST", "/v1/orders")


@pytest.mark.parametrize("changes, status, code, field", [
    ({"planId": 987654}, 404, "plan_not_found", None),
    ({"planId": "1"}, 400, "invalid", "planId"),
    ({"planId": 1.5}, 400, "invalid", "planId"),
    ({"billingCycle": "weekly"}, 400, "invalid", "billingCycle"),
    ({"addons": {"extraTollFreeNumbers": -1}}, 400, "invalid", "addons"),
    ({"addons": {"extraTollFreeNumbers": 1.5}}, 400, "invalid", "addons"),
    ({"addons": {"extraTollFreeNumbers": 10**9}}, 400, "invalid", "addons"),
    ({"addons": {"extraTollFreeNumbers": "2"}}, 400, "invalid", "addons"),
    ({"addons": {"extraPizzas": 1}}, 400, "unknown_addon", "addons"),
    ({"addons": {"extraExtension": 1, "extraExtensions": 1}}, 400, "duplicate_addon", "addons"),
    ({"addons": []}, 400, "invalid", "addons"),
    ({"surprise": True}, 400, "invalid", "surprise"),
])
def test_bad_input_is_4xx_and_nothing_is_written(auth_client, fake_razorpay, changes, status, code, field):
    response = create(auth_client, **changes)
    error(response, status, code, *([field] if field else []))
    nothing_written()


def test_inactive_token_and_free_plans_are_refused(auth_client, fake_razorpay):
    from plans.models import RatePlan

    professional = telephony_plan("PROFESSIONAL")
    RatePlan.objects.filter(pk=professional.pk).update(is_active=False)
    error(create(auth_client, planId=professional.pk), 404, "plan_not_found")
    standard = RatePlan.objects.get(product="tokens", code="standard")
    error(create(auth_client, planId=standard.pk, billingCycle="monthly", addons={}), 400, "invalid_plan", "planId")
    free = RatePlan.objects.get(product="platform", code="FREE")
    error(create(auth_client, planId=free.pk, billingCycle="monthly", addons={}), 400, "free_plan", "planId")
    error(create(auth_client, billingCycle="annual", planId=RatePlan.objects.get(product="platform", code="STARTER").pk,
                 addons={}), 400, "billing_cycle_unavailable", "billingCycle")
    nothing_written()


def test_a_body_that_is_not_an_object_and_no_credentials(auth_client, api_client, fake_razorpay):
    error(auth_client.post(CREATE, [1, 2], format="json"), 400, "invalid_body")
    error(auth_client.post(CREATE, "{", content_type="application/json"), 400, "invalid_body")
    error(api_client.post(CREATE, seed_body(), format="json"), 401, "not_authenticated")


def test_gateway_down_writes_nothing(auth_client, fake_razorpay):
    fake_razorpay.mode = "error500"
    error(create(auth_client), 502, "gateway_unavailable")
    nothing_written()


def test_a_second_checkout_supersedes_the_pending_one(auth_client, fake_razorpay):
    first = create(auth_client).json()["data"]
    second = create(auth_client, billingCycle="monthly", addons={}).json()["data"]
    assert first["subscriptionId"] != second["subscriptionId"]
    old = Subscription.objects.get(pk=first["subscriptionId"])
    assert old.status == "cancelled" and old.ended_at is not None
    assert SubscriptionEvent.objects.filter(subscription=old, kind="superseded").count() == 1
    assert PaymentOrder.objects.get(gateway_order_id=first["orderId"]).status == "failed"
    assert Subscription.objects.get(pk=second["subscriptionId"]).status == "pending"


@pytest.mark.parametrize("status", ["active", "past_due", "suspended"])
def test_a_paid_subscription_makes_checkout_409(auth_client, fake_razorpay, status):
    live = telephony_subscription(user=auth_client.user, status=status)
    response = create(auth_client)
    error(response, 409, "subscription_exists")
    assert not fake_razorpay.calls("POST", "/v1/orders")
    assert Subscription.objects.filter(user=auth_client.user).count() == 1
    live.refresh_from_db()
    assert live.status == status


def test_idempotency_key_replays_the_checkout(auth_client, fake_razorpay):
    first = auth_client.post(CREATE, seed_body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    again = auth_client.post(CREATE, seed_body(), format="json", HTTP_IDEMPOTENCY_KEY="k1")
    assert first.json() == again.json() and again["Idempotent-Replayed"] == "true"
    assert PaymentOrder.objects.count() == 1
    error(auth_client.post(CREATE, seed_body(billingCycle="monthly"), format="json", HTTP_IDEMPOTENCY_KEY="k1"),
          409, "idempotency_key_reused")


# --- verify-payment -----------------------------------------------------------------------------

@pytest.fixture
def checkout(auth_client, fake_razorpay):
    """A checkout the customer has paid at Razorpay; returns (create data, checkout callback)."""
    data = create(auth_client).json()["data"]
    return data, fake_razorpay.pay(data["orderId"])


def test_verify_activates_and_answers_seed_002(auth_client, checkout, fake_razorpay):
    data, paid = checkout
    response = auth_client.post(VERIFY, verify_body(paid, data["subscriptionId"]), format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True and body["message"] == "Payment verified and subscription activated"
    sub, payment = body["data"]["subscription"], body["data"]["payment"]
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert payment == {"id": order.pk, "amount": 1235.46, "currency": "INR", "status": "completed",
                       "transactionId": paid["razorpay_payment_id"]}
    assert (sub["id"], sub["customerId"], sub["status"], sub["billingCycle"]) == (
        data["subscriptionId"], auth_client.user.pk, "active", "quarterly")
    assert sub["ratePlan"]["plan_code"] == "STARTER" and sub["ratePlan"]["planName"] == "Starter Plan"
    assert sub["metadata"]["pricing"]["total"] == 1235.46
    assert sub["metadata"]["addons"] == {"extraTollFreeNumber": 2, "extraExtension": 5}
    assert sub["startDate"] == sub["currentPeriodStart"] and sub["currentPeriodEnd"] > sub["currentPeriodStart"]
    subscription = Subscription.objects.get(pk=data["subscriptionId"])
    assert subscription.current_period_end.month == (subscription.current_period_start.month + 2) % 12 + 1
    assert (order.status, order.fulfilled_via, order.fulfilment_action) == ("paid", "verify", "activated")
    counters = {c.metric: (c.quota, c.used) for c in UsageCounter.objects.filter(subscription=subscription)}
    assert counters == {"minutes": (100, 0), "tollFreeNumbers": (3, 0), "extensions": (7, 0)}
    # a replay answers the same and changes nothing
    again = auth_client.post(VERIFY, verify_body(paid, data["subscriptionId"]), format="json")
    assert again.status_code == 200 and again.json() == body
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="activated").count() == 1
    mine = auth_client.get("/api/subscriptions/my-subscription").json()["data"]
    assert mine == sub


def test_a_signature_that_does_not_match_activates_nothing(auth_client, checkout):
    data, paid = checkout
    for signature in ("0" * 64, "not-hex", ""):
        response = auth_client.post(VERIFY, verify_body({**paid, "razorpay_signature": signature},
                                                        data["subscriptionId"]), format="json")
        assert response.status_code == 400, response.content
    other_payment = auth_client.post(VERIFY, verify_body({**paid, "razorpay_payment_id": "pay_forged1234567"},
                                                         data["subscriptionId"]), format="json")
    error(other_payment, 400, "invalid_signature")
    assert Subscription.objects.get(pk=data["subscriptionId"]).status == "pending"
    assert PaymentOrder.objects.get(gateway_order_id=data["orderId"]).status == "created"


def test_an_order_of_another_subscription_or_user(auth_client, client_for, checkout, fake_razorpay):
    data, paid = checkout
    other = telephony_subscription(status="pending", user=auth_client.user.__class__.objects.create_user(
        email="other@example.com", password="x-long-password-42"))
    error(auth_client.post(VERIFY, verify_body(paid, other.pk), format="json"), 400, "purchase_mismatch",
          "subscriptionId")
    error(auth_client.post(VERIFY, verify_body(paid, 987654), format="json"), 400, "purchase_mismatch")
    stranger = client_for(UserFactory())
    error(stranger.post(VERIFY, verify_body(paid, data["subscriptionId"]), format="json"), 404, "not_found")
    error(auth_client.post(VERIFY, {**paid}, format="json"), 400, "invalid", "subscriptionId")
    error(auth_client.post(VERIFY, verify_body(paid, "1"), format="json"), 400, "invalid", "subscriptionId")
    assert Subscription.objects.get(pk=data["subscriptionId"]).status == "pending"


def test_a_token_plan_order_is_not_a_subscription_payment(auth_client, fake_razorpay):
    token_order = auth_client.post("/api/payments/create-order", {"plan": "standard"}, format="json").json()
    paid = fake_razorpay.pay(token_order["order_id"])
    pending = telephony_subscription(user=auth_client.user, status="pending")
    error(auth_client.post(VERIFY, verify_body(paid, pending.pk), format="json"), 400, "purchase_mismatch")


def test_webhook_first_then_verify(api_client, auth_client, checkout, fake_razorpay):
    data, paid = checkout
    payment = fake_razorpay.payments[paid["razorpay_payment_id"]]
    hook = post_webhook(api_client, event_body("payment.captured", payment=payment), event_id="evt_sub")
    assert hook.status_code == 200 and hook.json()["data"]["result"] == "fulfilled"
    subscription = Subscription.objects.get(pk=data["subscriptionId"])
    assert subscription.status == "active"
    late = auth_client.post(VERIFY, verify_body(paid, data["subscriptionId"]), format="json")
    assert late.status_code == 200 and late.json()["data"]["subscription"]["status"] == "active"
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="activated").count() == 1
    assert PaymentOrder.objects.get(gateway_order_id=data["orderId"]).fulfilled_via == "webhook"


def test_reconcile_activates_when_neither_came(auth_client, checkout):
    from payments.services import orders_reconcile

    data, _ = checkout
    assert orders_reconcile(grace_minutes=0)["fulfilled"] == 1
    assert Subscription.objects.get(pk=data["subscriptionId"]).status == "active"
    assert orders_reconcile(grace_minutes=0)["fulfilled"] == 0


def test_admin_reconcile_action_activates(client, auth_client, checkout):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.urls import reverse

    data, _ = checkout
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    response = client.post(reverse("admin:payments_paymentorder_changelist"),
                           {"action": "reconcile", ACTION_CHECKBOX_NAME: [order.pk]}, follow=True)
    assert response.status_code == 200 and "fulfilled" in response.content.decode()
    assert Subscription.objects.get(pk=data["subscriptionId"]).status == "active"
    order.refresh_from_db()
    assert order.fulfilled_via == "admin"


def test_a_superseded_checkout_paid_late_is_still_delivered(auth_client, fake_razorpay):
    first = create(auth_client).json()["data"]
    paid_first = fake_razorpay.pay(first["orderId"])  # paid in a tab the customer left open
    second = create(auth_client, billingCycle="monthly", addons={}).json()["data"]
    response = auth_client.post(VERIFY, verify_body(paid_first, first["subscriptionId"]), format="json")
    assert response.status_code == 200, response.content
    assert Subscription.objects.get(pk=first["subscriptionId"]).status == "active"
    newer = Subscription.objects.get(pk=second["subscriptionId"])
    assert newer.status == "cancelled"
    assert SubscriptionEvent.objects.filter(subscription=newer, kind="superseded").exists()


def test_a_payment_for_a_checkout_replaced_by_a_paid_one_is_recorded_not_applied(auth_client, fake_razorpay):
    first = create(auth_client).json()["data"]
    paid_first = fake_razorpay.pay(first["orderId"])
    second = create(auth_client, billingCycle="monthly", addons={}).json()["data"]
    paid_second = fake_razorpay.pay(second["orderId"])
    assert auth_client.post(VERIFY, verify_body(paid_second, second["subscriptionId"]), format="json").status_code == 200
    late = auth_client.post(VERIFY, verify_body(paid_first, first["subscriptionId"]), format="json")
    error(late, 409, "subscription_not_activated")
    order = PaymentOrder.objects.get(gateway_order_id=first["orderId"])
    assert (order.status, order.fulfilment_action) == ("paid", "not_applied")  # kept for the refund
    assert Subscription.objects.get(pk=first["subscriptionId"]).status == "cancelled"
    assert Subscription.objects.get(pk=second["subscriptionId"]).status == "active"
    assert SubscriptionEvent.objects.filter(subscription_id=first["subscriptionId"],
                                            kind="payment_not_applied").count() == 1
    again = auth_client.post(VERIFY, verify_body(paid_first, first["subscriptionId"]), format="json")
    error(again, 409, "subscription_not_activated")
    assert SubscriptionEvent.objects.filter(subscription_id=first["subscriptionId"],
                                            kind="payment_not_applied").count() == 1


def test_a_refund_of_a_subscription_order_gives_the_money_back(auth_client, staff_client, checkout):
    data, paid = checkout
    auth_client.post(VERIFY, verify_body(paid, data["subscriptionId"]), format="json")
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    response = staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"reason": "goodwill"}, format="json")
    assert response.status_code == 201, response.content
    order.refresh_from_db()
    assert order.status == "refunded" and order.amount_refunded_paise == 123546


def test_order_constraints_tie_subscription_orders_to_a_subscription(auth_client, fake_razorpay):
    from django.db import IntegrityError, transaction

    order = PaymentOrder.objects.get(gateway_order_id=create(auth_client).json()["data"]["orderId"])
    for changes in ({"subscription": None}, {"purpose": ""}, {"tax_paise": order.amount_paise + 1}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentOrder.objects.filter(pk=order.pk).update(**changes)
    assert Decimal(order.amount_paise) == Decimal(123546)
