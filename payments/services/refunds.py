"""Refunds: money back through the gateway, then what was bought is taken back.

Credit packages: credits due back are proportional to the money refunded, computed on the
running total and rounded down — ``floor(credits × refunded_total / amount)`` minus what earlier
refunds already claimed — so partial refunds never claim a fraction the customer did not get
back, and a refund that completes the total claims every remaining credit. Credits are taken as
far as the wallet allows (`wallet_deduct_up_to`); the rest is recorded as `credits_shortfall`.

Token plans: a full refund (the running total reaching the order amount) takes back exactly
what that order delivered (`token_purchase_reverse`): its duration comes off the plan's end (back
to basic when no paid time is left), or a top-up's tokens leave the quota; a partial refund keeps
the plan (a goodwill discount).
"""

import logging

from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from config.errors import InvalidInput, NotFound
from payments.gateways import GatewayRefund, get_gateway
from payments.invoices.services import credit_note_issue
from payments.models import PaymentOrder, Refund

logger = logging.getLogger(__name__)

MAX_REASON = 500


def _credits_due(order: PaymentOrder, refunded_total: int) -> int:
    if refunded_total >= order.amount_paise:
        return order.credits
    return order.credits * refunded_total // order.amount_paise


def _reverse_credit_package(order: PaymentOrder, refund: Refund, actor) -> None:
    from credits.services import wallet_deduct_up_to, wallet_get_or_create_for_user

    claimed = (order.refunds.exclude(pk=refund.pk).exclude(status=Refund.Status.FAILED)
               .aggregate(total=Sum("credits_reversed") + Sum("credits_shortfall"))["total"] or 0)
    due = max(_credits_due(order, order.amount_refunded_paise) - claimed, 0)
    refund.reversal = {"credits_due": due}
    if due == 0:
        return
    wallet = wallet_get_or_create_for_user(user=order.user)
    ledger_row, shortfall = wallet_deduct_up_to(
        wallet=wallet, credits=due, source="refund", actor=actor,
        reason=f"Refund {refund.gateway_refund_id} of order {order.gateway_order_id}",
        reference_id=refund.gateway_refund_id,
        metadata={"order_id": order.gateway_order_id, "refund_id": refund.gateway_refund_id},
    )
    refund.credits_reversed = due - shortfall
    refund.credits_shortfall = shortfall
    refund.reversal["ledger_transaction_id"] = getattr(ledger_row, "pk", None)
    if shortfall:
        logger.warning("refund %s: %s credits could not be taken back (balance too low)",
                       refund.gateway_refund_id, shortfall)


def _reverse_token_plan(order: PaymentOrder, refund: Refund, actor) -> None:
    if order.amount_refunded_paise < order.amount_paise:
        refund.reversal = {"plan_reverted": False, "note": "partial refund: plan kept"}
        return
    from subscriptions.services import DOWNGRADE, UPGRADE, token_purchase_reverse

    action = order.fulfilment_action or UPGRADE
    change = token_purchase_reverse(
        user=order.user, plan=order.plan, action=action, actor=actor,
        reason=f"refund {refund.gateway_refund_id} of order {order.gateway_order_id}",
    )
    if change is None:
        refund.reversal = {"plan_reverted": False, "note": "the plan is no longer in force"}
        return
    refund.plan_reverted = change.action == DOWNGRADE  # back to basic
    refund.reversal = {"plan_reverted": refund.plan_reverted, "action": change.action,
                       "plan": dict(change.as_response())}


_REVERSERS = {
    PaymentOrder.Kind.CREDIT_PACKAGE: _reverse_credit_package,
    PaymentOrder.Kind.TOKEN_PLAN: _reverse_token_plan,
}


def _order_status_for(order: PaymentOrder) -> str:
    if order.amount_refunded_paise == 0:
        return PaymentOrder.Status.PAID
    if order.amount_refunded_paise >= order.amount_paise:
        return PaymentOrder.Status.REFUNDED
    return PaymentOrder.Status.PARTIALLY_REFUNDED


def _refund_apply(*, order: PaymentOrder, remote: GatewayRefund, reason: str, actor,
                  source: str) -> Refund:
    """Record a refund the gateway accepted and reverse the purchase. `order` is locked."""
    if remote.amount_paise <= 0 or remote.amount_paise > order.refundable_paise:
        raise InvalidInput("refund exceeds what is refundable", code="refund_too_large")
    status = Refund.Status.PROCESSED if remote.status == "processed" else Refund.Status.PENDING
    now = timezone.now()
    refund = Refund.objects.create(
        order=order, gateway_refund_id=remote.id, amount_paise=remote.amount_paise, status=status,
        source=source, reason=reason[:MAX_REASON], actor=actor, created_at=now,
        processed_at=now if status == Refund.Status.PROCESSED else None,
    )
    order.amount_refunded_paise += remote.amount_paise
    order.status = _order_status_for(order)
    order.save(update_fields=["amount_refunded_paise", "status", "updated_at"])
    reverser = _REVERSERS.get(order.kind)
    if reverser is not None:
        reverser(order, refund, actor)
    refund.save(update_fields=["credits_reversed", "credits_shortfall", "plan_reverted", "reversal",
                               "updated_at"])
    credit_note_issue(refund=refund)  # the GST credit note, in the same transaction (DESIGN §4.7)
    logger.info("order %s refunded %s paise (%s, %s)", order.gateway_order_id, remote.amount_paise,
                remote.id, source)
    return refund


