"""Reads for token plans and quotas."""

from config.errors import InvalidInput
from plans.models import RatePlan
from subscriptions.models import Subscription, UsageCounter

TOKENS = RatePlan.Product.TOKENS.value
METRIC = UsageCounter.TOKENS
BASIC_PLAN_CODE = "basic"


def token_plan_get(*, code) -> RatePlan:
    """An active token plan by code; InvalidInput("invalid plan") otherwise (seed 001)."""
    plan = None
    if isinstance(code, str) and 0 < len(code) <= 50:
        plan = RatePlan.objects.filter(product=TOKENS, code=code, is_active=True).first()
    if plan is None:
        raise InvalidInput("invalid plan", code="invalid_plan", fields={"plan": ["Unknown plan."]})
    return plan


def token_basic_plan() -> RatePlan:
    """The free plan every user falls back to (active or not: it is never sold)."""
    return RatePlan.objects.get(product=TOKENS, code=BASIC_PLAN_CODE)


def token_counter_peek(*, user_id: int) -> UsageCounter | None:
    """The live token counter with its subscription and plan, in one query, without locking."""
    return (
        UsageCounter.objects.select_related("subscription__plan")
        .filter(subscription__user_id=user_id, subscription__product=TOKENS,
                subscription__status__in=Subscription.LIVE_STATUSES, metric=METRIC)
        .first()
    )
