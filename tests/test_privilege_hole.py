"""Issue 10's "hole to close first": staff of a tenant had platform powers. Each request of the
report, made by tenant A's admin, is refused now and changes nothing; platform staff keep them;
the database refuses the account that made it possible."""

import pytest
from django.db import IntegrityError, transaction

from accounts.models import User
from accounts.tests.factories import UserFactory, platform_admin, platform_support, tenant_admin, tenant_staff
from credits.models import CreditTransaction, Wallet
from credits.services import wallet_get_or_create_for_user, wallet_get_platform, wallet_grant
from payments.gateways import get_gateway
from payments.models import Refund
from payments.services import order_create, order_verify
from plans.models import CreditPackage, RatePlan
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def world(settings):
    from plans.catalog import catalog_load
    from plans.models import AddOn

    catalog_load(RatePlan, AddOn, CreditPackage)
    settings.PAYMENT_GATEWAY = "sandbox"
    a, b = TenantFactory(), TenantFactory()
    customer_b = UserFactory(tenant=b, phone="+919811111111")
    wallet_grant(wallet=wallet_get_or_create_for_user(user=customer_b), credits=7, source="adjustment", reason="t")
    package = CreditPackage.objects.order_by("pk").first()
    order_b = order_create(user=customer_b, package_id=package.pk, tenant=b, phone_number=customer_b.phone)
    paid = get_gateway(order_b.gateway).pay(order_id=order_b.gateway_order_id, amount_paise=order_b.amount_paise,
                                            currency=order_b.currency)
    order_b, _ = order_verify(order=order_b, payment_id=paid["razorpay_payment_id"],
                              signature=paid["razorpay_signature"])
    return {"a": a, "b": b, "customer_b": customer_b, "order_b": order_b}


def test_is_staff_with_a_tenant_cannot_exist():
    tenant = TenantFactory()
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="sneaky@example.com", tenant=tenant, is_staff=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="sneaky2@example.com", tenant=tenant, role="admin", is_staff=True)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="sneaky3@example.com", role="tenant_admin", is_staff=False)
    with pytest.raises(IntegrityError), transaction.atomic():
        User.objects.create(email="sneaky4@example.com", role="support", is_staff=True, is_superuser=True)


def test_tenant_admin_cannot_mint_credits_into_the_master_wallet(client_for, world):
    response = client_for(tenant_admin(world["a"])).post(
        "/api/v1/admin/credits/purchase", {"credits": 1_000_000}, format="json")
    assert response.status_code == 403
    assert wallet_get_platform().balance == 0


def test_tenant_admin_cannot_allocate_to_their_own_tenant(client_for, world):
    admin = platform_admin()
    assert client_for(admin).post("/api/v1/admin/credits/purchase", {"credits": 50},
                                  format="json").status_code == 201
    response = client_for(tenant_admin(world["a"])).post(
        "/api/v1/admin/credits/allocate", {"tenant_id": world["a"].pk, "credits": 50}, format="json")
    assert response.status_code == 403
    assert not Wallet.objects.filter(tenant=world["a"]).exclude(balance=0).exists()
    assert wallet_get_platform().balance == 50


def test_tenant_admin_cannot_refund_another_tenants_order_by_either_id(client_for, world):
    client = client_for(tenant_admin(world["a"]))
    for ref in (world["order_b"].pk, world["order_b"].gateway_order_id):
        response = client.post(f"/api/v1/payments/{ref}/refund", {"reason": "mine now"}, format="json")
        assert response.status_code == 404, response.content
        assert client.get(f"/api/v1/payments/{ref}").status_code == 404
    assert not Refund.objects.exists()


def test_tenant_staff_see_their_tenants_order_but_never_refund_it(client_for, world):
    staff_b = client_for(tenant_admin(world["b"]))
    assert staff_b.get(f"/api/v1/payments/{world['order_b'].gateway_order_id}").status_code == 200
    response = staff_b.post(f"/api/v1/payments/{world['order_b'].pk}/refund", {"reason": "x"}, format="json")
    assert response.status_code == 403
    support = client_for(platform_support())
    assert support.get(f"/api/v1/payments/{world['order_b'].pk}").status_code == 200
    assert support.post(f"/api/v1/payments/{world['order_b'].pk}/refund", {"reason": "x"},
                        format="json").status_code == 403
    assert not Refund.objects.exists()


