"""The period close (`process_subscriptions`): renewal orders with arrears, the dunning ladder, paying
a renewal through `pay` + verify-payment, cancel/expire at the period end, scheduled changes, the
pending TTL, notices, and the command's own behaviour. The clock is `subscriptions.clock`, moved
by the test; `--as-of` / `as_of` replays it."""

from datetime import UTC, datetime, timedelta
from io import StringIO

import pytest
from django.core import mail
from django.core.management import CommandError, call_command
from django.db import IntegrityError, transaction

from payments.models import PaymentOrder
from payments.services.subscription_renewals import (
    subscription_renewal_close_now,
    subscription_renewals_process,
)
from subscriptions import clock as clock_module
from subscriptions.lifecycle import services, usage
from subscriptions.models import RenewalNotice, Subscription, SubscriptionEvent, UsageCounter
from subscriptions.tests.factories import telephony_plan, telephony_subscription

pytestmark = pytest.mark.django_db

START = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)
END = datetime(2025, 2, 15, 12, 0, tzinfo=UTC)  # the first monthly period's end
PAY = "/api/subscriptions/{}/pay"
VERIFY = "/api/subscriptions/verify-payment"


@pytest.fixture(autouse=True)
def now(monkeypatch):
    moment = {"now": START}
    monkeypatch.setattr(clock_module, "now", lambda: moment["now"])

    def set_to(value):
        moment["now"] = value
        return value

    return set_to


@pytest.fixture(autouse=True)
def _catalog(catalog):
    return catalog


def run(as_of, **kwargs):
    return subscription_renewals_process(as_of=as_of, **kwargs)


def renewal_orders(subscription):
    return list(PaymentOrder.objects.filter(subscription=subscription, purpose="renewal").order_by("period_start"))


def reload(subscription):
    return Subscription.objects.get(pk=subscription.pk)


def minutes(subscription, amount):
    usage.subscription_usage_record(subscription=reload(subscription), metric="minutes", amount=amount)


def monthly_starter_with_overage(user=None):
    subscription = telephony_subscription(user=user, plan="STARTER", billing_cycle="monthly")
    minutes(subscription, 130)
    return subscription


# --- the amounts -------------------------------------------------------------------------------

def test_monthly_starter_with_130_minutes_renews_for_482_27():
    subscription = monthly_starter_with_overage()
    assert run(END - timedelta(seconds=1)).counts["renewed"] == 0  # not yet
    report = run(END)
    assert report.counts["renewed"] == 1 and report.counts["orders_opened"] == 1 and not report.failures
    [order] = renewal_orders(subscription)
    assert (order.amount_paise, order.tax_paise, order.status) == (48_227, 7_357, "created")
    assert order.gateway_order_id is None  # opened at the gateway by `pay`
    assert [(line["kind"], line["amountPaise"]) for line in order.lines] == [("plan", 34_900), ("overage", 5_970)]
    assert (order.period_start, order.period_end) == (END, datetime(2025, 3, 15, 12, 0, tzinfo=UTC))
    subscription = reload(subscription)
    assert subscription.status == "active" and subscription.unpaid_since == END
    assert (subscription.current_period_start, subscription.current_period_end) == (order.period_start,
                                                                                    order.period_end)
    # the new period's counters start from zero
    report = usage.subscription_usage_get(subscription=subscription)["usage"]["minutes"]
    assert (report["used"], report["overage"]) == (0, 0)
    assert UsageCounter.objects.get(subscription=subscription, metric="minutes").used == 0
    event = SubscriptionEvent.objects.get(subscription=subscription, kind="period_renewed")
    assert event.data["minutesUsed"] == 130 and event.data["charge"]["totalPaise"] == 48_227


