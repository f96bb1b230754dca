"""An account merge's part in subscriptions (DESIGN §4.9, called through `accounts.hooks`).

Every subscription of the retired account moves to the survivor. A user has at most one live
subscription per product, so where both have one:

- tokens, and at least one of the two is the free basic plan every user is given: the basic one
  is closed (the retired account's when both are basic) and its usage this month is added to the
  one kept, so a merge never hands out a second free allowance;
- anything else (two paid token plans, two telephony or platform subscriptions): 409, nothing
  changes; the person cancels one (or lets it end) and verifies the number again.
"""

from __future__ import annotations

from config.errors import Conflict
from plans.selectors import token_basic_plan
from subscriptions import clock
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.selectors import TOKENS
from subscriptions.services.events import _event
from subscriptions.services.state import _settle


class SubscriptionConflict(Conflict):
    code = "subscription_conflict"


def subscriptions_merge(*, retired, survivor, reference: str, actor=None) -> dict:
    """Move `retired`'s subscriptions to `survivor`, inside the merge's transaction."""
    now = clock.now()
    live = list(Subscription.objects.select_for_update(of=("self",)).select_related("plan")
                .filter(user_id__in=[retired.pk, survivor.pk], status__in=Subscription.LIVE_STATUSES)
                .order_by("pk"))
    theirs = {s.product: s for s in live if s.user_id == retired.pk}
    ours = {s.product: s for s in live if s.user_id == survivor.pk}
    clashes = sorted(theirs.keys() & ours.keys())
    closed, conflicts = [], []
    for product in clashes:
        pair = _tokens_pair_to_fold(ours[product], theirs[product], now=now) if product == TOKENS else None
        if pair is None:
            conflicts.append((product, ours[product], theirs[product]))
        else:
            closed.append(pair)
    if conflicts:
        described = "; ".join(f"{product}: {mine.plan.code} on this account, {other.plan.code} on the "
                              f"number's account" for product, mine, other in conflicts)
        raise SubscriptionConflict(
            f"Both accounts have a live subscription in the same product ({described}). Cancel one "
            "of them, or wait until it ends, then verify the number again.",
            fields={"subscriptions": [f"{product}: #{mine.pk} and #{other.pk}"
                                      for product, mine, other in conflicts]})
    for keep, drop, keep_counter, drop_counter in closed:
        keep_counter.used += drop_counter.used
        keep_counter.save(update_fields=["used", "updated_at"])
        drop.status = Subscription.Status.CANCELLED
        drop.save(update_fields=["status", "updated_at"])
        _event(drop, SubscriptionEvent.Kind.MERGED, now=now, from_plan=drop.plan.code, actor=actor,
               reason="Closed by an account merge",
               data={"reference": reference, "kept_subscription": keep.pk, "used_moved": drop_counter.used})
    moved = Subscription.objects.filter(user_id=retired.pk).update(user_id=survivor.pk, updated_at=now)
    return {"subscriptions_moved": moved, "subscriptions_closed": sorted(drop.pk for _, drop, _, _ in closed)}


def _tokens_pair_to_fold(mine: Subscription, other: Subscription, *, now):
    """(keep, drop, keep's counter, drop's counter) when one of two live token subscriptions is the
    free basic plan, else None. Both are settled first (expiry, monthly reset), so an ended paid
    plan counts as the basic it has fallen back to and both counters are this month's."""
    mine_counter = _settle(mine, now=now)
    other_counter = _settle(other, now=now)
    basic = token_basic_plan()
    if other.plan_id == basic.pk:
        return mine, other, mine_counter, other_counter
    if mine.plan_id == basic.pk:
        return other, mine, other_counter, mine_counter
    return None
