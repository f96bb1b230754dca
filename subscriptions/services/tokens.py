"""Token plans (seed 001's set-plan, paid purchases and their reversal), usage (seed 000) and
consumption."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime, timedelta

from django.conf import settings
from django.db import connection, transaction

from config.audit import audit_record
from config.errors import Forbidden, InvalidInput, NotFound, PaymentRequired
from config.policy import policy_allows, policy_require
from plans.models import RatePlan
from plans.selectors import token_basic_plan, token_plan_get
from subscriptions import clock, sql
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.selectors import TOKENS, token_usage_peek
from subscriptions.services.events import _event
from subscriptions.services.state import (
    _iso,
    _lock_state,
    _usage,
    _usage_of,
    _user_check,
)

# The largest single consumption accepted (a guard against typos and overflow, not a quota).
CONSUME_MAX = 10_000_000

UPGRADE, SAME_TIER, DOWNGRADE, TOP_UP = "upgrade", "same_tier", "downgrade", "top_up"


class QuotaExceeded(PaymentRequired):
    code = "quota_exceeded"
    default_message = "quota exceeded"


@dataclass(frozen=True)
class TokenPlanChange:
    """What `token_plan_change` did; `as_response()` is seed 001's set-plan body."""

    action: str
    message: str
    previous_plan: str
    plan: str
    token_quota: int
    token_used: int
    plan_end_at: datetime | None
    # What an audit event records of the change (staff changes, DESIGN §4.6).
    audit_before: dict | None = field(default=None, compare=False, repr=False)
    audit_after: dict | None = field(default=None, compare=False, repr=False)

    @property
    def remaining(self) -> int:
        return self.token_quota - self.token_used

    def as_response(self) -> dict:
        return {
            "status": "ok",
            "message": self.message,
            "plan": self.plan,
            "token_quota": self.token_quota,
            "token_used": self.token_used,
            "remaining": self.remaining,
        }


# --- reads ---------------------------------------------------------------------------------

def token_usage_get(*, user) -> dict:
    """Seed 000's usage fields; the first call provisions basic. One query when nothing is due."""
    now = clock.now()
    peek = token_usage_peek(user_id=user.pk)
    if (peek is not None and peek.period_start >= clock.billing_month_start(now)
            and (peek.plan_end_at is None or peek.plan_end_at > now)):
        return _usage(plan_code=peek.plan_code, quota=peek.quota, used=peek.used,
                      plan_end_at=peek.plan_end_at)
    with transaction.atomic():
        subscription, counter = _lock_state(user_id=user.pk, now=now)
    return _usage_of(subscription, counter)


# --- plan changes --------------------------------------------------------------------------

def _plan_change(*, user, target: RatePlan, reset_used: bool, actor, reason: str,
                 paid_upgrade_allowed: bool, extend_period: bool,
                 never_downgrade: bool = False) -> TokenPlanChange:
    now = clock.now()
    subscription, counter = _lock_state(user_id=user.pk, now=now, actor=actor)
    current = subscription.plan
    before = {"quota": counter.quota, "used": counter.used,
              "plan_end_at": _iso(subscription.current_period_end)}

    if target.tier > current.tier:
        if not paid_upgrade_allowed and not target.is_free:
            raise PaymentRequired("payment required")
        action = UPGRADE
        carry_over = max(counter.quota - counter.used, 0)
        counter.quota = target.token_allowance + carry_over
        counter.used = 0
        subscription.current_period_start = now
        subscription.current_period_end = (now + timedelta(days=target.duration_days)
                                           if target.duration_days else None)
        message = f"upgraded to {target.code} with carry-over"
    elif target.tier == current.tier:
        action = SAME_TIER
        if reset_used:
            counter.used = 0
        if extend_period and target.duration_days:
            start = max(subscription.current_period_end or now, now)
            subscription.current_period_end = start + timedelta(days=target.duration_days)
        message = "plan confirmed"
    elif never_downgrade:
        # A lower plan paid for while a higher one runs (an older checkout completed late):
        # the higher plan stays and the tokens paid for are added to this month's quota.
        action = TOP_UP
        counter.quota += target.token_allowance
        message = f"{target.code} tokens added to {current.code}"
        target = current
    else:
        action = DOWNGRADE
        counter.quota = target.token_allowance
        if reset_used:
            counter.used = 0
        if not target.duration_days:
            subscription.current_period_start = now
            subscription.current_period_end = None
        message = f"downgraded to {target.code}"

    subscription.plan = target
    subscription.save(update_fields=["plan", "current_period_start", "current_period_end",
                                     "updated_at"])
    counter.save(update_fields=["quota", "used", "updated_at"])
    _event(subscription, SubscriptionEvent.Kind.PLAN_CHANGED, now=now, from_plan=current.code,
           to_plan=target.code, actor=actor, reason=reason,
           data={"action": action, "reset_used": reset_used, "before": before,
                 "after": {"quota": counter.quota, "used": counter.used,
                           "plan_end_at": _iso(subscription.current_period_end)}})
    return TokenPlanChange(
        action=action, message=message, previous_plan=current.code, plan=target.code,
        token_quota=counter.quota, token_used=counter.used, plan_end_at=subscription.current_period_end,
        audit_before={"plan": current.code, **before},
        audit_after={"plan": target.code, "action": action, "reset_used": reset_used, "quota": counter.quota,
                     "used": counter.used, "plan_end_at": _iso(subscription.current_period_end)})


