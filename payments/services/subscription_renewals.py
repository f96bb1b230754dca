"""The period close with its renewal orders (`manage.py process_subscriptions`, the admin's
"close now"), and paying a renewal (`POST /api/subscriptions/:id/pay`).

A run, as of a moment (the clock, or `--as-of` for catch-up):
1. pending checkouts older than SUBSCRIPTION_PENDING_TTL expire (their open orders fail);
2. periods that ended close in batches: each batch is one transaction that locks its
   subscriptions (skipping rows an API request holds; those are retried at the end, waiting),
   closes them (`subscriptions.lifecycle.close`) and opens ONE renewal order per renewed
   subscription that owes something — a unique constraint (subscription, period) backs that up;
   a batch that fails is retried one subscription at a time, and a subscription that fails is
   counted and logged, never stopping the others;
3. dunning: unpaid renewals move to past_due / suspended / expired (the order is locked before
   its subscription, as in `order_fulfil`); an expired one's order fails;
4. upcoming-renewal notices (sent outside any transaction; a failure is retried next run).

The renewal order is recorded without a gateway order: `pay` opens it at the gateway when the
customer comes to pay (no gateway call for a hundred thousand closes, none inside a transaction).
"""

from __future__ import annotations

import logging
import secrets
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import datetime

from django.contrib.auth import get_user_model
from django.db import transaction
from django.db.models import F, Q
from django.utils import timezone

from config.bulk import rows_insert
from config.errors import Conflict
from payments.gateways import RAZORPAY, active_gateway_name, get_gateway
from payments.models import PaymentOrder
from payments.services.subscription_changes import PERIOD_ENDED_REASON, fail_superseded_orders
from subscriptions import clock
from subscriptions.lifecycle import close, notices
from subscriptions.lifecycle import services as lifecycle
from subscriptions.lifecycle.services import ENDED
from subscriptions.models import Subscription

logger = logging.getLogger(__name__)

RENEWAL = PaymentOrder.Purpose.RENEWAL
MAX_CATCH_UP_PASSES = 24  # a free plan several periods behind closes once per pass


@dataclass
class RunReport:
    as_of: datetime
    dry_run: bool = False
    counts: Counter = field(default_factory=Counter)
    failures: list[tuple[int, str]] = field(default_factory=list)
    orders_paise: int = 0

    @property
    def failed(self) -> int:
        return len(self.failures) + self.counts.get("notice_failed", 0)


def _default_gateway() -> str:
    try:
        return active_gateway_name()
    except Exception:  # misconfigured: `pay` says so when someone comes to pay
        return RAZORPAY


def _renewal_order(result: close.CloseResult, gateway: str, tenants: dict) -> PaymentOrder:
    subscription, charge = result.subscription, result.charge
    return PaymentOrder(
        user_id=subscription.user_id, tenant_id=tenants.get(subscription.user_id), kind=PaymentOrder.Kind.SUBSCRIPTION,
        plan=subscription.plan, subscription=subscription, purpose=RENEWAL, lines=charge.order_lines(),
        tax_paise=charge.gst_paise, amount_paise=charge.total_paise, currency=subscription.plan.currency,
        gateway=gateway, gateway_order_id=None, receipt=f"kosh_{secrets.token_hex(10)}",
        period_start=result.period_start, period_end=result.period_end, created_at=timezone.now(),
    )


def _close_batch(ids: list[int], *, as_of, report: RunReport, skip_locked: bool, gateway: str) -> tuple[list, list]:
    """One transaction: close these subscriptions and open their renewal orders. Returns
    (results, not_locked). Raises (DatabaseError, mostly) when the batch could not be written."""
    with transaction.atomic():
        results, not_locked, superseded = close.subscription_periods_close(subscription_ids=ids, as_of=as_of,
                                                                           skip_locked=skip_locked)
        # Unpaid upgrade orders die with the period they were priced for.
        fail_superseded_orders(superseded, reason=PERIOD_ENDED_REASON)
        owing = [result for result in results if result.owes]
        tenants = dict(get_user_model().objects.filter(pk__in=[r.subscription.user_id for r in owing])
                       .values_list("pk", "tenant_id"))
        orders = [_renewal_order(result, gateway, tenants) for result in owing]
        if orders:
            rows_insert(orders)
        if report.dry_run:
            transaction.set_rollback(True)
    return results, not_locked