def test_quarterly_starter_with_payg_addons_renews_for_1260_24():
    subscription = telephony_subscription(billing_cycle="quarterly",
                                          addons={"extraTollFreeNumbers": 2, "extraExtensions": 5})
    run(subscription.current_period_end)
    [order] = renewal_orders(subscription)
    assert order.amount_paise == 126_024
    assert sum(line["amountPaise"] for line in order.lines) == 106_800
    assert [(line["code"], line["quantity"], line["amountPaise"]) for line in order.lines if line["kind"] == "addon"] \
        == [("extraTollFreeNumber", 2, 600), ("extraExtension", 5, 1_500)]


# --- the ladder --------------------------------------------------------------------------------

def test_unpaid_renewal_goes_past_due_then_suspended_then_paid_is_active(sandbox, client_for, now):
    subscription = monthly_starter_with_overage()
    run(END)
    run(END + timedelta(days=3) - timedelta(seconds=1))
    assert reload(subscription).status == "active"
    report = run(END + timedelta(days=3))
    assert report.counts["past_due"] == 1 and reload(subscription).status == "past_due"
    now(END + timedelta(days=4))
    minutes(subscription, 5)  # past due is still usable
    report = run(END + timedelta(days=7))
    assert report.counts["suspended"] == 1 and reload(subscription).status == "suspended"
    now(END + timedelta(days=8))
    with pytest.raises(Exception) as refused:
        minutes(subscription, 5)
    assert getattr(refused.value, "code", "") == "subscription_not_usable"
    # the customer pays the open renewal order
    client = client_for(subscription.user)
    answer = client.post(PAY.format(subscription.pk), format="json")
    assert answer.status_code == 200, answer.content
    data = answer.json()["data"]
    assert (data["amount"], data["currency"], data["key"], data["subscriptionId"]) == (
        48_227, "INR", "rzp_test_sandbox", subscription.pk)
    assert data["pricing"] == {"subtotal": 408.7, "gstRate": 18.0, "gst": 73.57, "total": 482.27}
    assert [line["amount"] for line in data["lines"]] == [349.0, 59.7]
    again = client.post(PAY.format(subscription.pk), format="json").json()["data"]
    assert again["orderId"] == data["orderId"]  # the same gateway order
    paid = client.post("/api/payments/sandbox/pay", {"order_id": data["orderId"]}, format="json").json()
    verified = client.post(VERIFY, {**paid, "subscriptionId": subscription.pk}, format="json")
    assert verified.status_code == 200, verified.content
    body = verified.json()
    assert body["data"]["subscription"]["status"] == "active"
    assert body["data"]["payment"]["amount"] == 482.27
    subscription = reload(subscription)
    assert subscription.status == "active" and subscription.unpaid_since is None
    [order] = renewal_orders(subscription)
    assert order.status == "paid" and order.invoices.count() == 1
    assert client.post(PAY.format(subscription.pk), format="json").status_code == 409
    # the ladder is over: later runs leave it alone until the next period end
    assert run(END + timedelta(days=29)).counts.get("expired_unpaid", 0) == 0
    assert reload(subscription).status == "active"


def test_never_paid_expires_30_days_after_the_close_and_its_order_fails(client_for):
    subscription = monthly_starter_with_overage()
    run(END)
    for days, status in ((3, "past_due"), (7, "suspended"), (30, "expired")):
        run(END + timedelta(days=days))
        assert reload(subscription).status == status
    subscription = reload(subscription)
    assert subscription.ended_at == END + timedelta(days=30) and subscription.unpaid_since is None
    [order] = renewal_orders(subscription)
    assert order.status == "failed" and order.failure_reason == "subscription expired unpaid"
    answer = client_for(subscription.user).post(PAY.format(subscription.pk), format="json")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "nothing_due"


def test_catch_up_after_downtime_applies_every_step_at_once():
    subscription = monthly_starter_with_overage()
    report = run(END + timedelta(days=31))
    assert report.counts["renewed"] == 1 and report.counts["expired_unpaid"] == 1
    assert reload(subscription).status == "expired"
    assert len(renewal_orders(subscription)) == 1


