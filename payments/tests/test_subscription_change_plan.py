"""POST /api/subscriptions/:id/change-plan (DESIGN §4.3) through the real Razorpay adapter (fake
server): prorated upgrades paid by verify-payment or the webhook, upgrades due nothing, scheduled
downgrades, previews, superseded orders, and refusals that change nothing."""

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import pytest

from accounts.tests.factories import UserFactory
from payments.invoices.models import Invoice
from payments.models import PaymentOrder
from payments.tests.conftest import event_body, post_webhook
from subscriptions import clock as clock_module
from subscriptions.lifecycle import services as lifecycle
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionPlanChange, UsageCounter
from subscriptions.tests.factories import telephony_plan, telephony_subscription

pytestmark = pytest.mark.django_db

VERIFY = "/api/subscriptions/verify-payment"
START = datetime(2025, 1, 1, tzinfo=UTC)  # monthly periods: 1 Jan → 1 Feb (31 days)
HALF = datetime(2025, 1, 16, 12, tzinfo=UTC)  # half of January left


class Clock:
    def __init__(self):
        self.now = START


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(clock_module, "now", lambda: fake.now)
    return fake


@pytest.fixture
def starter(auth_client, fake_razorpay, clock):
    """The caller's monthly STARTER subscription (₹349), started 1 January; it is now mid-January."""
    subscription = telephony_subscription(user=auth_client.user, plan="STARTER", billing_cycle="monthly")
    clock.now = HALF
    return subscription


def url(subscription):
    return f"/api/subscriptions/{subscription.pk}/change-plan"


def change(client, subscription, **body):
    return client.post(url(subscription), body, format="json")


def error(response, status, code):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["code"] == code, body
    return body


def kinds(subscription):
    return list(SubscriptionEvent.objects.filter(subscription=subscription).order_by("id")
                .values_list("kind", flat=True))


def snapshot(subscription):
    """Everything a refused or previewed change-plan must leave as it was."""
    row = Subscription.objects.get(pk=subscription.pk)
    return ((row.plan_id, row.billing_cycle, row.status, row.current_period_start, row.current_period_end,
             row.period_price_paise, row.scheduled_plan_id, row.scheduled_billing_cycle),
            PaymentOrder.objects.count(), SubscriptionPlanChange.objects.count(),
            SubscriptionEvent.objects.filter(subscription=subscription).count())


# --- upgrade: an order for the prorated difference ---------------------------------------------------

def test_upgrade_answers_an_order_and_changes_nothing_until_paid(auth_client, starter, fake_razorpay):
    professional = telephony_plan("PROFESSIONAL")
    before = Subscription.objects.get(pk=starter.pk)
    response = change(auth_client, starter, planId=professional.pk, billingCycle="monthly")
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    # 0.5 × 999 − 0.5 × 349 = 325.00, GST 58.50
    assert data["proration"] == {"credit": 174.5, "charge": 499.5, "subtotal": 325, "gst": 58.5, "total": 383.5}
    assert (data["amount"], data["currency"], data["key"], data["subscriptionId"]) == (
        38350, "INR", "rzp_test_fake", starter.pk)
    assert (data["change"], data["effective"], data["preview"], data["newPeriod"]) == (
        "upgrade", "on_payment", False, False)
    assert data["orderId"] in fake_razorpay.orders and fake_razorpay.orders[data["orderId"]]["amount"] == 38350
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert (order.kind, order.purpose, order.plan_id, order.subscription_id, order.amount_paise,
            order.tax_paise, order.user_id) == ("subscription", "upgrade", professional.pk, starter.pk, 38350,
                                                5850, auth_client.user.pk)
    assert [(line["kind"], line["amountPaise"], line["chargePaise"], line["creditPaise"]) for line in order.lines] == [
        ("plan_change", 32500, 49950, 17450)]
    plan_change = order.plan_change
    assert (plan_change.status, plan_change.to_plan_id, plan_change.total_paise, plan_change.new_period) == (
        "pending", professional.pk, 38350, False)
    # nothing changed on the subscription
    after = Subscription.objects.get(pk=starter.pk)
    assert (after.plan_id, after.period_price_paise, after.current_period_end) == (
        before.plan_id, 34900, before.current_period_end)
    assert data["subscription"]["ratePlanId"] == before.plan_id
    assert kinds(starter)[-1] == "change_requested"


