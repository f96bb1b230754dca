"""Seed 002's `/api/subscriptions/*` (all but checkout, which payments serves, and change-plan /
pay, which the lifecycle engine adds): parse → access check → service → serialize.

Another user's subscription answers 404 (never 403); staff-only endpoints answer 403 to
everyone else. Who counts as staff or owner is decided in `access`.
"""

from django.conf import settings
from drf_spectacular.utils import OpenApiParameter, extend_schema

from accounts.authentication import JWTAuthentication
from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import Forbidden, InvalidInput, NotFound, PaymentRequired
from config.idempotency import idempotent
from config.pagination import PAGE_PARAMETERS, page_params, page_serializer, paginate
from config.permissions import IsUser
from config.policy import policy_allows, policy_require
from config.schema import error_responses
from plans.models import RatePlan
from plans.selectors import price_quote_get
from subscriptions.lifecycle import access, selectors, services, usage
from subscriptions.lifecycle import serializers as s
from subscriptions.models import Subscription
from tenants.authentication import ApiKeyAuthentication

TAGS = ["subscriptions"]
SUCCESS = envelopes.SUCCESS

SubscriptionEnvelope = envelope_serializer("SubscriptionEnvelope", s.SubscriptionOut, envelope=SUCCESS)
SubscriptionPageEnvelope = envelope_serializer(
    "SubscriptionPageEnvelope", page_serializer("SubscriptionPage", s.SubscriptionOut), envelope=SUCCESS)
UsageEnvelope = envelope_serializer("SubscriptionUsageEnvelope", s.UsageOut, envelope=SUCCESS)

IDEMPOTENCY_KEY = OpenApiParameter(
    "Idempotency-Key", str, OpenApiParameter.HEADER, required=False,
    description="Same key and body replays the first answer without a second effect; another body "
                "answers 409.",
)
PRODUCT = OpenApiParameter("product", str, enum=RatePlan.Product.values, required=False,
                           description="Default DEFAULT_PLAN_PRODUCT (telephony)")
LIST_FILTERS = [
    OpenApiParameter("status", str, required=False,
                     description=f"One or more of {', '.join(Subscription.Status.values)}, comma-separated"),
    OpenApiParameter("product", str, enum=RatePlan.Product.values, required=False),
    OpenApiParameter("planId", int, required=False),
    OpenApiParameter("customerId", int, required=False),
]


def _valid(serializer_class, request, **kwargs):
    if not isinstance(request.data, dict):
        raise InvalidInput("A JSON object is required.", code="invalid_body")
    body = serializer_class(data=request.data, **kwargs)
    body.is_valid(raise_exception=True)
    return body.validated_data


def _subscription(request, pk: int, action: str) -> Subscription:
    subscription = selectors.subscription_get(subscription_id=pk)
    access.require(access.caller_of(request), action, subscription)
    return subscription


def _answer(subscription_id: int, *, status: int = 200, message: str | None = None):
    subscription = selectors.subscription_get(subscription_id=subscription_id)
    return success_response(s.SubscriptionOut(subscription).data, status=status, message=message)


class _View(SuccessAPIView):
    authentication_classes = [JWTAuthentication]
    permission_classes = [IsUser]


class MySubscriptionView(_View):
    @extend_schema(tags=TAGS, operation_id="subscriptions_mine", parameters=[PRODUCT],
                   summary="The caller's live subscription (active, past_due or suspended first, else pending)",
                   responses={200: SubscriptionEnvelope, **error_responses(SUCCESS, 400, 401, 404)})
    def get(self, request):
        product = request.query_params.get("product") or settings.DEFAULT_PLAN_PRODUCT
        subscription = selectors.subscription_live_for(user=request.user, product=product)
        if subscription is None:
            raise NotFound("You have no subscription.", code="no_subscription")
        return success_response(s.SubscriptionOut(subscription).data)


