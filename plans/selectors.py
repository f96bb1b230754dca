"""Reads of the catalog. Other apps use token_plan_get, credit_package_get and price_quote_get."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from config.errors import InvalidInput, NotFound
from plans import pricing
from plans.models import AddOn, CreditPackage, RatePlan

# Largest id PostgreSQL's bigint holds; bigger ids cannot exist, so they are "not found".
MAX_ID = 2**63 - 1

# GET /api/rate-plans/code/<code> without ?product=: when a code exists in several products
# (STARTER is both a telephony and a platform plan), seed 002's product wins, then the others.
CODE_LOOKUP_PRODUCT_PREFERENCE = (RatePlan.Product.TELEPHONY, RatePlan.Product.TOKENS,
                                  RatePlan.Product.PLATFORM)


def product_check(product: str | None) -> str | None:
    """`None`/empty → no filter; otherwise one of RatePlan.Product or InvalidInput."""
    if product in (None, ""):
        return None
    if product not in RatePlan.Product.values:
        raise InvalidInput(
            f"product must be one of {', '.join(RatePlan.Product.values)}.", code="invalid_product",
            fields={"product": [f"Must be one of {', '.join(RatePlan.Product.values)}."]},
        )
    return product


def _with_addons(queryset: QuerySet) -> QuerySet:
    return queryset.prefetch_related("addons")


def rate_plans_public(*, product: str | None = None) -> QuerySet[RatePlan]:
    """Active public plans with add-ons prefetched: two queries however many plans there are."""
    queryset = RatePlan.objects.filter(is_active=True, is_public=True)
    if product_check(product):
        queryset = queryset.filter(product=product)
    return _with_addons(queryset)


def rate_plans_all(*, product: str | None = None) -> QuerySet[RatePlan]:
    """Every plan (inactive and private too) for staff."""
    queryset = RatePlan.objects.all()
    if product_check(product):
        queryset = queryset.filter(product=product)
    return _with_addons(queryset)


def _valid_id(value) -> int | None:
    if isinstance(value, bool):
        return None
    if isinstance(value, str):
        value = value.strip()
        if not (value.isascii() and value.isdigit()) or len(value) > 19:
            return None
        value = int(value)
    if not isinstance(value, int) or not 0 < value <= MAX_ID:
        return None
    return value


def rate_plan_get(*, plan_id) -> RatePlan:
    """Any plan by id (staff); NotFound otherwise."""
    plan_id = _valid_id(plan_id)
    plan = _with_addons(RatePlan.objects.filter(pk=plan_id)).first() if plan_id else None
    if plan is None:
        raise NotFound("Rate plan not found.", code="plan_not_found")
    return plan


def rate_plan_get_active(*, plan_id) -> RatePlan:
    """An active plan by id (public or not); NotFound for unknown and inactive plans."""
    plan_id = _valid_id(plan_id)
    plan = (_with_addons(RatePlan.objects.filter(pk=plan_id, is_active=True)).first()
            if plan_id else None)
    if plan is None:
        raise NotFound("Rate plan not found or not active.", code="plan_not_found")
    return plan


def rate_plan_get_by_code(*, code: str, product: str | None = None) -> RatePlan:
    """A plan by code (staff). Several products may share a code: ?product= picks one; without it
    an active plan beats an inactive one, then CODE_LOOKUP_PRODUCT_PREFERENCE decides."""
    product = product_check(product)
    if not isinstance(code, str) or not code or "\x00" in code or len(code) > 50:
        raise NotFound("Rate plan not found.", code="plan_not_found")
    queryset = RatePlan.objects.filter(code=code)
    if product:
        queryset = queryset.filter(product=product)
    candidates = list(_with_addons(queryset))
    if not candidates:
        raise NotFound("Rate plan not found.", code="plan_not_found")
    order = {value: index for index, value in enumerate(CODE_LOOKUP_PRODUCT_PREFERENCE)}
    candidates.sort(key=lambda plan: (not plan.is_active, order.get(plan.product, len(order)), plan.pk))
    return candidates[0]


def token_plan_get(code: str) -> RatePlan | None:
    """The active token plan (product "tokens") with this code, or None."""
    if not isinstance(code, str) or not code or "\x00" in code or len(code) > 50:
        return None
    return RatePlan.objects.filter(product=RatePlan.Product.TOKENS, code=code, is_active=True).first()


def token_plans_active() -> QuerySet[RatePlan]:
    return RatePlan.objects.filter(product=RatePlan.Product.TOKENS, is_active=True).order_by("tier", "id")


def credit_packages_active() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(is_active=True)


def credit_package_get(package_id) -> CreditPackage | None:
    """The active credit package with this id (int or numeric string), or None."""
    package_id = _valid_id(package_id)
    if package_id is None:
        return None
    return CreditPackage.objects.filter(pk=package_id, is_active=True).first()


def plan_price_of(plan: RatePlan) -> pricing.PlanPrice:
    """The plain values pricing needs (uses prefetched add-ons when there are any)."""
    addons: list[AddOn] = list(plan.addons.all())
    return pricing.PlanPrice(
        monthly_paise=plan.monthly_price_paise,
        quarterly_paise=plan.quarterly_price_paise,
        annual_paise=plan.annual_price_paise,
        setup_fee_paise=plan.setup_fee_paise,
        gst_rate=plan.gst_rate,
        addons=tuple(pricing.AddOnPrice(code=a.code, description=a.description,
                                        payg_paise=a.payg_price_paise, one_time_paise=a.one_time_price_paise)
                     for a in addons),
    )


@dataclass(frozen=True)
class PlanQuote:
    plan: RatePlan
    quote: pricing.Quote

    @property
    def amount_paise(self) -> int:
        return self.quote.amount_paise

    def as_response(self) -> dict:
        """Seed 002's calculate-price ``data`` (Decimals for rupees), plus ``amount`` in paise."""
        plan = self.plan
        return {
            "plan": {"id": plan.pk, "name": plan.name, "code": plan.code, "product": plan.product},
            "billingCycle": self.quote.billing_cycle,
            "pricing": self.quote.pricing_response(),
            "addons": self.quote.addons_response(),
            "amount": self.quote.amount_paise,
            "currency": plan.currency,
            "features": plan.features,
            "limits": plan.limits,
        }


def price_quote_get(*, plan_id, billing_cycle: str, addons: Mapping[str, int] | None = None) -> PlanQuote:
    """Price an active plan for a cycle and add-ons. NotFound for unknown/inactive plans,
    InvalidInput for cycles or add-ons the plan does not offer."""
    pricing.billing_cycle_check(billing_cycle)
    plan = rate_plan_get_active(plan_id=plan_id)
    return PlanQuote(plan=plan, quote=pricing.quote(plan_price_of(plan), billing_cycle, addons))
