"""Phone sign-in end to end (DESIGN §4.9, seed 003's web frontend): a person buys on the web and
the bot sees it; a web account attaching the bot's number merges the two accounts in one
transaction (credits by a paired transfer, orders, subscriptions, history), or answers 409."""

import logging

import pytest
from django.core.management import call_command
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User
from accounts.tests.factories import DEFAULT_PASSWORD, PhoneUserFactory, UserFactory
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user
from payments.models import PaymentOrder
from plans.models import RatePlan
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.services import token_consume, token_plan_purchase, token_usage_get
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"
CREATE, VERIFY, PAY = "/api/payments/create-order", "/api/payments/verify", "/api/payments/sandbox/pay"
ATTACH = "/api/auth/me/phone/verify"


@pytest.fixture
def demo(settings, tenant):
    settings.DEFAULT_TENANT_SLUG = tenant.slug
    return tenant


def balance_of(user) -> int:
    wallet = Wallet.objects.filter(user=user).first()
    return wallet.balance if wallet else 0


def buy_package(client, package, **extra) -> dict:
    created = client.post(CREATE, {"package_id": package.pk, **extra}, format="json")
    assert created.status_code == 200, created.content
    checkout = client.post(PAY, {"order_id": created.json()["data"]["order_id"]}, format="json").json()
    verified = client.post(VERIFY, {"package_id": package.pk, **checkout, **extra}, format="json")
    assert verified.status_code == 200, verified.content
    return verified.json()["data"]


def error_of(response):
    assert response.json()["success"] is False, response.content
    return response.json()["error"]


# --- a phone-only person on the web ----------------------------------------------------------------

def test_sign_in_by_code_buy_a_pack_and_the_bot_sees_it(demo, sandbox, package, phone_code, bot_client):
    # start → verify: the bot's user for this number, with the signup credits
    verified = APIClient().post("/api/auth/phone/verify", {"phone_number": PHONE, "code": phone_code(PHONE)},
                                format="json")
    assert verified.status_code == 200
    web = APIClient()
    web.credentials(HTTP_AUTHORIZATION=f"Bearer {verified.json()['data']['access']}")
    user_id = verified.json()["data"]["user"]["id"]
    # profile (seed 003, with the person's own JWT)
    profile = web.get(f"/api/users/{PHONE}").json()
    assert profile["data"]["id"] == user_id and profile["data"]["credits"] == 3
    # buy a pack (seed 003's package_id flow, with the person's own JWT)
    bought = buy_package(web, package, phone_number=PHONE)
    assert bought["credits_added"] == 100 and bought["remaining_credits"] == 103
    order = PaymentOrder.objects.get()
    assert (order.user_id, order.tenant_id, order.phone_number) == (user_id, demo.pk, PHONE)
    # the bot sees the credits
    bot = bot_client.get(f"/api/bot/credits/{PHONE}").json()
    assert bot["data"] == {"remaining_credits": 103, "user_exists": True}
    history = web.get(f"/api/credits/history/{user_id}").json()["data"]
    assert [t["source"] for t in history["transactions"]] == ["payment", "signup_bonus"]
    assert bot_client.get(f"/api/credits/history/{user_id}").json()["data"] == history


# --- a web (email) account attaching the bot's number ------------------------------------------------

@pytest.fixture
def ravi(api_client, sandbox, package):
    """Registered on the web with the number, bought a pack there: 100 credits the bot never saw."""
    registered = api_client.post("/api/auth/register", {"email": "ravi@example.com", "password": DEFAULT_PASSWORD,
                                                        "phone": "+91 98765 43210"}, format="json")
    assert registered.status_code == 201, registered.content
    # Register never signs in (it must not tell who already has an account): log in next.
    login = api_client.post("/api/auth/login", {"email": "ravi@example.com", "password": DEFAULT_PASSWORD},
                            format="json")
    assert login.status_code == 200, login.content
    client = APIClient()
    client.credentials(HTTP_AUTHORIZATION=f"Bearer {login.json()['data']['access']}")
    client.user = User.objects.get(email="ravi@example.com")
    buy_package(client, package)
    assert balance_of(client.user) == 100
    return client


@pytest.fixture
def bot_customer(demo, bot_client, package):
    """The bot's user for the same number: 38 credits and an order the bot made for them."""
    user = phone_user(demo, PHONE, 38)
    created = bot_client.post(CREATE, {"package_id": package.pk, "phone_number": PHONE}, format="json")
    assert created.status_code == 200
    return user


