"""Malformed input never yields a 500; the orders list; the OpenAPI schema."""

import pytest
from django.core.management import call_command

from payments.models import PaymentOrder
from payments.services import order_create

pytestmark = pytest.mark.django_db

CREATE, VERIFY = "/api/payments/create-order", "/api/payments/verify"


@pytest.mark.parametrize("raw", [
    b"", b"{", b"null", b"[]", b'"plan"', b"42", b'{"plan": null}', b'{"plan": 5}', b'{"plan": ["standard"]}',
    b'{"plan": "standard", "extra": 1}', b'{"plan": "' + b"x" * 500 + b'"}', b'{"plan":"standard","package_id":1}',
    b'{"package_id": {"a": 1}}', b'{"phone_number": "+919876500001"}', b'{"package_id": 1, "phone_number": 5}',
    b'{"package_id": 99999999999999999999999}', b"\xff\xfe",
])
def test_create_order_malformed_bodies_are_4xx(auth_client, sandbox, raw):
    response = auth_client.generic("POST", CREATE, raw, content_type="application/json")
    assert 400 <= response.status_code < 500, (raw, response.status_code, response.content)
    body = response.json()
    assert body.get("error") or body.get("status") == "ERROR"
    assert not PaymentOrder.objects.exists()


def test_create_order_wrong_content_type_is_4xx(auth_client, sandbox):
    response = auth_client.generic("POST", CREATE, "plan=standard", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and response.json() == {"error": "invalid body"}


@pytest.mark.parametrize("body", [
    {}, {"razorpay_order_id": "order_x"}, {"razorpay_order_id": 1, "razorpay_payment_id": 2, "razorpay_signature": 3},
    {"razorpay_order_id": "o" * 65, "razorpay_payment_id": "p", "razorpay_signature": "s"},
    {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x", "razorpay_signature": "s", "plan": "x",
     "package_id": 1},
    {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x", "razorpay_signature": "s",
     "reset_used": "maybe"},
    {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x", "razorpay_signature": "s",
     "phone_number": "not a phone"},
    [], "text",
])
def test_verify_malformed_bodies_are_4xx(auth_client, sandbox, body):
    response = auth_client.post(VERIFY, body, format="json")
    assert 400 <= response.status_code < 500, (body, response.status_code, response.content)


def test_verify_unknown_order_is_404(auth_client, sandbox):
    response = auth_client.post(VERIFY, {"razorpay_order_id": "order_x", "razorpay_payment_id": "pay_x",
                                         "razorpay_signature": "0" * 64, "plan": "standard"}, format="json")
    assert response.status_code == 404 and response.json() == {"error": "order not found"}


def test_verify_invalid_phone_number_in_status_envelope(auth_client, sandbox, package):
    order = order_create(user=auth_client.user, package_id=package.pk)
    response = auth_client.post(VERIFY, {"razorpay_order_id": order.gateway_order_id, "razorpay_payment_id": "p",
                                         "razorpay_signature": "0" * 64, "phone_number": "x"}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"


def test_orders_list_is_mine_paginated_and_bounded(auth_client, sandbox, package, django_assert_max_num_queries):
    from accounts.tests.factories import UserFactory

    for _ in range(3):
        order_create(user=auth_client.user, package_id=package.pk)
    order_create(user=auth_client.user, plan_code="standard")
    order_create(user=UserFactory(), package_id=package.pk)
    with django_assert_max_num_queries(3):  # auth, count, page (with plan and package joined)
        response = auth_client.get("/api/payments?page=1&page_size=3")
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["count"] == 4 and data["total_pages"] == 2 and len(data["results"]) == 3
    assert data["results"][0]["plan"] == "standard"  # newest first
    assert data["results"][1]["package"]["price"] == 100
    second = auth_client.get("/api/payments?page=2&page_size=3").json()["data"]
    assert len(second["results"]) == 1
    for query in ["page=0", "page_size=101", "page=x"]:
        response = auth_client.get(f"/api/payments?{query}")
        assert response.status_code == 400 and response.json()["success"] is False


def test_orders_list_needs_a_person(api_client, bot_client):
    assert api_client.get("/api/payments").status_code == 401
    assert bot_client.get("/api/payments").status_code in (401, 403)


def test_openapi_schema_stays_valid(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    for path in ["/api/payments/create-order", "/api/payments/verify", "/api/payments/sandbox/pay",
                 "/api/payments/webhook/razorpay", "/api/v1/payments/{order_ref}/refund", "/api/payments:"]:
        assert path in text
