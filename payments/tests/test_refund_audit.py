"""A staff refund is one audit event, recorded with the request (DESIGN §4.6)."""

import pytest

from config.models import AuditEvent
from payments.tests.test_refunds import paid_package_order, refund_url

pytestmark = pytest.mark.django_db


def test_a_refund_is_one_event_with_the_actor_order_and_amount(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    assert not AuditEvent.objects.exists()
    response = staff_client.post(refund_url(order), {"reason": "customer asked", "amount": 4000}, format="json")
    assert response.status_code == 201, response.content
    event = AuditEvent.objects.get()
    assert (event.actor, event.action, event.object_type, event.object_id) == (
        staff_client.user, "payment.refund", "payment_order", str(order.pk))
    assert event.tenant_id == order.tenant_id and event.reason == "customer asked"
    assert event.before == {"status": "paid", "amount_refunded_paise": 0}
    assert event.after["amount_paise"] == 4000 and event.after["refund_status"] == "requested"
    assert event.ip == "127.0.0.1" and event.request_id


def test_a_refused_refund_request_records_nothing(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    response = staff_client.post(refund_url(order), {"reason": "x", "amount": 10**9}, format="json")
    assert response.status_code == 400
    assert not AuditEvent.objects.exists()