def attach(client, phone_code, phone=PHONE, code=None, **body):
    code = code if code is not None else phone_code(phone)
    return client.post(ATTACH, {"phone_number": phone, "code": code, **body}, format="json")


def test_attaching_the_bots_number_merges_the_accounts(ravi, bot_customer, phone_code, bot_client, caplog):
    with caplog.at_level(logging.INFO, logger="kosh.audit"):
        response = attach(ravi, phone_code)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert data["merged"] is True and data["merged_user_id"] == bot_customer.pk
    assert (data["credits_moved"], data["orders_moved"], data["subscriptions_moved"]) == (38, 1, 0)
    assert data["user"]["id"] == ravi.user.pk and data["user"]["phone"] == PHONE
    assert data["user"]["tenant"] == bot_customer.tenant_id and data["user"]["is_whatsapp_verified"] is True

    # one balance, through the web and through the bot
    assert balance_of(ravi.user) == 138 and balance_of(bot_customer) == 0
    assert ravi.get(f"/api/users/{PHONE}").json()["data"]["credits"] == 138
    assert bot_client.get(f"/api/bot/credits/{PHONE}").json()["data"] == {"remaining_credits": 138,
                                                                         "user_exists": True}
    assert bot_client.get(f"/api/users/{PHONE}").json()["data"]["id"] == ravi.user.pk
    # one history: ravi's payment, the bot account's funds, both sides of the merge transfer
    history = ravi.get(f"/api/credits/history/{ravi.user.pk}").json()["data"]
    assert history["total"] == 4
    assert sorted(t["source"] for t in history["transactions"]) == ["adjustment", "payment", "transfer",
                                                                     "transfer"]
    assert ravi.get("/api/wallet/transactions").json()["data"]["count"] == 4
    # the bot's order is now ravi's; paying it credits ravi
    assert PaymentOrder.objects.filter(user=ravi.user).count() == 2
    assert ravi.get("/api/payments").json()["data"]["count"] == 2
    # the retired account: inactive, numberless, pointing at ravi
    bot_customer.refresh_from_db()
    assert (bot_customer.is_active, bot_customer.phone, bot_customer.merged_into_id) == (False, None,
                                                                                        ravi.user.pk)
    # the audit record
    audit = [r.getMessage() for r in caplog.records if "action=account.merge" in r.getMessage()]
    assert len(audit) == 1 and f"merged_user={bot_customer.pk}" in audit[0] and PHONE not in audit[0]
    call_command("audit_ledger")
    # the merged account signs in both ways
    login = APIClient().post("/api/auth/login", {"email": "ravi@example.com", "password": DEFAULT_PASSWORD},
                             format="json")
    assert login.json()["data"]["user"]["id"] == ravi.user.pk
    by_phone = APIClient().post("/api/auth/phone/verify", {"phone_number": PHONE, "code": phone_code(PHONE)},
                                format="json")
    assert by_phone.json()["data"]["user"]["id"] == ravi.user.pk


def test_an_order_of_the_retired_account_paid_after_the_merge_credits_the_survivor(
        ravi, bot_customer, phone_code, bot_client):
    order = PaymentOrder.objects.get(user=bot_customer)
    assert attach(ravi, phone_code).status_code == 200
    checkout = bot_client.post(PAY, {"order_id": order.gateway_order_id}, format="json").json()
    verified = bot_client.post(VERIFY, {**checkout, "package_id": order.package_id}, format="json")
    assert verified.status_code == 200 and verified.json()["data"]["remaining_credits"] == 238
    assert balance_of(ravi.user) == 238


def test_attaching_a_number_the_bot_never_met(ravi, demo, phone_code):
    response = attach(ravi, phone_code)
    assert response.status_code == 200
    data = response.json()["data"]
    assert data["merged"] is True and data["credits_moved"] == 3  # the signup credits, as the bot gives
    assert balance_of(ravi.user) == 103
    ravi.user.refresh_from_db()
    assert (ravi.user.tenant_id, ravi.user.phone) == (demo.pk, PHONE)


def test_attaching_the_verified_number_again_changes_nothing(ravi, bot_customer, phone_code):
    assert attach(ravi, phone_code).status_code == 200
    codes_before = PhoneCode.objects.count()
    again = attach(ravi, phone_code, code="000000")  # a retry after a lost answer: no code needed
    assert again.status_code == 200 and again.json()["data"]["merged"] is False
    assert balance_of(ravi.user) == 138 and PhoneCode.objects.count() == codes_before


