"""Admin polish (issue 10, item 8): API key scopes from a list (an unknown one is a form error,
never a 500), the tenant next to every phone number, and admin writes audited."""

import pytest
from django.urls import reverse
from django.utils import timezone

from accounts.tests.factories import PhoneUserFactory, UserFactory
from config.models import AuditEvent
from credits import services as credit_services
from tenants.models import ApiKey
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db
KEY_ADD = "/admin/tenants/apikey/add/"


@pytest.fixture
def admin_user():
    return UserFactory(is_staff=True, is_superuser=True)


@pytest.fixture
def admin_client(client, admin_user):
    client.force_login(admin_user)
    return client


def test_an_unknown_scope_is_a_form_error_not_a_500(admin_client, tenant):
    response = admin_client.post(KEY_ADD, {"tenant": tenant.pk, "name": "bot", "scopes": ["bot", "root"]})
    assert response.status_code == 200
    assert "scopes" in response.context["adminform"].form.errors
    no_scope = admin_client.post(KEY_ADD, {"tenant": tenant.pk, "name": "bot"})
    assert no_scope.status_code == 200 and "scopes" in no_scope.context["adminform"].form.errors
    assert not ApiKey.objects.exists() and not AuditEvent.objects.exists()


def test_scopes_are_ticked_from_the_list_and_the_key_is_audited(admin_client, admin_user, tenant):
    page = admin_client.get(KEY_ADD).content.decode()
    for scope in ApiKey.Scope.values:
        assert f'type="checkbox" name="scopes" value="{scope}"' in page
    response = admin_client.post(KEY_ADD, {"tenant": tenant.pk, "name": "bot", "scopes": ["bot", "usage"]})
    assert response.status_code == 302, response.content.decode()[:2000]
    api_key = ApiKey.objects.get()
    assert api_key.scopes == ["bot", "usage"]
    event = AuditEvent.objects.get()
    assert (event.action, event.actor, event.tenant_id) == ("api_key.create", admin_user, tenant.pk)
    assert admin_client.get(f"/admin/tenants/apikey/{api_key.pk}/change/").status_code == 200
    revoke = admin_client.post(reverse("admin:tenants_apikey_changelist"),
                               {"action": "revoke", "_selected_action": [api_key.pk]})
    assert revoke.status_code == 302
    assert AuditEvent.objects.first().action == "api_key.revoke"


def test_wallets_orders_and_refunds_show_the_tenant_next_to_the_phone(admin_client):
    tenant = TenantFactory(name="Shanti Library", slug="shanti")
    user = PhoneUserFactory(tenant=tenant, phone="+919876512345")
    wallet = credit_services.wallet_get_or_create_for_user(user=user)
    listing = admin_client.get(reverse("admin:credits_wallet_changelist")).content.decode()
    assert "+919876512345 · Shanti Library (shanti)" in listing
    detail = admin_client.get(reverse("admin:credits_wallet_change", args=[wallet.pk])).content.decode()
    assert "+919876512345 · Shanti Library (shanti)" in detail
    form = admin_client.post(reverse("admin:credits_wallet_changelist"),
                             {"action": "adjust_credits", "_selected_action": [wallet.pk]}).content.decode()
    assert "Shanti Library (shanti)" in form


def test_order_and_refund_lists_show_the_tenant(admin_client):
    from payments.models import PaymentOrder, Refund
    from plans.models import CreditPackage

    tenant = TenantFactory(name="Shanti Library", slug="shanti")
    user = PhoneUserFactory(tenant=tenant, phone="+919876512345")
    order = PaymentOrder.objects.create(user=user, tenant=tenant, kind="credit_package", amount_paise=2000,
                                        gateway_order_id="order_T1", receipt="rcpt_T1", status="paid",
                                        credits=20, gateway_payment_id="pay_T1", fulfilled_at=timezone.now(),
                                        package=CreditPackage.objects.first())
    Refund.objects.create(order=order, receipt="rcpt_T1-r1", amount_paise=100, status="requested")
    for name in ("admin:payments_paymentorder_changelist", "admin:payments_refund_changelist"):
        page = admin_client.get(reverse(name)).content.decode()
        assert "+919876512345 · Shanti Library (shanti)" in page, name
