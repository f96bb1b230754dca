"""`manage.py seed_demo`: a seed 002 customer with an active STARTER subscription and some usage,
so `make run` has a dashboard to show (log in as DEMO_USER_EMAIL)."""

import secrets
from os import environ

from django.contrib.auth import get_user_model

from accounts.billing import billing_profile_save
from plans.models import RatePlan
from plans.selectors import price_quote_get
from subscriptions.lifecycle import services, usage
from subscriptions.lifecycle.selectors import subscription_live_for

DEMO_USAGE = {usage.MINUTES: 42, usage.TOLL_FREE_NUMBERS: 1, usage.EXTENSIONS: 2}


def _demo_user(command):
    User = get_user_model()
    email = environ.get("DEMO_USER_EMAIL", "demo@kosh.local").lower()
    user = User.objects.filter(email=email).first()
    if user is not None:
        command.stdout.write(f"Demo customer {email} exists.")
        return user
    password = environ.get("DEMO_USER_PASSWORD") or secrets.token_urlsafe(12)
    user = User.objects.create_user(email=email, password=password, name="Demo Customer")
    command.stdout.write(f"Demo customer created: {email}")
    if not environ.get("DEMO_USER_PASSWORD"):
        command.stdout.write(f"  password (shown once): {password}")
    # A made-up GSTIN with a valid check character (Maharashtra).
    billing_profile_save(user=user, first_name="Demo", last_name="Customer", company="Demo Telecom Pvt Ltd",
                         phone="+919876543210", address="1 Demo Street", city="Mumbai", state="Maharashtra",
                         country="IN", postal_code="400001", gstin="27AAACD1234E1Z9")
    return user


def seed(command):
    user = _demo_user(command)
    live = subscription_live_for(user=user, product=RatePlan.Product.TELEPHONY)
    if live is not None:
        command.stdout.write(f"Demo customer's subscription #{live.pk} is {live.status}.")
        return
    starter = RatePlan.objects.filter(product=RatePlan.Product.TELEPHONY, code="STARTER").first()
    if starter is None:
        command.stdout.write("No STARTER plan; skipping the demo subscription.")
        return
    plan_quote = price_quote_get(plan_id=starter.pk, billing_cycle="monthly", addons={})
    subscription = services.subscription_create_offline(user=user, plan_quote=plan_quote, actor=None,
                                                        reason="demo data")
    for metric, amount in DEMO_USAGE.items():
        usage.subscription_usage_record(subscription=subscription, metric=metric, amount=amount)
    command.stdout.write(f"Demo customer's STARTER subscription #{subscription.pk} is active, "
                         f"{DEMO_USAGE[usage.MINUTES]} minutes used.")