@transaction.atomic
def token_plan_change(*, principal, user, plan_code: str, reset_used: bool = False, actor=None,
                      reason: str = "", extend_period: bool = False) -> TokenPlanChange:
    """Seed 001's set-plan rules, for `principal` (config.policy), who must be allowed to:
    "token.plan.change" on the user (themself; staff or a tokens key of the user's tenant;
    platform super_admin/admin), "token.plan.reset_used" for `reset_used` (403 "forbidden"), and
    "token.plan.grant_paid" to upgrade to a paid plan without paying — else 402 "payment required"
    unless TOKENS_SELF_SERVICE_UPGRADE (DESIGN §4.2). Deny by default: no principal, no change.

    upgrade → quota = allowance(new) + max(quota − used, 0), used 0, end = now + duration;
    same tier → unchanged except used 0 when `reset_used` (and, with `extend_period`, the end
    moves one duration past max(end, now): a paid renewal); downgrade → quota = allowance(new),
    used kept unless `reset_used`, end cleared for a plan without duration (basic).
    The paid-upgrade rule is applied under the row lock.
    """
    policy_require(principal, "token.plan.change", user, not_found=NotFound("user not found", code="user_not_found"))
    if reset_used:
        policy_require(principal, "token.plan.reset_used", user, forbidden=Forbidden("forbidden"))
    paid_upgrade_allowed = (policy_allows(principal, "token.plan.grant_paid", user)
                            or settings.TOKENS_SELF_SERVICE_UPGRADE)
    target = token_plan_get(code=plan_code)
    change = _plan_change(user=user, target=target, reset_used=reset_used, actor=actor,
                          reason=reason, paid_upgrade_allowed=paid_upgrade_allowed,
                          extend_period=extend_period)
    if principal.is_platform_staff or principal.is_tenant_staff:  # staff changing a plan: an operator action (DESIGN §4.6)
        audit_record(actor=actor, action="token_plan.change", object_type="user", object_id=user.pk,
                     tenant_id=user.tenant_id, before=change.audit_before, after=change.audit_after,
                     reason=reason)
    return change


@transaction.atomic
def token_plan_purchase(*, user, plan: RatePlan, actor=None, reason: str = "") -> TokenPlanChange:
    """Deliver a paid token plan (payments' fulfilment). What was paid for is delivered whatever
    happened since the order was made: the plan need not still be on sale; a higher plan is an
    upgrade with carry-over, the same plan a renewal (one more duration), and a lower plan never
    downgrades (its tokens are added to this month's quota instead)."""
    if plan.product != TOKENS:
        raise InvalidInput("invalid plan", code="invalid_plan")
    return _plan_change(user=user, target=plan, reset_used=False, actor=actor, reason=reason,
                        paid_upgrade_allowed=True, extend_period=True, never_downgrade=True)