def _count(results, report: RunReport) -> list[int]:
    """Count outcomes; returns the ids renewed into a period that has also ended by `as_of`."""
    again = []
    for result in results:
        if result.outcome == close.FAILED:
            report.failures.append((result.subscription_id, result.error))
            continue
        report.counts[result.outcome] += 1
        if result.owes:
            report.counts["orders_opened"] += 1
            report.orders_paise += result.charge.total_paise
        elif result.outcome == close.RENEWED and result.period_end <= report.as_of:
            again.append(result.subscription_id)
    return again


def _close_ids(ids: list[int], *, report: RunReport, skip_locked: bool, gateway: str) -> tuple[list[int], list[int]]:
    try:
        results, not_locked = _close_batch(ids, as_of=report.as_of, report=report, skip_locked=skip_locked,
                                           gateway=gateway)
    except Exception as exc:  # DatabaseError mostly; one subscription never stops the others
        if len(ids) == 1:
            logger.exception("period close of subscription %s failed", ids[0])
            report.failures.append((ids[0], f"{type(exc).__name__}: {exc}"[:500]))
            return [], []
        logger.warning("a batch of %s closes failed (%s); closing them one by one", len(ids), exc)
        again, not_locked = [], []
        for one in ids:
            more, locked_out = _close_ids([one], report=report, skip_locked=skip_locked, gateway=gateway)
            again += more
            not_locked += locked_out
        return again, not_locked
    return _count(results, report), not_locked


def _closes(report: RunReport, *, batch_size: int, progress: Callable | None) -> None:
    gateway = _default_gateway()
    total = Subscription.objects.filter(close.close_due(report.as_of)).count() if progress else 0
    seen_ids: set[int] = set()
    done = 0
    for _pass in range(MAX_CATCH_UP_PASSES):
        after, again, not_locked = 0, [], []
        while True:
            ids = close.subscription_ids_due_for_close(as_of=report.as_of, after_id=after, limit=batch_size)
            if report.dry_run:
                ids = [pk for pk in ids if pk not in seen_ids]  # nothing changes in a dry run
            if not ids:
                break
            after = ids[-1]
            more, locked_out = _close_ids(ids, report=report, skip_locked=True, gateway=gateway)
            again += more
            not_locked += locked_out
            seen_ids.update(ids)
            done += len(ids)
            if progress:
                progress("close", done, max(total, done))
        for pk in not_locked:  # held by a request a moment ago: wait for it this time
            more, _ = _close_ids([pk], report=report, skip_locked=False, gateway=gateway)
            again += more
        if not again or report.dry_run:
            return
    logger.warning("process_subscriptions: still behind after %s passes", MAX_CATCH_UP_PASSES)


def _dun_one(subscription_id: int, *, report: RunReport) -> None:
    with transaction.atomic():
        since = Subscription.objects.filter(pk=subscription_id).values_list("unpaid_since", flat=True).first()
        # The renewal order first, then the subscription (the order every payment path locks in).
        order = (PaymentOrder.objects.select_for_update().filter(subscription_id=subscription_id, purpose=RENEWAL,
                                                                 period_start=since).first() if since else None)
        outcome = close.subscription_dunning_apply(subscription_id=subscription_id, as_of=report.as_of)
        if outcome == close.EXPIRED_UNPAID and order is not None and order.status == PaymentOrder.Status.CREATED:
            order.status = PaymentOrder.Status.FAILED
            order.failed_at = timezone.now()
            order.failure_reason = "subscription expired unpaid"
            order.save(update_fields=["status", "failed_at", "failure_reason", "updated_at"])
        if report.dry_run:
            transaction.set_rollback(True)
    if outcome:
        report.counts[outcome] += 1


