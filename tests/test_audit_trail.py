"""Every operator action writes exactly one audit event, in its own transaction (DESIGN §4.6), and
the trail reads back through GET /api/v1/admin/audit-logs."""

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError

from accounts.merge import account_merge
from accounts.tests.factories import PhoneUserFactory, UserFactory
from config.models import AuditEvent
from config.policy import principal_for_user
from credits import services as credit_services
from credits.models import Wallet
from plans import services as plan_services
from plans.models import CreditPackage, RatePlan
from subscriptions.services import token_plan_change
from subscriptions.tests.factories import telephony_subscription
from tenants.services import api_key_create, api_key_revoke
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db
AUDIT = "/api/v1/admin/audit-logs"


def only_event(**expected):
    event = AuditEvent.objects.get()
    for name, value in expected.items():
        assert getattr(event, name) == value, (name, getattr(event, name), value)
    return event


# --- credits --------------------------------------------------------------------------------------

def test_master_purchase_is_one_event_with_the_balance_before_and_after(staff_client):
    response = staff_client.post("/api/v1/admin/credits/purchase", {"credits": 500, "reason": "stock"},
                                 format="json", HTTP_X_REQUEST_ID="req-42")
    assert response.status_code == 201, response.content
    master = Wallet.objects.get(kind="platform")
    event = only_event(actor=staff_client.user, action="credits.purchase", object_type="wallet",
                       object_id=str(master.pk), tenant_id=None, reason="stock", request_id="req-42",
                       ip="127.0.0.1")
    assert event.before == {"balance": 0}
    assert event.after["balance"] == 500 and event.after["credits"] == 500


def test_a_replayed_purchase_records_nothing_more(staff_client):
    for _ in range(2):
        response = staff_client.post("/api/v1/admin/credits/purchase", {"credits": 5}, format="json",
                                     HTTP_IDEMPOTENCY_KEY="buy-once")
        assert response.status_code == 201
    assert AuditEvent.objects.count() == 1


def test_allocation_is_one_event_on_the_tenant_wallet(staff_client, tenant):
    credit_services.master_wallet_purchase(credits=100, actor=staff_client.user)
    before = AuditEvent.objects.count()
    response = staff_client.post("/api/v1/admin/credits/allocate", {"tenant_id": tenant.pk, "credits": 30},
                                 format="json")
    assert response.status_code == 201, response.content
    assert AuditEvent.objects.count() == before + 1
    event = AuditEvent.objects.first()
    target = Wallet.objects.get(tenant=tenant)
    assert (event.action, event.object_type, event.object_id, event.tenant_id, event.actor) == (
        "credits.allocate", "wallet", str(target.pk), tenant.pk, staff_client.user)
    assert event.before == {"balance": 0} and event.after["balance"] == 30
    assert event.after["master_balance"] == 70


def test_a_failed_allocation_writes_no_event(staff_client, tenant):
    response = staff_client.post("/api/v1/admin/credits/allocate", {"tenant_id": tenant.pk, "credits": 30},
                                 format="json")
    assert response.status_code == 402
    assert not AuditEvent.objects.exists()


def test_staff_grant_and_adjustment(staff_user):
    user = PhoneUserFactory(tenant=TenantFactory())
    wallet = credit_services.wallet_get_or_create_for_user(user=user)
    credit_services.wallet_adjust(wallet=wallet, credits=9, actor=staff_user, reason="goodwill")
    event = only_event(action="credits.grant", object_id=str(wallet.pk), tenant_id=user.tenant_id,
                       actor=staff_user, reason="goodwill")
    assert (event.before, event.after["balance"]) == ({"balance": 0}, 9)
    credit_services.wallet_adjust(wallet=wallet, credits=4, deduct=True, actor=staff_user, reason="typo")
    event = AuditEvent.objects.first()
    assert (event.action, event.before, event.after["balance"]) == ("credits.adjust", {"balance": 9}, 5)
    with pytest.raises(credit_services.InsufficientCredits):
        credit_services.wallet_adjust(wallet=wallet, credits=50, deduct=True, actor=staff_user, reason="x")
    assert AuditEvent.objects.count() == 2


def test_the_grant_credits_command_names_itself():
    user = UserFactory(email="ravi@example.com")
    call_command("grant_credits", "--email", "ravi@example.com", "--credits", "3", "--reason", "promo")
    only_event(actor=None, actor_label="command:grant_credits", action="credits.grant")
    with pytest.raises(CommandError):
        call_command("grant_credits", "--email", "ravi@example.com", "--credits", "30", "--reason", "x",
                     "--deduct")
    assert AuditEvent.objects.count() == 1
    assert user.pk