def _lock_order(order_id: int) -> PaymentOrder:
    order = (PaymentOrder.objects.select_for_update(of=("self",))
             .select_related("user", "plan", "package").filter(pk=order_id).first())
    if order is None:
        raise NotFound("order not found")
    return order


@transaction.atomic
def order_refund(*, order_id: int, reason: str, amount_paise: int | None = None, actor=None) -> Refund:
    """Refund `amount_paise` (default: everything still refundable) through the gateway.

    The order row stays locked while the gateway is asked, so two refunds of one order cannot
    both pass the "refundable" check. If the gateway fails, nothing is written (502). If our
    write failed after the gateway accepted, the gateway's refund webhook records it later.
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason is required", fields={"reason": ["This field is required."]})
    order = _lock_order(order_id)
    if not order.is_paid or order.refundable_paise <= 0:
        raise InvalidInput("order has nothing to refund", code="not_refundable")
    refundable = order.refundable_paise
    amount = refundable if amount_paise is None else amount_paise
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= refundable:
        raise InvalidInput(f"amount must be between 1 and {refundable} paise",
                           code="invalid_amount", fields={"amount": [f"1 to {refundable} paise."]})
    remote = get_gateway(order.gateway).refund(
        payment_id=order.gateway_payment_id, amount_paise=amount,
        notes={"order_id": order.gateway_order_id, "reason": reason[:200]},
        receipt=f"{order.receipt}-r{order.refunds.count() + 1}", order_id=order.gateway_order_id,
    )
    return _refund_apply(order=order, remote=remote, reason=reason, actor=actor, source=Refund.Source.STAFF)


@transaction.atomic
def refund_sync_from_gateway(*, remote: GatewayRefund, event_status: str) -> str:
    """A refund webhook: settle a refund we know, or record one made at the gateway itself
    (e.g. from the Razorpay dashboard). Locks the order first, like every other writer."""
    known = Refund.objects.filter(gateway_refund_id=remote.id).values_list("order_id", flat=True).first()
    if known is not None:
        order = _lock_order(known)
    else:
        order_id = (PaymentOrder.objects.filter(gateway_payment_id=remote.payment_id)
                    .values_list("pk", flat=True).first())
        if order_id is None:
            return "ignored: refund of an unknown payment"
        if event_status == "failed":
            return "ignored: failed refund we never recorded"
        order = _lock_order(order_id)
    refund = Refund.objects.select_for_update().filter(gateway_refund_id=remote.id).first()
    if refund is None:  # made at the gateway: record it and take back what was bought
        try:
            with transaction.atomic():
                refund = _refund_apply(order=order, remote=remote, reason="refund made at the gateway",
                                       actor=None, source=Refund.Source.GATEWAY)
        except InvalidInput as exc:
            return f"rejected: {exc.message}"
        if event_status == "processed" and refund.status == Refund.Status.PENDING:
            refund.status = Refund.Status.PROCESSED
            refund.processed_at = timezone.now()
            refund.save(update_fields=["status", "processed_at", "updated_at"])
        return "refund recorded"
    if event_status == "processed":
        if refund.status == Refund.Status.PENDING:
            refund.status = Refund.Status.PROCESSED
            refund.processed_at = timezone.now()
            refund.save(update_fields=["status", "processed_at", "updated_at"])
            return "refund processed"
        return f"refund already {refund.status}"
    if event_status == "failed":
        return _refund_failed(order, refund)
    return "refund noted"


def _refund_failed(order: PaymentOrder, refund: Refund) -> str:
    """The gateway gave up on a refund: the money stays with us, so the order is refundable
    again and credits we took back are granted back. A reverted plan is not restored (staff)."""
    if refund.status == Refund.Status.FAILED:
        return "refund already failed"
    refund.status = Refund.Status.FAILED
    refund.save(update_fields=["status", "updated_at"])
    order.amount_refunded_paise -= refund.amount_paise
    order.status = _order_status_for(order)
    order.save(update_fields=["amount_refunded_paise", "status", "updated_at"])
    if refund.credits_reversed:
        from credits.services import wallet_get_or_create_for_user, wallet_grant

        wallet_grant(wallet=wallet_get_or_create_for_user(user=order.user), credits=refund.credits_reversed,
                     source="adjustment", reason=f"Refund {refund.gateway_refund_id} failed at the gateway",
                     reference_id=refund.gateway_refund_id,
                     idempotency_key=f"refund-failed:{refund.gateway_refund_id}")
    logger.warning("refund %s of order %s failed at the gateway", refund.gateway_refund_id,
                   order.gateway_order_id)
    return "refund failed"
