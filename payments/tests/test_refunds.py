"""Staff refunds through the gateway, and taking back what was bought."""

import pytest

from config.policy import principal_for_user
from payments.models import PaymentOrder, Refund
from payments.services import order_create, order_refund, order_verify
from payments.tests.conftest import event_body, post_webhook

pytestmark = pytest.mark.django_db


def refund_url(order):
    return f"/api/v1/payments/{order.pk}/refund"


def wallet(user):
    from credits.services import wallet_get_or_create_for_user

    return wallet_get_or_create_for_user(user=user)


def paid_package_order(fake, user, package):
    order = order_create(user=user, package_id=package.pk)
    checkout = fake.pay(order.gateway_order_id)
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    return order


def paid_plan_order(fake, user, plan="standard"):
    order = order_create(user=user, plan_code=plan)
    checkout = fake.pay(order.gateway_order_id)
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    return order


def test_full_refund_of_a_package_takes_the_credits_back(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    assert wallet(user).balance == 100
    response = staff_client.post(refund_url(order), {"reason": "customer asked"}, format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["refund"]["amount"] == 10000 and data["refund"]["status"] == "processed"
    assert data["refund"]["credits_reversed"] == 100 and data["refund"]["credits_shortfall"] == 0
    assert data["order"]["status"] == "refunded" and data["order"]["amount_refunded"] == 10000
    assert wallet(user).balance == 0
    assert fake_razorpay.calls("POST", f"/v1/payments/{order.gateway_payment_id}/refund")[0][2]["amount"] == 10000
    refund = Refund.objects.get()
    assert refund.actor == staff_client.user and refund.reason == "customer asked"
    from credits.models import CreditTransaction

    row = CreditTransaction.objects.get(wallet__user=user, source="refund")
    assert row.action == "debit" and row.credits == 100 and row.reference_id == refund.gateway_refund_id
    # nothing left to refund
    again = staff_client.post(refund_url(order), {"reason": "again"}, format="json")
    assert again.status_code == 400 and again.json()["error"]["code"] == "not_refundable"


def test_partial_refunds_take_proportional_credits_rounded_down(staff_client, user, fake_razorpay, catalog):
    from plans.models import CreditPackage

    pro = CreditPackage.objects.get(name="Pro Pack")  # 500 credits for ₹450
    order = paid_package_order(fake_razorpay, user, pro)
    steps = [(10001, 111), (9999, 111), (25000, 278)]  # floor(500 × refunded_total / 45000) − claimed
    for amount, credits in steps:
        response = staff_client.post(refund_url(order), {"amount": amount, "reason": "partial"}, format="json")
        assert response.status_code == 201, response.content
        assert response.json()["data"]["refund"]["credits_reversed"] == credits
    order.refresh_from_db()
    assert order.status == "refunded" and order.amount_refunded_paise == 45000
    assert wallet(user).balance == 0
    assert sum(r.credits_reversed for r in order.refunds.all()) == 500


def test_partial_refund_status_and_over_refund(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    response = staff_client.post(refund_url(order), {"amount": 2500, "reason": "part"}, format="json")
    assert response.json()["data"]["order"]["status"] == "partially_refunded"
    assert wallet(user).balance == 75
    for amount in [7501, 0, -5, "100", 12.5, True]:
        response = staff_client.post(refund_url(order), {"amount": amount, "reason": "x"}, format="json")
        assert response.status_code == 400, amount
    assert staff_client.post(refund_url(order), {"amount": 100}, format="json").status_code == 400  # no reason
    assert len(fake_razorpay.refunds) == 1


def test_shortfall_is_recorded_when_credits_were_spent(staff_client, user, fake_razorpay, package):
    from credits.services import wallet_deduct

    order = paid_package_order(fake_razorpay, user, package)
    wallet_deduct(wallet=wallet(user), credits=70, reason="spent")
    response = staff_client.post(refund_url(order), {"reason": "chargeback"}, format="json")
    refund = response.json()["data"]["refund"]
    assert refund["credits_reversed"] == 30 and refund["credits_shortfall"] == 70
    assert wallet(user).balance == 0


def test_refund_of_a_token_plan_returns_to_basic(staff_client, user, fake_razorpay):
    from subscriptions.services import token_usage_get

    order = paid_plan_order(fake_razorpay, user)
    assert token_usage_get(user=user)["plan"] == "standard"
    partial = staff_client.post(refund_url(order), {"amount": 900, "reason": "goodwill"}, format="json")
    assert partial.status_code == 201 and partial.json()["data"]["refund"]["plan_reverted"] is False
    assert token_usage_get(user=user)["plan"] == "standard"
    rest = staff_client.post(refund_url(order), {"reason": "cancel"}, format="json")
    assert rest.status_code == 201 and rest.json()["data"]["refund"]["amount"] == 2000
    assert rest.json()["data"]["refund"]["plan_reverted"] is True
    assert token_usage_get(user=user)["plan"] == "basic"


def test_refund_of_an_old_plan_keeps_a_later_purchase(staff_client, user, fake_razorpay):
    from subscriptions.services import token_usage_get

    first = paid_plan_order(fake_razorpay, user, "standard")
    paid_plan_order(fake_razorpay, user, "premium")
    response = staff_client.post(refund_url(first), {"reason": "double purchase"}, format="json")
    assert response.status_code == 201 and response.json()["data"]["refund"]["plan_reverted"] is False
    assert token_usage_get(user=user)["plan"] == "premium"


@pytest.mark.parametrize("mode", ["stopped", "error500"])
def test_gateway_down_refund_is_502_and_nothing_is_taken_back(staff_client, user, fake_razorpay, package, mode):
    """An unclear failure may still have refunded: the refund stays requested (holding its amount)
    until the gateway has been asked again; nothing is taken back meanwhile."""
    order = paid_package_order(fake_razorpay, user, package)
    if mode == "stopped":
        fake_razorpay.stop()
    else:
        fake_razorpay.mode = mode
    response = staff_client.post(refund_url(order), {"reason": "x"}, format="json")
    assert response.status_code == 502 and response.json()["success"] is False
    order.refresh_from_db()
    assert order.status == "paid" and order.amount_refunded_paise == 0
    assert wallet(user).balance == 100
    refund = Refund.objects.get()
    assert refund.status == "requested" and refund.gateway_refund_id is None and refund.receipt
    # the money it may be moving cannot be refunded a second time meanwhile
    again = staff_client.post(refund_url(order), {"amount": 100, "reason": "y"}, format="json")
    assert again.status_code == 400 and "await the gateway" in again.json()["error"]["message"]


def test_only_staff_and_only_paid_orders(auth_client, staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    assert auth_client.post(refund_url(order), {"reason": "x"}, format="json").status_code == 403
    assert staff_client.post("/api/v1/payments/999999/refund", {"reason": "x"}, format="json").status_code == 404
    unpaid = order_create(user=user, package_id=package.pk)
    response = staff_client.post(refund_url(unpaid), {"reason": "x"}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "not_refundable"


def test_refund_idempotency_key(staff_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    first = staff_client.post(refund_url(order), {"amount": 1000, "reason": "x"}, format="json",
                              HTTP_IDEMPOTENCY_KEY="r1")
    second = staff_client.post(refund_url(order), {"amount": 1000, "reason": "x"}, format="json",
                               HTTP_IDEMPOTENCY_KEY="r1")
    assert first.json() == second.json() and len(fake_razorpay.refunds) == 1


def test_refund_processed_webhook_settles_and_dashboard_refunds_are_recorded(
        api_client, user, fake_razorpay, package, staff_user):
    order = paid_package_order(fake_razorpay, user, package)
    refund = order_refund(principal=principal_for_user(staff_user), order_id=order.pk, amount_paise=1000,
                          reason="x", actor=staff_user)
    Refund.objects.filter(pk=refund.pk).update(status="pending", processed_at=None)
    entity = dict(fake_razorpay.refunds[refund.gateway_refund_id])
    response = post_webhook(api_client, event_body("refund.processed", refund=entity), event_id="r1")
    assert response.json()["data"]["result"] == "refund processed"
    refund.refresh_from_db()
    assert refund.status == "processed" and refund.processed_at

    # a refund made in the Razorpay dashboard: learnt from the webhook, reversed the same way
    dashboard = {**entity, "id": "rfnd_Dashboard0001", "amount": 4000}
    response = post_webhook(api_client, event_body("refund.processed", refund=dashboard), event_id="r2")
    assert response.json()["data"]["result"] == "refund recorded"
    order.refresh_from_db()
    assert order.amount_refunded_paise == 5000 and order.status == "partially_refunded"
    recorded = Refund.objects.get(gateway_refund_id="rfnd_Dashboard0001")
    assert recorded.source == "gateway" and recorded.credits_reversed == 40
    assert wallet(user).balance == 50


def test_refund_failed_webhook_restores_the_order_and_credits(api_client, user, fake_razorpay, package,
                                                              staff_user):
    order = paid_package_order(fake_razorpay, user, package)
    refund = order_refund(principal=principal_for_user(staff_user), order_id=order.pk, reason="x")
    assert wallet(user).balance == 0
    entity = dict(fake_razorpay.refunds[refund.gateway_refund_id], status="failed")
    response = post_webhook(api_client, event_body("refund.failed", refund=entity), event_id="rf")
    assert response.json()["data"]["result"] == "refund failed"
    order.refresh_from_db()
    assert order.status == "paid" and order.amount_refunded_paise == 0
    assert wallet(user).balance == 100


def test_staff_order_detail(staff_client, auth_client, user, fake_razorpay, package):
    order = paid_package_order(fake_razorpay, user, package)
    order_refund(principal=principal_for_user(staff_client.user), order_id=order.pk, amount_paise=500, reason="x")
    response = staff_client.get(f"/api/v1/payments/{order.pk}")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["order_id"] == order.gateway_order_id and len(data["refunds"]) == 1
    assert auth_client.get(f"/api/v1/payments/{order.pk}").status_code == 403
    assert PaymentOrder.objects.get(pk=order.pk).status == "partially_refunded"


@pytest.mark.postgres_only  # real threads need PostgreSQL row locks
@pytest.mark.django_db(transaction=True)
def test_two_staff_refunding_at_once_cannot_over_refund(fake_razorpay, package, client_for):
    import threading

    from django.db import connection

    from accounts.tests.factories import UserFactory

    buyer = UserFactory()
    order = paid_package_order(fake_razorpay, buyer, package)
    clients = [client_for(UserFactory(is_staff=True)) for _ in range(2)]
    barrier, results = threading.Barrier(2), [None, None]

    def refund(index):
        try:
            barrier.wait()
            results[index] = clients[index].post(refund_url(order), {"amount": 6000, "reason": "race"},
                                                 format="json").status_code
        finally:
            connection.close()

    threads = [threading.Thread(target=refund, args=(i,)) for i in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    assert sorted(results) == [201, 400]
    assert len(fake_razorpay.refunds) == 1
    order.refresh_from_db()
    assert order.amount_refunded_paise == 6000 and wallet(buyer).balance == 40
