"""reconcile_payments and expire_orders."""

from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments.models import PaymentOrder
from payments.services import order_create

pytestmark = pytest.mark.django_db


def age(order, minutes):
    PaymentOrder.objects.filter(pk=order.pk).update(created_at=timezone.now() - timedelta(minutes=minutes))


def run(*args):
    out = StringIO()
    call_command(*args, stdout=out, stderr=StringIO())
    return out.getvalue()


def test_reconcile_settles_a_paid_order_whose_webhook_was_lost(user, fake_razorpay, package):
    from credits.services import wallet_get_or_create_for_user

    paid = order_create(user=user, package_id=package.pk)
    fake_razorpay.pay(paid.gateway_order_id)  # paid at Checkout; no verify, no webhook
    failed = order_create(user=user, package_id=package.pk)
    fake_razorpay.pay(failed.gateway_order_id, status="failed")
    untouched = order_create(user=user, package_id=package.pk)  # customer never paid
    recent = order_create(user=user, package_id=package.pk)
    fake_razorpay.pay(recent.gateway_order_id)  # inside the grace period: left alone
    for order in (paid, failed, untouched):
        age(order, 30)

    output = run("reconcile_payments", "--grace-minutes", "15")
    assert "Reconciled 3 order(s)" in output
    assert "failed: 1" in output and "fulfilled: 1" in output and "pending: 1" in output
    statuses = {o.pk: o.status for o in PaymentOrder.objects.all()}
    assert statuses == {paid.pk: "paid", failed.pk: "failed", untouched.pk: "created", recent.pk: "created"}
    paid.refresh_from_db()
    assert paid.fulfilled_via == "reconcile" and paid.fulfilment_result["credits_added"] == 100
    assert wallet_get_or_create_for_user(user=user).balance == 100

    # running again changes nothing: the paid order is done; the recently failed one is asked
    # about again (it could still be paid) and stays failed
    again = run("reconcile_payments", "--grace-minutes", "15")
    assert "Reconciled 2 order(s)" in again and "unchanged: 1" in again and "pending: 1" in again
    assert wallet_get_or_create_for_user(user=user).balance == 100


def test_reconcile_settles_a_failed_order_paid_on_a_later_attempt(client, user, fake_razorpay, package):
    """A failed attempt (payment.failed) fails the order; a second attempt succeeds but its verify
    and webhook are lost: reconcile must still deliver what was paid for."""
    from credits.services import wallet_get_or_create_for_user
    from payments.tests.conftest import event_body, post_webhook

    order = order_create(user=user, package_id=package.pk)
    failed = fake_razorpay.pay(order.gateway_order_id, status="failed")
    body = event_body("payment.failed", payment={"id": failed["razorpay_payment_id"],
                                                 "order_id": order.gateway_order_id,
                                                 "status": "failed", "amount": order.amount_paise})
    assert post_webhook(client, body, event_id="evt_failed").status_code == 200
    order.refresh_from_db()
    assert order.status == "failed"
    fake_razorpay.pay(order.gateway_order_id)  # the retry succeeds; nothing reaches us
    age(order, 30)
    assert "fulfilled: 1" in run("reconcile_payments", "--grace-minutes", "15")
    order.refresh_from_db()
    assert order.status == "paid" and order.fulfilled_via == "reconcile"
    assert wallet_get_or_create_for_user(user=user).balance == package.credits


def test_reconcile_leaves_old_failed_orders_alone(user, fake_razorpay, package):
    order = order_create(user=user, package_id=package.pk)
    PaymentOrder.objects.filter(pk=order.pk).update(
        status="failed", created_at=timezone.now() - timedelta(days=4))
    assert "nothing to do" in run("reconcile_payments", "--grace-minutes", "15")
    assert not fake_razorpay.calls("GET", f"/v1/orders/{order.gateway_order_id}/payments")


def test_reconcile_with_the_gateway_down_exits_non_zero_and_changes_nothing(user, fake_razorpay, package):
    order = order_create(user=user, package_id=package.pk)
    fake_razorpay.pay(order.gateway_order_id)
    age(order, 30)
    fake_razorpay.stop()
    with pytest.raises(SystemExit) as info:
        run("reconcile_payments")
    assert info.value.code == 1
    order.refresh_from_db()
    assert order.status == "created"


def test_reconcile_with_sandbox(user, sandbox, package):
    order = order_create(user=user, package_id=package.pk)
    sandbox.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise, currency="INR")
    age(order, 60)
    assert "fulfilled: 1" in run("reconcile_payments")


def test_expire_orders(user, sandbox, package, settings):
    settings.PAYMENT_ORDER_TTL = 3600
    stale = order_create(user=user, package_id=package.pk)
    fresh = order_create(user=user, package_id=package.pk)
    paid = order_create(user=user, package_id=package.pk)
    checkout = sandbox.pay(order_id=paid.gateway_order_id, amount_paise=paid.amount_paise, currency="INR")
    from payments.services import order_verify

    order_verify(order=paid, payment_id=checkout["razorpay_payment_id"], signature=checkout["razorpay_signature"])
    age(stale, 61)
    age(paid, 61)
    assert "1 order(s) would expire" in run("expire_orders", "--dry-run")
    assert PaymentOrder.objects.get(pk=stale.pk).status == "created"
    assert "1 order(s) expired" in run("expire_orders")
    stale.refresh_from_db()
    assert stale.status == "failed" and stale.failure_reason.startswith("expired")
    assert PaymentOrder.objects.get(pk=fresh.pk).status == "created"
    assert PaymentOrder.objects.get(pk=paid.pk).status == "paid"
    assert "0 order(s) expired" in run("expire_orders")

    # paid after all (a late capture): still fulfilled
    checkout = sandbox.pay(order_id=stale.gateway_order_id, amount_paise=stale.amount_paise, currency="INR")
    order, fulfilled = order_verify(order=stale, payment_id=checkout["razorpay_payment_id"],
                                    signature=checkout["razorpay_signature"])
    assert fulfilled and order.status == "paid"
