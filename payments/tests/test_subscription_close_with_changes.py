"""The period close (`process_subscriptions`) meets change-plan: a downgrade scheduled through
change-plan applies at the close, an upgrade order still unpaid at the period end dies with the
period it was priced for, and a renewal payment that can no longer apply is recorded, not applied."""

from datetime import UTC, datetime, timedelta

import pytest

from config.models import AuditEvent
from payments.models import PaymentOrder
from payments.services.subscription_renewals import (
    subscription_renewal_close_now,
    subscription_renewals_process,
)
from subscriptions import clock as clock_module
from subscriptions.lifecycle import services as lifecycle
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionPlanChange
from subscriptions.tests.factories import telephony_plan, telephony_subscription

pytestmark = pytest.mark.django_db

VERIFY = "/api/subscriptions/verify-payment"
START = datetime(2025, 1, 1, tzinfo=UTC)
HALF = datetime(2025, 1, 16, 12, tzinfo=UTC)
END = datetime(2025, 2, 1, tzinfo=UTC)  # the first monthly period's end


class Clock:
    def __init__(self):
        self.now = START


@pytest.fixture
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(clock_module, "now", lambda: fake.now)
    return fake


def subscription_on(auth_client, clock, plan):
    subscription = telephony_subscription(user=auth_client.user, plan=plan, billing_cycle="monthly")
    clock.now = HALF
    return subscription


def change(client, subscription, **body):
    return client.post(f"/api/subscriptions/{subscription.pk}/change-plan", body, format="json")


def test_a_downgrade_scheduled_by_change_plan_applies_at_the_close(auth_client, fake_razorpay, clock):
    subscription = subscription_on(auth_client, clock, "PROFESSIONAL")
    starter = telephony_plan("STARTER")
    answer = change(auth_client, subscription, planId=starter.pk)
    assert answer.status_code == 200 and answer.json()["data"]["change"] == "downgrade", answer.content
    clock.now = END
    report = subscription_renewals_process(as_of=END)
    assert report.counts["renewed"] == 1 and not report.failures
    row = Subscription.objects.get(pk=subscription.pk)
    assert (row.plan_id, row.billing_cycle, row.scheduled_plan_id, row.scheduled_billing_cycle) == (
        starter.pk, "monthly", None, "")
    assert row.period_price_paise == 34_900
    [order] = PaymentOrder.objects.filter(subscription=subscription, purpose="renewal")
    assert (order.plan_id, order.amount_paise) == (starter.pk, 41_182)  # ₹349 + 18% GST, the new plan
    event = SubscriptionEvent.objects.get(subscription=subscription, kind="period_renewed")
    assert (event.from_plan_code, event.to_plan_code) == ("PROFESSIONAL", "STARTER")
    assert event.data["scheduledChangeApplied"] == {"ratePlanId": starter.pk, "billingCycle": "monthly"}


def test_an_upgrade_order_unpaid_at_the_period_end_is_failed_and_its_late_payment_not_applied(
        auth_client, fake_razorpay, clock):
    subscription = subscription_on(auth_client, clock, "STARTER")
    data = change(auth_client, subscription, planId=telephony_plan("PROFESSIONAL").pk).json()["data"]
    paid = fake_razorpay.pay(data["orderId"])  # paid in a tab left open over the period end
    clock.now = END
    report = subscription_renewals_process(as_of=END)
    assert report.counts["renewed"] == 1 and not report.failures
    upgrade = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert (upgrade.status, upgrade.failure_reason, upgrade.plan_change.status) == (
        "failed", "the period this upgrade was priced for has ended", "superseded")
    assert not SubscriptionPlanChange.objects.filter(subscription=subscription, status="pending").exists()
    late = auth_client.post(VERIFY, {**paid, "subscriptionId": subscription.pk}, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "plan_change_not_applied", late.content
    upgrade.refresh_from_db()
    assert (upgrade.status, upgrade.fulfilment_action) == ("paid", "change_not_applied")  # kept for the refund
    row = Subscription.objects.get(pk=subscription.pk)
    assert row.plan.code == "STARTER" and row.current_period_start == END


def test_a_dry_run_supersedes_nothing(auth_client, fake_razorpay, clock):
    subscription = subscription_on(auth_client, clock, "STARTER")
    data = change(auth_client, subscription, planId=telephony_plan("PROFESSIONAL").pk).json()["data"]
    clock.now = END
    report = subscription_renewals_process(as_of=END, dry_run=True)
    assert report.counts["renewed"] == 1
    upgrade = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert (upgrade.status, upgrade.plan_change.status) == ("created", "pending")


def test_a_renewal_paid_after_the_subscription_ended_is_recorded_not_applied(auth_client, fake_razorpay, clock):
    subscription = subscription_on(auth_client, clock, "STARTER")
    clock.now = END
    subscription_renewals_process(as_of=END)
    data = auth_client.post(f"/api/subscriptions/{subscription.pk}/pay", format="json").json()["data"]
    paid = fake_razorpay.pay(data["orderId"])
    lifecycle.subscription_cancel(subscription_id=subscription.pk, actor=None, reason="left", immediate=True)
    late = auth_client.post(VERIFY, {**paid, "subscriptionId": subscription.pk}, format="json")
    assert late.status_code == 409 and late.json()["error"]["code"] == "renewal_not_applied", late.content
    order = PaymentOrder.objects.get(gateway_order_id=data["orderId"])
    assert order.status == "paid" and order.fulfilment_action == "not_applied"
    assert Subscription.objects.get(pk=subscription.pk).status == "cancelled"


def test_pay_follows_the_policy(client_for, fake_razorpay, clock):
    from accounts.tests.factories import UserFactory

    owner = UserFactory()
    subscription = telephony_subscription(user=owner, plan="STARTER", billing_cycle="monthly")
    clock.now = END
    subscription_renewals_process(as_of=END)
    url = f"/api/subscriptions/{subscription.pk}/pay"
    assert client_for(UserFactory()).post(url, format="json").status_code == 404  # someone else's
    support = client_for(UserFactory(role="support")).post(url, format="json")
    assert support.status_code == 403, support.content  # platform support only reads
    assert client_for(UserFactory(role="admin")).post(url, format="json").status_code == 200
    assert client_for(owner).post(url, format="json").status_code == 200


def test_staff_close_now_is_audited(clock):
    from accounts.tests.factories import UserFactory

    subscription = telephony_subscription(plan="STARTER", billing_cycle="monthly")
    staff = UserFactory(role="admin")
    clock.now = END + timedelta(hours=1)
    report = subscription_renewal_close_now(subscription_id=subscription.pk, actor=staff, reason="admin: now")
    assert report.counts["renewed"] == 1
    [event] = AuditEvent.objects.filter(action="subscription.close_now", object_id=str(subscription.pk))
    assert event.actor_id == staff.pk and "renewed 1" in event.reason
    assert event.before["currentPeriodEnd"] != event.after["currentPeriodEnd"]
    # a run by no one in particular (the system) is not an operator action
    subscription_renewal_close_now(subscription_id=subscription.pk)
    assert AuditEvent.objects.filter(action="subscription.close_now").count() == 1
