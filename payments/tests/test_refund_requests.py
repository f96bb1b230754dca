"""No network call inside a database transaction (issue 14, item 1): a refund is recorded as
requested and committed, the gateway is asked with no transaction open, and its answer is applied
in a second transaction — exactly once, whether that happens in the request, in a retry, in
reconcile_payments or through the refund webhook. (Every payments test also fails if a gateway
method is called inside a transaction: conftest.gateway_calls_outside_transactions.)"""

import threading
from datetime import timedelta

import pytest
from django.core.management import call_command
from django.db import connection
from django.utils import timezone

from config.models import IdempotencyRecord
from payments.models import Refund
from payments.services import refunds as refund_services
from payments.tests.conftest import event_body, post_webhook
from payments.tests.test_refunds import paid_package_order, refund_url, wallet

pytestmark = pytest.mark.django_db


def refund_posts(fake, order):
    return fake.calls("POST", f"/v1/payments/{order.gateway_payment_id}/refund")


@pytest.fixture
def apply_fails_once(monkeypatch):
    """Our write fails once right after the gateway accepted the refund."""
    real = refund_services._refund_apply
    failures = []

    def apply(**kwargs):
        if not failures:
            failures.append(True)
            raise RuntimeError("database went away after the gateway accepted")
        return real(**kwargs)

    monkeypatch.setattr(refund_services, "_refund_apply", apply)
    return failures


def _fail_first_attempt(staff_client, order, fake, key="refund-1"):
    with pytest.raises(RuntimeError, match="database went away"):
        staff_client.post(refund_url(order), {"reason": "customer asked"}, format="json",
                          HTTP_IDEMPOTENCY_KEY=key)
    refund = Refund.objects.get()
    assert refund.status == "requested" and refund.gateway_refund_id is None  # committed before the call
    assert len(fake.refunds) == 1  # the gateway did refund
    order.refresh_from_db()
    assert order.amount_refunded_paise == 0 and order.status == "paid"
    assert not IdempotencyRecord.objects.exists()  # the failed request released its key
    return refund


def _assert_refunded_once(fake, order, user, refund):
    refund.refresh_from_db()
    (gateway_refund,) = fake.refunds.values()
    assert refund.status == "processed" and refund.gateway_refund_id == gateway_refund["id"]
    assert refund.credits_reversed == 100
    order.refresh_from_db()
    assert order.status == "refunded" and order.amount_refunded_paise == 10000
    assert wallet(user).balance == 0
    assert Refund.objects.count() == 1 and len(fake.refunds) == 1


