"""`seed_demo` gives the demo customer an active STARTER subscription with some usage."""

import pytest
from django.core.management import call_command

from accounts.models import BillingProfile
from subscriptions.lifecycle.usage import subscription_usage_get
from subscriptions.models import Subscription

pytestmark = pytest.mark.django_db


def test_demo_customer_has_an_active_starter_with_usage(monkeypatch, capsys):
    monkeypatch.setenv("DEMO_USER_PASSWORD", "demo-passphrase-42")
    call_command("seed_demo")
    call_command("seed_demo")  # idempotent
    subscription = Subscription.objects.get(user__email="demo@kosh.local", product="telephony")
    assert (subscription.status, subscription.plan.code) == ("active", "STARTER")
    usage = subscription_usage_get(subscription=subscription)["usage"]
    assert usage["minutes"]["used"] == 42 and usage["extensions"]["used"] == 2
    assert BillingProfile.objects.get(user=subscription.user).gstin == "27AAACD1234E1Z9"
    assert subscription.user.check_password("demo-passphrase-42")
    assert "Demo customer's subscription" in capsys.readouterr().out
