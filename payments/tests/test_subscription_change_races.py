"""An upgrade order paid by verify-payment racing the webhook (and a newer change-plan racing the
payment) on PostgreSQL with real threads: the plan change applies exactly once, and a superseding
change-plan never deadlocks with a payment being applied."""


import pytest
from rest_framework.test import APIClient

from config.tests.threads import run_together, slow_spy
from payments.models import PaymentOrder
from payments.tests.conftest import event_body, post_webhook
from subscriptions.lifecycle import changes
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionPlanChange
from subscriptions.tests.factories import telephony_plan, telephony_subscription

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

VERIFY = "/api/subscriptions/verify-payment"


@pytest.fixture
def slow_change(monkeypatch):
    """Counts deliveries of upgrade payments and holds each one for a moment before it touches the
    subscription (without the order's row lock, both requests would be inside it at once)."""
    return slow_spy(monkeypatch, changes, "subscription_change_paid")


def _run(*functions):
    return run_together(list(functions))


def _upgrade_order(client, subscription, plan="PROFESSIONAL"):
    response = client.post(f"/api/subscriptions/{subscription.pk}/change-plan",
                           {"planId": telephony_plan(plan).pk}, format="json")
    assert response.status_code == 200, response.content
    return response.json()["data"]


def test_verify_racing_the_webhook_applies_the_upgrade_once(fake_razorpay, client_for, slow_change):
    from accounts.tests.factories import UserFactory

    for round_ in range(2):
        slow_change.clear()
        user = UserFactory()
        client = client_for(user)
        subscription = telephony_subscription(user=user)
        data = _upgrade_order(client, subscription)
        paid = fake_razorpay.pay(data["orderId"])
        body = event_body("payment.captured", payment=fake_razorpay.payments[paid["razorpay_payment_id"]])
        verify, hook = _run(
            lambda c=client, d={**paid, "subscriptionId": subscription.pk}: c.post(VERIFY, d, format="json"),
            lambda b=body, e=f"evt_change_race_{round_}": post_webhook(APIClient(), b, event_id=e),
        )
        assert verify.status_code == 200, verify.content
        assert verify.json()["data"]["subscription"]["ratePlanId"] == telephony_plan("PROFESSIONAL").pk
        assert hook.status_code == 200, hook.content
        assert hook.json()["data"]["result"] in ("fulfilled", "already fulfilled")
        order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
        assert slow_change == [order.gateway_order_id]  # delivered once
        assert (order.status, order.fulfilment_action) == ("paid", "plan_changed")
        assert SubscriptionEvent.objects.filter(subscription=subscription, kind="plan_changed").count() == 1
        assert SubscriptionPlanChange.objects.get(pk=order.plan_change_id).status == "applied"
        assert Subscription.objects.get(pk=subscription.pk).plan.code == "PROFESSIONAL"


def test_a_newer_change_plan_racing_the_payment_never_applies_both(fake_razorpay, client_for, slow_change):
    """The payment of order A and a change-plan that supersedes A run together: whichever locks the
    subscription first wins; the other finds it decided. No deadlock, no 500, one outcome."""
    from accounts.tests.factories import UserFactory

    for _ in range(2):
        slow_change.clear()
        user = UserFactory()
        client, other_tab = client_for(user), client_for(user)
        subscription = telephony_subscription(user=user)
        data = _upgrade_order(client, subscription, plan="CALL_CENTER")
        paid = fake_razorpay.pay(data["orderId"])
        change_url = f"/api/subscriptions/{subscription.pk}/change-plan"
        downgrade = {"planId": telephony_plan("STARTER").pk, "billingCycle": "annual"}
        verify, newer = _run(
            lambda c=client, d={**paid, "subscriptionId": subscription.pk}: c.post(VERIFY, d, format="json"),
            lambda c=other_tab, u=change_url, d=downgrade: c.post(u, d, format="json"),
        )
        assert verify.status_code in (200, 409), verify.content
        order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
        change = SubscriptionPlanChange.objects.get(pk=order.plan_change_id)
        current = Subscription.objects.get(pk=subscription.pk)
        assert order.status == "paid"  # the money is recorded either way
        if verify.status_code == 200:  # the payment came first: upgraded, then a downgrade scheduled
            assert (order.fulfilment_action, change.status, current.plan.code) == (
                "plan_changed", "applied", "CALL_CENTER")
            assert newer.status_code == 200, newer.content
        else:  # the change-plan came first: the payment is recorded, not applied (refund due)
            assert verify.json()["error"]["code"] == "plan_change_not_applied"
            assert (order.fulfilment_action, change.status, current.plan.code) == (
                "change_not_applied", "superseded", "STARTER")
            assert newer.status_code == 200, newer.content
        assert current.scheduled_plan.code == "STARTER"
        assert SubscriptionEvent.objects.filter(subscription=subscription, kind="plan_changed").count() == (
            1 if verify.status_code == 200 else 0)
