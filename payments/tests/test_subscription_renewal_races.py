"""The period close under concurrency, on PostgreSQL with real threads: runs of process_subscriptions
racing each other, a renewal paid by verify racing the webhook, dunning racing a payment, usage
recorded while the period closes. Each test counts exact outcomes."""

import threading
import time
from datetime import UTC, datetime, timedelta

import pytest
from rest_framework.test import APIClient

from config.tests.threads import run_together, slow_spy
from payments.models import PaymentOrder
from payments.services import subscription_renewals
from payments.tests.conftest import event_body, post_webhook
from subscriptions import clock as clock_module
from subscriptions.lifecycle import close, usage
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.tests.factories import telephony_subscription

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
END = datetime(2025, 2, 15, 12, 0, tzinfo=UTC)


@pytest.fixture(autouse=True)
def now(monkeypatch):
    moment = {"now": START}
    monkeypatch.setattr(clock_module, "now", lambda: moment["now"])
    return moment


def _run(*functions):
    return run_together(list(functions), timeout=120)


def test_concurrent_runs_open_one_order_per_subscription_and_period(catalog):
    subscriptions = [telephony_subscription() for _ in range(12)]
    for subscription in subscriptions:
        usage.subscription_usage_record(subscription=subscription, metric="minutes", amount=130)
    reports = _run(*[lambda: subscription_renewals.subscription_renewals_process(as_of=END, batch_size=3)
                     for _ in range(4)])
    assert not [r for r in reports if isinstance(r, Exception)], reports
    assert sum(r.counts["renewed"] for r in reports) == 12
    assert sum(len(r.failures) for r in reports) == 0
    for subscription in subscriptions:
        orders = PaymentOrder.objects.filter(subscription=subscription, purpose="renewal")
        assert [o.amount_paise for o in orders] == [48_227]
        assert SubscriptionEvent.objects.filter(subscription=subscription, kind="period_renewed").count() == 1


def test_a_close_waits_for_a_request_holding_the_subscription(catalog):
    """A row a request holds is skipped by the batch and closed, waiting, at the end of the run."""
    from django.db import transaction

    subscription = telephony_subscription()
    held = threading.Event()

    def request_holding_the_row():
        with transaction.atomic():
            Subscription.objects.select_for_update().get(pk=subscription.pk)
            held.set()
            time.sleep(0.5)
        return "released"

    def run_close():
        held.wait(5)
        return subscription_renewals.subscription_renewals_process(as_of=END)

    released, report = _run(request_holding_the_row, run_close)
    assert released == "released" and report.counts["renewed"] == 1
    assert PaymentOrder.objects.filter(subscription=subscription, purpose="renewal").count() == 1


@pytest.fixture
def slow_renewal_paid(monkeypatch):
    return slow_spy(monkeypatch, close, "subscription_renewal_paid")


def _owing(fake, client_for, as_of):
    subscription = telephony_subscription()
    usage.subscription_usage_record(subscription=subscription, metric="minutes", amount=130)
    subscription_renewals.subscription_renewals_process(as_of=END)
    subscription_renewals.subscription_renewals_process(as_of=as_of)
    client = client_for(subscription.user)
    answer = client.post(f"/api/subscriptions/{subscription.pk}/pay", format="json")
    assert answer.status_code == 200, answer.content
    paid = fake.pay(answer.json()["data"]["orderId"])
    return subscription, client, paid


def test_a_renewal_paid_by_verify_racing_the_webhook_settles_once(fake_razorpay, client_for, slow_renewal_paid):
    subscription, client, paid = _owing(fake_razorpay, client_for, END + timedelta(days=7))
    assert Subscription.objects.get(pk=subscription.pk).status == "suspended"
    payment = fake_razorpay.payments[paid["razorpay_payment_id"]]
    verify, hook = _run(
        lambda: client.post("/api/subscriptions/verify-payment", {**paid, "subscriptionId": subscription.pk},
                            format="json"),
        lambda: post_webhook(APIClient(), event_body("payment.captured", payment=payment), event_id="evt_renewal"),
    )
    assert verify.status_code == 200, verify.content
    assert verify.json()["data"]["subscription"]["status"] == "active"
    assert hook.status_code == 200, hook.content
    order = PaymentOrder.objects.get(subscription=subscription, purpose="renewal")
    assert order.status == "paid" and slow_renewal_paid == [order.gateway_order_id]
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="renewal_paid").count() == 1
    subscription = Subscription.objects.get(pk=subscription.pk)
    assert subscription.status == "active" and subscription.unpaid_since is None