class SubscriptionsView(_View):
    def get_permissions(self):
        if self.request.method == "GET":
            return [access.IsSubscriptionStaff()]
        return super().get_permissions()

    @extend_schema(tags=TAGS, operation_id="subscriptions_list", parameters=[*LIST_FILTERS, *PAGE_PARAMETERS],
                   summary="Every subscription, newest first (staff; staff of a tenant: its users')",
                   responses={200: SubscriptionPageEnvelope, **error_responses(SUCCESS, 400, 401, 403)})
    def get(self, request):
        page, page_size = page_params(request.query_params)
        scope = access.list_scope(access.caller_of(request))
        queryset = selectors.subscriptions_for_staff(
            params=request.query_params, tenant_id=None if scope is access.ALL_TENANTS else scope)
        result = paginate(queryset, page=page, page_size=page_size)
        result["results"] = s.SubscriptionOut(result["results"], many=True).data
        return success_response(result)

    @extend_schema(
        tags=TAGS, operation_id="subscriptions_create", request=s.LegacyCreateIn,
        summary="Create without online payment (legacy)",
        description="Staff: for `customerId` (default yourself), paid offline, `reason` recorded. A "
                    "regular user: for themselves, only a plan whose total is 0 (else 402: use "
                    "create-with-payment). A pending checkout of the product is superseded; a paid "
                    "subscription → 409.",
        responses={201: SubscriptionEnvelope, **error_responses(SUCCESS, 400, 401, 402, 403, 404, 409)},
    )
    def post(self, request):
        data = _valid(s.LegacyCreateIn, request)
        caller = access.caller_of(request)
        customer_id = data.get("customerId")
        offline = policy_allows(caller, "subscription.create_offline")
        if customer_id is None or customer_id == request.user.pk:
            customer = request.user
        elif not policy_allows(caller, "subscription.create_for_customer"):
            raise Forbidden("Only staff may create a subscription for another customer.")
        else:
            customer = selectors.customer_get(user_id=customer_id, tenant_id=None)
            policy_require(caller, "subscription.create_for_customer", customer)
        plan_quote = price_quote_get(plan_id=data["planId"], billing_cycle=data["billingCycle"],
                                     addons=data["addons"])
        if not offline and plan_quote.amount_paise > 0:
            raise PaymentRequired("This plan needs payment: use POST /api/subscriptions/create-with-payment.",
                                  code="payment_required")
        reason = data["reason"] or ("staff: created, paid offline" if offline else "free plan")
        subscription = services.subscription_create_offline(
            user=customer, plan_quote=plan_quote, actor=request.user, reason=reason,
            auto_renew=data["autoRenew"])
        return _answer(subscription.pk, status=201, message="Subscription created")


class SubscriptionDetailView(_View):
    @extend_schema(tags=TAGS, operation_id="subscriptions_retrieve",
                   summary="A subscription (its owner or staff)",
                   responses={200: SubscriptionEnvelope, **error_responses(SUCCESS, 401, 404)})
    def get(self, request, pk: int):
        return success_response(s.SubscriptionOut(_subscription(request, pk, "subscription.read")).data)

    @extend_schema(
        tags=TAGS, operation_id="subscriptions_update", request=s.SubscriptionUpdateIn,
        summary="Owner settings: autoRenew, resume (cancelAtPeriodEnd: false), drop a scheduled change",
        description="Any other field → 400; status changes only through the actions.",
        responses={200: SubscriptionEnvelope, **error_responses(SUCCESS, 400, 401, 404, 409)},
    )
    def put(self, request, pk: int):
        subscription = _subscription(request, pk, "subscription.manage")
        data = _valid(s.SubscriptionUpdateIn, request)
        if not data:
            raise InvalidInput("Nothing to change: send autoRenew, cancelAtPeriodEnd: false or "
                               "scheduledChange: null.", code="empty_update")
        if data.get("cancelAtPeriodEnd") is True:
            raise InvalidInput("To cancel, use POST /api/subscriptions/:id/cancel.", code="invalid_field",
                               fields={"cancelAtPeriodEnd": ["Only false (resume) is accepted here."]})
        if "scheduledChange" in data and data["scheduledChange"] is not None:
            raise InvalidInput("A plan change is made with POST /api/subscriptions/:id/change-plan.",
                               code="invalid_field", fields={"scheduledChange": ["Only null is accepted here."]})
        subscription = services.subscription_update(
            subscription_id=subscription.pk, actor=request.user, auto_renew=data.get("autoRenew"),
            resume=data.get("cancelAtPeriodEnd") is False, clear_scheduled_change="scheduledChange" in data,
            reason="api: update")
        return _answer(subscription.pk, message="Subscription updated")


