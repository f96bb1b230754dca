"""Refunds: money back through the gateway, then what was bought is taken back.

No network call inside a database transaction. A staff refund is three steps:
1. `_refund_request` (one transaction, committed): lock the order, check what is refundable —
   less what other refunds still awaiting the gateway hold — and record `Refund(status=requested)`
   under our own `receipt`;
2. ask the gateway with no transaction open, sending the receipt as its receipt and as Razorpay's
   `X-Refund-Idempotency` key, so asking twice refunds once;
3. `_refund_accept` (a second transaction): lock the order and the refund, apply the answer once.
If step 3 never happens (a crash, our write failing after the gateway accepted), the receipt finds
the gateway's refund again: `refunds_reconcile` (reconcile_payments), the refund webhook, or the
same request retried with its Idempotency-Key (same receipt). Whichever comes first applies it; the
others find it applied. A definite refusal by the gateway (4xx) cancels the request; an unclear
failure (timeout, 5xx, connection lost) leaves it `requested` until the gateway has been asked.

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

import hashlib
import logging
from collections import Counter
from datetime import timedelta

from django.conf import settings
from django.db import transaction
from django.db.models import Sum
from django.utils import timezone

from config.audit import audit_record
from config.errors import BadGateway, Conflict, InvalidInput, NotFound
from config.policy import policy_require
from payments.gateways import GatewayRefund, GatewayRejected, get_gateway
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


def _refund_apply(*, order: PaymentOrder, refund: Refund, remote: GatewayRefund) -> Refund:
    """Record a refund the gateway accepted and reverse the purchase. `order` is locked; `refund`
    is our requested refund (locked) or a new one made at the gateway (unsaved)."""
    if remote.amount_paise <= 0 or remote.amount_paise > order.refundable_paise:
        raise InvalidInput("refund exceeds what is refundable", code="refund_too_large")
    if refund.pk is not None and remote.amount_paise != refund.amount_paise:
        logger.error("refund %s: asked for %s paise, the gateway refunded %s", refund.receipt,
                     refund.amount_paise, remote.amount_paise)
    now = timezone.now()
    refund.gateway_refund_id = remote.id
    refund.amount_paise = remote.amount_paise
    refund.status = Refund.Status.PROCESSED if remote.status == "processed" else Refund.Status.PENDING
    refund.processed_at = now if refund.status == Refund.Status.PROCESSED else None
    order.amount_refunded_paise += remote.amount_paise
    order.status = _order_status_for(order)
    order.save(update_fields=["amount_refunded_paise", "status", "updated_at"])
    reverser = _REVERSERS.get(order.kind)
    if reverser is not None:
        reverser(order, refund, refund.actor)
    refund.save()
    credit_note_issue(refund=refund)  # the GST credit note, in the same transaction (DESIGN §4.7)
    logger.info("order %s refunded %s paise (%s, %s)", order.gateway_order_id, remote.amount_paise,
                remote.id, refund.source)
    return refund


def _lock_order(order_id: int) -> PaymentOrder:
    order = (PaymentOrder.objects.select_for_update(of=("self",))
             .select_related("user", "plan", "package").filter(pk=order_id).first())
    if order is None:
        raise NotFound("order not found")
    return order


def _receipt_for(request_key: str | None) -> str | None:
    """Our id for a refund asked for with an Idempotency-Key: the same request gets the same
    receipt, so a retry resumes it. ≤ 40 characters (Razorpay's receipt, Cashfree's refund id) and
    a valid Razorpay idempotency key. Without a key, `_refund_request` numbers it per order."""
    if request_key:
        return "rf_" + hashlib.sha256(request_key.encode()).hexdigest()[:32]
    return None


def _awaiting_gateway_paise(order: PaymentOrder, *, exclude: int | None = None) -> int:
    requested = order.refunds.filter(status=Refund.Status.REQUESTED)
    if exclude is not None:
        requested = requested.exclude(pk=exclude)
    return requested.aggregate(total=Sum("amount_paise"))["total"] or 0


def _check_amount(order: PaymentOrder, amount_paise, *, exclude: int | None = None) -> int:
    if not order.is_paid or order.refundable_paise <= 0:
        raise InvalidInput("order has nothing to refund", code="not_refundable")
    awaiting = _awaiting_gateway_paise(order, exclude=exclude)
    refundable = order.refundable_paise - awaiting
    if refundable <= 0:
        raise InvalidInput(f"order has nothing to refund: {awaiting} paise await the gateway's answer "
                           "to an earlier refund", code="not_refundable")
    amount = refundable if amount_paise is None else amount_paise
    if isinstance(amount, bool) or not isinstance(amount, int) or not 0 < amount <= refundable:
        raise InvalidInput(f"amount must be between 1 and {refundable} paise",
                           code="invalid_amount", fields={"amount": [f"1 to {refundable} paise."]})
    return amount


@transaction.atomic
def _refund_request(*, principal, order_id: int, amount_paise, reason: str, actor, receipt: str | None
                    ) -> tuple[Refund, bool]:
    """Step 1: the intent, committed before the gateway hears of it; (refund, resumed). The order
    row is locked, so two refunds of one order cannot both pass the "refundable" check. `resumed`:
    an earlier attempt of the same request left it requested, and the gateway may have it.
    The principal must be allowed "payment.refund" on the order (platform super_admin/admin):
    another tenant's order is 404, one in reach 403 (config.policy)."""
    order = _lock_order(order_id)
    policy_require(principal, "payment.refund", order, not_found=NotFound("order not found"))
    refund = Refund.objects.select_for_update().filter(receipt=receipt).first() if receipt else None
    if refund is not None:
        if refund.order_id != order.pk or (amount_paise is not None and amount_paise != refund.amount_paise):
            raise Conflict("this request was already used for another refund", code="idempotency_key_reused")
        if refund.status != Refund.Status.CANCELLED:
            return refund, refund.status == Refund.Status.REQUESTED
        # Cancelled (the gateway never took it): the same request asks again.
        refund.amount_paise = _check_amount(order, refund.amount_paise, exclude=refund.pk)
        refund.status = Refund.Status.REQUESTED
        refund.created_at = timezone.now()
        refund.save(update_fields=["amount_paise", "status", "created_at", "updated_at"])
        _audit_refund_request(order=order, refund=refund, actor=actor, reason=reason)
        return refund, False
    amount = _check_amount(order, amount_paise)
    receipt = receipt or f"{order.receipt}-r{order.refunds.count() + 1}"  # ≤ 31 characters
    refund = Refund.objects.create(
        order=order, receipt=receipt, amount_paise=amount, status=Refund.Status.REQUESTED,
        source=Refund.Source.STAFF, reason=reason[:MAX_REASON], actor=actor,
    )
    _audit_refund_request(order=order, refund=refund, actor=actor, reason=reason)
    return refund, False


