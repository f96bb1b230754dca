"""Seed 003: buying a credit package (status envelope), as a logged-in user or through an API key."""

import pytest

from payments.models import PaymentOrder

pytestmark = pytest.mark.django_db

CREATE, VERIFY = "/api/payments/create-order", "/api/payments/verify"
PHONE = "+919876500001"


def balance_of(user) -> int:
    from credits.models import Wallet

    wallet = Wallet.objects.filter(user=user).first()
    return wallet.balance if wallet else 0


def test_user_buys_a_package_end_to_end(auth_client, fake_razorpay, package):
    response = auth_client.post(CREATE, {"package_id": package.pk}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["status"] == "SUCCESS" and body["message"] == "Order created successfully"
    data = body["data"]
    assert data["amount"] == 10000 and data["currency"] == "INR"
    assert data["package"] == {"id": package.pk, "name": "Premium Pack", "credits": 100, "price": 100}
    assert fake_razorpay.orders[data["order_id"]]["amount"] == 10000

    checkout = fake_razorpay.pay(data["order_id"])
    response = auth_client.post(VERIFY, {**checkout, "package_id": package.pk}, format="json")
    assert response.status_code == 200, response.content
    assert response.json() == {
        "status": "SUCCESS", "message": "Payment verified and credits added successfully",
        "data": {"payment_id": checkout["razorpay_payment_id"], "order_id": data["order_id"],
                 "credits_added": 100, "remaining_credits": 100},
    }
    assert balance_of(auth_client.user) == 100
    # replay: same answer, credits added once
    again = auth_client.post(VERIFY, {**checkout, "package_id": package.pk}, format="json")
    assert again.json() == response.json()
    assert balance_of(auth_client.user) == 100

    from credits.models import CreditTransaction

    row = CreditTransaction.objects.get(wallet__user=auth_client.user, source="payment")
    assert row.reference_id == checkout["razorpay_payment_id"] and row.credits == 100
    order = PaymentOrder.objects.get(gateway_order_id=data["order_id"])
    assert row.idempotency_key == f"order:{order.pk}"


def test_package_id_as_digit_string_is_accepted(auth_client, fake_razorpay, package):
    response = auth_client.post(CREATE, {"package_id": str(package.pk)}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["package"]["id"] == package.pk


def test_bot_buys_for_a_phone_user_of_its_tenant(bot_client, fake_razorpay, package, api_key):
    tenant = api_key[0].tenant
    response = bot_client.post(CREATE, {"package_id": package.pk, "phone_number": "98765 00001"},
                               format="json")
    assert response.status_code == 200, response.content
    order = PaymentOrder.objects.get(gateway_order_id=response.json()["data"]["order_id"])
    assert order.tenant == tenant and order.phone_number == PHONE
    assert order.user.phone == PHONE and order.user.tenant == tenant
    signup = balance_of(order.user)  # free signup credits of a new phone user

    checkout = fake_razorpay.pay(order.gateway_order_id)
    response = bot_client.post(VERIFY, {**checkout, "phone_number": PHONE, "package_id": package.pk},
                               format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["credits_added"] == 100
    assert response.json()["data"]["remaining_credits"] == signup + 100
    assert balance_of(order.user) == signup + 100


def test_bot_needs_a_phone_number(bot_client, fake_razorpay, package):
    response = bot_client.post(CREATE, {"package_id": package.pk}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"
    response = bot_client.post(CREATE, {"package_id": package.pk, "phone_number": "12"}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"
    assert not PaymentOrder.objects.exists()


def test_another_tenants_key_cannot_verify(bot_client, fake_razorpay, package):
    from rest_framework.test import APIClient

    from tenants.services import api_key_create
    from tenants.tests.factories import TenantFactory

    order_id = bot_client.post(CREATE, {"package_id": package.pk, "phone_number": PHONE},
                               format="json").json()["data"]["order_id"]
    checkout = fake_razorpay.pay(order_id)
    _, raw = api_key_create(tenant=TenantFactory(), name="other", scopes=["payments"])
    other = APIClient()
    other.credentials(HTTP_X_BOT_SECRET=raw)
    response = other.post(VERIFY, {**checkout, "package_id": package.pk}, format="json")
    assert response.status_code == 404
    assert response.json() == {"status": "ERROR", "message": "order not found"}
    assert PaymentOrder.objects.get(gateway_order_id=order_id).status == "created"


def test_key_without_payments_scope_is_403(fake_razorpay, package, tenant):
    from rest_framework.test import APIClient

    from tenants.services import api_key_create

    _, raw = api_key_create(tenant=tenant, name="bot only", scopes=["bot"])
    client = APIClient()
    client.credentials(HTTP_X_BOT_SECRET=raw)
    response = client.post(CREATE, {"package_id": package.pk, "phone_number": PHONE}, format="json")
    assert response.status_code == 403 and response.json()["status"] == "ERROR"


def test_tampered_package_and_phone_are_refused(bot_client, fake_razorpay, package, catalog):
    from plans.models import CreditPackage

    pro = CreditPackage.objects.get(name="Pro Pack")
    order_id = bot_client.post(CREATE, {"package_id": package.pk, "phone_number": PHONE},
                               format="json").json()["data"]["order_id"]
    checkout = fake_razorpay.pay(order_id)
    response = bot_client.post(VERIFY, {**checkout, "package_id": pro.pk}, format="json")
    assert response.status_code == 400
    assert response.json() == {"status": "ERROR", "message": "package does not match the order"}
    response = bot_client.post(VERIFY, {**checkout, "package_id": package.pk, "phone_number": "+919876500002"},
                               format="json")
    assert response.status_code == 400
    order = PaymentOrder.objects.get(gateway_order_id=order_id)
    assert order.status == "created" and balance_of(order.user) == 3


def test_bad_signature_in_status_envelope(auth_client, fake_razorpay, package):
    order_id = auth_client.post(CREATE, {"package_id": package.pk}, format="json").json()["data"]["order_id"]
    checkout = fake_razorpay.pay(order_id)
    response = auth_client.post(VERIFY, {**checkout, "razorpay_signature": "f" * 64, "package_id": package.pk},
                                format="json")
    assert response.status_code == 400
    assert response.json() == {"status": "ERROR", "message": "invalid signature"}
    assert balance_of(auth_client.user) == 0


def test_phone_of_a_jwt_user_must_be_theirs(client_for, fake_razorpay, package):
    from accounts.tests.factories import UserFactory

    client = client_for(UserFactory(phone=PHONE))
    assert client.post(CREATE, {"package_id": package.pk, "phone_number": "9876500001"},
                       format="json").status_code == 200
    response = client.post(CREATE, {"package_id": package.pk, "phone_number": "+919876500009"}, format="json")
    assert response.status_code == 400 and response.json()["status"] == "ERROR"


@pytest.mark.parametrize("package_id", [999999, 0, -1, "abc", True, 1.5, None, [1]])
def test_unknown_or_malformed_package_is_400(auth_client, fake_razorpay, package_id, catalog):
    response = auth_client.post(CREATE, {"package_id": package_id}, format="json")
    assert response.status_code == 400
    assert response.json()["status"] == "ERROR"
    assert not fake_razorpay.requests


def test_inactive_package_is_400(auth_client, fake_razorpay, package):
    package.is_active = False
    package.save()
    response = auth_client.post(CREATE, {"package_id": package.pk}, format="json")
    assert response.status_code == 400


def test_gateway_down_is_502_in_the_status_envelope(auth_client, fake_razorpay, package):
    fake_razorpay.stop()
    response = auth_client.post(CREATE, {"package_id": package.pk}, format="json")
    assert response.status_code == 502
    assert response.json() == {"status": "ERROR", "message": "payment gateway unavailable"}
    assert not PaymentOrder.objects.exists()


def test_price_change_after_order_does_not_change_what_is_delivered(auth_client, fake_razorpay, package):
    order_id = auth_client.post(CREATE, {"package_id": package.pk}, format="json").json()["data"]["order_id"]
    package.credits = 5
    package.save()
    checkout = fake_razorpay.pay(order_id)
    response = auth_client.post(VERIFY, {**checkout, "package_id": package.pk}, format="json")
    assert response.json()["data"]["credits_added"] == 100


def test_idempotency_key_replays_the_package_order(bot_client, fake_razorpay, package):
    body = {"package_id": package.pk, "phone_number": PHONE}
    first = bot_client.post(CREATE, body, format="json", HTTP_IDEMPOTENCY_KEY="pkg-1")
    second = bot_client.post(CREATE, body, format="json", HTTP_IDEMPOTENCY_KEY="pkg-1")
    assert first.status_code == second.status_code == 200, first.content
    assert first.json() == second.json() and second["Idempotent-Replayed"] == "true"
    assert PaymentOrder.objects.count() == 1