def _dunning(report: RunReport, *, batch_size: int, progress: Callable | None) -> None:
    after, done = 0, 0
    while True:
        ids = close.subscription_ids_due_for_dunning(as_of=report.as_of, after_id=after, limit=batch_size)
        if not ids:
            break
        after = ids[-1]
        for pk in ids:
            try:
                _dun_one(pk, report=report)
            except Exception as exc:
                logger.exception("dunning of subscription %s failed", pk)
                report.failures.append((pk, f"{type(exc).__name__}: {exc}"[:500]))
        done += len(ids)
        if progress:
            progress("dunning", done, done)
    # Renewal orders nobody owes any more are void: their subscription ended another way
    # (cancelled now, merged) or staff settled the renewal offline (renew).
    if not report.dry_run:
        now = timezone.now()
        owed = Q(subscription__unpaid_since=F("period_start")) & ~Q(subscription__status__in=ENDED)
        voided = (PaymentOrder.objects.filter(purpose=RENEWAL, status=PaymentOrder.Status.CREATED)
                  .exclude(owed)
                  .update(status=PaymentOrder.Status.FAILED, failed_at=now, updated_at=now,
                          failure_reason="nothing owed: the subscription ended or was renewed offline"))
        if voided:
            report.counts["orders_voided"] += voided


def _pending(report: RunReport, *, batch_size: int) -> None:
    while True:
        with transaction.atomic():
            ids = close.subscriptions_pending_expire(as_of=report.as_of, limit=batch_size)
            if ids:
                now = timezone.now()
                PaymentOrder.objects.filter(subscription_id__in=ids, status=PaymentOrder.Status.CREATED).update(
                    status=PaymentOrder.Status.FAILED, failed_at=now, updated_at=now,
                    failure_reason="checkout expired (SUBSCRIPTION_PENDING_TTL)")
            if report.dry_run:
                transaction.set_rollback(True)
        report.counts[close.EXPIRED_PENDING] += len(ids)
        if len(ids) < batch_size or report.dry_run:
            return


def _notices(report: RunReport, *, batch_size: int, progress: Callable | None) -> None:
    after, done = 0, 0
    while True:
        ids = notices.subscription_ids_due_for_notice(as_of=report.as_of, after_id=after, limit=batch_size)
        if not ids:
            return
        after = ids[-1]
        for pk in ids:
            if report.dry_run:
                report.counts["notice_due"] += 1
                continue
            outcome = notices.renewal_notice_send(subscription_id=pk, as_of=report.as_of)
            report.counts[f"notice_{outcome}"] += 1
        done += len(ids)
        if progress:
            progress("notices", done, done)


def subscription_renewals_process(*, as_of: datetime | None = None, batch_size: int = 500, dry_run: bool = False,
                                  progress: Callable | None = None) -> RunReport:
    """One run of the period close (see the module). `dry_run` does the same work in transactions
    that are rolled back (exact counts, nothing changed, no email). `progress(stage, done, total)`
    is called after each batch."""
    if batch_size < 1:
        raise ValueError("batch_size must be positive")
    report = RunReport(as_of=as_of or clock.now(), dry_run=dry_run)
    _pending(report, batch_size=batch_size)
    _closes(report, batch_size=batch_size, progress=progress)
    _dunning(report, batch_size=batch_size, progress=progress)
    _notices(report, batch_size=batch_size, progress=progress)
    logger.info("process_subscriptions as of %s: %s, %s failed", report.as_of.isoformat(), dict(report.counts),
                len(report.failures))
    return report


