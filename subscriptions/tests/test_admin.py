from datetime import timedelta

import pytest
from django.contrib.admin.helpers import ACTION_CHECKBOX_NAME
from django.urls import reverse

from accounts.tests.factories import UserFactory
from plans.models import RatePlan
from subscriptions.models import SubscriptionEvent, UsageCounter
from subscriptions.tests.factories import SubscriptionFactory, token_state

pytestmark = pytest.mark.django_db

CHANGELIST = reverse("admin:subscriptions_subscription_changelist")


@pytest.fixture
def admin(client):
    superuser = UserFactory(is_staff=True, is_superuser=True)
    client.force_login(superuser)
    client.superuser = superuser
    return client


def test_changelist_and_change_page_show_counters(admin):
    counter = token_state(plan="basic", used=123)
    page = admin.get(CHANGELIST)
    assert page.status_code == 200 and "tokens 123/1000" in page.content.decode()
    detail = admin.get(reverse("admin:subscriptions_subscription_change",
                               args=[counter.subscription_id]))
    assert detail.status_code == 200
    assert "Usage counters" in detail.content.decode()


def test_reset_usage_action_calls_the_service(admin):
    counter = token_state(plan="basic", used=900)
    response = admin.post(CHANGELIST, {"action": "reset_usage",
                                       ACTION_CHECKBOX_NAME: [counter.subscription_id]}, follow=True)
    assert response.status_code == 200 and "Usage reset for 1 user(s)." in response.content.decode()
    counter.refresh_from_db()
    assert counter.used == 0
    event = SubscriptionEvent.objects.get(kind="usage_reset")
    assert event.actor == admin.superuser and event.reason == "admin: reset usage"


def test_change_plan_action_asks_then_applies(admin, clock):
    counter = token_state(plan="basic", used=400)
    telephony = SubscriptionFactory(plan=RatePlan.objects.get(product="telephony", code="STARTER"))
    selected = {"action": "change_plan",
                ACTION_CHECKBOX_NAME: [counter.subscription_id, telephony.pk]}
    form = admin.post(CHANGELIST, selected)
    assert form.status_code == 200
    html = form.content.decode()
    assert "Change token plan" in html and 'name="plan"' in html and 'value="premium"' in html
    assert UsageCounter.objects.get(pk=counter.pk).used == 400  # nothing changed yet

    response = admin.post(CHANGELIST, {**selected, "apply": "yes", "plan": "premium",
                                       "reset_used": "on", "reason": "support ticket 42"},
                          follow=True)
    assert response.status_code == 200
    assert "upgraded to premium with carry-over" in response.content.decode()
    assert "1 subscription(s) skipped" in response.content.decode()
    counter = UsageCounter.objects.select_related("subscription__plan").get(pk=counter.pk)
    assert (counter.subscription.plan.code, counter.quota, counter.used) == ("premium", 50_600, 0)
    assert counter.subscription.current_period_end == clock.now + timedelta(days=30)
    event = SubscriptionEvent.objects.get(kind="plan_changed")
    assert (event.actor, event.reason) == (admin.superuser, "support ticket 42")


def test_change_plan_rejects_an_unknown_plan_in_the_form(admin):
    counter = token_state(plan="basic")
    response = admin.post(CHANGELIST, {"action": "change_plan", "apply": "yes", "plan": "gold",
                                       ACTION_CHECKBOX_NAME: [counter.subscription_id]})
    assert response.status_code == 200 and "errorlist" in response.content.decode()
    counter.refresh_from_db()
    assert counter.subscription.plan.code == "basic"