class CancelView(_View):
    @extend_schema(
        tags=TAGS, operation_id="subscriptions_cancel", request=s.CancelIn,
        summary="Cancel at the period end (default) or now (`immediate`); a pending checkout now",
        responses={200: SubscriptionEnvelope, **error_responses(SUCCESS, 400, 401, 404, 409)},
    )
    def post(self, request, pk: int):
        subscription = _subscription(request, pk, "subscription.manage")
        data = _valid(s.CancelIn, request)
        subscription = services.subscription_cancel(
            subscription_id=subscription.pk, actor=request.user, immediate=data["immediate"],
            reason=data["reason"] or "api: cancel")
        message = ("Subscription cancelled" if subscription.status == Subscription.Status.CANCELLED
                   else "Subscription will be cancelled at the end of the period")
        return _answer(subscription.pk, message=message)


class _StaffActionView(_View):
    # Any person gets as far as the subscription: out of their reach 404 (another tenant's, someone
    # else's), in reach but not platform super_admin/admin 403.
    action = ""
    message = ""

    def post(self, request, pk: int):
        subscription = _subscription(request, pk, "subscription.staff_action")
        data = _valid(s.ReasonIn, request)
        service = getattr(services, f"subscription_{self.action}")
        subscription = service(subscription_id=subscription.pk, actor=request.user,
                               reason=data["reason"] or f"api: {self.action}")
        return _answer(subscription.pk, message=self.message)


def _staff_schema(action: str, summary: str, *, idempotency: bool = False):
    return extend_schema(
        tags=TAGS, operation_id=f"subscriptions_{action}", request=s.ReasonIn, summary=summary,
        parameters=[IDEMPOTENCY_KEY] if idempotency else [],
        responses={200: SubscriptionEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)},
    )


class SuspendView(_StaffActionView):
    action, message = "suspend", "Subscription suspended"

    @_staff_schema("suspend", "Suspend an active or past-due subscription (staff)")
    def post(self, request, pk: int):
        return super().post(request, pk)


class ActivateView(_StaffActionView):
    action, message = "activate", "Subscription activated"

    @_staff_schema("activate", "Activate a suspended, past-due or pending subscription (staff; pending: "
                               "paid offline, the first period starts now)")
    def post(self, request, pk: int):
        return super().post(request, pk)


class RenewView(_StaffActionView):
    action, message = "renew", "Subscription renewed"

    @_staff_schema("renew", "Offline renewal: one period forward (staff)", idempotency=True)
    def post(self, request, pk: int):
        return idempotent(request, lambda: super(RenewView, self).post(request, pk))


class UsageView(SuccessAPIView):
    authentication_classes = [JWTAuthentication, ApiKeyAuthentication]
    permission_classes = [access.IsPersonOrUsageKey]

    @extend_schema(tags=TAGS, operation_id="subscriptions_usage",
                   summary="Usage this period (owner, staff, or an API key with scope usage of the "
                           "subscriber's tenant)",
                   responses={200: UsageEnvelope, **error_responses(SUCCESS, 401, 403, 404)})
    def get(self, request, pk: int):
        subscription = _subscription(request, pk, "subscription.read")
        return success_response(usage.subscription_usage_get(subscription=subscription))

    @extend_schema(
        tags=TAGS, operation_id="subscriptions_usage_record", request=s.UsageRecordIn,
        parameters=[IDEMPOTENCY_KEY],
        summary="Record usage (staff, or an API key with scope usage of the subscriber's tenant)",
        description='`{"metric": "minutes", "quantity": n}` adds metered minutes (beyond the included '
                    'ones they are overage); `{"metric": "tollFreeNumbers" | "extensions", "used": n}` '
                    "sets how many are in use, refused over the limit (409). Not usable (pending, "
                    "suspended, ended) → 409.",
        responses={200: UsageEnvelope, **error_responses(SUCCESS, 400, 401, 403, 404, 409)},
    )
    def post(self, request, pk: int):
        caller = access.caller_of(request)
        subscription = _subscription(request, pk, "subscription.read")
        if not policy_allows(caller, "subscription.usage.record", subscription):
            raise Forbidden("Only staff or an API key with scope usage may record usage.")
        data = _valid(s.UsageRecordIn, request)
        amount = data["quantity"] if data["metric"] == usage.MINUTES else data["used"]
        return idempotent(request, lambda: success_response(usage.subscription_usage_record(
            subscription=subscription, metric=data["metric"], amount=amount)))