def test_paid_upgrade_switches_at_once_and_keeps_the_period_end(auth_client, starter, fake_razorpay, clock):
    professional = telephony_plan("PROFESSIONAL")
    data = change(auth_client, starter, planId=professional.pk, billingCycle="monthly").json()["data"]
    clock.now = HALF + timedelta(minutes=5)
    paid = fake_razorpay.pay(data["orderId"])
    response = auth_client.post(VERIFY, {**paid, "subscriptionId": starter.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["message"] == "Payment verified and subscription activated"
    assert body["data"]["payment"]["amount"] == 383.5
    shown = body["data"]["subscription"]
    assert shown["ratePlanId"] == professional.pk and shown["currentPeriodEnd"] == "2025-02-01T00:00:00Z"
    subscription = Subscription.objects.get(pk=starter.pk)
    assert (subscription.plan_id, subscription.billing_cycle, subscription.period_price_paise,
            subscription.current_period_start, subscription.current_period_end) == (
        professional.pk, "monthly", 99900, START, datetime(2025, 2, 1, tzinfo=UTC))
    assert subscription.pricing["basePaise"] == 99900
    # the new plan's limits: 500 minutes, 2 numbers, 10 extensions
    quotas = dict(UsageCounter.objects.filter(subscription=subscription).values_list("metric", "quota"))
    assert quotas == {"minutes": 500, "tollFreeNumbers": 2, "extensions": 10}
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert (order.status, order.fulfilment_action, order.plan_change.status) == ("paid", "plan_changed", "applied")
    event = SubscriptionEvent.objects.get(subscription=subscription, kind="plan_changed")
    assert (event.from_plan_code, event.to_plan_code, event.data["paid"]) == ("STARTER", "PROFESSIONAL", True)
    # the tax invoice lists the prorated difference
    invoice = Invoice.objects.get(order=order)
    assert (invoice.taxable_paise, invoice.total_paise) == (32500, 38350)
    assert invoice.lines[0]["description"].startswith("Upgrade: Professional")
    # a replay answers the same and changes nothing
    again = auth_client.post(VERIFY, {**paid, "subscriptionId": starter.pk}, format="json")
    assert again.status_code == 200 and again.json()["data"] == body["data"]
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="plan_changed").count() == 1


def test_upgrade_to_another_billing_cycle_starts_a_new_period_when_paid(auth_client, starter, fake_razorpay,
                                                                       clock):
    from subscriptions.lifecycle.usage import subscription_usage_record

    subscription_usage_record(subscription=Subscription.objects.get(pk=starter.pk), metric="minutes", amount=40)
    data = change(auth_client, starter, planId=telephony_plan("PROFESSIONAL").pk,
                  billingCycle="quarterly").json()["data"]
    # the whole quarter (2997) less half of January paid (174.50) = 2822.50; GST 508.05
    assert data["proration"] == {"credit": 174.5, "charge": 2997, "subtotal": 2822.5, "gst": 508.05,
                                 "total": 3330.55}
    assert data["newPeriod"] is True and data["amount"] == 333055
    paid_at = clock.now = datetime(2025, 1, 17, 9, tzinfo=UTC)
    paid = fake_razorpay.pay(data["orderId"])
    assert auth_client.post(VERIFY, {**paid, "subscriptionId": starter.pk}, format="json").status_code == 200
    subscription = Subscription.objects.get(pk=starter.pk)
    assert (subscription.billing_cycle, subscription.current_period_start, subscription.current_period_end,
            subscription.period_price_paise) == ("quarterly", paid_at, datetime(2025, 4, 17, 9, tzinfo=UTC), 299700)
    usage = auth_client.get(f"/api/subscriptions/{starter.pk}/usage").json()["data"]
    assert usage["usage"]["minutes"]["used"] == 0  # a new period


def test_upgrade_paid_through_the_webhook(api_client, auth_client, starter, fake_razorpay):
    data = change(auth_client, starter, planId=telephony_plan("CALL_CENTER").pk).json()["data"]
    paid = fake_razorpay.pay(data["orderId"])
    payment = fake_razorpay.payments[paid["razorpay_payment_id"]]
    hook = post_webhook(api_client, event_body("payment.captured", payment=payment), event_id="evt_change")
    assert hook.status_code == 200 and hook.json()["data"]["result"] == "fulfilled", hook.content
    assert Subscription.objects.get(pk=starter.pk).plan.code == "CALL_CENTER"
    late = auth_client.post(VERIFY, {**paid, "subscriptionId": starter.pk}, format="json")
    assert late.status_code == 200
    assert SubscriptionEvent.objects.filter(subscription=starter, kind="plan_changed").count() == 1


def test_billing_cycle_defaults_to_the_current_one(auth_client, starter):
    data = change(auth_client, starter, planId=telephony_plan("PROFESSIONAL").pk).json()["data"]
    assert data["billingCycle"] == "monthly" and data["newPeriod"] is False


def test_idempotency_key_replays_the_order(auth_client, starter):
    body = {"planId": telephony_plan("PROFESSIONAL").pk}
    first = auth_client.post(url(starter), body, format="json", HTTP_IDEMPOTENCY_KEY="chg-1")
    second = auth_client.post(url(starter), body, format="json", HTTP_IDEMPOTENCY_KEY="chg-1")
    assert first.status_code == second.status_code == 200
    assert first.json() == second.json()
    assert PaymentOrder.objects.filter(purpose="upgrade").count() == 1


# --- due nothing: applies at once --------------------------------------------------------------------

def test_an_upgrade_in_the_last_second_applies_at_once_without_an_order(auth_client, starter, clock):
    clock.now = datetime(2025, 1, 31, 23, 59, 59, tzinfo=UTC)
    response = change(auth_client, starter, planId=telephony_plan("PROFESSIONAL").pk)
    assert response.status_code == 200, response.content
    body = response.json()
    data = body["data"]
    assert (data["change"], data["effective"], data["orderId"], data["key"], data["amount"]) == (
        "upgrade", "now", None, None, 0)
    assert data["proration"] == {"credit": 0, "charge": 0, "subtotal": 0, "gst": 0, "total": 0}
    assert body["message"] == "Plan changed"
    assert data["subscription"]["ratePlanId"] == telephony_plan("PROFESSIONAL").pk
    assert data["subscription"]["currentPeriodEnd"] == "2025-02-01T00:00:00Z"
    assert not PaymentOrder.objects.exists() and not SubscriptionPlanChange.objects.exists()
    event = SubscriptionEvent.objects.get(subscription=starter, kind="plan_changed")
    assert event.data["paid"] is False and event.actor == auth_client.user


def test_annual_to_monthly_is_an_upgrade_due_nothing_and_starts_a_monthly_period(auth_client, fake_razorpay,
                                                                                 clock):
    subscription = telephony_subscription(user=auth_client.user, billing_cycle="annual")
    clock.now = datetime(2025, 7, 2, 12, tzinfo=UTC)
    data = change(auth_client, subscription, planId=telephony_plan().pk, billingCycle="monthly").json()["data"]
    assert data["proration"] == {"credit": 1674.5, "charge": 349, "subtotal": -1325.5, "gst": 0, "total": 0}
    assert (data["effective"], data["newPeriod"], data["orderId"]) == ("now", True, None)
    subscription.refresh_from_db()
    assert (subscription.billing_cycle, subscription.current_period_start, subscription.current_period_end) == (
        "monthly", clock.now, datetime(2025, 8, 2, 12, tzinfo=UTC))


# --- downgrade: scheduled for the period end -----------------------------------------------------------

def test_downgrade_is_scheduled_replaced_and_cleared(auth_client, fake_razorpay, clock):
    subscription = telephony_subscription(user=auth_client.user, plan="CALL_CENTER")
    clock.now = HALF
    professional, starter = telephony_plan("PROFESSIONAL"), telephony_plan("STARTER")
    response = change(auth_client, subscription, planId=professional.pk)
    assert response.status_code == 200, response.content
    body = response.json()
    data = body["data"]
    expected = {"ratePlanId": professional.pk, "billingCycle": "monthly", "effectiveAt": "2025-02-01T00:00:00Z"}
    assert (data["change"], data["effective"], data["scheduledChange"], data["amount"], data["orderId"]) == (
        "downgrade", "period_end", expected, 0, None)
    assert data["proration"] == {"credit": 0, "charge": 0, "subtotal": 0, "gst": 0, "total": 0}
    assert body["message"] == "Plan change scheduled for the end of the current period"
    assert data["subscription"]["scheduledChange"] == expected
    assert data["subscription"]["ratePlanId"] == telephony_plan("CALL_CENTER").pk
    assert not PaymentOrder.objects.exists()
    # another downgrade replaces it
    data = change(auth_client, subscription, planId=starter.pk, billingCycle="annual").json()["data"]
    assert data["subscription"]["scheduledChange"] == {**expected, "ratePlanId": starter.pk, "billingCycle": "annual"}
    # the current plan and cycle clear it
    cleared = change(auth_client, subscription, planId=telephony_plan("CALL_CENTER").pk).json()
    assert cleared["data"]["change"] == "cleared" and cleared["data"]["subscription"]["scheduledChange"] is None
    assert cleared["message"] == "Scheduled plan change cleared"
    # ... and so does PUT {"scheduledChange": null}
    change(auth_client, subscription, planId=starter.pk)
    put = auth_client.put(f"/api/subscriptions/{subscription.pk}", {"scheduledChange": None}, format="json")
    assert put.status_code == 200 and put.json()["data"]["scheduledChange"] is None
    assert kinds(subscription)[1:] == ["change_scheduled", "change_scheduled", "change_cleared",
                                       "change_scheduled", "change_cleared"]
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.plan.code, row.scheduled_plan_id, row.scheduled_billing_cycle) == ("CALL_CENTER", None, "")