def test_dunning_racing_a_payment_waits_for_it(fake_razorpay, client_for, slow_renewal_paid):
    """The payment holds the order's lock; the expiry run locks the order first too, so it waits,
    then finds the renewal paid and leaves the subscription active."""
    subscription, client, paid = _owing(fake_razorpay, client_for, END + timedelta(days=7))

    def verify():
        return client.post("/api/subscriptions/verify-payment", {**paid, "subscriptionId": subscription.pk},
                           format="json")

    def expire():
        time.sleep(0.1)  # the payment takes the order's lock first
        return subscription_renewals.subscription_renewals_process(as_of=END + timedelta(days=30))

    answer, report = _run(verify, expire)
    assert answer.status_code == 200, answer.content
    assert report.counts.get("expired_unpaid", 0) == 0 and not report.failures
    assert Subscription.objects.get(pk=subscription.pk).status == "active"
    assert PaymentOrder.objects.get(subscription=subscription, purpose="renewal").status == "paid"


def test_minutes_recorded_while_the_period_closes_are_billed_once(catalog, now):
    """Every minute lands either in the closed period (billed as arrears) or in the new one."""
    subscription = telephony_subscription()
    usage.subscription_usage_record(subscription=subscription, metric="minutes", amount=100)
    now["now"] = END  # requests after the end still see the old period until the close
    stop = threading.Event()
    recorded = []

    def record():
        seen = Subscription.objects.select_related("plan", "user").get(pk=subscription.pk)
        while not stop.is_set() and len(recorded) < 400:
            usage.subscription_usage_record(subscription=seen, metric="minutes", amount=1)
            recorded.append(1)
        return len(recorded)

    def run_close():
        time.sleep(0.05)
        try:
            return subscription_renewals.subscription_renewals_process(as_of=END)
        finally:
            time.sleep(0.05)
            stop.set()

    count, report = _run(record, run_close)
    assert not isinstance(count, Exception), count
    assert report.counts["renewed"] == 1
    billed = SubscriptionEvent.objects.get(subscription=subscription, kind="period_renewed").data["minutesUsed"]
    counter = UsageCounter.objects.get(subscription=subscription, metric="minutes")
    assert counter.period_start == END.date()
    assert billed + counter.used == 100 + count


def test_an_upgrade_paid_while_the_period_closes_applies_or_dies_with_the_period(fake_razorpay, client_for, now,
                                                                                 monkeypatch):
    """verify-payment of an upgrade order racing the close of the period it was priced for (the
    payment held for a moment with its order locked, so the close meets that lock): no deadlock,
    no 500, and one consistent outcome — upgraded then renewed at the new plan, or the close first
    (the change superseded, the payment recorded but not applied)."""
    from accounts.tests.factories import UserFactory
    from subscriptions.lifecycle import changes
    from subscriptions.models import SubscriptionPlanChange
    from subscriptions.tests.factories import telephony_plan

    real = changes.subscription_change_paid

    def slow(**kwargs):
        time.sleep(0.3)
        return real(**kwargs)

    monkeypatch.setattr(changes, "subscription_change_paid", slow)
    for _ in range(3):
        now["now"] = START
        user = UserFactory()
        client = client_for(user)
        subscription = telephony_subscription(user=user)
        now["now"] = START + timedelta(days=15)
        answer = client.post(f"/api/subscriptions/{subscription.pk}/change-plan",
                             {"planId": telephony_plan("PROFESSIONAL").pk}, format="json")
        assert answer.status_code == 200, answer.content
        data = answer.json()["data"]
        paid = fake_razorpay.pay(data["orderId"])
        now["now"] = END
        verify, report = _run(
            lambda c=client, d={**paid, "subscriptionId": subscription.pk}: c.post(
                "/api/subscriptions/verify-payment", d, format="json"),
            lambda: subscription_renewals.subscription_renewals_process(as_of=END),
        )
        assert not isinstance(report, Exception) and not report.failures, report
        assert report.counts["renewed"] >= 1
        order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
        change = SubscriptionPlanChange.objects.get(pk=order.plan_change_id)
        current = Subscription.objects.get(pk=subscription.pk)
        [renewal] = PaymentOrder.objects.filter(subscription=subscription, purpose="renewal")
        assert order.status == "paid" and current.current_period_start == END
        if verify.status_code == 200:  # paid first: the close renews at the new plan
            assert (order.fulfilment_action, change.status, current.plan.code, renewal.plan.code) == (
                "plan_changed", "applied", "PROFESSIONAL", "PROFESSIONAL")
        else:  # the close first: the change died with its period; the payment is kept for a refund
            assert verify.status_code == 409 and verify.json()["error"]["code"] == "plan_change_not_applied"
            assert (order.fulfilment_action, change.status, current.plan.code, renewal.plan.code) == (
                "change_not_applied", "superseded", "STARTER", "STARTER")
        assert SubscriptionEvent.objects.filter(subscription=subscription, kind="period_renewed").count() == 1