def test_write_failing_after_the_gateway_accepted_then_a_retry_refunds_once(
        staff_client, user, fake_razorpay, package, apply_fails_once):
    order = paid_package_order(fake_razorpay, user, package)
    refund = _fail_first_attempt(staff_client, order, fake_razorpay)
    retry = staff_client.post(refund_url(order), {"reason": "customer asked"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="refund-1")
    assert retry.status_code == 201, retry.content
    assert retry.json()["data"]["refund"]["refund_id"] == next(iter(fake_razorpay.refunds))
    _assert_refunded_once(fake_razorpay, order, user, refund)
    replay = staff_client.post(refund_url(order), {"reason": "customer asked"}, format="json",
                               HTTP_IDEMPOTENCY_KEY="refund-1")
    assert replay.json() == retry.json() and replay["Idempotent-Replayed"] == "true"
    assert len(fake_razorpay.refunds) == 1


def test_the_retry_finds_the_refund_even_where_the_gateway_forgot_the_key(
        staff_client, user, fake_razorpay, package, apply_fails_once):
    """The gateway's own idempotency expires; our receipt still finds the refund: no second one."""
    order = paid_package_order(fake_razorpay, user, package)
    refund = _fail_first_attempt(staff_client, order, fake_razorpay)
    fake_razorpay.refund_keys.clear()
    retry = staff_client.post(refund_url(order), {"reason": "customer asked"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="refund-1")
    assert retry.status_code == 201, retry.content
    assert len(refund_posts(fake_razorpay, order)) == 1  # looked it up, did not ask again
    _assert_refunded_once(fake_razorpay, order, user, refund)


def test_write_failing_after_the_gateway_accepted_then_reconcile_applies_it_once(
        api_client, staff_client, user, fake_razorpay, package, apply_fails_once):
    order = paid_package_order(fake_razorpay, user, package)
    refund = _fail_first_attempt(staff_client, order, fake_razorpay)
    out = _reconcile()
    assert "refund applied: 1" in out
    _assert_refunded_once(fake_razorpay, order, user, refund)
    assert "refund(s)" not in _reconcile()  # nothing left awaiting the gateway
    # the client's retry and the gateway's webhook arrive late: both find it applied
    retry = staff_client.post(refund_url(order), {"reason": "customer asked"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="refund-1")
    assert retry.status_code == 201 and retry.json()["data"]["refund"]["status"] == "processed"
    entity = next(iter(fake_razorpay.refunds.values()))
    webhook = post_webhook(api_client, event_body("refund.processed", refund=entity), event_id="rp")
    assert webhook.json()["data"]["result"] == "refund already processed"
    _assert_refunded_once(fake_razorpay, order, user, refund)
    assert len(refund_posts(fake_razorpay, order)) == 1


def test_write_failing_after_the_gateway_accepted_then_the_webhook_applies_it_once(
        api_client, staff_client, user, fake_razorpay, package, apply_fails_once):
    order = paid_package_order(fake_razorpay, user, package)
    refund = _fail_first_attempt(staff_client, order, fake_razorpay)
    entity = next(iter(fake_razorpay.refunds.values()))
    assert entity["receipt"] == refund.receipt
    first = post_webhook(api_client, event_body("refund.processed", refund=entity), event_id="rp1")
    assert first.json()["data"]["result"] == "refund recorded"
    again = post_webhook(api_client, event_body("refund.created", refund=entity), event_id="rp2")
    assert again.json()["data"]["result"] == "refund noted"
    _assert_refunded_once(fake_razorpay, order, user, refund)
    assert "refund(s)" not in _reconcile()


def _reconcile() -> str:
    from io import StringIO

    out = StringIO()
    call_command("reconcile_payments", "--grace-minutes", "0", stdout=out, stderr=StringIO())
    return out.getvalue()


def test_a_refusal_cancels_the_request_and_the_order_stays_refundable(staff_client, user, fake_razorpay,
                                                                      package):
    order = paid_package_order(fake_razorpay, user, package)
    fake_razorpay.payments[order.gateway_payment_id]["status"] = "authorized"  # not refundable there
    response = staff_client.post(refund_url(order), {"reason": "x"}, format="json")
    assert response.status_code == 502 and response.json()["error"]["code"] == "gateway_rejected"
    refund = Refund.objects.get()
    assert refund.status == "cancelled" and refund.credits_reversed == 0
    assert wallet(user).balance == 100
    fake_razorpay.payments[order.gateway_payment_id]["status"] = "captured"
    assert staff_client.post(refund_url(order), {"reason": "x"}, format="json").status_code == 201
    assert wallet(user).balance == 0 and len(fake_razorpay.refunds) == 1


def test_an_unclear_failure_is_settled_by_reconcile(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    fake_razorpay.mode = "error500"
    assert staff_client.post(refund_url(order), {"reason": "x"}, format="json").status_code == 502
    fake_razorpay.mode = "ok"
    assert "refund pending: 1" in _reconcile()  # too recent to conclude it never arrived
    Refund.objects.update(created_at=timezone.now() - refund_services.in_flight_window() - timedelta(seconds=1))
    assert "refund cancelled: 1" in _reconcile()
    assert Refund.objects.get().status == "cancelled" and not fake_razorpay.refunds
    response = staff_client.post(refund_url(order), {"reason": "again"}, format="json")
    assert response.status_code == 201 and wallet(user).balance == 0


def test_a_new_refund_settles_a_stale_request_of_the_same_order_first(staff_client, user, fake_razorpay,
                                                                    package, apply_fails_once):
    """Staff refunding again without a key (the admin) after a lost answer: the earlier request is
    found at the gateway and applied; the new one finds nothing left to refund."""
    order = paid_package_order(fake_razorpay, user, package)
    refund = _fail_first_attempt(staff_client, order, fake_razorpay)
    Refund.objects.update(created_at=timezone.now() - refund_services.in_flight_window() - timedelta(seconds=1))
    response = staff_client.post(refund_url(order), {"reason": "again"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_refundable"
    _assert_refunded_once(fake_razorpay, order, user, refund)


def test_the_gateway_is_asked_with_our_receipt_as_its_idempotency_key(staff_client, user, fake_razorpay,
                                                                     package):
    order = paid_package_order(fake_razorpay, user, package)
    assert staff_client.post(refund_url(order), {"amount": 500, "reason": "x"}, format="json").status_code == 201
    refund = Refund.objects.get()
    (gateway_refund,) = fake_razorpay.refunds.values()
    assert gateway_refund["receipt"] == refund.receipt and len(refund.receipt) <= 40
    assert fake_razorpay.refund_keys[refund.receipt][0] == gateway_refund["id"]


@pytest.mark.postgres_only  # real threads need PostgreSQL row locks
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_refund_once(fake_razorpay, package, client_for):
    from accounts.tests.factories import UserFactory

    buyer = UserFactory()
    order = paid_package_order(fake_razorpay, buyer, package)
    client = client_for(UserFactory(is_staff=True))
    fake_razorpay.mode, fake_razorpay.delay = "sleep", 0.3  # the gateway is slow: requests overlap
    barrier, results = threading.Barrier(4), [None] * 4

    def refund(index):
        try:
            barrier.wait()
            results[index] = client.post(refund_url(order), {"amount": 3000, "reason": "race"}, format="json",
                                         HTTP_IDEMPOTENCY_KEY="same-key")
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = sorted(r.status_code for r in results)
    assert set(statuses) <= {201, 409} and 201 in statuses, statuses
    in_progress = [r for r in results if r.status_code == 409]
    assert all(r.json()["error"]["code"] == "idempotency_key_in_progress" for r in in_progress)
    assert len(fake_razorpay.refunds) == 1
    order.refresh_from_db()
    assert order.amount_refunded_paise == 3000 and Refund.objects.get().status == "processed"
    assert wallet(buyer).balance == 70
    # after the race, the key replays the one answer
    fake_razorpay.mode = "ok"
    replay = client.post(refund_url(order), {"amount": 3000, "reason": "race"}, format="json",
                         HTTP_IDEMPOTENCY_KEY="same-key")
    assert replay.status_code == 201 and replay["Idempotent-Replayed"] == "true"
    assert len(fake_razorpay.refunds) == 1