def test_a_cheaper_annual_cycle_is_a_downgrade(auth_client, starter):
    data = change(auth_client, starter, planId=telephony_plan().pk, billingCycle="annual").json()["data"]
    assert data["change"] == "downgrade" and data["scheduledChange"]["billingCycle"] == "annual"


def test_downgrade_of_a_subscription_cancelling_at_the_period_end_is_409(auth_client, fake_razorpay, clock):
    subscription = telephony_subscription(user=auth_client.user, plan="PROFESSIONAL")
    lifecycle.subscription_cancel(subscription_id=subscription.pk, actor=auth_client.user)
    before = snapshot(subscription)
    error(change(auth_client, subscription, planId=telephony_plan().pk), 409, "subscription_cancelling")
    assert snapshot(subscription) == before


# --- preview ---------------------------------------------------------------------------------------

@pytest.mark.parametrize("plan, cycle, kind", [("PROFESSIONAL", "monthly", "upgrade"),
                                                ("PROFESSIONAL", "quarterly", "upgrade"),
                                                ("STARTER", "annual", "downgrade")])
def test_preview_answers_the_same_figures_and_creates_nothing(auth_client, starter, fake_razorpay, plan, cycle,
                                                              kind):
    before = snapshot(starter)
    response = change(auth_client, starter, planId=telephony_plan(plan).pk, billingCycle=cycle, preview=True)
    assert response.status_code == 200, response.content
    preview = response.json()
    assert preview["data"]["preview"] is True and preview["data"]["change"] == kind
    assert preview["data"]["orderId"] is None and preview["data"]["key"] is None
    assert preview["message"] == "Plan change preview: nothing was changed"
    assert snapshot(starter) == before and not fake_razorpay.orders
    real = change(auth_client, starter, planId=telephony_plan(plan).pk, billingCycle=cycle).json()["data"]
    assert (real["proration"], real["amount"]) == (preview["data"]["proration"], preview["data"]["amount"])


