"""Admin: filters and read-only fields; suspend/activate/renew/cancel ask for a reason and go
through the services."""

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.tests.factories import UserFactory
from subscriptions.models import SubscriptionEvent
from subscriptions.tests.factories import telephony_subscription

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriptions_subscription_changelist")


@pytest.fixture
def admin(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    client.superuser = superuser
    return client


def _act(admin, action, subscriptions, **form):
    data = {"action": action, ACTION_CHECKBOX_NAME: [s.pk for s in subscriptions], **form}
    return admin.post(CHANGELIST, data, follow=True)


def test_filters_and_the_change_page(admin, tenant):
    subscription = telephony_subscription(user=UserFactory(tenant=tenant), billing_cycle="quarterly")
    for params in ({"status__exact": "active"}, {"product__exact": "telephony"},
                   {"plan__id__exact": subscription.plan_id}, {"user__tenant__id__exact": tenant.pk},
                   {"billing_cycle__exact": "quarterly"}):
        page = admin.get(CHANGELIST, params)
        assert page.status_code == 200 and str(subscription.user) in page.content.decode(), params
    detail = admin.get(reverse("admin:subscriptions_subscription_change", args=[subscription.pk]))
    content = detail.content.decode()
    assert detail.status_code == 200 and "₹1235.46 incl. GST (quarterly)" in content
    assert 'name="period_price_paise"' not in content and 'name="status"' not in content  # read-only


def test_an_action_first_asks_for_a_reason(admin):
    subscription = telephony_subscription()
    page = _act(admin, "lifecycle_suspend", [subscription])
    assert page.status_code == 200 and "Suspend subscriptions" in page.content.decode()
    page = _act(admin, "lifecycle_suspend", [subscription], apply="yes", reason="")
    assert "This field is required" in page.content.decode()
    subscription.refresh_from_db()
    assert subscription.status == "active"


def test_suspend_activate_renew_cancel_go_through_the_services(admin):
    subscription = telephony_subscription()
    end = subscription.current_period_end
    _act(admin, "lifecycle_suspend", [subscription], apply="yes", reason="fraud check")
    subscription.refresh_from_db()
    assert subscription.status == "suspended"
    event = SubscriptionEvent.objects.get(subscription=subscription, kind="suspended")
    assert event.actor == admin.superuser and event.reason == "admin: fraud check"
    _act(admin, "lifecycle_activate", [subscription], apply="yes", reason="cleared")
    _act(admin, "lifecycle_renew", [subscription], apply="yes", reason="cash")
    subscription.refresh_from_db()
    assert subscription.status == "active" and subscription.current_period_start == end
    _act(admin, "lifecycle_cancel", [subscription], apply="yes", reason="asked by phone")
    subscription.refresh_from_db()
    assert subscription.cancel_at_period_end and subscription.status == "active"
    _act(admin, "lifecycle_cancel", [subscription], apply="yes", reason="now", immediate="on")
    subscription.refresh_from_db()
    assert subscription.status == "cancelled"


def test_a_refusal_is_shown_and_the_others_proceed(admin):
    cancelled = telephony_subscription(status="cancelled")
    active = telephony_subscription()
    page = _act(admin, "lifecycle_suspend", [cancelled, active], apply="yes", reason="batch")
    assert "Only an active or past-due subscription can be suspended" in page.content.decode()
    active.refresh_from_db()
    assert active.status == "suspended"
