"""No network call inside a database transaction (issue 14, item 1): the guard every payments test
runs under, and create-order, whose gateway call comes before its order row."""

import pytest
from django.db import transaction

from payments.models import PaymentOrder

pytestmark = pytest.mark.django_db

CREATE = "/api/payments/create-order"


def test_the_guard_fails_a_gateway_call_inside_a_transaction(fake_razorpay, gateway_calls_outside_transactions):
    from payments.gateways import get_gateway

    gateway = get_gateway()
    gateway.create_order(amount_paise=100, currency="INR", receipt="outside")
    assert gateway_calls_outside_transactions == ["create_order"]
    with pytest.raises(AssertionError, match="inside a database transaction"), transaction.atomic():
        gateway.fetch_order("order_x")
    assert gateway_calls_outside_transactions.violations == ["fetch_order"]
    gateway_calls_outside_transactions.violations.clear()  # else teardown fails this test too


def test_create_order_with_a_key_calls_the_gateway_outside_any_transaction(auth_client, fake_razorpay,
                                                                          gateway_calls_outside_transactions):
    response = auth_client.post(CREATE, {"plan": "standard"}, format="json", HTTP_IDEMPOTENCY_KEY="order-1")
    assert response.status_code == 200, response.content
    assert gateway_calls_outside_transactions == ["create_order"]
    assert PaymentOrder.objects.get().gateway_order_id == response.json()["order_id"]


def test_a_failure_after_the_gateway_order_leaves_only_a_harmless_orphan(auth_client, fake_razorpay,
                                                                        monkeypatch):
    """The gateway order exists, our row does not: nobody can pay it through us (verify and the
    webhook only know our rows), so it simply expires at the gateway. The key was released: the
    retry makes a new order."""
    real_create = PaymentOrder.objects.create
    failures = []

    def create_fails_once(**kwargs):
        if not failures:
            failures.append(True)
            raise RuntimeError("database went away")
        return real_create(**kwargs)

    monkeypatch.setattr(PaymentOrder.objects, "create", create_fails_once)
    with pytest.raises(RuntimeError):
        auth_client.post(CREATE, {"plan": "standard"}, format="json", HTTP_IDEMPOTENCY_KEY="order-2")
    assert len(fake_razorpay.orders) == 1 and not PaymentOrder.objects.exists()
    retry = auth_client.post(CREATE, {"plan": "standard"}, format="json", HTTP_IDEMPOTENCY_KEY="order-2")
    assert retry.status_code == 200
    (orphan,) = set(fake_razorpay.orders) - {retry.json()["order_id"]}
    assert PaymentOrder.objects.get().gateway_order_id == retry.json()["order_id"]
    assert not PaymentOrder.objects.filter(gateway_order_id=orphan).exists()
