"""Seed 004's /api/v1/payments/create and /verify against the fake Razorpay and the fake Cashfree:
routed by cost, around open circuit breakers, failing over; settled at whichever took the order."""

import time
from decimal import Decimal
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection

from payments.models import GatewayAttempt, PaymentOrder

pytestmark = pytest.mark.django_db

CREATE, VERIFY = "/api/v1/payments/create", "/api/v1/payments/verify"
LEGACY_CREATE = "/api/payments/create-order"


@pytest.fixture
def gateways(fake_razorpay, fake_cashfree):
    """Both fakes running, both adapters configured against them."""
    return fake_razorpay, fake_cashfree


def package_at(rupees: int, credits: int = 0):
    from plans.models import CreditPackage

    return CreditPackage.objects.create(name=f"Pack ₹{rupees}", price_paise=rupees * 100,
                                        credits=credits or rupees)


def balance_of(user) -> int:
    from credits.models import Wallet

    wallet = Wallet.objects.filter(user=user).first()
    return wallet.balance if wallet else 0


def create(client, package, **extra):
    return client.post(CREATE, {"package_id": package.pk, **extra}, format="json")


def attempts_of(order_or_receipt):
    rows = GatewayAttempt.objects.order_by("id")
    rows = rows.filter(order=order_or_receipt) if isinstance(order_or_receipt, PaymentOrder) \
        else rows.filter(receipt=order_or_receipt)
    return [(a.gateway, a.outcome) for a in rows]


# --- routing -----------------------------------------------------------------------------------

@pytest.mark.parametrize("rupees, gateway, fee_paise", [
    (599, "razorpay", 1198),   # below break-even
    (600, "razorpay", 1200),   # at break-even: equal fees, Razorpay by preference
    (1000, "cashfree", 1800),  # above: 1.5% + ₹3 = ₹18 < ₹20
])
def test_routed_by_cost(auth_client, gateways, rupees, gateway, fee_paise):
    fake_razorpay, fake_cashfree = gateways
    package = package_at(rupees)
    response = create(auth_client, package)
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    order = PaymentOrder.objects.get()
    assert (order.gateway, order.checkout, order.gateway_fee_paise) == (gateway, gateway, fee_paise)
    assert data["gateway"] == gateway and data["order_id"] == order.gateway_order_id
    assert data["amount"] == rupees * 100 and data["sandbox"] is False
    assert data["package"] == {"id": package.pk, "name": package.name, "credits": rupees, "price": rupees}
    if gateway == "razorpay":
        assert data["key"] == fake_razorpay.key_id and "payment_session_id" not in data
        assert list(fake_razorpay.orders) == [order.gateway_order_id] and not fake_cashfree.orders
    else:
        cashfree_order = fake_cashfree.orders[order.gateway_order_id]
        assert data["payment_session_id"] == cashfree_order["payment_session_id"] == order.checkout_session
        assert data["environment"] == "sandbox" and "key" not in data
        assert cashfree_order["order_amount"] == Decimal(rupees) and not fake_razorpay.orders
    assert attempts_of(order) == [(gateway, "created")]