# --- a newer change-plan supersedes an unpaid upgrade ---------------------------------------------

def test_a_superseded_upgrade_order_is_failed_and_its_late_payment_not_applied(auth_client, starter,
                                                                               fake_razorpay):
    first = change(auth_client, starter, planId=telephony_plan("CALL_CENTER").pk).json()["data"]
    paid_first = fake_razorpay.pay(first["orderId"])  # paid in a tab left open
    second = change(auth_client, starter, planId=telephony_plan("PROFESSIONAL").pk).json()["data"]
    old = PaymentOrder.objects.get(gateway_order_id=first["orderId"])
    assert (old.status, old.failure_reason, old.plan_change.status) == (
        "failed", "superseded by a newer plan change", "superseded")
    assert SubscriptionPlanChange.objects.filter(subscription=starter, status="pending").count() == 1
    late = auth_client.post(VERIFY, {**paid_first, "subscriptionId": starter.pk}, format="json")
    error(late, 409, "plan_change_not_applied")
    old.refresh_from_db()
    assert (old.status, old.fulfilment_action) == ("paid", "change_not_applied")  # kept for the refund
    assert Subscription.objects.get(pk=starter.pk).plan.code == "STARTER"
    assert SubscriptionEvent.objects.filter(subscription=starter, kind="payment_not_applied").count() == 1
    # the newer one still applies when paid
    paid = fake_razorpay.pay(second["orderId"])
    assert auth_client.post(VERIFY, {**paid, "subscriptionId": starter.pk}, format="json").status_code == 200
    assert Subscription.objects.get(pk=starter.pk).plan.code == "PROFESSIONAL"


