"""An account merge's part in subscriptions (DESIGN §4.9, called through `accounts.hooks`).

Every subscription of the retired account moves to the survivor. A user has at most one live
subscription per product, so where both have one, one of them may give way:

- a checkout never paid (`pending`) gives way, as a newer checkout supersedes it (if it is paid
  later anyway, the lifecycle's rule for superseded checkouts applies);
- the free basic token plan every user is given gives way to the other token plan; its usage
  this month is added to the plan kept, so a merge never hands out a second free allowance;
- when both could give way, the retired account's does. When neither can (two paid plans in one
  product): 409 and nothing changes; the person cancels one, or lets it end, and verifies the
  number again.
"""

from __future__ import annotations

from config.errors import Conflict
from plans.selectors import token_basic_plan
from subscriptions import clock
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.selectors import TOKENS
from subscriptions.services.events import _event
from subscriptions.services.state import _settle

Status = Subscription.Status


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
    basic_id = token_basic_plan().pk
    closing, conflicts = [], []
    for product in sorted(theirs.keys() & ours.keys()):
        mine, other = ours[product], theirs[product]
        counters = {}
        if product == TOKENS:
            # Settled first (expiry, monthly reset): an ended paid plan has fallen back to basic,
            # and both counters are this month's.
            counters = {s.pk: _settle(s, now=now) for s in (mine, other) if s.status != Status.PENDING}
        if _gives_way(other, basic_id):
            closing.append((mine, other, counters))
        elif _gives_way(mine, basic_id):
            closing.append((other, mine, counters))
        else:
            conflicts.append((product, mine, other))
    if conflicts:
        described = "; ".join(f"{product}: {mine.plan.code} ({mine.status}) on this account, {other.plan.code} "
                              f"({other.status}) on the number's account" for product, mine, other in conflicts)
        raise SubscriptionConflict(
            f"Both accounts have a live subscription in the same product ({described}). Cancel one "
            "of them, or wait until it ends, then verify the number again.",
            fields={"subscriptions": [f"{product}: #{mine.pk} and #{other.pk}" for product, mine, other in conflicts]})
    for keep, drop, counters in closing:
        _close(drop, keep=keep, counters=counters, now=now, reference=reference, actor=actor)
    moved = Subscription.objects.filter(user_id=retired.pk).update(user_id=survivor.pk, updated_at=now)
    return {"subscriptions_moved": moved, "subscriptions_closed": sorted(drop.pk for _, drop, _ in closing)}


def _gives_way(subscription: Subscription, basic_id: int) -> bool:
    return subscription.status == Status.PENDING or (
        subscription.product == TOKENS and subscription.plan_id == basic_id)


def _close(drop: Subscription, *, keep: Subscription, counters: dict, now, reference: str, actor) -> None:
    used_moved = 0
    if drop.pk in counters and keep.pk in counters:
        used_moved = counters[drop.pk].used
        counters[keep.pk].used += used_moved
        counters[keep.pk].save(update_fields=["used", "updated_at"])
    before = drop.status
    drop.status, drop.ended_at = Status.CANCELLED, now
    drop.auto_renew, drop.cancel_at_period_end = False, False
    drop.scheduled_plan, drop.scheduled_billing_cycle = None, ""
    drop.save(update_fields=["status", "ended_at", "auto_renew", "cancel_at_period_end", "scheduled_plan",
                             "scheduled_billing_cycle", "updated_at"])
    _event(drop, SubscriptionEvent.Kind.MERGED, now=now, from_plan=drop.plan.code, actor=actor,
           reason="Closed by an account merge",
           data={"reference": reference, "status_before": before, "kept_subscription": keep.pk,
                 "used_moved": used_moved})
