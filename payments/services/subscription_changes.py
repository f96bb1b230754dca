"""Seed 002's change-plan (DESIGN §4.3): `POST /api/subscriptions/:id/change-plan`.

An upgrade due money becomes an order (purpose "upgrade", `plan` the new plan, `plan_change` the
prorated change, one pre-tax line for the invoice); it applies when the order is fulfilled
(verify-payment, the webhook, reconcile or the admin: `order_fulfil`, exactly once under the
order's row lock). Everything else — a downgrade scheduled for the period end, clearing it, an
upgrade due nothing — is one subscriptions service call, no order. `preview` prices and writes
nothing.

As at checkout, bad input and refusals come before the gateway is asked for an order, and
nothing is written unless the gateway order exists. A newer change-plan supersedes an upgrade
still waiting for payment: its order is failed (when no payment is being applied to it at that
very moment) and a payment that arrives for it anyway is recorded, not applied, to be refunded.
"""

from __future__ import annotations

import logging
from dataclasses import dataclass

from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, InvalidInput
from payments.models import PaymentOrder
from payments.services.subscription_orders import _gateway_order
from plans.selectors import PlanQuote, price_quote_get
from subscriptions.lifecycle import changes
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

SUPERSEDED_REASON = "superseded by a newer plan change"
PERIOD_ENDED_REASON = "the period this upgrade was priced for has ended"


@dataclass(frozen=True)
class PlanChangeResult:
    quote: changes.ChangeQuote
    subscription: Subscription  # as it is after the change-plan
    order: PaymentOrder | None  # the upgrade's order (None: nothing to pay, or a preview)
    preview: bool


def _new_plan_quote(subscription: Subscription, *, plan_id, billing_cycle) -> PlanQuote:
    """The new plan and cycle priced with the subscription's add-on quantities."""
    try:
        return price_quote_get(plan_id=plan_id, billing_cycle=billing_cycle, addons=dict(subscription.addons or {}))
    except InvalidInput as exc:
        if exc.code in ("unknown_addon", "duplicate_addon"):
            raise Conflict(f"The new plan does not offer an add-on this subscription has ({exc.message}).",
                           code="addon_not_offered") from exc
        raise


def change_lines(quote: changes.ChangeQuote) -> list[dict]:
    """The upgrade order's pre-tax line: the prorated difference (the invoice lists it)."""
    proration, plan = quote.proration, quote.plan
    if proration.new_period:
        what = (f"{plan.name} ({quote.billing_cycle}) from now, less the unused part of the current "
                f"{quote.subscription.billing_cycle} period")
    else:
        what = f"{plan.name} ({quote.billing_cycle}) for the rest of the current period, less the old plan's share"
    return [{"kind": "plan_change", "code": plan.code, "description": f"Upgrade: {what}", "quantity": 1,
             "unitPaise": proration.subtotal_paise, "amountPaise": proration.subtotal_paise,
             "chargePaise": proration.charge_paise, "creditPaise": proration.credit_paise}]


def fail_superseded_orders(plan_change_ids: list[int], *, reason: str = SUPERSEDED_REASON) -> None:
    """Fail the open orders of superseded changes. An order locked right now is being paid
    (its fulfilment waits for the subscription we hold): it is skipped rather than waited for —
    its payment will find the change superseded — so the two never deadlock."""
    if not plan_change_ids:
        return
    open_ids = list(PaymentOrder.objects.select_for_update(skip_locked=True)
                    .filter(plan_change_id__in=plan_change_ids, status=PaymentOrder.Status.CREATED)
                    .values_list("pk", flat=True))
    now = timezone.now()
    PaymentOrder.objects.filter(pk__in=open_ids, status=PaymentOrder.Status.CREATED).update(
        status=PaymentOrder.Status.FAILED, failed_at=now, failure_reason=reason, updated_at=now)


def subscription_change_plan(*, subscription: Subscription, actor, plan_id, billing_cycle: str,
                             preview: bool = False) -> PlanChangeResult:
    """change-plan for `subscription` (the caller may manage it). Prices the change now; a
    preview stops there. An upgrade due money: a gateway order (no transaction open), then in
    one transaction the pending change and the order. Anything else: the subscriptions service."""
    plan_quote = _new_plan_quote(subscription, plan_id=plan_id, billing_cycle=billing_cycle)
    quote = changes.subscription_change_quote(subscription=subscription, plan_quote=plan_quote)
    if preview:
        return PlanChangeResult(quote=quote, subscription=subscription, order=None, preview=True)
    if quote.action != changes.PAY:
        with transaction.atomic():
            outcome = changes.subscription_change_plan(subscription_id=subscription.pk, plan_quote=plan_quote,
                                                       actor=actor)
            fail_superseded_orders(outcome.superseded)
        return PlanChangeResult(quote=outcome.quote, subscription=outcome.subscription, order=None, preview=False)
    plan, amount = plan_quote.plan, quote.proration.total_paise
    gateway, remote, receipt = _gateway_order(amount=amount, currency=plan.currency, notes={
        "kind": PaymentOrder.Kind.SUBSCRIPTION, "purpose": PaymentOrder.Purpose.UPGRADE, "plan": plan.code,
        "billing_cycle": quote.billing_cycle, "subscription_id": str(subscription.pk),
        "user_id": str(subscription.user_id)})
    with transaction.atomic():
        change, superseded = changes.subscription_change_open(quote=quote, actor=actor)
        fail_superseded_orders(superseded)
        user = subscription.user
        order = PaymentOrder.objects.create(
            user=user, tenant_id=user.tenant_id, kind=PaymentOrder.Kind.SUBSCRIPTION, plan=plan,
            subscription=subscription, purpose=PaymentOrder.Purpose.UPGRADE, plan_change=change,
            lines=change_lines(quote), tax_paise=quote.proration.gst_paise, amount_paise=amount,
            currency=plan.currency, gateway=gateway.name, gateway_order_id=remote.id, receipt=receipt,
        )
    logger.info("subscription %s: upgrade order %s to %s/%s (%s paise, %s)", subscription.pk,
                order.gateway_order_id, plan.code, quote.billing_cycle, amount, gateway.name)
    return PlanChangeResult(quote=quote, subscription=subscription, order=order, preview=False)


def subscription_change_deliver(*, order: PaymentOrder, payment_id: str) -> tuple[dict, str]:
    """`order_fulfil`'s delivery of an upgrade order (the order row is locked)."""
    outcome = changes.subscription_change_paid(plan_change_id=order.plan_change_id, payment_id=payment_id,
                                               order_id=order.gateway_order_id)
    return {"subscriptionId": order.subscription_id, "planChangeId": order.plan_change_id,
            "outcome": outcome}, outcome
