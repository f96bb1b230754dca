"""The upcoming-renewal notice (India's pre-debit notice, DESIGN §4.3): SUBSCRIPTION_RENEWAL_NOTICE_DAYS
before a period that will renew ends, one email (Django's EMAIL_BACKEND) and one event per period,
with the estimated amount (the renewal charge as if the period closed now).

A notice is claimed first (a `RenewalNotice` row, unique per subscription and period end), then
sent with no transaction open, then marked sent. A send that fails is marked failed, logged, and
tried again by the next run; a claim left by a run that died is taken over after NOTICE_CLAIM_STALE.
"""

from __future__ import annotations

import logging
from datetime import datetime, timedelta

from django.conf import settings
from django.core.mail import send_mail
from django.db import IntegrityError, transaction
from django.db.models import Exists, F, OuterRef, Q

from config.money import rupees
from subscriptions import clock
from subscriptions.lifecycle.renewal import next_plan_of, renewal_charge_for
from subscriptions.lifecycle.services import LIFECYCLE_PRODUCTS, _record, _state
from subscriptions.lifecycle.usage import MINUTES, period_key
from subscriptions.models import RenewalNotice, Subscription, SubscriptionEvent, UsageCounter

logger = logging.getLogger(__name__)

NOTICE_CLAIM_STALE = timedelta(minutes=15)
SENT = "sent"
FAILED = "failed"
NO_ADDRESS = "no_address"
SKIPPED = "skipped"  # another run has it, or it went out already


def notices_due(as_of: datetime) -> Q:
    """Subscriptions that will renew within the notice window and have no notice for the period
    (sent, or being sent by a live claim)."""
    window = as_of + timedelta(days=settings.SUBSCRIPTION_RENEWAL_NOTICE_DAYS)
    done = RenewalNotice.objects.filter(
        Q(status__in=[RenewalNotice.Status.SENT, RenewalNotice.Status.NO_ADDRESS])
        | Q(status=RenewalNotice.Status.SENDING, claimed_at__gte=clock.now() - NOTICE_CLAIM_STALE),
        subscription_id=OuterRef("pk"), period_end=OuterRef("current_period_end"))
    return (Q(product__in=LIFECYCLE_PRODUCTS, status=Subscription.Status.ACTIVE, auto_renew=True,
              cancel_at_period_end=False, unpaid_since__isnull=True, current_period_end__gt=as_of,
              current_period_end__lte=window) & ~Q(Exists(done)))


def subscription_ids_due_for_notice(*, as_of: datetime, after_id: int = 0, limit: int = 500) -> list[int]:
    return list(Subscription.objects.filter(notices_due(as_of), pk__gt=after_id).order_by("pk")
                .values_list("pk", flat=True)[:limit])


def _claim(subscription: Subscription, now: datetime) -> bool:
    period_end = subscription.current_period_end
    try:
        with transaction.atomic():
            RenewalNotice.objects.create(subscription=subscription, period_end=period_end, attempts=1,
                                         claimed_at=now, email=subscription.user.email or "")
        return True
    except IntegrityError:
        pass
    retry = Q(status=RenewalNotice.Status.FAILED) | Q(status=RenewalNotice.Status.SENDING,
                                                       claimed_at__lt=now - NOTICE_CLAIM_STALE)
    return bool(RenewalNotice.objects.filter(retry, subscription=subscription, period_end=period_end)
                .update(status=RenewalNotice.Status.SENDING, claimed_at=now, attempts=F("attempts") + 1))


def renewal_estimate(subscription: Subscription):
    """The renewal charge as if the period closed now (minutes used so far)."""
    counter = UsageCounter.objects.filter(subscription=subscription, metric=MINUTES).first()
    key = period_key(subscription)
    used = counter.used if counter is not None and key is not None and counter.period_start >= key else 0
    return renewal_charge_for(subscription, minutes_used=used)


def _message(subscription: Subscription, charge) -> tuple[str, str]:
    plan, cycle = next_plan_of(subscription)
    end = subscription.current_period_end
    total = f"₹{rupees(charge.total_paise):,}"
    lines = "\n".join(f"  {line.description}: ₹{rupees(line.amount_paise):,}" for line in charge.lines)
    subject = f"Your {plan.name} subscription renews on {end:%d %b %Y}"
    body = (f"Hello {subscription.user.name or subscription.user.email},\n\n"
            f"Your {plan.name} ({cycle}) subscription renews on {end:%d %b %Y %H:%M} UTC. "
            f"The estimated amount is {total} including GST ({charge.gst_rate}%):\n\n{lines}\n"
            f"  GST: ₹{rupees(charge.gst_paise):,}\n\n"
            "Usage until the end of the period is added to the renewal. To stop the renewal, turn "
            "auto-renew off or cancel before that date.\n")
    return subject, body


def renewal_notice_send(*, subscription_id: int, as_of: datetime) -> str:
    """Send the upcoming-renewal notice of this subscription's current period, once. Returns SENT,
    FAILED (logged; retried next run), NO_ADDRESS or SKIPPED. Never raises for a failed send."""
    now = clock.now()
    subscription = (Subscription.objects.select_related("plan", "user", "scheduled_plan")
                    .filter(notices_due(as_of), pk=subscription_id).first())
    if subscription is None or not _claim(subscription, now):
        return SKIPPED
    notice = RenewalNotice.objects.get(subscription=subscription, period_end=subscription.current_period_end)
    try:
        charge = renewal_estimate(subscription)
        email = subscription.user.email or ""
        if email:
            subject, body = _message(subscription, charge)
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email], fail_silently=False)
    except Exception as exc:  # the close goes on; the next run tries again
        logger.warning("renewal notice for subscription %s failed: %s: %s", subscription.pk,
                       type(exc).__name__, exc)
        RenewalNotice.objects.filter(pk=notice.pk).update(
            status=RenewalNotice.Status.FAILED, last_error=f"{type(exc).__name__}: {exc}"[:500])
        return FAILED
    status = RenewalNotice.Status.SENT if email else RenewalNotice.Status.NO_ADDRESS
    with transaction.atomic():
        RenewalNotice.objects.filter(pk=notice.pk).update(status=status, sent_at=clock.now(), email=email,
                                                          amount_paise=charge.total_paise, last_error="")
        _record(subscription, SubscriptionEvent.Kind.RENEWAL_NOTICE, now=now, before=_state(subscription),
                reason=(f"upcoming renewal notice sent to {email}" if email else
                        "upcoming renewal notice: the customer has no email address"),
                data={"periodEnd": _state(subscription)["currentPeriodEnd"], "estimatedTotalPaise":
                      charge.total_paise, "lines": charge.order_lines(), "email": email or None})
    return SENT if email else NO_ADDRESS
