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
