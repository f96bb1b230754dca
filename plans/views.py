"""Seed 002's rate-plan API and the credit-package list: parse → selector/service → serialize."""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, OpenApiResponse, extend_schema
from rest_framework.permissions import AllowAny

from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import InvalidInput
from config.pagination import PAGE_PARAMETERS, page_params, page_serializer, paginate
from config.policy import PolicyPermission
from config.schema import error_responses
from plans import selectors, services
from plans import serializers as s
from plans.cache import public_plans_cached
from plans.models import RatePlan

TAGS = ["rate-plans"]
SUCCESS = envelopes.SUCCESS

PublicPlansEnvelope = envelope_serializer("PublicRatePlansEnvelope", s.PublicRatePlanSerializer,
                                          envelope=SUCCESS, many=True)
# DESIGN §5: lists in the success envelope are pages (the public list keeps seed 002's array).
StaffPlansEnvelope = envelope_serializer(
    "StaffRatePlansEnvelope", page_serializer("StaffRatePlanPage", s.StaffRatePlanSerializer), envelope=SUCCESS)
StaffPlanEnvelope = envelope_serializer("StaffRatePlanEnvelope", s.StaffRatePlanSerializer, envelope=SUCCESS)
QuoteEnvelope = envelope_serializer("RatePlanQuoteEnvelope", s.RatePlanQuoteSerializer, envelope=SUCCESS)
DeleteEnvelope = envelope_serializer("RatePlanDeleteEnvelope", s.RatePlanDeleteResultSerializer, envelope=SUCCESS)
PackagesEnvelope = envelope_serializer("CreditPackagesEnvelope", s.CreditPackagePublicSerializer,
                                       envelope=SUCCESS, many=True)

PRODUCT_PARAMETER = OpenApiParameter(
    "product", str, enum=RatePlan.Product.values, required=False,
    description="Only plans of this product (tokens, telephony, platform)",
)
DEFAULT_PRODUCT_PARAMETER = OpenApiParameter(
    "product", str, enum=RatePlan.Product.values, required=False,
    description="Plans of this product; default DEFAULT_PLAN_PRODUCT (telephony): seed 002's "
                "STARTER, PROFESSIONAL and CALL_CENTER",
)


def _product_or_default(request) -> str:
    """Seed 002's frontend sends no ?product= and must see only its own catalog (DESIGN §4.3)."""
    return request.query_params.get("product") or settings.DEFAULT_PLAN_PRODUCT

# Error code per input field, so clients can tell "no planId" from "bad add-on" without parsing text.
CALCULATE_CODES = {"planId": "invalid_plan_id", "billingCycle": "invalid_billing_cycle",
                   "addons": "invalid_addons", "non_field_errors": "invalid_body"}
PLAN_WRITE_CODES = {"product": "invalid_product", "plan_code": "invalid_code",
                    "non_field_errors": "invalid_body"}


def _validated(serializer, codes: dict[str, str]):
    """Run an input serializer; its errors become a 400 with a field-specific code."""
    if not serializer.is_valid():
        errors = serializer.errors
        field = next(iter(errors), "non_field_errors")
        path, detail = [field], errors.get(field)
        while isinstance(detail, dict) and detail:
            key = next(iter(detail))
            path.append(str(key))
            detail = detail[key]
        first = detail[0] if isinstance(detail, list) and detail else detail
        unknown = isinstance(first, str) and first == "Unknown field."
        message = str(first) if field == "non_field_errors" else f"{'.'.join(path)}: {first}"
        raise InvalidInput(message, code="unknown_field" if unknown else codes.get(field, "invalid"),
                           fields=errors)
    return serializer


class _PublicView(SuccessAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]


class _StaffView(SuccessAPIView):
    """The catalog API: platform staff read (support included), super_admin/admin write."""

    permission_classes = [PolicyPermission]
    policy_action = {"GET": "catalog.read", "POST": "catalog.write", "PUT": "catalog.write",
                     "DELETE": "catalog.write"}


class PublicRatePlansView(_PublicView):
    @extend_schema(tags=TAGS, operation_id="rate_plans_public", parameters=[DEFAULT_PRODUCT_PARAMETER],
                   summary="Active public plans (anyone)",
                   responses={200: PublicPlansEnvelope, **error_responses(SUCCESS, 400)})
    def get(self, request):
        product = selectors.product_check(_product_or_default(request))
        return success_response(public_plans_cached(
            product=product,
            build=lambda: s.PublicRatePlanSerializer(selectors.rate_plans_public(product=product),
                                                     many=True).data))