def test_attach_needs_the_right_code_and_counts_tries(ravi, bot_customer, phone_code):
    code = phone_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"
    for _ in range(5):
        assert attach(ravi, phone_code, code=wrong).status_code == 400
    sixth = attach(ravi, phone_code, code=code)
    assert sixth.status_code == 400 and error_of(sixth)["code"] == "too_many_attempts"
    assert balance_of(ravi.user) == 100 and User.objects.get(pk=bot_customer.pk).is_active


def test_attach_needs_a_signed_in_person(demo, phone_code, bot_client):
    code = phone_code(PHONE)
    assert APIClient().post(ATTACH, {"phone_number": PHONE, "code": code}, format="json").status_code == 401
    refused = bot_client.post(ATTACH, {"phone_number": PHONE, "code": code}, format="json")
    assert refused.status_code == 401


@pytest.mark.parametrize("case, status, code", [
    ("staff", 403, "staff_account"),
    ("other_tenant", 409, "tenant_mismatch"),
    ("another_number", 409, "phone_already_attached"),
    ("email_owner", 409, "phone_taken"),
    ("inactive_owner", 403, "user_inactive"),
])
def test_attach_refusals_change_nothing(demo, phone_code, client_for, case, status, code):
    user = UserFactory(is_staff=(case == "staff"))
    if case == "other_tenant":
        user.tenant = TenantFactory()
    elif case == "another_number":
        user.tenant, user.phone = demo, "+919876500077"
    user.save()
    owner = None
    if case == "email_owner":
        owner = UserFactory(tenant=demo, phone=PHONE)
    elif case == "inactive_owner":
        owner = PhoneUserFactory(tenant=demo, phone=PHONE, is_active=False)
    response = attach(client_for(user), phone_code)
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code
    user.refresh_from_db()
    assert user.phone != PHONE
    if owner is not None:
        owner.refresh_from_db()
        assert owner.phone == PHONE and owner.merged_into_id is None
    assert not CreditTransaction.objects.filter(source="transfer").exists()


# --- subscriptions in a merge -------------------------------------------------------------------------

def plan(code):
    return RatePlan.objects.get(product="tokens", code=code)


def test_two_paid_token_plans_conflict_and_nothing_changes(ravi, bot_customer, phone_code):
    token_plan_purchase(user=ravi.user, plan=plan("premium"))
    token_plan_purchase(user=bot_customer, plan=plan("standard"))
    response = attach(ravi, phone_code)
    assert response.status_code == 409
    error = error_of(response)
    assert error["code"] == "subscription_conflict"
    assert "premium (active) on this account, standard (active) on the number's account" in error["message"]
    assert "Cancel one" in error["message"]
    # one transaction: nothing moved
    assert balance_of(ravi.user) == 100 and balance_of(bot_customer) == 38
    bot_customer.refresh_from_db()
    ravi.user.refresh_from_db()
    assert bot_customer.is_active and bot_customer.phone == PHONE and bot_customer.merged_into_id is None
    assert ravi.user.tenant_id is None
    assert PaymentOrder.objects.filter(user=bot_customer).count() == 1
    assert Subscription.objects.get(user=bot_customer, status="active").plan.code == "standard"
    assert not CreditTransaction.objects.filter(source="transfer").exists()


def test_a_free_basic_plan_gives_way_to_the_paid_one_and_keeps_its_usage(ravi, bot_customer, phone_code):
    token_usage_get(user=ravi.user)  # ravi's dashboard provisioned basic
    token_consume(user=ravi.user, tokens=300)
    token_plan_purchase(user=bot_customer, plan=plan("standard"))
    token_consume(user=bot_customer, tokens=1000)
    response = attach(ravi, phone_code)
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    basic = Subscription.objects.get(user=ravi.user, plan__code="basic")
    assert data["subscriptions_closed"] == [basic.pk] and data["subscriptions_moved"] == 1
    assert basic.status == "cancelled"
    assert SubscriptionEvent.objects.filter(subscription=basic, kind="merged").exists()
    usage = token_usage_get(user=ravi.user)
    assert usage["plan"] == "standard" and usage["token_used"] == 1300