def test_a_downgrade_supersedes_an_unpaid_upgrade(auth_client, starter):
    first = change(auth_client, starter, planId=telephony_plan("CALL_CENTER").pk).json()["data"]
    change(auth_client, starter, planId=telephony_plan().pk, billingCycle="annual")
    assert PaymentOrder.objects.get(gateway_order_id=first["orderId"]).status == "failed"


def test_an_upgrade_paid_after_its_period_ended_is_not_applied(auth_client, starter, fake_razorpay, clock):
    data = change(auth_client, starter, planId=telephony_plan("PROFESSIONAL").pk).json()["data"]
    lifecycle.subscription_renew(subscription_id=starter.pk, actor=None, reason="the next period")
    paid = fake_razorpay.pay(data["orderId"])
    error(auth_client.post(VERIFY, {**paid, "subscriptionId": starter.pk}, format="json"), 409,
          "plan_change_not_applied")
    assert Subscription.objects.get(pk=starter.pk).plan.code == "STARTER"


# --- refusals change nothing -----------------------------------------------------------------------

@pytest.mark.parametrize("status, code", [("past_due", "payment_due"), ("suspended", "payment_due"),
                                          ("cancelled", "subscription_ended"),
                                          ("pending", "subscription_not_started")])
def test_change_plan_is_409_unless_active(auth_client, fake_razorpay, clock, status, code):
    subscription = telephony_subscription(user=auth_client.user, status=status)
    before = snapshot(subscription)
    for plan, cycle in (("PROFESSIONAL", "monthly"), ("STARTER", "annual")):
        body = error(change(auth_client, subscription, planId=telephony_plan(plan).pk, billingCycle=cycle), 409,
                     code)
        assert body["error"]["message"]
    assert snapshot(subscription) == before and not fake_razorpay.orders


def _token_plan_id():
    from plans.models import RatePlan

    return RatePlan.objects.get(product="tokens", code="premium").pk


