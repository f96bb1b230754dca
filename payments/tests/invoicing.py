"""Helpers for the invoice tests: paid orders of each kind and a buyer's billing profile."""

import itertools
from types import SimpleNamespace

from django.utils import timezone

from payments.models import PaymentOrder

KARNATAKA_SELLER_GSTIN = "29AAGCB7383J1Z4"
MAHARASHTRA_BUYER_GSTIN = "27AAPFU0939F1ZV"

_ids = itertools.count(1)


def use_seller(settings, *, gstin=KARNATAKA_SELLER_GSTIN, state=""):
    settings.SELLER_NAME = "Kosh Telecom Private Limited"
    settings.SELLER_ADDRESS = "12 MG Road, Bengaluru 560001"
    settings.SELLER_GSTIN = gstin
    settings.SELLER_STATE = state
    settings.INVOICE_PREFIX = "INV/"
    settings.CREDIT_NOTE_PREFIX = "CN/"


def with_billing_profile(user, **fields):
    """Give `user` a billing profile (issue 11's fields). Until the profile model lands it is a
    plain object on the instance, read by `buyer_snapshot` like the real one will be."""
    defaults = {"first_name": "", "last_name": "", "company": "", "address": "", "city": "", "state": "",
                "country": "India", "postal_code": "", "phone": "", "gstin": ""}
    user.billing_profile = SimpleNamespace(**{**defaults, **fields})
    return user


def paid_order(user, *, kind="subscription", plan=None, package=None, amount_paise, lines=None,
               billing_cycle=None, paid_at=None) -> PaymentOrder:
    """A paid order made directly (no gateway), e.g. a seed 002 subscription; `lines` and
    `billing_cycle` ride on the instance as issue 11's order will carry them."""
    n = next(_ids)
    order = PaymentOrder.objects.create(
        user=user, kind=kind, plan=plan, package=package, credits=package.credits if package else None,
        amount_paise=amount_paise, gateway="sandbox", gateway_order_id=f"order_inv_{n}_{user.pk}",
        receipt=f"inv_{n}_{user.pk}", status=PaymentOrder.Status.PAID, gateway_payment_id=f"pay_inv_{n}_{user.pk}",
        fulfilled_at=paid_at or timezone.now(), fulfilled_via="admin",
    )
    order.user = user  # keep the instance that may carry a billing profile
    if lines is not None:
        order.lines = lines
    if billing_cycle:
        order.billing_cycle = billing_cycle
    return order


def telephony_plan(code="STARTER"):
    from plans.models import RatePlan

    return RatePlan.objects.get(product="telephony", code=code)
