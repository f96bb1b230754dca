"""Reads of the catalog: the one place any app finds a plan or a package.

Other apps use token_plan_get, token_basic_plan, token_plans_active, credit_package_get and
price_quote_get.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass

from django.db.models import QuerySet

from config.errors import InvalidInput, NotFound
from config.ids import positive_id
from plans import pricing
from plans.catalog import BASIC_TOKEN_PLAN_CODE
from plans.models import AddOn, CreditPackage, RatePlan

# GET /api/rate-plans/code/<code> without ?product=: when a code exists in several products
# (STARTER is both a telephony and a platform plan), seed 002's product wins, then the others.
CODE_LOOKUP_PRODUCT_PREFERENCE = (RatePlan.Product.TELEPHONY, RatePlan.Product.TOKENS,
                                  RatePlan.Product.PLATFORM)
_CODE_MAX = RatePlan._meta.get_field("code").max_length


class UnknownTokenPlan(InvalidInput):
    """No token plan (on sale) has this code. Seeds 000/001 answer ``{"error": "invalid plan"}``."""

    code = "invalid_plan"
    default_message = "invalid plan"


class UnknownCreditPackage(InvalidInput):
    """No credit package on sale has this id (seed 003)."""

    code = "invalid_package"
    default_message = "Invalid package"


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


def _could_be_code(code) -> bool:
    """Anything a plan code could be; other values cannot match and are not queried."""
    return isinstance(code, str) and 0 < len(code) <= _CODE_MAX and "\x00" not in code


def rate_plan_get(*, plan_id) -> RatePlan:
    """Any plan by id (staff); NotFound otherwise."""
    plan_id = positive_id(plan_id)
    plan = _with_addons(RatePlan.objects.filter(pk=plan_id)).first() if plan_id else None
    if plan is None:
        raise NotFound("Rate plan not found.", code="plan_not_found")
    return plan


def rate_plan_get_active(*, plan_id) -> RatePlan:
    """An active plan by id (public or not); NotFound for unknown and inactive plans."""
    plan_id = positive_id(plan_id)
    plan = (_with_addons(RatePlan.objects.filter(pk=plan_id, is_active=True)).first()
            if plan_id else None)
    if plan is None:
        raise NotFound("Rate plan not found or not active.", code="plan_not_found")
    return plan


def rate_plan_get_by_code(*, code: str, product: str | None = None) -> RatePlan:
    """A plan by code (staff). Several products may share a code: ?product= picks one; without it
    an active plan beats an inactive one, then CODE_LOOKUP_PRODUCT_PREFERENCE decides."""
    product = product_check(product)
    if not _could_be_code(code):
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


def token_plan_get(*, code, include_inactive: bool = False) -> RatePlan:
    """The token plan (product "tokens") with this code, if it is on sale (or `include_inactive`:
    whatever its state, e.g. the plan a user is on). UnknownTokenPlan otherwise."""
    plan = None
    if _could_be_code(code):
        plans = RatePlan.objects.filter(product=RatePlan.Product.TOKENS, code=code)
        plan = (plans if include_inactive else plans.filter(is_active=True)).first()
    if plan is None:
        raise UnknownTokenPlan(fields={"plan": ["Unknown plan."]})
    return plan


def token_basic_plan() -> RatePlan:
    """The free plan every user falls back to (active or not: it is never sold, and
    plans.services keeps it from being deleted or renamed)."""
    return token_plan_get(code=BASIC_TOKEN_PLAN_CODE, include_inactive=True)


def token_plans_active() -> QuerySet[RatePlan]:
    return RatePlan.objects.filter(product=RatePlan.Product.TOKENS, is_active=True).order_by("tier", "id")


def credit_packages_active() -> QuerySet[CreditPackage]:
    return CreditPackage.objects.filter(is_active=True)


def credit_package_get(*, package_id) -> CreditPackage:
    """The credit package on sale with this id (int or numeric string); UnknownCreditPackage
    otherwise."""
    package_id = positive_id(package_id)
    package = CreditPackage.objects.filter(pk=package_id, is_active=True).first() if package_id else None
    if package is None:
        raise UnknownCreditPackage(fields={"package_id": ["Unknown package."]})
    return package


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