def test_platform_admin_refunds_any_tenants_order_by_the_gateway_order_id(client_for, world):
    response = client_for(platform_admin()).post(
        f"/api/v1/payments/{world['order_b'].gateway_order_id}/refund", {"amount": 100, "reason": "goodwill"},
        format="json")
    assert response.status_code == 201, response.content
    assert response.json()["data"]["order"]["order_id"] == world["order_b"].gateway_order_id
    assert Refund.objects.get().order == world["order_b"]


def test_tenant_admin_cannot_edit_the_global_catalog(client_for, world):
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    before = plan.monthly_price_paise
    response = client_for(tenant_admin(world["a"])).put(
        f"/api/rate-plans/{plan.pk}", {"monthlyPrice": 1}, format="json")
    assert response.status_code == 403
    plan.refresh_from_db()
    assert plan.monthly_price_paise == before


def test_tenant_staff_cannot_read_another_tenants_users(client_for, world):
    client = client_for(tenant_staff(world["a"]))
    assert client.get("/api/users/9811111111").status_code == 404
    assert client.get(f"/api/credits/history/{world['customer_b'].pk}").status_code == 404
    mine = client_for(tenant_staff(world["b"]))
    balance = Wallet.objects.get(user=world["customer_b"]).balance
    assert mine.get("/api/users/9811111111").json()["data"]["credits"] == balance
    assert mine.get(f"/api/credits/history/{world['customer_b'].pk}").json()["data"]["total"] == 2


def test_tenant_staff_jwt_reads_and_spends_the_tenant_wallet(client_for, world):
    from credits.services import wallet_get_or_create_for_tenant

    wallet_grant(wallet=wallet_get_or_create_for_tenant(tenant=world["a"]), credits=10, source="adjustment",
                 reason="t")
    staff = tenant_staff(world["a"])
    client = client_for(staff)
    assert client.get("/api/v1/credits/wallet").json()["data"]["balance"] == 10
    response = client.post("/api/v1/credits/deduct", {"credits": 3, "reason": "sms"}, format="json")
    assert response.status_code == 200, response.content
    assert response.json()["data"]["wallet"]["balance"] == 7
    row = CreditTransaction.objects.filter(wallet__tenant=world["a"], action="debit").get()
    assert row.actor == staff
    # tenant B's wallet is untouched, and an end user of A has no access to it
    assert client_for(tenant_staff(world["b"])).get("/api/v1/credits/wallet").json()["data"]["balance"] == 0
    assert client_for(UserFactory(tenant=world["a"])).get("/api/v1/credits/wallet").status_code == 403


def test_suspended_tenants_staff_and_keys_are_refused(client_for, world, api_client):
    from tenants.services import api_key_create, tenant_set_status

    staff = tenant_admin(world["a"])
    _, raw = api_key_create(tenant=world["a"], name="bot", scopes=["bot"])
    tenant_set_status(tenant=world["a"], status="suspended")
    assert client_for(staff).get("/api/v1/credits/wallet").status_code == 403
    assert api_client.get("/api/v1/credits/wallet", HTTP_X_BOT_SECRET=raw).status_code == 403


def test_admin_login_is_for_platform_staff_only(api_client, world):
    password = "a-long-passphrase-42"
    for who, expected in ((tenant_admin(world["a"], password=password), 403),
                          (UserFactory(password=password), 403),
                          (platform_support(password=password), 200)):
        response = api_client.post("/api/v1/auth/admin/login", {"email": who.email, "password": password},
                                   format="json")
        assert response.status_code == expected, (who.role, response.content)


def test_tenant_staff_lists_are_scoped_to_their_tenant(client_for, world):
    client = client_for(tenant_staff(world["a"]))
    assert client.get("/api/v1/payments").json()["data"]["count"] == 0
    mine = client_for(tenant_staff(world["b"])).get("/api/v1/payments").json()["data"]
    assert [order["order_id"] for order in mine["results"]] == [world["order_b"].gateway_order_id]
    everyone = client_for(platform_support()).get(f"/api/v1/payments?tenant={world['b'].pk}&status=paid")
    assert everyone.json()["data"]["count"] == 1
    assert client_for(platform_support()).get("/api/v1/payments?status=bogus").status_code == 400
