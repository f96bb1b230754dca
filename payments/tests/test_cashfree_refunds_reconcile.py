"""Refunds and reconciliation go to the gateway that took the payment; reconcile asks both."""

from datetime import timedelta
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.utils import timezone

from payments.models import PaymentOrder, Refund
from payments.services import order_confirm, order_create

pytestmark = pytest.mark.django_db

HOOK = "/api/v1/payments/webhook/cashfree"


def balance_of(user) -> int:
    from credits.services import wallet_get_or_create_for_user

    return wallet_get_or_create_for_user(user=user).balance


def paid_cashfree_order(fake_cashfree, user, package):
    order = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    payment = fake_cashfree.pay(order.gateway_order_id)
    order, _ = order_confirm(order=order)
    assert order.status == "paid" and order.gateway_payment_id == str(payment["cf_payment_id"])
    return order


def refund_webhook(client, fake_cashfree, refund_id, status):
    refund = dict(fake_cashfree.refunds[refund_id], refund_status=status)
    body, headers = fake_cashfree.webhook("REFUND_STATUS_WEBHOOK", refund=refund)
    return client.post(HOOK, data=body, content_type="application/json", **headers)


def test_refund_of_a_cashfree_payment(staff_client, api_client, user, fake_cashfree, fake_razorpay, package):
    order = paid_cashfree_order(fake_cashfree, user, package)
    assert balance_of(user) == 100
    response = staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"amount": 4000, "reason": "customer asked"},
                                 format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    # our refund id, sent to Cashfree, doubles as its idempotency key
    assert data["refund"]["refund_id"] == f"{order.receipt}-r1"
    assert data["refund"]["status"] == "pending" and data["refund"]["credits_reversed"] == 40
    assert data["order"]["status"] == "partially_refunded" and data["order"]["amount_refunded"] == 4000
    [call] = fake_cashfree.calls("POST", f"/orders/{order.gateway_order_id}/refunds")
    assert call[2]["refund_id"] == f"{order.receipt}-r1" and call[2]["refund_amount"] == Decimal("40.00")
    assert not fake_razorpay.requests  # nothing went to the other gateway
    assert balance_of(user) == 60

    # Cashfree reports it done; the redelivery changes nothing
    done = refund_webhook(api_client, fake_cashfree, f"{order.receipt}-r1", "SUCCESS")
    assert done.status_code == 200 and done.json()["data"]["result"] == "refund processed"
    assert refund_webhook(api_client, fake_cashfree, f"{order.receipt}-r1", "SUCCESS").json()["data"]["duplicate"]
    refund = Refund.objects.get()
    assert refund.status == "processed" and refund.processed_at is not None

    # the rest; its id follows on
    rest = staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"reason": "the rest"}, format="json")
    assert rest.status_code == 201 and rest.json()["data"]["refund"]["refund_id"] == f"{order.receipt}-r2"
    assert rest.json()["data"]["order"]["status"] == "refunded" and balance_of(user) == 0


def test_cancelled_cashfree_refund_gives_the_credits_back(staff_client, api_client, user, fake_cashfree, package):
    order = paid_cashfree_order(fake_cashfree, user, package)
    staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"reason": "oops"}, format="json")
    assert balance_of(user) == 0
    response = refund_webhook(api_client, fake_cashfree, f"{order.receipt}-r1", "CANCELLED")
    assert response.json()["data"]["result"] == "refund failed"
    order.refresh_from_db()
    assert order.status == "paid" and order.amount_refunded_paise == 0 and balance_of(user) == 100
    assert Refund.objects.get().status == "failed"


def test_refund_made_in_the_cashfree_dashboard_is_recorded(api_client, user, fake_cashfree, package):
    order = paid_cashfree_order(fake_cashfree, user, package)
    gateway_refund = {"cf_payment_id": int(order.gateway_payment_id), "cf_refund_id": "99", "order_id":
                      order.gateway_order_id, "refund_id": "refund_dashboard_1", "entity": "refund",
                      "refund_amount": "25.00", "refund_currency": "INR", "refund_status": "SUCCESS",
                      "refund_type": "MERCHANT_INITIATED"}
    body, headers = fake_cashfree.webhook("REFUND_STATUS_WEBHOOK", refund=gateway_refund)
    response = api_client.post(HOOK, data=body, content_type="application/json", **headers)
    assert response.status_code == 200 and response.json()["data"]["result"] == "refund recorded"
    refund = Refund.objects.get()
    assert (refund.gateway_refund_id, refund.amount_paise, refund.source, refund.status) == (
        "refund_dashboard_1", 2500, "gateway", "processed")
    assert balance_of(user) == 75