@pytest.mark.parametrize("body, status, code", [
    ({"planId": 987654}, 404, "plan_not_found"),
    ({"planId": "PROFESSIONAL"}, 400, "invalid"),
    ({"planId": None}, 400, "invalid"),
    ({}, 400, "invalid"),
    ({"planId": "professional", "billingCycle": "weekly"}, 400, "invalid"),
    ({"planId": "professional", "billingCycle": "weekly", "preview": True}, 400, "invalid"),
    ({"planId": "professional", "preview": "yes"}, 400, "invalid"),
    ({"planId": "professional", "addons": {"extraExtensions": 1}}, 400, "invalid"),
    ({"planId": "professional", "ratePlanId": 2}, 400, "invalid"),
    ({"planId": "starter"}, 400, "plan_unchanged"),
    ({"planId": "tokens"}, 400, "invalid_plan"),
])
def test_bad_input_is_4xx_and_changes_nothing(auth_client, starter, fake_razorpay, body, status, code):
    ids = {"professional": telephony_plan("PROFESSIONAL").pk, "starter": telephony_plan().pk}
    if body.get("planId") == "tokens":
        body = {**body, "planId": _token_plan_id()}
    elif body.get("planId") in ids:
        body = {**body, "planId": ids[body["planId"]]}
    before = snapshot(starter)
    error(change(auth_client, starter, **body), status, code)
    assert snapshot(starter) == before and not fake_razorpay.orders


def test_not_an_object_another_users_subscription_and_no_credentials(auth_client, api_client, client_for,
                                                                     starter):
    before = snapshot(starter)
    error(auth_client.post(url(starter), [1, 2], format="json"), 400, "invalid_body")
    error(client_for(UserFactory()).post(url(starter), {"planId": telephony_plan("PROFESSIONAL").pk},
                                         format="json"), 404, "subscription_not_found")
    assert api_client.post(url(starter), {"planId": 1}, format="json").status_code == 401
    error(auth_client.post("/api/subscriptions/987654/change-plan", {"planId": 1}, format="json"), 404,
          "subscription_not_found")
    assert snapshot(starter) == before


def test_token_subscriptions_change_through_the_token_api(auth_client, fake_razorpay):
    from subscriptions.tests.factories import token_state

    subscription = token_state(user=auth_client.user).subscription
    error(change(auth_client, subscription, planId=_token_plan_id()), 409, "token_subscription")


def test_staff_may_change_a_customers_plan(staff_client, fake_razorpay, clock):
    subscription = telephony_subscription(plan="PROFESSIONAL")
    response = change(staff_client, subscription, planId=telephony_plan().pk)
    assert response.status_code == 200, response.content
    assert Subscription.objects.get(pk=subscription.pk).scheduled_plan_id == telephony_plan().pk
    assert SubscriptionEvent.objects.get(subscription=subscription, kind="change_scheduled").actor == staff_client.user


def test_order_constraints_tie_upgrade_orders_to_their_change(auth_client, starter):
    from django.db import IntegrityError, transaction

    data = change(auth_client, starter, planId=telephony_plan("PROFESSIONAL").pk).json()["data"]
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    for changes in ({"plan_change": None}, {"purpose": "checkout"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            PaymentOrder.objects.filter(pk=order.pk).update(**changes)
    with pytest.raises(IntegrityError), transaction.atomic():  # one pending change per subscription
        copy = SubscriptionPlanChange.objects.get(pk=order.plan_change_id)
        copy.pk = None
        copy.save()
    with pytest.raises(IntegrityError), transaction.atomic():  # the figures add up
        SubscriptionPlanChange.objects.filter(pk=order.plan_change_id).update(credit_paise=1)
    assert Decimal(order.amount_paise) == Decimal(38350)


def test_the_admin_shows_pending_upgrades_on_the_subscription(client, auth_client, starter):
    from django.urls import reverse

    change(auth_client, starter, planId=telephony_plan("CALL_CENTER").pk)
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    page = client.get(reverse("admin:subscriptions_subscription_change", args=[starter.pk]))
    assert page.status_code == 200
    content = page.content.decode()
    assert "Awaiting payment" in content and "change_requested" in content
