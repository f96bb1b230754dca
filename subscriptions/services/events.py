"""The subscription's event log (one row per provisioning, plan change, expiry, reset)."""

from __future__ import annotations

from subscriptions.models import SubscriptionEvent


def _event(subscription, kind, *, now, from_plan="", to_plan="", actor=None, reason="", data=None):
    SubscriptionEvent.objects.create(
        subscription=subscription, kind=kind, from_plan_code=from_plan, to_plan_code=to_plan,
        actor=actor if getattr(actor, "pk", None) else None, reason=(reason or "")[:500],
        data=data or {}, created_at=now,
    )