def test_cashfree_refund_that_fails_at_the_gateway_changes_nothing(staff_client, user, fake_cashfree, package):
    """A 5xx may still have refunded: the refund stays requested (nothing taken back) until the
    gateway is asked again; Cashfree does not list it, so reconcile cancels it after the window."""
    order = paid_cashfree_order(fake_cashfree, user, package)
    fake_cashfree.mode = "error500"
    response = staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"reason": "x"}, format="json")
    assert response.status_code == 502 and balance_of(user) == 100
    assert Refund.objects.get().status == "requested"
    fake_cashfree.mode = "ok"
    Refund.objects.update(created_at=timezone.now() - timedelta(minutes=10))
    out = StringIO()
    call_command("reconcile_payments", "--grace-minutes", "0", stdout=out, stderr=StringIO())
    assert "refund cancelled: 1" in out.getvalue()
    order.refresh_from_db()
    assert order.status == "paid" and Refund.objects.get().status == "cancelled" and balance_of(user) == 100


def test_adapters_fetch_refunds(fake_razorpay, fake_cashfree, user, package):
    """Every adapter can look a refund up (reconcile learns refunds from it)."""
    from payments.gateways import get_gateway
    from payments.gateways.sandbox import SandboxGateway

    cashfree_order = paid_cashfree_order(fake_cashfree, user, package)
    cashfree = get_gateway("cashfree")
    made = cashfree.refund(payment_id=cashfree_order.gateway_payment_id, amount_paise=500,
                           receipt="kosh_fetch-r1", order_id=cashfree_order.gateway_order_id)
    assert cashfree.fetch_refund(refund_id=made.id, order_id=cashfree_order.gateway_order_id) == made

    sandbox = SandboxGateway()
    remote = sandbox.create_order(amount_paise=10000, currency="INR", receipt="r")
    payment_id = sandbox.pay(order_id=remote.id, amount_paise=10000, currency="INR")["razorpay_payment_id"]
    made = sandbox.refund(payment_id=payment_id, amount_paise=100)
    assert sandbox.fetch_refund(refund_id=made.id) == made

    razorpay = get_gateway("razorpay")
    remote = razorpay.create_order(amount_paise=10000, currency="INR", receipt="r")
    payment_id = fake_razorpay.pay(remote.id)["razorpay_payment_id"]
    made = razorpay.refund(payment_id=payment_id, amount_paise=100)
    assert razorpay.fetch_refund(refund_id=made.id) == made
    assert fake_razorpay.requests[-1][:2] == ("GET", f"/v1/refunds/{made.id}")


def test_reconcile_asks_both_gateways(user, fake_razorpay, fake_cashfree, package):
    """A Cashfree order whose webhook never came, and a Razorpay one: one run settles both, each
    with the gateway that holds it."""
    from credits.models import CreditTransaction

    cashfree_paid = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    payment = fake_cashfree.pay(cashfree_paid.gateway_order_id)  # paid; no verify, no webhook
    cashfree_failed = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    fake_cashfree.pay(cashfree_failed.gateway_order_id, status="FAILED")
    cashfree_dropped = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    fake_cashfree.pay(cashfree_dropped.gateway_order_id, status="USER_DROPPED")
    razorpay_paid = order_create(user=user, package_id=package.pk)
    fake_razorpay.pay(razorpay_paid.gateway_order_id)
    PaymentOrder.objects.update(created_at=timezone.now() - timedelta(minutes=30))

    out = StringIO()
    call_command("reconcile_payments", "--grace-minutes", "15", stdout=out, stderr=StringIO())
    statuses = {o.pk: (o.status, o.fulfilled_via) for o in PaymentOrder.objects.all()}
    assert statuses == {cashfree_paid.pk: ("paid", "reconcile"), cashfree_failed.pk: ("failed", ""),
                        cashfree_dropped.pk: ("failed", ""), razorpay_paid.pk: ("paid", "reconcile")}
    cashfree_paid.refresh_from_db()
    assert cashfree_paid.gateway_payment_id == str(payment["cf_payment_id"])
    assert len(fake_cashfree.calls("GET", f"/orders/{cashfree_paid.gateway_order_id}/payments")) == 1
    assert CreditTransaction.objects.filter(source="payment").count() == 2 and balance_of(user) == 200


def test_reconcile_with_cashfree_down_is_reported_not_fatal(user, fake_razorpay, fake_cashfree, package):
    order = order_create(user=user, package_id=package.pk, gateways=["cashfree"])
    fake_cashfree.pay(order.gateway_order_id)
    other = order_create(user=user, package_id=package.pk)
    fake_razorpay.pay(other.gateway_order_id)
    PaymentOrder.objects.update(created_at=timezone.now() - timedelta(minutes=30))
    fake_cashfree.stop()
    out = StringIO()
    with pytest.raises(SystemExit) as exit_code:  # cron alerts on it
        call_command("reconcile_payments", "--grace-minutes", "15", stdout=out, stderr=StringIO())
    assert exit_code.value.code == 1
    assert "gateway error: 1" in out.getvalue() and "fulfilled: 1" in out.getvalue()
    assert PaymentOrder.objects.get(pk=order.pk).status == "created"