def test_a_subscription_owing_its_renewal_is_not_closed_again():
    subscription = monthly_starter_with_overage()
    run(END)
    # the next period ends (28 days later) before the 30-day expiry
    report = run(datetime(2025, 3, 15, 12, 0, tzinfo=UTC))
    assert report.counts["renewed"] == 0 and len(renewal_orders(subscription)) == 1
    assert reload(subscription).status == "suspended"


# --- the end of a period -----------------------------------------------------------------------

def test_cancel_at_period_end_is_cancelled_at_the_close_with_no_order():
    subscription = monthly_starter_with_overage()
    services.subscription_cancel(subscription_id=subscription.pk, actor=None)
    assert run(END - timedelta(seconds=1)).counts["cancelled"] == 0
    report = run(END)
    assert report.counts["cancelled"] == 1
    subscription = reload(subscription)
    assert (subscription.status, subscription.ended_at) == ("cancelled", END)
    assert renewal_orders(subscription) == []


def test_auto_renew_off_expires_at_the_close():
    subscription = telephony_subscription()
    services.subscription_update(subscription_id=subscription.pk, actor=None, auto_renew=False)
    report = run(END)
    assert report.counts["expired"] == 1
    assert reload(subscription).status == "expired" and renewal_orders(subscription) == []


def test_scheduled_downgrade_applies_at_the_close_and_is_priced_at_the_new_plan():
    subscription = telephony_subscription(plan="PROFESSIONAL", billing_cycle="monthly")
    minutes(subscription, 510)  # 10 over PROFESSIONAL's 500, at ₹1.60
    Subscription.objects.filter(pk=subscription.pk).update(scheduled_plan=telephony_plan("STARTER"),
                                                           scheduled_billing_cycle="quarterly")
    run(END)
    subscription = reload(subscription)
    assert (subscription.plan.code, subscription.billing_cycle) == ("STARTER", "quarterly")
    assert subscription.scheduled_plan is None and subscription.scheduled_billing_cycle == ""
    assert subscription.current_period_end == datetime(2025, 5, 15, 12, 0, tzinfo=UTC)
    assert subscription.period_price_paise == 104_700
    [order] = renewal_orders(subscription)
    assert order.plan.code == "STARTER"
    assert [(line["kind"], line["amountPaise"]) for line in order.lines] == [("plan", 104_700), ("overage", 1_600)]
    assert order.amount_paise == 104_700 + 1_600 + 19_134  # GST 18% of 1,063.00 = 191.34
    limits = {c.metric: c.quota for c in UsageCounter.objects.filter(subscription=subscription)}
    assert limits == {"minutes": 100, "tollFreeNumbers": 1, "extensions": 2}  # STARTER's


def test_pending_checkouts_expire_after_their_ttl(settings):
    settings.SUBSCRIPTION_PENDING_TTL = 3600
    pending = telephony_subscription(status="pending")
    created = pending.created_at
    assert run(created + timedelta(seconds=3599)).counts["expired_pending"] == 0
    report = run(created + timedelta(seconds=3601))
    assert report.counts["expired_pending"] == 1
    pending = reload(pending)
    assert pending.status == "expired" and pending.ended_at is not None


# --- idempotence -------------------------------------------------------------------------------

def test_running_the_close_twice_opens_one_order():
    subscription = monthly_starter_with_overage()
    first, second = run(END), run(END)
    assert (first.counts["renewed"], second.counts["renewed"]) == (1, 0)
    assert len(renewal_orders(subscription)) == 1
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="period_renewed").count() == 1


def test_one_renewal_order_per_period_is_a_database_constraint():
    subscription = monthly_starter_with_overage()
    run(END)
    [order] = renewal_orders(subscription)
    order.pk = None
    order.receipt = "kosh_second_receipt"
    with pytest.raises(IntegrityError), transaction.atomic():
        order.save(force_insert=True)