# --- catalog ---------------------------------------------------------------------------------------

def test_plan_price_changes_keep_their_history(staff_client):
    plan = plan_services.rate_plan_create(product="telephony", code="AUDITED", name="Audited",
                                          monthly_price_paise=10000, actor=staff_client.user)
    created = only_event(action="rate_plan.create", object_type="rate_plan", object_id=str(plan.pk),
                         before=None)
    assert created.after["monthly_price_paise"] == 10000
    response = staff_client.put(f"/api/rate-plans/{plan.pk}", {"monthlyPrice": 150}, format="json")
    assert response.status_code == 200, response.content
    updated = AuditEvent.objects.first()
    assert (updated.action, updated.actor) == ("rate_plan.update", staff_client.user)
    assert updated.before["monthly_price_paise"] == 10000
    assert updated.after["monthly_price_paise"] == RatePlan.objects.get(pk=plan.pk).monthly_price_paise != 10000
    # An update that changes nothing, or that is refused, records nothing.
    plan_services.rate_plan_update(plan=plan, actor=staff_client.user)
    bad = staff_client.put(f"/api/rate-plans/{plan.pk}", {"monthlyPrice": -1}, format="json")
    assert bad.status_code == 400
    assert AuditEvent.objects.count() == 2
    assert staff_client.delete(f"/api/rate-plans/{plan.pk}").status_code == 200
    deleted = AuditEvent.objects.first()
    assert (deleted.action, deleted.after, deleted.before["code"]) == ("rate_plan.delete", None, "AUDITED")


def test_credit_package_create_update_delete(staff_user):
    package = plan_services.credit_package_create(name="Audit pack", price_paise=5000, credits=50,
                                                  actor=staff_user)
    plan_services.credit_package_update(package=package, price_paise=6000, actor=staff_user)
    plan_services.credit_package_delete(package=CreditPackage.objects.get(pk=package.pk), actor=staff_user)
    events = list(AuditEvent.objects.order_by("id"))
    assert [e.action for e in events] == ["credit_package.create", "credit_package.update",
                                          "credit_package.delete"]
    assert events[1].before["price_paise"] == 5000 and events[1].after["price_paise"] == 6000
    assert {e.object_id for e in events} == {str(package.pk)}


# --- subscriptions and tokens -------------------------------------------------------------------------

def test_staff_subscription_actions_are_audited_and_the_owners_are_not(staff_client):
    subscription = telephony_subscription(actor=staff_client.user)
    only_event(action="subscription.create", object_type="subscription", object_id=str(subscription.pk))
    response = staff_client.post(f"/api/subscriptions/{subscription.pk}/suspend", {"reason": "unpaid"},
                                 format="json")
    assert response.status_code == 200, response.content
    event = AuditEvent.objects.first()
    assert (event.action, event.actor, event.reason) == ("subscription.suspend", staff_client.user, "unpaid")
    assert (event.before["status"], event.after["status"]) == ("active", "suspended")
    # The customer's own subscription made by the customer (no staff) is not an operator action.
    telephony_subscription(actor=None)
    assert AuditEvent.objects.count() == 2


def test_a_staff_token_plan_change(staff_user):
    user = UserFactory()
    token_plan_change(principal=principal_for_user(staff_user), user=user, plan_code="premium",
                      actor=staff_user, reason="support ticket")
    event = only_event(action="token_plan.change", object_type="user", object_id=str(user.pk), actor=staff_user)
    assert (event.before["plan"], event.after["plan"]) == ("basic", "premium")
    token_plan_change(principal=principal_for_user(user), user=user, plan_code="basic",
                      actor=user)  # the user's own change
    assert AuditEvent.objects.count() == 1


# --- accounts and keys ---------------------------------------------------------------------------------

def test_an_account_merge_is_an_audit_event():
    tenant = TenantFactory()
    web_user = UserFactory()
    bot_user = PhoneUserFactory(tenant=tenant, phone="+919876500009")
    account_merge(survivor=web_user, retired=bot_user, actor=web_user, address="198.51.100.7")
    event = only_event(action="account.merge", object_type="user", object_id=str(web_user.pk),
                       tenant_id=tenant.pk, actor=web_user, ip="198.51.100.7")
    assert event.after["merged_user_id"] == bot_user.pk and event.before["tenant_id"] is None


