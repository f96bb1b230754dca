"""The admin is read-only; its actions go through the services."""

import pytest
from django.urls import reverse

from payments.models import PaymentOrder, Refund, WebhookEvent
from payments.services import order_create, order_verify
from payments.tests.conftest import event_body

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client, staff_user):
    staff_user.role = "super_admin"
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def paid_order(sandbox, user, package):
    order = order_create(user=user, package_id=package.pk)
    checkout = sandbox.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise, currency="INR")
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    return order


def test_pages_render_read_only(admin_client, sandbox, user, package):
    order = paid_order(sandbox, user, package)
    for name in ["paymentorder", "refund", "webhookevent"]:
        assert admin_client.get(reverse(f"admin:payments_{name}_changelist")).status_code == 200
    page = admin_client.get(reverse("admin:payments_paymentorder_change", args=[order.pk]))
    assert page.status_code == 200 and b"Save" not in page.content
    assert admin_client.get(reverse("admin:payments_paymentorder_add")).status_code == 403


def test_refund_action_with_intermediate_form(admin_client, sandbox, user, package):
    from credits.services import wallet_get_or_create_for_user

    order = paid_order(sandbox, user, package)
    url = reverse("admin:payments_paymentorder_changelist")
    form = admin_client.post(url, {"action": "refund", "_selected_action": [order.pk]})
    assert form.status_code == 200 and b"Refund orders" in form.content
    done = admin_client.post(url, {"action": "refund", "_selected_action": [order.pk], "apply": "yes",
                                   "amount": "5000", "reason": "admin refund"}, follow=True)
    assert done.status_code == 200 and b"refunded 5000 paise" in done.content
    refund = Refund.objects.get()
    assert refund.actor.is_staff and refund.credits_reversed == 50
    assert PaymentOrder.objects.get(pk=order.pk).status == "partially_refunded"
    assert wallet_get_or_create_for_user(user=user).balance == 50
    too_much = admin_client.post(url, {"action": "refund", "_selected_action": [order.pk], "apply": "yes",
                                       "amount": "999999", "reason": "x"}, follow=True)
    assert b"amount must be between" in too_much.content and Refund.objects.count() == 1


def test_reprocess_event_action(admin_client, sandbox, user, package, monkeypatch):
    from payments.services import fulfilment

    order = order_create(user=user, package_id=package.pk)
    checkout = sandbox.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise, currency="INR")
    body = event_body("payment.captured", payment=sandbox.fetch_payment(checkout["razorpay_payment_id"]).raw)

    def broken(order, payment_id):
        raise RuntimeError("credits service down")

    monkeypatch.setitem(fulfilment._FULFILLERS, PaymentOrder.Kind.CREDIT_PACKAGE, broken)
    response = admin_client.post("/api/payments/webhook/razorpay", data=body, content_type="application/json",
                                 HTTP_X_RAZORPAY_SIGNATURE=sandbox.webhook_signature(body),
                                 HTTP_X_RAZORPAY_EVENT_ID="evt_admin")
    assert response.status_code == 500
    monkeypatch.undo()
    event = WebhookEvent.objects.get(event_id="evt_admin")
    url = reverse("admin:payments_webhookevent_changelist")
    done = admin_client.post(url, {"action": "reprocess", "_selected_action": [event.pk]}, follow=True)
    assert b"Evt_admin: fulfilled" in done.content  # (the admin capitalizes messages)
    event.refresh_from_db()
    assert event.processed_at and event.attempts == 2
    assert PaymentOrder.objects.get(pk=order.pk).fulfilled_via == "webhook"


def test_reconcile_action(admin_client, sandbox, user, package):
    order = order_create(user=user, package_id=package.pk)
    sandbox.pay(order_id=order.gateway_order_id, amount_paise=order.amount_paise, currency="INR")
    url = reverse("admin:payments_paymentorder_changelist")
    done = admin_client.post(url, {"action": "reconcile", "_selected_action": [order.pk]}, follow=True)
    assert b"fulfilled" in done.content
    order.refresh_from_db()
    assert order.status == "paid" and order.fulfilled_via == "admin"


def test_staff_without_change_permission_cannot_refund(client, sandbox, user, package):
    """Platform support (read-only) sees orders in the admin but cannot refund them."""
    from accounts.tests.factories import platform_support

    client.force_login(platform_support())
    order = paid_order(sandbox, user, package)
    url = reverse("admin:payments_paymentorder_changelist")
    response = client.post(url, {"action": "refund", "_selected_action": [order.pk], "apply": "yes",
                                 "reason": "x"})
    assert response.status_code in (200, 302)
    assert not Refund.objects.exists()
