"""What a paid token plan delivers, whatever happened between the order and the payment, and
what its refund takes back."""

from datetime import timedelta

import pytest

from payments.services import order_create, order_verify
from plans.models import RatePlan
from subscriptions.services import token_usage_get

pytestmark = pytest.mark.django_db


def pay(fake, order):
    checkout = fake.pay(order.gateway_order_id)
    order, _ = order_verify(order=order, payment_id=checkout["razorpay_payment_id"],
                            signature=checkout["razorpay_signature"])
    return order


def refund(staff_client, order):
    response = staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"reason": "test"}, format="json")
    assert response.status_code == 201, response.content
    return response.json()["data"]["refund"]


def test_a_late_cheaper_order_tops_up_instead_of_downgrading(user, fake_razorpay):
    standard = order_create(user=user, plan_code="standard")
    premium = order_create(user=user, plan_code="premium")
    pay(fake_razorpay, premium)
    before = token_usage_get(user=user)
    assert before["plan"] == "premium" and before["token_quota"] == 51_000

    late = pay(fake_razorpay, standard)
    assert late.fulfilment_result["plan"] == "premium"
    assert late.fulfilment_result["message"] == "standard tokens added to premium"
    after = token_usage_get(user=user)
    assert after["plan"] == "premium" and after["token_quota"] == 61_000
    assert after["plan_end_at"] == before["plan_end_at"]


def test_refund_of_a_top_up_takes_its_tokens_back_and_keeps_the_plan(staff_client, user, fake_razorpay):
    standard = order_create(user=user, plan_code="standard")
    pay(fake_razorpay, order_create(user=user, plan_code="premium"))
    late = pay(fake_razorpay, standard)
    refunded = refund(staff_client, late)
    assert refunded["plan_reverted"] is False
    usage = token_usage_get(user=user)
    assert usage["plan"] == "premium" and usage["token_quota"] == 51_000


def test_a_plan_withdrawn_from_sale_is_still_delivered_once_paid(user, fake_razorpay):
    order = order_create(user=user, plan_code="standard")
    RatePlan.objects.filter(product="tokens", code="standard").update(is_active=False)
    paid = pay(fake_razorpay, order)
    assert paid.status == "paid"
    assert token_usage_get(user=user)["plan"] == "standard"


def test_refund_of_a_renewal_takes_back_one_period_only(staff_client, user, fake_razorpay):
    first = pay(fake_razorpay, order_create(user=user, plan_code="standard"))
    end_after_first = token_usage_get(user=user)["plan_end_at"]
    renewal = pay(fake_razorpay, order_create(user=user, plan_code="standard"))
    assert renewal.fulfilment_action == "same_tier"
    assert token_usage_get(user=user)["plan_end_at"] > end_after_first

    refunded = refund(staff_client, renewal)
    assert refunded["plan_reverted"] is False
    usage = token_usage_get(user=user)
    assert usage["plan"] == "standard" and usage["plan_end_at"] == end_after_first

    # Refunding the first purchase too leaves no paid time: back to basic.
    assert refund(staff_client, first)["plan_reverted"] is True
    assert token_usage_get(user=user)["plan"] == "basic"


def test_refund_of_the_first_of_two_periods_keeps_the_second(staff_client, user, fake_razorpay):
    from django.utils.dateparse import parse_datetime

    first = pay(fake_razorpay, order_create(user=user, plan_code="standard"))
    pay(fake_razorpay, order_create(user=user, plan_code="standard"))
    end_both = parse_datetime(token_usage_get(user=user)["plan_end_at"])
    refunded = refund(staff_client, first)
    assert refunded["plan_reverted"] is False
    usage = token_usage_get(user=user)
    assert usage["plan"] == "standard"
    assert parse_datetime(usage["plan_end_at"]) == end_both - timedelta(days=30)
