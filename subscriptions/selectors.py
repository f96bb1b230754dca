"""Reads for token quotas. Token plans themselves are read through plans.selectors."""

from plans.models import RatePlan
from subscriptions.models import Subscription, UsageCounter

TOKENS = RatePlan.Product.TOKENS.value
METRIC = UsageCounter.TOKENS


def token_counter_peek(*, user_id: int) -> UsageCounter | None:
    """The live token counter with its subscription and plan, in one query, without locking."""
    return (
        UsageCounter.objects.select_related("subscription__plan")
        .filter(subscription__user_id=user_id, subscription__product=TOKENS,
                subscription__status__in=Subscription.LIVE_STATUSES, metric=METRIC)
        .first()
    )