def subscription_renewal_close_now(*, subscription_id: int, as_of: datetime | None = None, actor=None,
                                   reason: str = "") -> RunReport:
    """The admin's "run the close for this subscription now": the same close, dunning and notice
    as the command, for one subscription, waiting for its lock. A staff actor's run is audited
    (one event: the state before and after, what the run did)."""
    report = RunReport(as_of=as_of or clock.now())
    subscription = Subscription.objects.select_related("plan", "scheduled_plan").filter(pk=subscription_id).first()
    before = lifecycle.subscription_state(subscription) if subscription is not None else None
    for _ in range(MAX_CATCH_UP_PASSES):
        again, _ = _close_ids([subscription_id], report=report, skip_locked=False, gateway=_default_gateway())
        if not again:
            break
    if Subscription.objects.filter(close.dunning_due(report.as_of), pk=subscription_id).exists():
        _dun_one(subscription_id, report=report)
    if notices.subscription_ids_due_for_notice(as_of=report.as_of, after_id=subscription_id - 1, limit=1) == [
            subscription_id]:
        outcome = notices.renewal_notice_send(subscription_id=subscription_id, as_of=report.as_of)
        report.counts[f"notice_{outcome}"] += 1
    if before is not None:
        done = ", ".join(f"{key} {count}" for key, count in sorted(report.counts.items()) if count) or "nothing due"
        with transaction.atomic():
            lifecycle.subscription_staff_audit(subscription_id=subscription_id, action="close_now", before=before,
                                               actor=actor, reason=f"{reason or 'period close now'}: {done}")
    return report


# --- paying a renewal ------------------------------------------------------------------------

class NothingDue(Conflict):
    code = "nothing_due"
    default_message = "Nothing is due on this subscription."


def _open_renewal(subscription_id: int) -> PaymentOrder:
    subscription = Subscription.objects.filter(pk=subscription_id).only("status", "unpaid_since").first()
    if subscription is None or subscription.unpaid_since is None or subscription.status in ENDED:
        raise NothingDue()
    order = (PaymentOrder.objects.select_related("plan").filter(
        subscription_id=subscription_id, purpose=RENEWAL, period_start=subscription.unpaid_since,
        status__in=[PaymentOrder.Status.CREATED, PaymentOrder.Status.FAILED]).first())
    if order is None:
        raise NothingDue()
    return order


def subscription_renewal_pay(*, subscription_id: int) -> PaymentOrder:
    """The open renewal order of the subscription, opened at the gateway on first use (the gateway
    is asked with no transaction open; two concurrent calls keep the first gateway order). Nothing
    due → NothingDue (409)."""
    order = _open_renewal(subscription_id)
    if order.gateway_order_id and order.status == PaymentOrder.Status.CREATED:
        return order
    remote, gateway = None, None
    if not order.gateway_order_id:
        gateway = get_gateway()
        remote = gateway.create_order(amount_paise=order.amount_paise, currency=order.currency,
                                      receipt=order.receipt,
                                      notes={"kind": order.kind, "purpose": RENEWAL, "plan": order.plan.code,
                                             "subscription_id": str(subscription_id), "receipt": order.receipt})
        if remote.amount_paise != order.amount_paise or remote.currency != order.currency:
            from payments.gateways import GatewayUnavailable

            raise GatewayUnavailable("payment gateway answered with a different amount")
    with transaction.atomic():
        order = PaymentOrder.objects.select_for_update().get(pk=order.pk)
        if order.is_paid:
            raise NothingDue()
        fields = ["updated_at"]
        if not order.gateway_order_id and remote is not None:
            order.gateway_order_id, order.gateway = remote.id, gateway.name
            fields += ["gateway_order_id", "gateway"]
        if order.status == PaymentOrder.Status.FAILED:  # e.g. a declined attempt: pay again
            order.status, order.failed_at, order.failure_reason = PaymentOrder.Status.CREATED, None, ""
            fields += ["status", "failed_at", "failure_reason"]
        order.save(update_fields=fields)
    logger.info("subscription %s: renewal order %s opened for payment", subscription_id, order.gateway_order_id)
    return order


def renewal_order_deliver(*, order: PaymentOrder, payment_id: str) -> tuple[dict, str]:
    """`order_fulfil`'s delivery of a renewal order (the order row is locked)."""
    outcome = close.subscription_renewal_paid(subscription_id=order.subscription_id, period_start=order.period_start,
                                              payment_id=payment_id, order_id=order.gateway_order_id or order.receipt)
    return {"subscriptionId": order.subscription_id, "outcome": outcome}, outcome