def test_two_basic_plans_become_one(ravi, bot_customer, phone_code):
    token_usage_get(user=ravi.user)
    token_consume(user=bot_customer, tokens=200)
    response = attach(ravi, phone_code)
    assert response.status_code == 200
    live = Subscription.objects.filter(user=ravi.user, status__in=Subscription.LIVE_STATUSES)
    assert live.count() == 1 and Subscription.objects.filter(user=ravi.user).count() == 2
    assert token_usage_get(user=ravi.user)["token_used"] == 200


def test_the_retired_accounts_tokens_stop_working(ravi, bot_customer, phone_code):
    # The person had signed in by code before (tokens of the bot's account) ...
    old = APIClient().post("/api/auth/phone/verify", {"phone_number": PHONE, "code": phone_code(PHONE)},
                           format="json").json()["data"]
    assert old["user"]["id"] == bot_customer.pk
    # ... then attaches the number to the web account: those tokens are refused from now on.
    assert attach(ravi, phone_code).status_code == 200
    stale = APIClient()
    stale.credentials(HTTP_AUTHORIZATION=f"Bearer {old['access']}")
    assert stale.get("/api/auth/me").status_code == 401
    assert APIClient().post("/api/auth/refresh", {"refresh": old["refresh"]}, format="json").status_code == 401


def test_a_pending_checkout_gives_way_to_a_paid_subscription(ravi, bot_customer, phone_code, catalog):
    from subscriptions.tests.factories import telephony_subscription

    paid = telephony_subscription(user=ravi.user)
    pending = telephony_subscription(user=bot_customer, plan="PROFESSIONAL", status="pending")
    response = attach(ravi, phone_code)
    assert response.status_code == 200, response.content
    assert response.json()["data"]["subscriptions_closed"] == [pending.pk]
    pending.refresh_from_db()
    paid.refresh_from_db()
    assert (pending.user_id, pending.status, pending.ended_at is not None) == (ravi.user.pk, "cancelled", True)
    assert paid.status == "active" and paid.user_id == ravi.user.pk
    assert SubscriptionEvent.objects.filter(subscription=pending, kind="merged").exists()


def test_two_paid_telephony_subscriptions_conflict(ravi, bot_customer, phone_code, catalog):
    from subscriptions.tests.factories import telephony_subscription

    telephony_subscription(user=ravi.user)
    telephony_subscription(user=bot_customer, plan="PROFESSIONAL")
    response = attach(ravi, phone_code)
    assert response.status_code == 409 and error_of(response)["code"] == "subscription_conflict"
    assert "telephony: STARTER (active) on this account, PROFESSIONAL (active)" in error_of(response)["message"]


def test_the_retired_accounts_invoices_and_billing_profile_come_along(ravi, bot_customer, phone_code,
                                                                      bot_client):
    from accounts.billing import billing_profile_save
    from payments.invoices.models import Invoice

    order = PaymentOrder.objects.get(user=bot_customer)
    checkout = bot_client.post(PAY, {"order_id": order.gateway_order_id}, format="json").json()
    assert bot_client.post(VERIFY, {**checkout, "package_id": order.package_id}, format="json").status_code == 200
    billing_profile_save(user=bot_customer, first_name="Ravi", city="Pune")
    bot_invoice = Invoice.objects.get(order=order)
    assert bot_invoice.user_id == bot_customer.pk

    assert attach(ravi, phone_code).status_code == 200
    listed = ravi.get("/api/invoices").json()["data"]
    assert listed["count"] == 2
    assert ravi.get(f"/api/invoices/{bot_invoice.pk}").status_code == 200
    bot_invoice.refresh_from_db()
    assert bot_invoice.user_id == bot_customer.pk  # an issued invoice never changes
    ravi.user.refresh_from_db()
    assert ravi.user.billing_profile.first_name == "Ravi"


def test_an_unverified_number_the_account_already_has_needs_the_code(demo, phone_code, client_for):
    user = UserFactory(tenant=demo, phone=PHONE)
    client = client_for(user)
    code = phone_code(PHONE)
    wrong = attach(client, phone_code, code=f"{(int(code) + 1) % 10**6:06d}")
    assert wrong.status_code == 400 and error_of(wrong)["code"] == "code_incorrect"
    right = attach(client, phone_code, code=code)
    assert right.status_code == 200 and right.json()["data"]["merged"] is False
    user.refresh_from_db()
    assert user.is_whatsapp_verified and User.objects.filter(phone=PHONE).count() == 1