def test_dry_run_counts_and_changes_nothing():
    subscription = monthly_starter_with_overage()
    report = run(END + timedelta(days=4), dry_run=True)
    assert report.counts["renewed"] == 1 and report.counts["orders_opened"] == 1
    assert renewal_orders(subscription) == []
    subscription = reload(subscription)
    assert subscription.current_period_end == END and subscription.status == "active"


def test_the_admin_close_now_runs_the_same_close():
    subscription = monthly_starter_with_overage()
    report = subscription_renewal_close_now(subscription_id=subscription.pk, as_of=END)
    assert report.counts["renewed"] == 1 and len(renewal_orders(subscription)) == 1
    assert subscription_renewal_close_now(subscription_id=subscription.pk, as_of=END).counts["renewed"] == 0


# --- notices -----------------------------------------------------------------------------------

class BrokenBackend:
    def __init__(self, *args, **kwargs):
        pass

    def send_messages(self, messages):
        raise ConnectionRefusedError("SMTP server down")


def test_one_renewal_notice_per_period_with_the_estimate():
    subscription = monthly_starter_with_overage()
    assert run(END - timedelta(days=3, seconds=1)).counts.get("notice_sent", 0) == 0
    report = run(END - timedelta(days=3))
    assert report.counts["notice_sent"] == 1
    assert len(mail.outbox) == 1
    message = mail.outbox[0]
    assert message.to == [subscription.user.email]
    assert "₹482.27" in message.body and "renews on 15 Feb 2025" in message.subject
    run(END - timedelta(days=2))
    run(END - timedelta(days=1))
    assert len(mail.outbox) == 1  # once per period
    notice = RenewalNotice.objects.get(subscription=subscription)
    assert (notice.status, notice.period_end, notice.amount_paise) == ("sent", END, 48_227)
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="renewal_notice").count() == 1


def test_a_notice_that_cannot_be_sent_is_retried_next_run_and_never_stops_the_close(settings):
    subscription = monthly_starter_with_overage()
    other = telephony_subscription()
    Subscription.objects.filter(pk=other.pk).update(current_period_end=END - timedelta(days=5))
    settings.EMAIL_BACKEND = f"{__name__}.BrokenBackend"
    report = run(END - timedelta(days=2))
    assert report.counts["notice_failed"] == 1 and report.failed == 1
    assert report.counts["renewed"] == 1  # the other subscription closed anyway
    notice = RenewalNotice.objects.get(subscription=subscription)
    assert notice.status == "failed" and "SMTP server down" in notice.last_error
    settings.EMAIL_BACKEND = "django.core.mail.backends.locmem.EmailBackend"
    report = run(END - timedelta(days=1))
    assert report.counts["notice_sent"] == 1 and len(mail.outbox) == 1
    notice.refresh_from_db()
    assert (notice.status, notice.attempts) == ("sent", 2)


# --- pay ---------------------------------------------------------------------------------------

def test_pay_answers_409_when_nothing_is_due_and_404_for_another_user(sandbox, client_for):
    from accounts.tests.factories import UserFactory

    subscription = telephony_subscription()
    answer = client_for(subscription.user).post(PAY.format(subscription.pk), format="json")
    assert answer.status_code == 409 and answer.json()["error"]["code"] == "nothing_due"
    run(END)
    stranger = client_for(UserFactory()).post(PAY.format(subscription.pk), format="json")
    assert stranger.status_code == 404
    assert client_for(subscription.user).post(PAY.format(999_999), format="json").status_code == 404


# --- the command -------------------------------------------------------------------------------

def test_command_prints_counts_per_transition():
    monthly_starter_with_overage()
    out = StringIO()
    call_command("process_subscriptions", "--as-of", "2025-02-18T12:00:00Z", "--batch-size", "10", stdout=out)
    text = out.getvalue()
    assert "periods renewed: 1" in text and "renewal orders opened: 1" in text
    assert "past due (renewal unpaid): 1" in text and "₹482.27" in text


@pytest.mark.parametrize("value", ["yesterday", "2025-13-01", "2025-02-30T00:00:00Z", ""])
def test_command_refuses_a_bad_as_of(value):
    with pytest.raises(CommandError, match="--as-of"):
        call_command("process_subscriptions", "--as-of", value, stdout=StringIO())


