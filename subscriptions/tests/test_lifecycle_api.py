"""Seed 002's /api/subscriptions endpoints other than checkout and usage: reads, owner and staff
actions, the legacy create. Each change is checked in the database and on the timeline."""

from datetime import timedelta

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from accounts.tests.factories import UserFactory
from plans.models import RatePlan
from subscriptions import clock
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.tests.factories import telephony_plan, telephony_subscription, token_state

pytestmark = pytest.mark.django_db

BASE = "/api/subscriptions"
MINE = f"{BASE}/my-subscription"


def error(response, status, code=None, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False and body["error"]["message"], body
    if code:
        assert body["error"]["code"] == code, body
    if field:
        assert field in body["error"]["fields"], body
    return body


def events(subscription, kind=None):
    queryset = SubscriptionEvent.objects.filter(subscription=subscription)
    return queryset.filter(kind=kind) if kind else queryset


# --- my-subscription ----------------------------------------------------------------------------

def test_my_subscription_404_when_none(auth_client):
    token_state(user=auth_client.user)  # a token plan is not a telephony subscription
    error(auth_client.get(MINE), 404, "no_subscription")


def test_my_subscription_shape(auth_client):
    subscription = telephony_subscription(user=auth_client.user, billing_cycle="quarterly",
                                          addons={"extraExtensions": 5})
    response = auth_client.get(MINE)
    assert response.status_code == 200
    data = response.json()["data"]
    assert set(data) >= {"id", "customerId", "ratePlanId", "status", "billingCycle", "startDate",
                         "currentPeriodStart", "currentPeriodEnd", "nextBillingDate", "autoRenew",
                         "cancelAtPeriodEnd", "scheduledChange", "metadata", "ratePlan"}
    assert (data["id"], data["customerId"], data["ratePlanId"], data["status"]) == (
        subscription.pk, auth_client.user.pk, telephony_plan().pk, "active")
    assert data["autoRenew"] is True and data["cancelAtPeriodEnd"] is False and data["scheduledChange"] is None
    assert data["ratePlan"] == {"id": telephony_plan().pk, "planName": "Starter Plan", "plan_code": "STARTER",
                                "product": "telephony", "limits": telephony_plan().limits}
    assert data["metadata"] == {"pricing": {"basePrice": 1047, "setupFee": 0, "addonsTotal": 0, "subtotal": 1047,
                                            "gstRate": 18, "gst": 188.46, "total": 1235.46},
                                "addons": {"extraExtension": 5}}
    assert data["currentPeriodStart"].endswith("Z") and data["startDate"] == data["currentPeriodStart"]
    end = subscription.current_period_end
    assert data["nextBillingDate"].startswith((end + timedelta(days=1)).date().isoformat())


def test_my_subscription_prefers_the_paid_one_and_honours_product(auth_client):
    pending = telephony_subscription(user=auth_client.user, status="pending")
    assert auth_client.get(MINE).json()["data"]["id"] == pending.pk
    assert auth_client.get(MINE).json()["data"]["nextBillingDate"] is None
    token = token_state(user=auth_client.user)
    assert auth_client.get(MINE, {"product": "tokens"}).json()["data"]["id"] == token.subscription_id
    error(auth_client.get(MINE, {"product": "bogus"}), 400, "invalid_product", "product")
    error(auth_client.get(MINE, {"product": "platform"}), 404)


def test_my_subscription_needs_a_person(api_client, bot_client):
    error(api_client.get(MINE), 401)
    assert bot_client.get(MINE).status_code in (401, 403)


# --- GET :id and the staff list -----------------------------------------------------------------

def test_get_by_id_owner_staff_and_others(auth_client, staff_client, client_for):
    subscription = telephony_subscription(user=auth_client.user)
    assert auth_client.get(f"{BASE}/{subscription.pk}").json()["data"]["id"] == subscription.pk
    assert staff_client.get(f"{BASE}/{subscription.pk}").status_code == 200
    error(client_for(UserFactory()).get(f"{BASE}/{subscription.pk}"), 404, "subscription_not_found")
    error(auth_client.get(f"{BASE}/987654321"), 404, "subscription_not_found")
    error(auth_client.get(f"{BASE}/99999999999999999999999"), 404)


def test_staff_of_a_tenant_see_only_its_users(client_for, tenant):
    from tenants.tests.factories import TenantFactory

    inside = telephony_subscription(user=UserFactory(tenant=tenant))
    outside = telephony_subscription(user=UserFactory(tenant=TenantFactory()))
    tenant_staff = client_for(UserFactory(is_staff=True, tenant=tenant))
    assert tenant_staff.get(f"{BASE}/{inside.pk}").status_code == 200
    error(tenant_staff.get(f"{BASE}/{outside.pk}"), 404)
    listed = tenant_staff.get(BASE).json()["data"]
    assert [s["id"] for s in listed["results"]] == [inside.pk]
    error(tenant_staff.post(f"{BASE}/{outside.pk}/suspend", {}, format="json"), 404)


def test_staff_list_is_paginated_and_filtered(staff_client):
    alice, bob = UserFactory(), UserFactory()
    a1 = telephony_subscription(user=alice)
    b1 = telephony_subscription(user=bob, plan="PROFESSIONAL", status="suspended")
    b2 = telephony_subscription(user=UserFactory(), status="pending")
    token = token_state(user=alice).subscription
    body = staff_client.get(BASE, {"page_size": 2}).json()
    assert body["success"] is True
    page = body["data"]
    assert set(page) == {"results", "count", "page", "page_size", "total_pages"}
    assert (page["count"], page["page"], page["page_size"], page["total_pages"]) == (4, 1, 2, 2)
    assert [s["id"] for s in page["results"]] == [token.pk, b2.pk]  # newest first

    def ids(**params):
        return sorted(s["id"] for s in staff_client.get(BASE, params).json()["data"]["results"])

    assert ids(status="suspended") == [b1.pk]
    assert ids(status="active,pending", product="telephony") == sorted([a1.pk, b2.pk])
    assert ids(product="tokens") == [token.pk]
    assert ids(planId=telephony_plan("PROFESSIONAL").pk) == [b1.pk]
    assert ids(customerId=alice.pk) == sorted([a1.pk, token.pk])
    assert ids(customerId=alice.pk, product="telephony") == [a1.pk]
    assert staff_client.get(BASE, {"page": 9}).json()["data"]["results"] == []


@pytest.mark.parametrize("params, field", [
    ({"status": "alive"}, "status"), ({"status": "active,"}, "status"), ({"product": "x"}, "product"),
    ({"planId": "abc"}, "planId"), ({"planId": "-1"}, "planId"), ({"customerId": "1.5"}, "customerId"),
    ({"page": "0"}, "page"), ({"page_size": "1000"}, "page_size"),
])
def test_staff_list_bad_filters_are_400(staff_client, params, field):
    error(staff_client.get(BASE, params), 400, field=field)


def test_staff_list_is_for_staff(auth_client, bot_client):
    error(auth_client.get(BASE), 403, "forbidden")
    assert bot_client.get(BASE).status_code in (401, 403)


def test_staff_list_query_count_does_not_grow(staff_client):
    telephony_subscription()

    def count():
        with CaptureQueriesContext(connection) as queries:
            assert staff_client.get(BASE).status_code == 200
        return len(queries)

    count()  # the first request also loads the staff user into the short-lived auth cache
    few = count()
    for _ in range(10):
        telephony_subscription(plan="PROFESSIONAL")
    assert count() == few <= 2  # the count and the page (user and plans joined)


# --- PUT :id --------------------------------------------------------------------------------------

def test_put_auto_renew_and_resume(auth_client):
    subscription = telephony_subscription(user=auth_client.user)
    url = f"{BASE}/{subscription.pk}"
    data = auth_client.put(url, {"autoRenew": False}, format="json").json()["data"]
    assert data["autoRenew"] is False and data["nextBillingDate"] is None
    auth_client.post(f"{url}/cancel", {}, format="json")
    data = auth_client.put(url, {"cancelAtPeriodEnd": False}, format="json").json()["data"]
    assert (data["cancelAtPeriodEnd"], data["autoRenew"], data["status"]) == (False, True, "active")
    kinds = list(events(subscription).order_by("id").values_list("kind", flat=True))
    assert kinds == ["created", "updated", "cancel_scheduled", "updated"]
    update = events(subscription, "updated").order_by("id").first()
    assert update.actor == auth_client.user
    assert update.data["before"]["autoRenew"] is True and update.data["after"]["autoRenew"] is False
    # nothing changes → no event
    before = events(subscription).count()
    assert auth_client.put(url, {"autoRenew": True}, format="json").status_code == 200
    assert events(subscription).count() == before


def test_put_clears_a_scheduled_change(auth_client):
    subscription = telephony_subscription(user=auth_client.user, plan="PROFESSIONAL")
    Subscription.objects.filter(pk=subscription.pk).update(scheduled_plan=telephony_plan(),
                                                           scheduled_billing_cycle="monthly")
    shown = auth_client.get(f"{BASE}/{subscription.pk}").json()["data"]["scheduledChange"]
    assert shown["ratePlanId"] == telephony_plan().pk and shown["billingCycle"] == "monthly"
    assert shown["effectiveAt"] is not None
    data = auth_client.put(f"{BASE}/{subscription.pk}", {"scheduledChange": None}, format="json").json()["data"]
    assert data["scheduledChange"] is None


@pytest.mark.parametrize("body, code, field", [
    ({"status": "active"}, "invalid", "status"),
    ({"ratePlanId": 2}, "invalid", "ratePlanId"),
    ({"cancelAtPeriodEnd": True}, "invalid_field", "cancelAtPeriodEnd"),
    ({"scheduledChange": {"ratePlanId": 1}}, "invalid_field", "scheduledChange"),
    ({"autoRenew": "false"}, "invalid", "autoRenew"),
    ({"autoRenew": 0}, "invalid", "autoRenew"),
    ({}, "empty_update", None),
])
def test_put_anything_else_is_400(auth_client, body, code, field):
    subscription = telephony_subscription(user=auth_client.user)
    error(auth_client.put(f"{BASE}/{subscription.pk}", body, format="json"), 400, code, field)
    assert events(subscription, "updated").count() == 0


def test_put_by_another_user_is_404_and_on_an_ended_one_409(auth_client, client_for):
    subscription = telephony_subscription(user=auth_client.user, status="cancelled")
    error(client_for(UserFactory()).put(f"{BASE}/{subscription.pk}", {"autoRenew": False}, format="json"), 404)
    error(auth_client.put(f"{BASE}/{subscription.pk}", {"autoRenew": False}, format="json"), 409,
          "subscription_ended")


def test_token_subscriptions_are_not_managed_here(auth_client):
    token = token_state(user=auth_client.user).subscription
    error(auth_client.post(f"{BASE}/{token.pk}/cancel", {}, format="json"), 409, "token_subscription")


# --- cancel -----------------------------------------------------------------------------------------

def test_cancel_at_period_end_by_default(auth_client):
    subscription = telephony_subscription(user=auth_client.user)
    response = auth_client.post(f"{BASE}/{subscription.pk}/cancel", {"reason": "too expensive"}, format="json")
    assert response.status_code == 200
    body = response.json()
    assert body["message"] == "Subscription will be cancelled at the end of the period"
    assert (body["data"]["status"], body["data"]["cancelAtPeriodEnd"], body["data"]["autoRenew"]) == (
        "active", True, False)
    event = events(subscription, "cancel_scheduled").get()
    assert event.reason == "too expensive" and event.actor == auth_client.user
    # asking again changes nothing; immediate ends it now
    assert auth_client.post(f"{BASE}/{subscription.pk}/cancel", {}, format="json").status_code == 200
    assert events(subscription, "cancel_scheduled").count() == 1
    data = auth_client.post(f"{BASE}/{subscription.pk}/cancel", {"immediate": True}, format="json").json()["data"]
    assert data["status"] == "cancelled"
    subscription.refresh_from_db()
    assert subscription.ended_at is not None
    error(auth_client.post(f"{BASE}/{subscription.pk}/cancel", {}, format="json"), 409, "subscription_ended")


def test_bare_posts_without_a_body_work(auth_client, staff_client):
    """Seed 002's frontend may POST the actions with no body at all."""
    subscription = telephony_subscription(user=auth_client.user)
    assert staff_client.post(f"{BASE}/{subscription.pk}/suspend").json()["data"]["status"] == "suspended"
    assert staff_client.post(f"{BASE}/{subscription.pk}/activate").json()["data"]["status"] == "active"
    assert staff_client.post(f"{BASE}/{subscription.pk}/renew").status_code == 200
    assert auth_client.post(f"{BASE}/{subscription.pk}/cancel").json()["data"]["cancelAtPeriodEnd"] is True
    error(staff_client.post(f"{BASE}/{subscription.pk}/suspend", "[]", content_type="application/json"), 400)


def test_cancel_a_pending_checkout_is_immediate(auth_client):
    subscription = telephony_subscription(user=auth_client.user, status="pending")
    data = auth_client.post(f"{BASE}/{subscription.pk}/cancel", {}, format="json").json()["data"]
    assert data["status"] == "cancelled"


def test_cancel_bad_input(auth_client, client_for):
    subscription = telephony_subscription(user=auth_client.user)
    error(auth_client.post(f"{BASE}/{subscription.pk}/cancel", {"immediate": "yes"}, format="json"), 400,
          field="immediate")
    error(auth_client.post(f"{BASE}/{subscription.pk}/cancel", {"reason": "x" * 501}, format="json"), 400,
          field="reason")
    error(auth_client.post(f"{BASE}/{subscription.pk}/cancel", {"when": "now"}, format="json"), 400, field="when")
    error(client_for(UserFactory()).post(f"{BASE}/{subscription.pk}/cancel", {}, format="json"), 404)
    subscription.refresh_from_db()
    assert subscription.status == "active" and not subscription.cancel_at_period_end


# --- staff: suspend, activate, renew ----------------------------------------------------------------

def test_suspend_and_activate(staff_client, auth_client):
    subscription = telephony_subscription(user=auth_client.user)
    error(auth_client.post(f"{BASE}/{subscription.pk}/suspend", {}, format="json"), 403)
    data = staff_client.post(f"{BASE}/{subscription.pk}/suspend", {"reason": "chargeback"},
                             format="json").json()["data"]
    assert data["status"] == "suspended"
    error(staff_client.post(f"{BASE}/{subscription.pk}/suspend", {}, format="json"), 409, "invalid_status")
    event = events(subscription, "suspended").get()
    assert (event.from_status, event.to_status, event.reason, event.actor) == (
        "active", "suspended", "chargeback", staff_client.user)
    data = staff_client.post(f"{BASE}/{subscription.pk}/activate", {}, format="json").json()["data"]
    assert data["status"] == "active"
    error(staff_client.post(f"{BASE}/{subscription.pk}/activate", {}, format="json"), 409, "invalid_status")


def test_activate_a_pending_checkout_starts_its_first_period(staff_client):
    subscription = telephony_subscription(status="pending")
    data = staff_client.post(f"{BASE}/{subscription.pk}/activate", {"reason": "paid by NEFT"},
                             format="json").json()["data"]
    assert data["status"] == "active" and data["startDate"] and data["currentPeriodEnd"]
    assert events(subscription, "activated").get().data["offline"] is True


def test_past_due_can_be_suspended_and_activated(staff_client):
    subscription = telephony_subscription(status="past_due")
    assert staff_client.post(f"{BASE}/{subscription.pk}/suspend", {}, format="json").json()["data"]["status"] == \
        "suspended"
    other = telephony_subscription(status="past_due")
    assert staff_client.post(f"{BASE}/{other.pk}/activate", {}, format="json").json()["data"]["status"] == "active"


def test_renew_moves_one_period_forward_and_is_idempotent_with_a_key(staff_client):
    subscription = telephony_subscription(status="suspended")
    end = subscription.current_period_end
    url = f"{BASE}/{subscription.pk}/renew"
    first = staff_client.post(url, {"reason": "cheque 123"}, format="json", HTTP_IDEMPOTENCY_KEY="renew-1")
    assert first.status_code == 200, first.content
    again = staff_client.post(url, {"reason": "cheque 123"}, format="json", HTTP_IDEMPOTENCY_KEY="renew-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.current_period_start == end
    assert subscription.current_period_end.day == min(end.day, subscription.current_period_end.day)
    assert events(subscription, "renewed").count() == 1
    error(staff_client.post(url, {"reason": "other"}, format="json", HTTP_IDEMPOTENCY_KEY="renew-1"), 409,
          "idempotency_key_reused")
    # without a key every call renews once more
    staff_client.post(url, {}, format="json")
    assert events(subscription, "renewed").count() == 2


def test_staff_actions_refuse_ended_and_unknown(staff_client):
    cancelled = telephony_subscription(status="cancelled")
    for action in ("suspend", "activate", "renew"):
        error(staff_client.post(f"{BASE}/{cancelled.pk}/{action}", {}, format="json"), 409, "invalid_status")
        error(staff_client.post(f"{BASE}/987654321/{action}", {}, format="json"), 404)
        error(staff_client.post(f"{BASE}/{cancelled.pk}/{action}", {"reason": 5}, format="json"), 400)


# --- legacy POST /api/subscriptions ---------------------------------------------------------------

def test_staff_create_for_a_customer_paid_offline(staff_client):
    customer = UserFactory()
    response = staff_client.post(BASE, {"planId": telephony_plan("PROFESSIONAL").pk, "billingCycle": "annual",
                                        "customerId": customer.pk, "reason": "bank transfer UTR 42"},
                                 format="json")
    assert response.status_code == 201, response.content
    data = response.json()["data"]
    assert (data["customerId"], data["status"], data["billingCycle"]) == (customer.pk, "active", "annual")
    subscription = Subscription.objects.get(pk=data["id"])
    assert subscription.current_period_end.year == subscription.current_period_start.year + 1
    event = events(subscription, "created").get()
    assert event.reason == "bank transfer UTR 42" and event.actor == staff_client.user and event.data["offline"]


def test_a_user_may_create_only_a_free_plan(auth_client, client_for):
    error(auth_client.post(BASE, {"planId": telephony_plan().pk}, format="json"), 402, "payment_required")
    free = RatePlan.objects.get(product="platform", code="FREE")
    response = auth_client.post(BASE, {"planId": free.pk}, format="json")
    assert response.status_code == 201 and response.json()["data"]["status"] == "active"
    error(auth_client.post(BASE, {"planId": free.pk, "customerId": UserFactory().pk}, format="json"), 403)
    assert not Subscription.objects.filter(product="telephony").exists()


def test_legacy_create_conflicts_and_bad_input(staff_client):
    customer = UserFactory()
    telephony_subscription(user=customer)
    error(staff_client.post(BASE, {"planId": telephony_plan().pk, "customerId": customer.pk}, format="json"), 409,
          "subscription_exists")
    error(staff_client.post(BASE, {"planId": 987654, "customerId": customer.pk}, format="json"), 404)
    error(staff_client.post(BASE, {"planId": telephony_plan().pk, "customerId": 987654}, format="json"), 404,
          "customer_not_found")
    token = RatePlan.objects.get(product="tokens", code="standard")
    error(staff_client.post(BASE, {"planId": token.pk, "customerId": UserFactory().pk}, format="json"), 400,
          "invalid_plan")
    error(staff_client.post(BASE, {"planId": telephony_plan().pk, "billingCycle": "weekly"}, format="json"), 400)
    error(staff_client.post(BASE, {"planId": telephony_plan().pk, "addons": {"extraExtensions": -2}},
                            format="json"), 400)
    assert Subscription.objects.filter(user=customer).count() == 1


def test_legacy_create_supersedes_a_pending_checkout(staff_client):
    pending = telephony_subscription(status="pending")
    response = staff_client.post(BASE, {"planId": telephony_plan().pk, "customerId": pending.user_id},
                                 format="json")
    assert response.status_code == 201
    pending.refresh_from_db()
    assert pending.status == "cancelled"


def test_one_live_subscription_per_user_and_product_is_a_database_rule():
    from django.db import IntegrityError, transaction

    subscription = telephony_subscription()
    for status in Subscription.LIVE_STATUSES:
        with pytest.raises(IntegrityError), transaction.atomic():
            Subscription.objects.create(user=subscription.user, plan=subscription.plan, product="telephony",
                                        status=status, current_period_start=clock.now())