def test_api_key_create_and_revoke(staff_user, tenant):
    api_key, raw = api_key_create(tenant=tenant, name="bot", scopes=["bot"], actor=staff_user)
    created = only_event(action="api_key.create", object_type="api_key", object_id=str(api_key.pk),
                         tenant_id=tenant.pk, before=None)
    assert raw not in str(created.after) and created.after["prefix"] == api_key.prefix
    api_key_revoke(api_key=api_key, actor=staff_user)
    api_key_revoke(api_key=api_key, actor=staff_user)  # already revoked: nothing more
    revoked = AuditEvent.objects.first()
    assert (revoked.action, revoked.before["revoked_at"]) == ("api_key.revoke", None)
    assert revoked.after["revoked_at"] is not None and AuditEvent.objects.count() == 2


# --- the API --------------------------------------------------------------------------------------------

@pytest.fixture
def trail(staff_user):
    one, two = TenantFactory(), TenantFactory()
    key_one, _ = api_key_create(tenant=one, name="a", actor=staff_user)
    api_key_create(tenant=two, name="b", actor="command:create_api_key")
    api_key_revoke(api_key=key_one, actor=staff_user)
    credit_services.master_wallet_purchase(credits=10, actor=staff_user)
    return {"one": one, "two": two, "key_one": key_one}


def actions(response):
    assert response.status_code == 200, response.content
    return [event["action"] for event in response.json()["data"]["results"]]


def test_the_audit_log_lists_newest_first_and_filters(staff_client, trail, staff_user):
    assert actions(staff_client.get(AUDIT)) == ["credits.purchase", "api_key.revoke", "api_key.create",
                                                "api_key.create"]
    assert actions(staff_client.get(AUDIT, {"tenant": trail["one"].pk})) == ["api_key.revoke", "api_key.create"]
    assert actions(staff_client.get(AUDIT, {"action": "api_key.create"})) == ["api_key.create"] * 2
    assert actions(staff_client.get(AUDIT, {"action": "api_key.*"})) == ["api_key.revoke", "api_key.create",
                                                                         "api_key.create"]
    assert actions(staff_client.get(AUDIT, {"actor": "command:create_api_key"})) == ["api_key.create"]
    assert len(actions(staff_client.get(AUDIT, {"actor": staff_user.pk}))) == 3
    assert actions(staff_client.get(AUDIT, {"object": f"api_key:{trail['key_one'].pk}"})) == [
        "api_key.revoke", "api_key.create"]
    assert actions(staff_client.get(AUDIT, {"object": "wallet"})) == ["credits.purchase"]
    assert len(actions(staff_client.get(AUDIT, {"from": "2000-01-01", "to": "2999-12-31"}))) == 4
    assert actions(staff_client.get(AUDIT, {"to": "2000-01-01"})) == []
    page = staff_client.get(AUDIT, {"page_size": 1, "page": 2}).json()["data"]
    assert page["count"] == 4 and page["total_pages"] == 4 and page["results"][0]["action"] == "api_key.revoke"
    first = staff_client.get(AUDIT).json()["data"]["results"][0]
    detail = staff_client.get(f"{AUDIT}/{first['id']}")
    assert detail.status_code == 200 and detail.json()["data"] == first
    assert first["actor_id"] == staff_user.pk and first["actor_label"] == staff_user.email


@pytest.mark.parametrize("params", [
    {"tenant": "abc"}, {"tenant": "0"}, {"actor": "x" * 300}, {"action": "DROP TABLE"}, {"action": "a b"},
    {"object": "Bad Type"}, {"object": "api_key:"}, {"from": "yesterday"}, {"to": "2024-02-30"},
    {"from": "2024-03-02", "to": "2024-03-01"}, {"page": "0"},
])
def test_bad_filters_are_400_in_the_envelope(staff_client, params):
    response = staff_client.get(AUDIT, params)
    assert response.status_code == 400, (params, response.content)
    assert response.json()["success"] is False


def test_only_staff_read_the_audit_log(api_client, auth_client, bot_client, staff_client, trail):
    event_id = AuditEvent.objects.first().pk
    assert api_client.get(AUDIT).status_code == 401
    assert auth_client.get(AUDIT).status_code == 403
    assert bot_client.get(AUDIT).status_code in (401, 403)
    assert auth_client.get(f"{AUDIT}/{event_id}").status_code == 403
    assert staff_client.get(f"{AUDIT}/999999999").status_code == 404
    assert staff_client.get(f"{AUDIT}/99999999999999999999999").status_code == 404