class CalculatePriceView(_PublicView):
    @extend_schema(tags=TAGS, operation_id="rate_plans_calculate_price", request=s.RatePlanCalculatePriceSerializer,
                   summary="Price of a plan for a billing cycle with add-ons (anyone)",
                   responses={200: QuoteEnvelope, **error_responses(SUCCESS, 400, 404)})
    def post(self, request):
        data = _validated(s.RatePlanCalculatePriceSerializer(data=request.data), CALCULATE_CODES).validated_data
        result = selectors.price_quote_get(plan_id=data["planId"], billing_cycle=data["billingCycle"],
                                           addons=data["addons"])
        return success_response(result.as_response())


def _plan_response(plan: RatePlan, *, status=200, message=None):
    plan = selectors.rate_plan_get(plan_id=plan.pk)  # fresh, with add-ons
    return success_response(s.StaffRatePlanSerializer(plan).data, status=status, message=message)


class RatePlanListView(_StaffView):
    @extend_schema(tags=TAGS, operation_id="rate_plans_list", parameters=[PRODUCT_PARAMETER, *PAGE_PARAMETERS],
                   summary="Every plan, inactive and private too (staff), a page at a time",
                   responses={200: StaffPlansEnvelope, **error_responses(SUCCESS, 400, 401, 403)})
    def get(self, request):
        page, page_size = page_params(request.query_params)
        plans = selectors.rate_plans_all(product=request.query_params.get("product"))
        result = paginate(plans, page=page, page_size=page_size)
        result["results"] = s.StaffRatePlanSerializer(result["results"], many=True).data
        return success_response(result)

    @extend_schema(tags=TAGS, operation_id="rate_plans_create", request=s.RatePlanWriteSerializer,
                   summary="Create a plan (staff)",
                   responses={201: StaffPlanEnvelope, **error_responses(SUCCESS, 400, 401, 403, 409)})
    def post(self, request):
        data = _validated(s.RatePlanWriteSerializer(data=request.data), PLAN_WRITE_CODES)
        try:
            plan = services.rate_plan_create(actor=request.user, **data.service_kwargs())
        except InvalidInput as exc:
            raise data.api_error(exc, PLAN_WRITE_CODES) from exc
        return _plan_response(plan, status=201, message="Rate plan created")


class RatePlanDetailView(_StaffView):
    @extend_schema(tags=TAGS, operation_id="rate_plans_retrieve", summary="A plan by id (staff)",
                   responses={200: StaffPlanEnvelope, **error_responses(SUCCESS, 401, 403, 404)})
    def get(self, request, pk: int):
        return success_response(s.StaffRatePlanSerializer(selectors.rate_plan_get(plan_id=pk)).data)

    @extend_schema(tags=TAGS, operation_id="rate_plans_update", request=s.RatePlanWriteSerializer,
                   summary="Change the given fields of a plan (staff); metadata.addOns replaces add-ons",
                   responses={200: StaffPlanEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)})
    def put(self, request, pk: int):
        plan = selectors.rate_plan_get(plan_id=pk)
        data = _validated(s.RatePlanWriteSerializer(data=request.data, partial=True), PLAN_WRITE_CODES)
        try:
            plan = services.rate_plan_update(plan=plan, actor=request.user, **data.service_kwargs())
        except InvalidInput as exc:
            raise data.api_error(exc, PLAN_WRITE_CODES) from exc
        return _plan_response(plan, message="Rate plan updated")

    @extend_schema(tags=TAGS, operation_id="rate_plans_destroy",
                   summary="Delete a plan; one that anything refers to is deactivated instead (staff)",
                   responses={200: DeleteEnvelope, **error_responses(SUCCESS, 401, 403, 404)})
    def delete(self, request, pk: int):
        plan = selectors.rate_plan_get(plan_id=pk)
        deleted = services.rate_plan_delete(plan=plan, actor=request.user)
        message = "Rate plan deleted" if deleted else "Rate plan is in use; deactivated instead of deleted"
        return success_response({"id": pk, "deleted": deleted, "deactivated": not deleted}, message=message)


class RatePlanByCodeView(_StaffView):
    @extend_schema(
        tags=TAGS, operation_id="rate_plans_by_code", parameters=[DEFAULT_PRODUCT_PARAMETER],
        summary="A plan by code (staff)",
        description="Codes are unique per product; without ?product= the code is looked up in "
                    "DEFAULT_PLAN_PRODUCT (telephony).",
        responses={200: StaffPlanEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404)},
    )
    def get(self, request, code: str):
        plan = selectors.rate_plan_get_by_code(code=code, product=_product_or_default(request))
        return success_response(s.StaffRatePlanSerializer(plan).data)


class CreditPackagesView(_PublicView):
    @extend_schema(tags=["credit-packages"], operation_id="credit_packages_list",
                   summary="Active credit packages, price in rupees (anyone)",
                   responses={200: OpenApiResponse(PackagesEnvelope)})
    def get(self, request):
        packages = selectors.credit_packages_active()
        return success_response(s.CreditPackagePublicSerializer(packages, many=True).data)
