import factory

from accounts.tests.factories import UserFactory
from plans.models import RatePlan
from subscriptions import clock
from subscriptions.models import Subscription, UsageCounter


def token_plan(code: str) -> RatePlan:
    return RatePlan.objects.get(product=RatePlan.Product.TOKENS, code=code)


class SubscriptionFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = Subscription

    user = factory.SubFactory(UserFactory)
    plan = factory.LazyFunction(lambda: token_plan("basic"))
    product = factory.LazyAttribute(lambda o: o.plan.product)
    status = Subscription.Status.ACTIVE
    current_period_start = factory.LazyFunction(lambda: clock.now())
    current_period_end = None


class UsageCounterFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = UsageCounter

    subscription = factory.SubFactory(SubscriptionFactory)
    metric = UsageCounter.TOKENS
    quota = factory.LazyAttribute(lambda o: o.subscription.plan.token_allowance)
    used = 0
    period_start = factory.LazyFunction(lambda: clock.billing_month_start())


def token_state(*, user=None, plan="basic", quota=None, used=0, period_start=None, end=None,
                status=Subscription.Status.ACTIVE) -> UsageCounter:
    """A provisioned token subscription with its counter (defaults: this month, plan allowance)."""
    rate_plan = token_plan(plan)
    subscription = SubscriptionFactory(
        user=user or UserFactory(), plan=rate_plan, status=status, current_period_end=end,
        current_period_start=min(clock.now(), end) if end else clock.now(),
    )
    return UsageCounterFactory(
        subscription=subscription, used=used,
        quota=rate_plan.token_allowance if quota is None else quota,
        period_start=period_start or clock.billing_month_start(),
    )


# --- seed 002's subscriptions (telephony) ------------------------------------------------------

def telephony_plan(code: str = "STARTER") -> RatePlan:
    return RatePlan.objects.get(product=RatePlan.Product.TELEPHONY, code=code)


def telephony_subscription(*, user=None, plan: str = "STARTER", billing_cycle: str = "monthly",
                           addons: dict | None = None, status: str = Subscription.Status.ACTIVE,
                           actor=None) -> Subscription:
    """A telephony subscription made the way the API makes them: pending through checkout_open,
    active (and its counters) through the offline create; then suspended, past_due or cancelled
    through the services or, for states no issue-11 service reaches (past_due), set directly."""
    from plans.selectors import price_quote_get
    from subscriptions.lifecycle import services

    user = user or UserFactory()
    quote = price_quote_get(plan_id=telephony_plan(plan).pk, billing_cycle=billing_cycle, addons=addons or {})
    if status == Subscription.Status.PENDING:
        return services.subscription_checkout_open(user=user, plan_quote=quote)[0]
    subscription = services.subscription_create_offline(user=user, plan_quote=quote, actor=actor,
                                                        reason="test")
    if status == Subscription.Status.SUSPENDED:
        services.subscription_suspend(subscription_id=subscription.pk, actor=actor, reason="test")
    elif status == Subscription.Status.CANCELLED:
        services.subscription_cancel(subscription_id=subscription.pk, actor=actor, immediate=True)
    elif status == Subscription.Status.PAST_DUE:
        Subscription.objects.filter(pk=subscription.pk).update(status=status)  # the period close's job
    subscription.refresh_from_db()
    return subscription