@transaction.atomic
def token_purchase_reverse(*, user, plan: RatePlan, action: str, actor=None,
                           reason: str = "") -> TokenPlanChange | None:
    """Take back what one paid token-plan purchase delivered (its full refund).

    A top-up loses its tokens from this month's quota. An upgrade or renewal of the plan still
    in force loses its duration from the end; with no paid time left the user returns to basic.
    A plan no longer in force (the user has moved to another plan since) leaves nothing to take
    back: None.
    """
    now = clock.now()
    subscription, counter = _lock_state(user_id=user.pk, now=now, actor=actor)
    current = subscription.plan
    before = {"quota": counter.quota, "plan_end_at": _iso(subscription.current_period_end)}
    if action == TOP_UP:
        counter.quota = max(counter.quota - plan.token_allowance, 0)
        counter.save(update_fields=["quota", "updated_at"])
        message = f"{plan.code} tokens removed from {current.code}"
    elif current.pk != plan.pk:
        return None
    else:
        end = subscription.current_period_end
        shortened = end - timedelta(days=plan.duration_days) if end and plan.duration_days else None
        if shortened is None or shortened <= now:
            return _plan_change(user=user, target=token_basic_plan(), reset_used=False, actor=actor,
                                reason=reason, paid_upgrade_allowed=True, extend_period=False)
        subscription.current_period_end = shortened
        subscription.save(update_fields=["current_period_end", "updated_at"])
        message = f"{plan.code} shortened by {plan.duration_days} days"
    _event(subscription, SubscriptionEvent.Kind.PLAN_CHANGED, now=now, from_plan=current.code,
           to_plan=current.code, actor=actor, reason=reason,
           data={"action": f"reverse_{action}", "before": before,
                 "after": {"quota": counter.quota, "plan_end_at": _iso(subscription.current_period_end)}})
    return TokenPlanChange(action=f"reverse_{action}", message=message, previous_plan=current.code,
                           plan=current.code, token_quota=counter.quota, token_used=counter.used,
                           plan_end_at=subscription.current_period_end)


@transaction.atomic
def token_usage_reset(*, user, actor=None, reason: str = "") -> dict:
    """used = 0 for the current period (staff / service action); the quota is unchanged."""
    now = clock.now()
    subscription, counter = _lock_state(user_id=user.pk, now=now, actor=actor)
    previous = counter.used
    counter.used = 0
    counter.save(update_fields=["used", "updated_at"])
    _event(subscription, SubscriptionEvent.Kind.USAGE_RESET, now=now,
           from_plan=subscription.plan.code, to_plan=subscription.plan.code, actor=actor,
           reason=reason, data={"previous_used": previous, "quota": counter.quota})
    if getattr(actor, "role", ""):
        audit_record(actor=actor, action="token_usage.reset", object_type="user", object_id=user.pk,
                     tenant_id=user.tenant_id, before={"used": previous, "quota": counter.quota},
                     after={"used": 0, "quota": counter.quota}, reason=reason)
    return _usage_of(subscription, counter)


# --- consumption ---------------------------------------------------------------------------

def token_consume(*, user=None, tokens: int, user_id: int | None = None,
                  tenant_id: int | None = None) -> dict:
    """Add `tokens` to the user's usage unless that would exceed the quota (QuotaExceeded, 402,
    with ``remaining``). Give `user` or `user_id`; `tenant_id` limits the target to users of
    that tenant (NotFound otherwise). Returns seed 000's usage fields.

    On PostgreSQL the usual case is ONE conditional UPDATE with the period reset folded in (a
    single statement needs no explicit transaction). When it matches nothing — not provisioned,
    plan ended, subscription not usable, quota short, unknown user — a locked transaction works
    out why and either consumes or refuses.
    """
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 0 < tokens <= CONSUME_MAX:
        raise InvalidInput("invalid tokens", code="invalid_tokens",
                           fields={"tokens": [f"A whole number from 1 to {CONSUME_MAX}."]})
    uid = user.pk if user is not None else user_id
    if uid is None:
        raise InvalidInput("user_id required", code="user_required")
    now = clock.now()
    if connection.vendor == "postgresql":
        params = {"n": tokens, "now": now, "month": clock.billing_month_start(now),
                  "user_id": uid, "tenant_id": tenant_id}
        with connection.cursor() as cursor:
            cursor.execute(sql.consume_sql(tenant_restricted=tenant_id is not None), params)
            row = cursor.fetchone()
        if row is not None:
            plan_code, quota, used, end = row
            return _usage(plan_code=plan_code, quota=quota, used=used, plan_end_at=end)
    return _consume_locked(user_id=uid, tokens=tokens, tenant_id=tenant_id, now=now)


def _consume_locked(*, user_id: int, tokens: int, tenant_id: int | None, now: datetime) -> dict:
    _user_check(user_id=user_id, tenant_id=tenant_id)
    refusal = None
    with transaction.atomic():
        subscription, counter = _lock_state(user_id=user_id, now=now)
        if subscription.status not in Subscription.USABLE_STATUSES:
            refusal = Forbidden("subscription not active", code="subscription_not_active")
        elif counter.used + tokens > counter.quota:
            refusal = QuotaExceeded("quota exceeded", extra={"remaining": counter.remaining})
        else:
            counter.used += tokens
            counter.save(update_fields=["used", "updated_at"])
        result = _usage_of(subscription, counter)
    # Raised after commit, so the reset / fallback / provisioning done above is kept.
    if refusal is not None:
        raise refusal
    return result