def test_gateways_in_the_body_limit_the_choice(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    response = create(auth_client, package_at(1000), gateways=["razorpay"])
    assert response.status_code == 201 and response.json()["data"]["gateway"] == "razorpay"
    response = create(auth_client, package_at(100), gateways=["cashfree"])
    assert response.status_code == 201 and response.json()["data"]["gateway"] == "cashfree"


def test_unconfigured_gateway_is_not_routed_to(auth_client, fake_razorpay, settings, catalog):
    settings.CASHFREE_CLIENT_ID = ""  # production today: Razorpay keys only
    response = create(auth_client, package_at(1000))
    assert response.status_code == 201 and response.json()["data"]["gateway"] == "razorpay"
    assert attempts_of(PaymentOrder.objects.get()) == [("razorpay", "created")]


# --- failover ------------------------------------------------------------------------------------

@pytest.mark.parametrize("mode", ["stopped", "error500", "html502", "sleep"])
def test_cheapest_down_fails_over_and_the_buyer_pays_once(auth_client, gateways, settings, mode):
    fake_razorpay, fake_cashfree = gateways
    if mode == "stopped":
        fake_cashfree.stop()
    else:
        fake_cashfree.mode, fake_cashfree.delay = mode, 1.0
        settings.CASHFREE_TIMEOUT = 0.3
    package = package_at(1000)
    response = create(auth_client, package)
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert data["gateway"] == "razorpay" and data["key"] == fake_razorpay.key_id
    order = PaymentOrder.objects.get()
    assert (order.gateway, order.gateway_fee_paise) == ("razorpay", 2000)
    abandoned, won = GatewayAttempt.objects.filter(order=order).order_by("id")
    assert (abandoned.gateway, abandoned.outcome) == ("cashfree", "failed")
    assert abandoned.gateway_order_id == order.receipt  # the id Cashfree was asked to create
    assert abandoned.error == ("payment gateway timed out" if mode == "sleep" else "payment gateway unavailable")
    assert (won.gateway, won.outcome, won.gateway_order_id) == ("razorpay", "created", order.gateway_order_id)

    checkout = fake_razorpay.pay(order.gateway_order_id)
    verified = auth_client.post(VERIFY, checkout, format="json")
    assert verified.status_code == 200, verified.content
    assert verified.json()["data"]["result"]["credits_added"] == 1000
    assert balance_of(auth_client.user) == 1000

    if mode == "sleep":
        # The slow Cashfree did create its order after we gave up. Its payment_session_id never
        # reached the buyer, so it cannot be paid; were it paid anyway, nothing is fulfilled twice.
        time.sleep(0.9)
        assert order.receipt in fake_cashfree.orders
        fake_cashfree.mode = "ok"
        payment = fake_cashfree.pay(order.receipt)
        body, headers = fake_cashfree.webhook("PAYMENT_SUCCESS_WEBHOOK", order_id=order.receipt, payment=payment)
        answer = auth_client.post("/api/v1/payments/webhook/cashfree", data=body,
                                  content_type="application/json", **headers)
        assert answer.status_code == 200
        assert answer.json()["data"]["result"] == "ignored: abandoned gateway order (refund it at the gateway)"
        assert balance_of(auth_client.user) == 1000
        assert PaymentOrder.objects.get().gateway_payment_id == checkout["razorpay_payment_id"]


def test_razorpay_down_fails_over_to_cashfree(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    fake_razorpay.mode = "error500"
    response = create(auth_client, package_at(100))
    assert response.status_code == 201 and response.json()["data"]["gateway"] == "cashfree"
    order = PaymentOrder.objects.get()
    assert attempts_of(order) == [("razorpay", "failed"), ("cashfree", "created")]
    assert order.gateway_fee_paise == 450  # what Cashfree charges, not the Razorpay fee it was routed by


def test_both_down_is_502_with_the_attempts_recorded(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    fake_razorpay.stop()
    fake_cashfree.mode = "error500"
    response = create(auth_client, package_at(1000))
    assert response.status_code == 502
    assert response.json() == {"success": False, "error": {"code": "gateway_unavailable",
                                                           "message": "payment gateway unavailable"}}
    assert not PaymentOrder.objects.exists()
    [receipt] = set(GatewayAttempt.objects.values_list("receipt", flat=True))
    assert attempts_of(receipt) == [("cashfree", "failed"), ("razorpay", "failed")]
    assert not GatewayAttempt.objects.filter(order__isnull=False).exists()


def test_a_4xx_does_not_fail_over(auth_client, gateways, settings):
    fake_razorpay, fake_cashfree = gateways
    settings.CASHFREE_CLIENT_SECRET = "rotated-but-not-here"
    response = create(auth_client, package_at(1000))
    assert response.status_code == 502 and response.json()["error"]["code"] == "gateway_rejected"
    assert not fake_razorpay.orders and not PaymentOrder.objects.exists()
    assert [a.outcome for a in GatewayAttempt.objects.all()] == ["rejected"]


# --- the circuit breaker -------------------------------------------------------------------------

def test_breaker_keeps_a_failing_gateway_out_then_lets_it_back(auth_client, gateways, settings):
    fake_razorpay, fake_cashfree = gateways
    settings.PAYMENT_BREAKER_FAILURES, settings.PAYMENT_BREAKER_COOLDOWN = 2, 1
    fake_cashfree.mode = "error500"
    package = package_at(1000)
    for _ in range(2):  # two consecutive failures, each failed over
        assert create(auth_client, package).json()["data"]["gateway"] == "razorpay"
    assert len(fake_cashfree.calls("POST", "/orders")) == 2

    fake_cashfree.mode = "ok"  # it recovered, but the breaker is open: not even asked
    response = create(auth_client, package)
    assert response.json()["data"]["gateway"] == "razorpay"
    assert len(fake_cashfree.calls("POST", "/orders")) == 2
    order = PaymentOrder.objects.get(gateway_order_id=response.json()["data"]["order_id"])
    assert attempts_of(order) == [("cashfree", "skipped"), ("razorpay", "created")]

    time.sleep(1.1)  # cool-down over: one request probes, succeeds, the breaker closes
    assert create(auth_client, package).json()["data"]["gateway"] == "cashfree"
    assert create(auth_client, package).json()["data"]["gateway"] == "cashfree"
    assert len(fake_cashfree.calls("POST", "/orders")) == 4


def test_breaker_state_is_shared_through_the_cache(auth_client, gateways, settings):
    """Another worker opened the breaker: this one skips the gateway too."""
    from payments.circuit_breaker import CircuitBreaker

    fake_razorpay, fake_cashfree = gateways
    settings.PAYMENT_BREAKER_FAILURES = 1
    CircuitBreaker("cashfree").record_failure()
    assert create(auth_client, package_at(1000)).json()["data"]["gateway"] == "razorpay"
    assert not fake_cashfree.requests


def test_every_breaker_open_is_a_quick_502(auth_client, gateways, settings):
    from payments.circuit_breaker import CircuitBreaker

    fake_razorpay, fake_cashfree = gateways
    settings.PAYMENT_BREAKER_FAILURES = 1
    CircuitBreaker("cashfree").record_failure()
    CircuitBreaker("razorpay").record_failure()
    response = create(auth_client, package_at(1000))
    assert response.status_code == 502 and response.json()["error"]["code"] == "gateway_unavailable"
    assert not fake_razorpay.requests and not fake_cashfree.requests
    assert sorted(GatewayAttempt.objects.values_list("gateway", "outcome")) == [
        ("cashfree", "skipped"), ("razorpay", "skipped")]


def test_single_gateway_checkout_is_always_tried(auth_client, gateways, settings, package):
    """The seeds' endpoints (Razorpay only) have nothing to fail over to: an open breaker does not
    turn them away."""
    from payments.circuit_breaker import OPEN, CircuitBreaker

    settings.PAYMENT_BREAKER_FAILURES = 1
    CircuitBreaker("razorpay").record_failure()
    assert CircuitBreaker("razorpay").state() == OPEN
    response = auth_client.post(LEGACY_CREATE, {"package_id": package.pk}, format="json")
    assert response.status_code == 200
    assert CircuitBreaker("razorpay").state() != OPEN  # and its success closed it


# --- the seeds' endpoints --------------------------------------------------------------------------

def test_legacy_create_keeps_razorpay_unless_the_caller_opts_in(auth_client, gateways):
    package = package_at(1000)  # Cashfree is cheaper here
    response = auth_client.post(LEGACY_CREATE, {"package_id": package.pk}, format="json")
    assert response.status_code == 200
    assert set(response.json()["data"]) == {"order_id", "amount", "currency", "package"}
    assert PaymentOrder.objects.get(gateway_order_id=response.json()["data"]["order_id"]).gateway == "razorpay"

    opted = auth_client.post(LEGACY_CREATE, {"package_id": package.pk, "gateways": ["razorpay", "cashfree"]},
                             format="json")
    assert opted.status_code == 200, opted.content
    data = opted.json()["data"]
    assert data["gateway"] == "cashfree" and data["payment_session_id"] and data["environment"] == "sandbox"
    order = PaymentOrder.objects.get(gateway_order_id=data["order_id"])
    assert order.gateway == "cashfree"

    plan = auth_client.post(LEGACY_CREATE, {"plan": "premium", "gateways": ["razorpay", "cashfree"]},
                            format="json")
    assert plan.status_code == 200 and plan.json()["gateway"] == "razorpay"  # ₹99: Razorpay is cheaper
    assert set(plan.json()) == {"order_id", "amount", "currency", "plan", "key_id", "gateway"}


def test_legacy_create_refuses_unknown_gateways(auth_client, gateways, package):
    for bad in [["paypal"], [], "cashfree", [1]]:
        response = auth_client.post(LEGACY_CREATE, {"package_id": package.pk, "gateways": bad}, format="json")
        assert response.status_code == 400 and response.json()["status"] == "ERROR", bad


# --- verify ----------------------------------------------------------------------------------------

def test_cashfree_order_is_verified_by_asking_cashfree(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    order_id = create(auth_client, package_at(1000)).json()["data"]["order_id"]

    pending = auth_client.post(VERIFY, {"order_id": order_id}, format="json")
    assert pending.status_code == 402 and pending.json()["error"]["code"] == "payment_not_completed"
    fake_cashfree.pay(order_id, status="FAILED")
    failed = auth_client.post(VERIFY, {"order_id": order_id}, format="json")
    assert failed.status_code == 402 and failed.json()["error"]["code"] == "payment_failed"
    assert "rejected at the remitter bank" in failed.json()["error"]["message"]

    payment = fake_cashfree.pay(order_id)  # the buyer tries again at the same checkout and pays
    verified = auth_client.post(VERIFY, {"order_id": order_id}, format="json")
    assert verified.status_code == 200, verified.content
    data = verified.json()["data"]
    assert data["order"]["status"] == "paid" and data["order"]["gateway"] == "cashfree"
    assert data["order"]["payment_id"] == str(payment["cf_payment_id"])
    assert data["result"]["credits_added"] == 1000 and balance_of(auth_client.user) == 1000
    again = auth_client.post(VERIFY, {"order_id": order_id}, format="json")
    assert again.status_code == 200 and again.json() == verified.json() and balance_of(auth_client.user) == 1000


def test_cashfree_payment_of_another_amount_is_refused(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    order_id = create(auth_client, package_at(1000)).json()["data"]["order_id"]
    fake_cashfree.pay(order_id, amount=Decimal("999.99"))
    response = auth_client.post(VERIFY, {"order_id": order_id}, format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "amount_mismatch"
    assert balance_of(auth_client.user) == 0


def test_razorpay_order_with_signature_or_by_asking(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    first = create(auth_client, package_at(100)).json()["data"]["order_id"]
    checkout = fake_razorpay.pay(first)
    bad = auth_client.post(VERIFY, {**checkout, "razorpay_signature": "0" * 64}, format="json")
    assert bad.status_code == 400 and bad.json()["error"]["code"] == "invalid_signature"
    assert auth_client.post(VERIFY, {"order_id": first, "payment_id": checkout["razorpay_payment_id"],
                                     "signature": checkout["razorpay_signature"]}, format="json").status_code == 200
    second = create(auth_client, package_at(200)).json()["data"]["order_id"]
    fake_razorpay.pay(second)
    asked = auth_client.post(VERIFY, {"razorpay_order_id": second}, format="json")
    assert asked.status_code == 200 and asked.json()["data"]["result"]["credits_added"] == 200
    assert balance_of(auth_client.user) == 300


def test_signature_on_a_cashfree_order_is_refused(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    order_id = create(auth_client, package_at(1000)).json()["data"]["order_id"]
    fake_cashfree.pay(order_id)
    response = auth_client.post(VERIFY, {"order_id": order_id, "payment_id": "1", "signature": "0" * 64},
                                format="json")
    assert response.status_code == 400 and response.json()["error"]["code"] == "signature_not_used"


def test_verify_is_for_the_buyer(auth_client, client_for, gateways):
    from accounts.tests.factories import UserFactory

    fake_razorpay, fake_cashfree = gateways
    order_id = create(auth_client, package_at(1000)).json()["data"]["order_id"]
    fake_cashfree.pay(order_id)
    response = client_for(UserFactory()).post(VERIFY, {"order_id": order_id}, format="json")
    assert response.status_code == 404 and response.json()["error"]["code"] == "not_found"


@pytest.mark.parametrize("path, body", [
    (CREATE, {}), (CREATE, {"package_id": 1, "plan": "standard"}), (CREATE, {"package_id": "x"}),
    (CREATE, {"package_id": 1, "gateways": ["paypal"]}), (CREATE, {"package_id": 1, "gateways": []}),
    (CREATE, {"package_id": 1, "extra": 1}), (CREATE, {"plan": 5}), (CREATE, []), (CREATE, "text"),
    (CREATE, {"package_id": 99999999}), (CREATE, {"plan": "nope"}), (CREATE, {"plan": "basic"}),
    (VERIFY, {}), (VERIFY, {"order_id": 5}), (VERIFY, {"order_id": "o" * 65}),
    (VERIFY, {"order_id": "a", "razorpay_order_id": "b"}), (VERIFY, {"payment_id": "p"}), (VERIFY, []),
])
def test_bad_input_is_a_4xx_in_the_success_envelope(auth_client, gateways, path, body):
    response = auth_client.post(path, body, format="json")
    assert 400 <= response.status_code < 500, (body, response.status_code, response.content)
    assert response.json()["success"] is False
    assert not PaymentOrder.objects.exists()


def test_anonymous_is_401_and_an_api_key_cannot_buy_a_token_plan(api_client, bot_client, gateways):
    assert api_client.post(CREATE, {"plan": "standard"}, format="json").status_code == 401
    response = bot_client.post(CREATE, {"plan": "standard"}, format="json")
    assert response.status_code == 403 and response.json()["success"] is False


def test_token_plan_through_the_routed_create(auth_client, gateways):
    fake_razorpay, fake_cashfree = gateways
    data = auth_client.post(CREATE, {"plan": "premium"}, format="json").json()["data"]
    assert data["gateway"] == "razorpay" and data["plan"] == "premium" and data["kind"] == "token_plan"
    verified = auth_client.post(VERIFY, fake_razorpay.pay(data["order_id"]), format="json")
    assert verified.status_code == 200 and verified.json()["data"]["result"]["plan"] == "premium"


# --- no gateway call inside a transaction -----------------------------------------------------------

@pytest.fixture
def gateway_calls(monkeypatch):
    """Records, for every adapter call, whether a database transaction was open at the time."""
    from payments.gateways.cashfree_gateway import CashfreeGateway
    from payments.gateways.razorpay_gateway import RazorpayGateway

    seen = []
    for cls in (CashfreeGateway, RazorpayGateway):
        for name in ("create_order", "fetch_order_payments", "refund"):
            real = getattr(cls, name)

            def spy(self, *args, _real=real, _name=name, **kwargs):
                seen.append((self.name, _name, connection.in_atomic_block))
                return _real(self, *args, **kwargs)

            monkeypatch.setattr(cls, name, spy)
    return seen


@pytest.mark.django_db(transaction=True)
def test_gateway_calls_happen_outside_transactions(auth_client, gateways, gateway_calls):
    fake_razorpay, fake_cashfree = gateways
    fake_razorpay.mode = "error500"  # a failover: two create calls
    order_id = create(auth_client, package_at(100)).json()["data"]["order_id"]
    fake_cashfree.pay(order_id)
    assert auth_client.post(VERIFY, {"order_id": order_id}, format="json").status_code == 200
    assert gateway_calls == [("razorpay", "create_order", False), ("cashfree", "create_order", False),
                             ("cashfree", "fetch_order_payments", False)]
    # reconcile asks the gateway outside any transaction too
    from payments.services import orders_reconcile

    other = create(auth_client, package_at(1000)).json()["data"]["order_id"]
    fake_cashfree.pay(other)
    assert orders_reconcile(grace_minutes=0)["fulfilled"] == 1
    assert gateway_calls[-2:] == [("cashfree", "create_order", False), ("cashfree", "fetch_order_payments", False)]


@pytest.mark.django_db(transaction=True)
def test_gateway_calls_happen_outside_transactions_with_an_idempotency_key(auth_client, gateways, gateway_calls):
    body = {"package_id": package_at(1000).pk}
    first = auth_client.post(CREATE, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert first.status_code == 201, first.content
    assert gateway_calls == [("cashfree", "create_order", False)]
    replay = auth_client.post(CREATE, body, format="json", HTTP_IDEMPOTENCY_KEY="k-1")
    assert replay.json() == first.json() and len(gateway_calls) == 1


@pytest.mark.django_db(transaction=True)
def test_refund_gateway_call_happens_outside_transactions(auth_client, staff_client, gateways, gateway_calls):
    fake_razorpay, fake_cashfree = gateways
    order_id = create(auth_client, package_at(1000)).json()["data"]["order_id"]
    fake_cashfree.pay(order_id)
    auth_client.post(VERIFY, {"order_id": order_id}, format="json")
    order = PaymentOrder.objects.get()
    assert staff_client.post(f"/api/v1/payments/{order.pk}/refund", {"reason": "x"}, format="json").status_code == 201
    assert gateway_calls[-1] == ("cashfree", "refund", False)


# --- done when ------------------------------------------------------------------------------------

def test_buyer_routed_by_cost_survives_a_gateway_down_and_money_and_ledger_agree(bot_client, gateways, api_key):
    """A tenant's service (API key, payments scope) buys credits for its phone users: routed by
    cost, failed over when the cheaper gateway is down; whichever gateway took each payment, the
    orders, the gateways' money and the ledger agree."""
    from credits.models import CreditTransaction

    fake_razorpay, fake_cashfree = gateways
    small, large = package_at(300, credits=30), package_at(1500, credits=200)

    def buy(package, phone):
        response = create(bot_client, package, phone_number=phone)
        assert response.status_code == 201, response.content
        data = response.json()["data"]
        if data["gateway"] == "cashfree":
            fake_cashfree.pay(data["order_id"])  # Cashfree's checkout, then back to our verify
            verified = bot_client.post(VERIFY, {"order_id": data["order_id"]}, format="json")
        else:
            verified = bot_client.post(VERIFY, fake_razorpay.pay(data["order_id"]), format="json")
        assert verified.status_code == 200, verified.content
        return data["gateway"]

    assert buy(small, "+919876500011") == "razorpay"
    assert buy(large, "+919876500012") == "cashfree"
    fake_cashfree.stop()  # Cashfree goes down: the large pack still sells, through Razorpay
    assert buy(large, "+919876500013") == "razorpay"

    orders = PaymentOrder.objects.order_by("id")
    assert [(o.gateway, o.status, o.amount_paise, o.gateway_fee_paise) for o in orders] == [
        ("razorpay", "paid", 30000, 600), ("cashfree", "paid", 150000, 2550), ("razorpay", "paid", 150000, 3000)]
    assert all(o.tenant == api_key[0].tenant for o in orders)
    # money: what each gateway captured is what we recorded, payment by payment
    captured = {p["id"]: p["amount"] for p in fake_razorpay.payments.values() if p["status"] == "captured"}
    captured.update({str(p["cf_payment_id"]): int(p["payment_amount"] * 100)
                     for ps in fake_cashfree.payments.values() for p in ps if p["payment_status"] == "SUCCESS"})
    assert captured == {o.gateway_payment_id: o.amount_paise for o in orders}
    # ledger: one payment grant per order, for the order's credits, referencing its payment
    grants = CreditTransaction.objects.filter(source="payment").order_by("id")
    assert [(g.wallet.user_id, g.credits, g.reference_id) for g in grants] == [
        (o.user_id, o.credits, o.gateway_payment_id) for o in orders]
    for order in orders:
        signup = CreditTransaction.objects.filter(wallet__user=order.user).exclude(source="payment")
        assert balance_of(order.user) == order.credits + sum(t.credits for t in signup)
    out = StringIO()
    call_command("audit_ledger", stdout=out)
    assert "mismatch" not in out.getvalue().lower()
    assert attempts_of(orders[2]) == [("cashfree", "failed"), ("razorpay", "created")]


def test_tenant_admin_buys_credits_routed_by_cost_through_a_gateway_down(client_for, gateways):
    """Issue 15's done-when with a tenant admin's JWT (DESIGN §5: /api/v1/payments/create is for
    users, tenant staff and API keys): routed by cost, surviving Cashfree down; the order, the
    gateway's money, the invoice and the ledger agree. The admin buys for their own account (the
    credits land in the buyer's wallet, as for any person; DESIGN says nothing of a tenant wallet
    being bought into)."""
    from accounts.tests.factories import tenant_admin
    from credits.models import CreditTransaction
    from payments.invoices.models import Invoice
    from tenants.tests.factories import TenantFactory

    fake_razorpay, fake_cashfree = gateways
    tenant = TenantFactory()
    admin = tenant_admin(tenant)
    client = client_for(admin)
    small, large = package_at(300, credits=30), package_at(1500, credits=200)

    def buy(package):
        response = create(client, package)
        assert response.status_code == 201, response.content
        data = response.json()["data"]
        if data["gateway"] == "cashfree":
            fake_cashfree.pay(data["order_id"])
            verified = client.post(VERIFY, {"order_id": data["order_id"]}, format="json")
        else:
            verified = client.post(VERIFY, fake_razorpay.pay(data["order_id"]), format="json")
        assert verified.status_code == 200, verified.content
        return data["gateway"]

    assert buy(small) == "razorpay"
    assert buy(large) == "cashfree"
    fake_cashfree.stop()
    assert buy(large) == "razorpay"

    orders = list(PaymentOrder.objects.order_by("id"))
    assert [(o.gateway, o.status, o.user_id, o.tenant_id) for o in orders] == [
        ("razorpay", "paid", admin.pk, tenant.pk), ("cashfree", "paid", admin.pk, tenant.pk),
        ("razorpay", "paid", admin.pk, tenant.pk)]
    captured = {p["id"]: p["amount"] for p in fake_razorpay.payments.values() if p["status"] == "captured"}
    captured.update({str(p["cf_payment_id"]): int(p["payment_amount"] * 100)
                     for ps in fake_cashfree.payments.values() for p in ps if p["payment_status"] == "SUCCESS"})
    assert captured == {o.gateway_payment_id: o.amount_paise for o in orders}
    invoices = Invoice.objects.filter(kind="invoice").order_by("id")
    assert [(i.order_id, i.total_paise) for i in invoices] == [(o.pk, o.amount_paise) for o in orders]
    grants = CreditTransaction.objects.filter(source="payment").order_by("id")
    assert [(g.wallet.user_id, g.credits) for g in grants] == [(admin.pk, o.credits) for o in orders]
    assert balance_of(admin) == 30 + 200 + 200
    # their tenant's staff list shows the three orders; another tenant's staff sees none
    listed = client.get("/api/v1/payments").json()["data"]
    assert listed["count"] == 3
    assert client_for(tenant_admin(TenantFactory())).get("/api/v1/payments").json()["data"]["count"] == 0
