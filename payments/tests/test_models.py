"""The invariants hold in the database itself, not only in the services."""

import pytest
from django.db import IntegrityError, transaction
from django.utils import timezone

from payments.models import PaymentOrder, Refund, WebhookEvent

pytestmark = pytest.mark.django_db


@pytest.fixture
def order(user, package):
    return PaymentOrder.objects.create(
        user=user, kind="credit_package", package=package, credits=100, amount_paise=10000, currency="INR",
        gateway="sandbox", gateway_order_id="order_A", receipt="kosh_a",
    )


def violates(**changes):
    def apply(order):
        for name, value in changes.items():
            setattr(order, name, value)
        order.save()
    return apply


@pytest.mark.parametrize("change", [
    {"status": "settled"},
    {"kind": "coupon"},
    {"amount_paise": 0},
    {"credits": None},
    {"package": None},
    {"kind": "token_plan"},  # a token plan order needs a plan and no package
    {"amount_refunded_paise": -1},
    {"amount_refunded_paise": 10001},
    {"status": "paid"},  # paid without a payment id / fulfilment
    {"status": "paid", "gateway_payment_id": "pay_1", "fulfilled_at": timezone.now(), "amount_refunded_paise": 5},
    {"status": "refunded", "gateway_payment_id": "pay_1", "fulfilled_at": timezone.now(),
     "amount_refunded_paise": 9999},
    {"status": "partially_refunded", "gateway_payment_id": "pay_1", "fulfilled_at": timezone.now(),
     "amount_refunded_paise": 10000},
    {"status": "failed", "fulfilled_at": timezone.now()},
])
def test_order_check_constraints(order, change):
    with pytest.raises(IntegrityError), transaction.atomic():
        violates(**change)(order)


def test_ids_are_unique(order, user, package):
    def another(**fields):
        defaults = dict(user=user, kind="credit_package", package=package, credits=100, amount_paise=10000,
                        gateway="sandbox", gateway_order_id="order_B", receipt="kosh_b")
        return PaymentOrder.objects.create(**{**defaults, **fields})

    with pytest.raises(IntegrityError), transaction.atomic():
        another(gateway_order_id="order_A")
    with pytest.raises(IntegrityError), transaction.atomic():
        another(receipt="kosh_a")
    PaymentOrder.objects.filter(pk=order.pk).update(status="paid", gateway_payment_id="pay_1",
                                                    fulfilled_at=timezone.now())
    another()  # two unpaid orders without payment ids are fine
    with pytest.raises(IntegrityError), transaction.atomic():
        PaymentOrder.objects.filter(gateway_order_id="order_B").update(gateway_payment_id="pay_1")


def test_refund_and_event_constraints(order):
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(order=order, gateway_refund_id="rfnd_1", amount_paise=0)
    Refund.objects.create(order=order, gateway_refund_id="rfnd_1", amount_paise=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(order=order, gateway_refund_id="rfnd_1", amount_paise=1)
    with pytest.raises(IntegrityError), transaction.atomic():
        Refund.objects.create(order=order, gateway_refund_id="rfnd_2", amount_paise=1, credits_shortfall=-1)
    WebhookEvent.objects.create(gateway="razorpay", event_id="evt_1", body="{}")
    with pytest.raises(IntegrityError), transaction.atomic():
        WebhookEvent.objects.create(gateway="razorpay", event_id="evt_1", body="{}")


def test_plans_and_packages_with_orders_cannot_be_deleted(order, package):
    from django.db.models import ProtectedError

    with pytest.raises(ProtectedError):
        package.delete()
