"""`make run` with no keys: both checkouts complete offline through the sandbox; and the admin's
gateway columns and per-gateway summary."""

from datetime import timedelta
from decimal import Decimal

import pytest
from django.urls import reverse
from django.utils import timezone

from payments.models import GatewayAttempt, PaymentOrder

pytestmark = pytest.mark.django_db

CREATE, VERIFY, PAY = "/api/v1/payments/create", "/api/v1/payments/verify", "/api/payments/sandbox/pay"


def package_at(rupees: int):
    from plans.models import CreditPackage

    return CreditPackage.objects.create(name=f"Pack ₹{rupees}", price_paise=rupees * 100, credits=rupees)


def balance_of(user) -> int:
    from credits.models import Wallet

    wallet = Wallet.objects.filter(user=user).first()
    return wallet.balance if wallet else 0


def test_offline_razorpay_checkout(auth_client, sandbox):
    data = auth_client.post(CREATE, {"package_id": package_at(100).pk}, format="json").json()["data"]
    assert (data["gateway"], data["key"], data["sandbox"]) == ("razorpay", "rzp_test_sandbox", True)
    checkout = auth_client.post(PAY, {"order_id": data["order_id"]}, format="json").json()
    verified = auth_client.post(VERIFY, checkout, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["data"]["result"]["credits_added"] == 100 and balance_of(auth_client.user) == 100
    order = PaymentOrder.objects.get()
    assert (order.gateway, order.checkout, order.gateway_fee_paise) == ("sandbox", "razorpay", 200)


def test_offline_cashfree_checkout(auth_client, sandbox):
    data = auth_client.post(CREATE, {"package_id": package_at(1000).pk}, format="json").json()["data"]
    assert data["gateway"] == "cashfree" and data["sandbox"] is True and data["environment"] == "sandbox"
    assert data["payment_session_id"].startswith("session_sandbox_") and "key" not in data
    order = PaymentOrder.objects.get()
    assert (order.gateway, order.checkout, order.gateway_fee_paise) == ("sandbox", "cashfree", 1800)
    assert order.checkout_session == data["payment_session_id"]

    pending = auth_client.post(VERIFY, {"order_id": data["order_id"]}, format="json")
    assert pending.status_code == 402
    # the buyer pays at (the sandbox's) Cashfree checkout and comes back with the order id
    assert auth_client.post(PAY, {"order_id": data["order_id"]}, format="json").status_code == 200
    verified = auth_client.post(VERIFY, {"order_id": data["order_id"]}, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["data"]["order"]["status"] == "paid" and balance_of(auth_client.user) == 1000
    assert [(a.gateway, a.outcome) for a in GatewayAttempt.objects.all()] == [("cashfree", "created")]


def test_forced_sandbox_plays_both_even_with_keys(auth_client, sandbox, settings):
    settings.PAYMENT_GATEWAY = "sandbox"
    settings.RAZORPAY_KEY_ID, settings.CASHFREE_CLIENT_ID = "rzp_live_x", "cf_live_x"
    data = auth_client.post(CREATE, {"package_id": package_at(1000).pk}, format="json").json()["data"]
    assert data["gateway"] == "cashfree" and data["sandbox"] is True


# --- the admin ---------------------------------------------------------------------------------------

@pytest.fixture
def admin_client(client, staff_user):
    staff_user.role = "super_admin"
    staff_user.is_superuser = True
    staff_user.save()
    client.force_login(staff_user)
    return client


def test_admin_shows_gateway_fee_and_attempts(admin_client, auth_client, fake_razorpay, fake_cashfree):
    fake_cashfree.mode = "error500"
    auth_client.post(CREATE, {"package_id": package_at(1000).pk}, format="json")
    order = PaymentOrder.objects.get()
    changelist = admin_client.get(reverse("admin:payments_paymentorder_changelist"))
    assert changelist.status_code == 200
    assert b"Gateway fee paise" in changelist.content and b"Gateway summary (30 days)" in changelist.content
    page = admin_client.get(reverse("admin:payments_paymentorder_change", args=[order.pk]))
    assert page.status_code == 200 and b"payment gateway unavailable" in page.content  # the failed attempt
    attempts = admin_client.get(reverse("admin:payments_gatewayattempt_changelist"))
    # two attempts with the order's receipt; the failed Cashfree one also asked for it as its order id
    assert attempts.status_code == 200 and attempts.content.count(order.receipt.encode()) == 3


def test_admin_gateway_summary_for_the_last_30_days(admin_client, auth_client, fake_razorpay, fake_cashfree):
    def buy(rupees, *, pay):
        data = auth_client.post(CREATE, {"package_id": package_at(rupees).pk}, format="json").json()["data"]
        if pay and data["gateway"] == "cashfree":
            fake_cashfree.pay(data["order_id"])
            auth_client.post(VERIFY, {"order_id": data["order_id"]}, format="json")
        elif pay:
            auth_client.post(VERIFY, fake_razorpay.pay(data["order_id"]), format="json")
        return data["order_id"]

    buy(1000, pay=True)     # cashfree, fee ₹18
    buy(2000, pay=True)     # cashfree, fee ₹33
    buy(1500, pay=False)    # cashfree, still open
    buy(100, pay=True)      # razorpay, fee ₹2
    fake_cashfree.mode = "error500"
    buy(1200, pay=False)    # cashfree failed → razorpay, open
    old = buy(5000, pay=True)  # cashfree is down: razorpay, but 40 days ago: outside the window
    PaymentOrder.objects.filter(gateway_order_id=old).update(created_at=timezone.now() - timedelta(days=40))
    GatewayAttempt.objects.filter(order__gateway_order_id=old).update(created_at=timezone.now() - timedelta(days=40))

    from payments.selectors import gateway_summary

    rows = {row["gateway"]: row for row in gateway_summary(since=timezone.now() - timedelta(days=30))}
    assert rows["cashfree"] == {"gateway": "cashfree", "orders": 3, "paid": 2, "success_rate": Decimal("66.7"),
                                "amount_paid_paise": 300000, "fees_paise": 1800 + 3300,
                                "attempts_failed": 1, "attempts_rejected": 0, "attempts_skipped": 0}
    assert rows["razorpay"] == {"gateway": "razorpay", "orders": 2, "paid": 1, "success_rate": 50,
                                "amount_paid_paise": 10000, "fees_paise": 200,
                                "attempts_failed": 0, "attempts_rejected": 0, "attempts_skipped": 0}
    page = admin_client.get(reverse("admin:payments_paymentorder_gateway_summary"))
    assert page.status_code == 200
    html = page.content.decode()
    assert "<td>cashfree</td><td>3</td><td>2</td>" in html and "66.7%" in html and "<td>51.00</td>" in html
    assert "<td>razorpay</td><td>2</td><td>1</td>" in html and "50.0%" in html


def test_gateway_summary_is_for_staff_who_may_see_orders(client, user):
    client.force_login(user)
    response = client.get(reverse("admin:payments_paymentorder_gateway_summary"))
    assert response.status_code == 302 and "/login/" in response["Location"]