def _audit_refund_request(*, order: PaymentOrder, refund: Refund, actor, reason: str) -> None:
    """The operator's refund (action `payment.refund`), recorded with the request itself: what the
    gateway answers later (accepted, refused, unclear) shows on the refund, not here."""
    audit_record(
        actor=actor, action="payment.refund", object_type="payment_order", object_id=order.pk,
        tenant_id=order.tenant_id,
        before={"status": order.status, "amount_refunded_paise": order.amount_refunded_paise},
        after={"refund_id": refund.pk, "receipt": refund.receipt, "amount_paise": refund.amount_paise,
               "refund_status": refund.status, "gateway_order_id": order.gateway_order_id},
        reason=reason)


@transaction.atomic
def _refund_accept(*, refund_id: int, remote: GatewayRefund) -> tuple[Refund, bool]:
    """Step 3: apply the gateway's acceptance, once, whoever gets here first; (refund, applied now)."""
    order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
    order = _lock_order(order_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status not in Refund.NOT_APPLIED:
        return refund, False
    return _refund_apply(order=order, refund=refund, remote=remote), True


@transaction.atomic
def _refund_cancel(*, refund_id: int, why: str) -> bool:
    """The gateway never took (or definitely refused) a requested refund: release what it held."""
    order_id = Refund.objects.values_list("order_id", flat=True).get(pk=refund_id)
    _lock_order(order_id)
    refund = Refund.objects.select_for_update().get(pk=refund_id)
    if refund.status != Refund.Status.REQUESTED:
        return False
    refund.status = Refund.Status.CANCELLED
    refund.reversal = {"cancelled": why}
    refund.save(update_fields=["status", "reversal", "updated_at"])
    logger.warning("refund %s of order %s cancelled: %s", refund.receipt, order_id, why)
    return True


def _find_at_gateway(refund: Refund) -> GatewayRefund | None:
    """The gateway's refund carrying our receipt, if it has one. No transaction may be open."""
    order = refund.order
    return get_gateway(order.gateway).find_refund(receipt=refund.receipt, payment_id=order.gateway_payment_id,
                                                  order_id=order.gateway_order_id)


def _refund_send(refund: Refund) -> Refund:
    """Step 2, then 3. The receipt is the gateway's idempotency key: sending again is safe."""
    order = refund.order
    try:
        remote = get_gateway(order.gateway).refund(
            payment_id=order.gateway_payment_id, amount_paise=refund.amount_paise,
            notes={"order_id": order.gateway_order_id, "reason": refund.reason[:200],
                   "kosh_refund": refund.receipt},
            receipt=refund.receipt, order_id=order.gateway_order_id, idempotency_key=refund.receipt,
        )
    except GatewayRejected as exc:
        _refund_cancel(refund_id=refund.pk, why=exc.message[:200])
        raise
    except BaseException:
        # Timeout, 5xx, lost connection, or worse: it may have been taken. The refund stays
        # requested until the gateway is asked (retry with the same key, or reconcile_payments).
        logger.warning("refund %s of order %s: the gateway's answer is unknown", refund.receipt,
                       order.gateway_order_id)
        raise
    return _refund_accept(refund_id=refund.pk, remote=remote)[0]


def in_flight_window() -> timedelta:
    """How long a refund request may still be on its way to the gateway. After this, a refund the
    gateway does not list never reached it."""
    return timedelta(seconds=max(60, 6 * settings.RAZORPAY_TIMEOUT))


def order_refund(*, principal, order_id: int, reason: str, amount_paise: int | None = None, actor=None,
                 request_key: str | None = None) -> Refund:
    """Refund `amount_paise` (default: everything still refundable) through the gateway, for
    `principal` (config.policy "payment.refund", checked in the first transaction).

    Never called inside a transaction: the gateway is asked between two of our own. With
    `request_key` (the caller's Idempotency-Key) a retry of the same request resumes it instead of
    refunding again. If the gateway fails, the refund is cancelled (a refusal) or stays requested
    (an unclear answer) and the error propagates (502).
    """
    reason = (reason or "").strip()
    if not reason:
        raise InvalidInput("reason is required", fields={"reason": ["This field is required."]})
    # Refused before anything happens (settling stale requests asks the gateway); checked again
    # under the order's lock in step 1.
    order = PaymentOrder.objects.select_related("user").filter(pk=order_id).first()
    if order is None:
        raise NotFound("order not found")
    policy_require(principal, "payment.refund", order, not_found=NotFound("order not found"))
    _settle_stale_requests(order_id)
    refund, resumed = _refund_request(principal=principal, order_id=order_id, amount_paise=amount_paise,
                                      reason=reason, actor=actor, receipt=_receipt_for(request_key))
    if refund.status not in Refund.NOT_APPLIED:
        return refund  # the same request, already applied
    if resumed:
        # Its gateway idempotency key may have expired since: look before asking again.
        remote = _find_at_gateway(refund)
        if remote is not None:
            return _refund_accept(refund_id=refund.pk, remote=remote)[0]
    return _refund_send(refund)


def _settle_stale_requests(order_id: int) -> None:
    """Refunds of this order still awaiting an answer that should have come long ago hold money
    a new refund could use: ask the gateway about them first."""
    stale = Refund.objects.filter(order_id=order_id, status=Refund.Status.REQUESTED,
                                  created_at__lt=timezone.now() - in_flight_window())
    for refund_id in stale.values_list("pk", flat=True):
        try:
            refund_settle(refund_id=refund_id)
        except BadGateway as exc:
            logger.warning("refund %s could not be settled: %s", refund_id, exc.message)


def refund_settle(*, refund_id: int) -> str:
    """A refund still `requested`: ask the gateway. Listed there → applied (once); not listed after
    the in-flight window → cancelled; otherwise it waits. Gateway errors propagate (BadGateway)."""
    refund = Refund.objects.select_related("order").filter(pk=refund_id).first()
    if refund is None or refund.status != Refund.Status.REQUESTED:
        return "skipped"
    remote = _find_at_gateway(refund)
    if remote is not None:
        _, applied_now = _refund_accept(refund_id=refund.pk, remote=remote)
        return "refund applied" if applied_now else "refund already settled"
    if refund.created_at >= timezone.now() - in_flight_window():
        return "refund pending"
    return "refund cancelled" if _refund_cancel(refund_id=refund.pk, why="not at the gateway") else "skipped"


def refunds_reconcile(*, grace_minutes: int, limit: int | None = None, stdout=None) -> Counter:
    """Settle every refund still `requested` after the grace period, oldest first."""
    cutoff = timezone.now() - timedelta(minutes=grace_minutes)
    ids = (Refund.objects.filter(status=Refund.Status.REQUESTED, created_at__lt=cutoff)
           .order_by("created_at", "pk").values_list("pk", flat=True))
    if limit:
        ids = ids[:limit]
    counts: Counter = Counter()
    for refund_id in list(ids):
        try:
            outcome = refund_settle(refund_id=refund_id)
        except BadGateway as exc:
            logger.warning("reconcile of refund %s: %s", refund_id, exc.message)
            outcome = "gateway error"
        counts[outcome] += 1
        if stdout is not None:
            stdout.write(f"refund {refund_id}: {outcome}")
    return counts


@transaction.atomic
def refund_sync_from_gateway(*, remote: GatewayRefund, event_status: str) -> str:
    """A refund webhook: settle a refund we know (by the gateway's id, or by our receipt when the
    answer to our request was lost), or record one made at the gateway itself (e.g. from the
    Razorpay dashboard). Locks the order first, like every other writer."""
    known = Refund.objects.filter(gateway_refund_id=remote.id).values_list("order_id", "pk").first()
    if known is None and remote.receipt:  # our request, if its answer never reached us
        known = (Refund.objects.filter(receipt=remote.receipt, gateway_refund_id__isnull=True)
                 .values_list("order_id", "pk").first())
    if known is not None:
        order = _lock_order(known[0])
        refund = Refund.objects.select_for_update().get(pk=known[1])
    else:
        order_id = (PaymentOrder.objects.filter(gateway_payment_id=remote.payment_id)
                    .values_list("pk", flat=True).first())
        if order_id is None:
            return "ignored: refund of an unknown payment"
        if event_status == "failed":
            return "ignored: failed refund we never recorded"
        order = _lock_order(order_id)
        refund = Refund(order=order, amount_paise=remote.amount_paise, source=Refund.Source.GATEWAY,
                        reason="refund made at the gateway")
    if refund.pk is None or refund.status in Refund.NOT_APPLIED:
        if event_status == "failed":
            _refund_cancel(refund_id=refund.pk, why="failed at the gateway")
            return "refund failed"
        # our request whose answer never reached us, or one made at the gateway itself
        try:
            with transaction.atomic():
                refund = _refund_apply(order=order, refund=refund, remote=remote)
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
