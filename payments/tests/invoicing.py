"""Helpers for the invoice tests: paid orders of each kind and a buyer's billing profile."""

import itertools
from zoneinfo import ZoneInfo

from django.utils import timezone

from accounts.billing import billing_profile_save
from accounts.models import BillingProfile
from config.gst import gstin_is_valid, gstin_normalize
from payments.models import PaymentOrder
from subscriptions.models import Subscription
from subscriptions.tests.factories import telephony_subscription

KARNATAKA_SELLER_GSTIN = "29AAGCB7383J1Z4"
MAHARASHTRA_BUYER_GSTIN = "27AAPFU0939F1ZV"
IST = ZoneInfo("Asia/Kolkata")

_ids = itertools.count(1)


def use_seller(settings, *, gstin=KARNATAKA_SELLER_GSTIN, state=""):
    settings.SELLER_NAME = "Kosh Telecom Private Limited"
    settings.SELLER_ADDRESS = "12 MG Road, Bengaluru 560001"
    settings.SELLER_GSTIN = gstin
    settings.SELLER_STATE = state
    settings.INVOICE_PREFIX = "INV/"
    settings.CREDIT_NOTE_PREFIX = "CN/"


def with_billing_profile(user, **fields):
    """Give `user` a billing profile (accounts' BillingProfile) through accounts' billing service.

    A GSTIN the service refuses (a wrong check character) is written around it, as a row from
    before the check or from a bulk import would be: the invoice must still treat it as no GSTIN."""
    gstin = fields.get("gstin") or ""
    refused = bool(gstin) and not gstin_is_valid(gstin_normalize(gstin))
    if refused:
        fields = {name: value for name, value in fields.items() if name != "gstin"}
    billing_profile_save(user=user, **fields)
    if refused:
        BillingProfile.objects.filter(user=user).update(gstin=gstin)
    user.refresh_from_db()  # forget a cached (or cached-missing) profile
    return user


def paid_order(user, *, kind="subscription", plan=None, package=None, amount_paise, lines=None,
               billing_cycle="monthly", paid_at=None) -> PaymentOrder:
    """A paid order made directly (no gateway). A seed 002 subscription order belongs to a
    subscription (opened as checkout does, pending; a newer one supersedes it) and carries the
    checkout's `lines` ([{description, quantity, amountPaise}, ...], pre-tax) when given."""
    n = next(_ids)
    subscription = None
    if kind == "subscription":
        subscription = telephony_subscription(user=user, plan=plan.code, billing_cycle=billing_cycle,
                                              status=Subscription.Status.PENDING)
    order = PaymentOrder.objects.create(
        user=user, kind=kind, plan=plan, package=package, credits=package.credits if package else None,
        subscription=subscription, purpose=PaymentOrder.Purpose.CHECKOUT if subscription else "",
        lines=lines or [], amount_paise=amount_paise, gateway="sandbox", gateway_order_id=f"order_inv_{n}_{user.pk}",
        receipt=f"inv_{n}_{user.pk}", status=PaymentOrder.Status.PAID, gateway_payment_id=f"pay_inv_{n}_{user.pk}",
        fulfilled_at=paid_at or timezone.now(), fulfilled_via="admin",
    )
    return order


def telephony_plan(code="STARTER"):
    from plans.models import RatePlan

    return RatePlan.objects.get(product="telephony", code=code)
