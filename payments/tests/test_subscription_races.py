"""verify-payment racing the webhook (and itself) on PostgreSQL with real threads: the order's row
lock in `order_fulfil` makes the subscription's delivery run exactly once.

The delivery is slowed down so that, without the lock, both requests would be inside it at the
same time; the tests count how many times it ran, not just the end state.
"""


import pytest
from rest_framework.test import APIClient

from config.tests.threads import run_together, slow_spy
from payments.models import PaymentOrder
from payments.services.subscription_orders import subscription_checkout_create
from payments.tests.conftest import event_body, post_webhook
from subscriptions.lifecycle import services as lifecycle
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.tests.factories import telephony_plan

pytestmark = pytest.mark.django_db(transaction=True)

VERIFY = "/api/subscriptions/verify-payment"


@pytest.fixture
def slow_delivery(monkeypatch):
    """Counts deliveries and holds each one for a moment before it touches the subscription."""
    return slow_spy(monkeypatch, lifecycle, "subscription_checkout_paid")


def _paid_checkout(fake, user):
    result = subscription_checkout_create(user=user, plan_id=telephony_plan().pk, billing_cycle="quarterly",
                                          addons={"extraExtensions": 5}, customer_data=None)
    paid = fake.pay(result.order.gateway_order_id)
    return result, paid


def _assert_activated_once(result, calls):
    subscription = Subscription.objects.get(pk=result.subscription.pk)
    order = PaymentOrder.objects.get(pk=result.order.pk)
    assert calls == [order.gateway_order_id]  # delivered once
    assert subscription.status == "active" and order.status == "paid"
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="activated").count() == 1
    assert UsageCounter.objects.filter(subscription=subscription).count() == 3


@pytest.mark.postgres_only  # real threads need PostgreSQL row locks
def test_verify_racing_the_webhook_activates_once(fake_razorpay, client_for, slow_delivery):
    from accounts.tests.factories import UserFactory

    for round_ in range(2):
        slow_delivery.clear()
        user = UserFactory()
        result, paid = _paid_checkout(fake_razorpay, user)
        payment = fake_razorpay.payments[paid["razorpay_payment_id"]]
        body = event_body("payment.captured", payment=payment)
        client, verify_data = client_for(user), {**paid, "subscriptionId": result.subscription.pk}
        verify, hook = run_together([
            lambda c=client, d=verify_data: c.post(VERIFY, d, format="json"),
            lambda b=body, e=f"evt_sub_race_{round_}": post_webhook(APIClient(), b, event_id=e),
        ])
        assert verify.status_code == 200, verify.content
        assert verify.json()["data"]["subscription"]["status"] == "active"
        assert hook.status_code == 200, hook.content
        assert hook.json()["data"]["result"] in ("fulfilled", "already fulfilled")
        _assert_activated_once(result, slow_delivery)


@pytest.mark.postgres_only  # real threads need PostgreSQL row locks
def test_concurrent_verify_replays_activate_once(fake_razorpay, client_for, slow_delivery):
    from accounts.tests.factories import UserFactory

    user = UserFactory()
    result, paid = _paid_checkout(fake_razorpay, user)
    body = {**paid, "subscriptionId": result.subscription.pk}
    clients = [client_for(user) for _ in range(4)]
    answers = run_together([lambda c=c: c.post(VERIFY, body, format="json") for c in clients])
    assert [a.status_code for a in answers] == [200] * 4, answers
    assert all(a.json() == answers[0].json() for a in answers)  # every replay says the same
    _assert_activated_once(result, slow_delivery)