def test_command_exits_non_zero_when_a_subscription_fails(settings):
    subscription = telephony_subscription(billing_cycle="annual")
    subscription.plan.annual_price_paise = None  # no price for its cycle any more
    subscription.plan.save(update_fields=["annual_price_paise"])
    healthy = monthly_starter_with_overage()
    with pytest.raises(CommandError, match="1 failure"):
        call_command("process_subscriptions", "--as-of", "2026-01-15T12:00:00Z", stdout=StringIO(),
                     stderr=StringIO())
    assert reload(subscription).current_period_end == datetime(2026, 1, 15, 12, 0, tzinfo=UTC)  # untouched
    assert len(renewal_orders(healthy)) == 1


# --- admin -------------------------------------------------------------------------------------

@pytest.fixture
def admin_client(client):
    from accounts.tests.factories import UserFactory

    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_admin_close_now_action_and_the_timeline(admin_client, now):
    from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
    from django.urls import reverse

    subscription = monthly_starter_with_overage()
    now(END + timedelta(hours=1))
    page = admin_client.post(reverse("admin:subscriptions_subscription_changelist"),
                             {"action": "close_now", ACTION_CHECKBOX_NAME: [subscription.pk]}, follow=True)
    assert page.status_code == 200 and "renewed 1" in page.content.decode()
    [order] = renewal_orders(subscription)
    change = admin_client.get(reverse("admin:subscriptions_subscription_change", args=[subscription.pk]))
    content = change.content.decode()
    assert change.status_code == 200 and order.receipt not in content and "48227" in content  # the orders inline
    timeline = admin_client.get(reverse("admin:subscriptions_subscription_timeline", args=[subscription.pk]))
    text = timeline.content.decode()
    assert timeline.status_code == 200
    assert "Period closed, next period started" in text and "Renewal order" in text and "₹482.27" in text
    assert text.index("Created without online payment") < text.index("Period closed, next period started")


def test_staff_offline_renewal_settles_what_is_due_and_voids_the_order():
    subscription = monthly_starter_with_overage()
    run(END + timedelta(days=8))
    assert reload(subscription).status == "suspended"
    services.subscription_renew(subscription_id=subscription.pk, actor=None, reason="paid by bank transfer")
    subscription = reload(subscription)
    assert (subscription.status, subscription.unpaid_since) == ("active", None)
    assert subscription.current_period_end == datetime(2025, 3, 15, 12, 0, tzinfo=UTC)  # not moved again
    report = run(END + timedelta(days=9))
    assert report.counts["orders_voided"] == 1 and reload(subscription).status == "active"
    [order] = renewal_orders(subscription)
    assert order.status == "failed"


def test_an_immediate_cancel_voids_the_open_renewal_order():
    subscription = monthly_starter_with_overage()
    run(END)
    services.subscription_cancel(subscription_id=subscription.pk, actor=None, immediate=True)
    assert run(END + timedelta(hours=1)).counts["orders_voided"] == 1
    assert renewal_orders(subscription)[0].status == "failed"


class Terminal(StringIO):
    def isatty(self):
        return True


def test_command_shows_progress_on_a_terminal_only():
    monthly_starter_with_overage()
    monthly_starter_with_overage()
    piped, terminal = StringIO(), Terminal()
    call_command("process_subscriptions", "--as-of", "2025-02-15T12:00:00Z", "--dry-run", stdout=piped)
    call_command("process_subscriptions", "--as-of", "2025-02-15T12:00:00Z", "--batch-size", "1", stdout=terminal)
    assert "\r" not in piped.getvalue() and "Dry run (nothing changed)" in piped.getvalue()
    assert "\r  close: 1/2" in terminal.getvalue() and "\r  close: 2/2" in terminal.getvalue()
    assert "periods renewed: 2" in terminal.getvalue()
