"""Orders, refunds and webhook events: read-only; actions go through the services."""

from datetime import timedelta

from django.contrib import admin, messages
from django.core.exceptions import PermissionDenied
from django.template.response import TemplateResponse
from django.urls import path, reverse
from django.utils import timezone

from accounts.display import user_with_tenant
from config.admin_actions import action_form_response
from config.errors import ServiceError
from config.money import rupees
from config.policy import policy_allows, principal_for_user
from payments import selectors, services
from payments.forms import RefundForm
from payments.invoices.admin import InvoiceInline
from payments.models import GatewayAttempt, PaymentOrder, Refund, WebhookEvent


class _ReadOnlyAdmin(admin.ModelAdmin):
    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False


class RefundInline(admin.TabularInline):
    model = Refund
    extra = 0
    can_delete = False
    fields = ["gateway_refund_id", "amount_paise", "status", "source", "reason", "actor",
              "credits_reversed", "credits_shortfall", "plan_reverted", "created_at", "processed_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class GatewayAttemptInline(admin.TabularInline):
    model = GatewayAttempt
    extra = 0
    can_delete = False
    fields = ["gateway", "outcome", "gateway_order_id", "fee_paise", "error", "elapsed_ms", "created_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


SUMMARY_DAYS = 30


@admin.register(PaymentOrder)
class PaymentOrderAdmin(_ReadOnlyAdmin):
    list_display = ["id", "gateway_order_id", "customer", "tenant", "kind", "purchase", "amount_paise",
                    "amount_refunded_paise", "status", "gateway", "checkout", "gateway_fee_paise",
                    "fulfilled_via", "created_at"]
    list_filter = ["status", "kind", "gateway", "checkout", "fulfilled_via", "tenant"]
    search_fields = ["gateway_order_id", "gateway_payment_id", "receipt", "user__email", "user__phone",
                     "phone_number", "tenant__slug", "tenant__name"]
    list_select_related = ["user", "user__tenant", "tenant", "plan", "package"]
    readonly_fields = ["customer"]
    date_hierarchy = "created_at"
    inlines = [RefundInline, InvoiceInline, GatewayAttemptInline]
    actions = ["refund", "reconcile"]

    def get_urls(self):
        summary = path("gateway-summary/", self.admin_site.admin_view(self.gateway_summary_view),
                       name="payments_paymentorder_gateway_summary")
        return [summary, *super().get_urls()]

    def gateway_summary_view(self, request):
        """Per gateway over the last SUMMARY_DAYS days: orders, success rate, fees paid."""
        if not self.has_view_permission(request):
            raise PermissionDenied
        since = timezone.now() - timedelta(days=SUMMARY_DAYS)
        rows = [{**row, "amount_paid": rupees(row["amount_paid_paise"]), "fees": rupees(row["fees_paise"])}
                for row in selectors.gateway_summary(since=since)]
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "rows": rows,
                   "since": since, "days": SUMMARY_DAYS, "title": f"Gateways: the last {SUMMARY_DAYS} days"}
        return TemplateResponse(request, "admin/payments/gateway_summary.html", context)

    def changelist_view(self, request, extra_context=None):
        extra_context = {**(extra_context or {}),
                         "gateway_summary_url": reverse("admin:payments_paymentorder_gateway_summary")}
        return super().changelist_view(request, extra_context=extra_context)

    @admin.display(description="customer")
    def customer(self, obj):
        return user_with_tenant(obj.user)

    @admin.display(description="purchase")
    def purchase(self, obj):
        if obj.plan_id:
            return f"plan {obj.plan.code}"
        if obj.package_id:
            return f"{obj.package.name} ({obj.credits} credits)"
        return "—"

    def has_refund_permission(self, request):
        return request.user.has_perm("payments.change_paymentorder")

    has_reconcile_permission = has_refund_permission

    @admin.action(description="Refund…", permissions=["refund"])
    def refund(self, request, queryset):
        orders = list(queryset.select_related("user", "user__tenant"))
        form = RefundForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            for order in orders:
                try:
                    refund = services.order_refund(
                        principal=principal_for_user(request.user),
                        order_id=order.pk, amount_paise=form.cleaned_data["amount"],
                        reason=form.cleaned_data["reason"], actor=request.user,
                    )
                except ServiceError as exc:
                    self.message_user(request, f"{order.gateway_order_id}: {exc.message}", messages.ERROR)
                    continue
                note = f" ({refund.credits_shortfall} credits short)" if refund.credits_shortfall else ""
                self.message_user(request, f"{order.gateway_order_id}: refunded {refund.amount_paise} paise "
                                           f"as {refund.gateway_refund_id}{note}", messages.SUCCESS)
            return None
        return action_form_response(
            self, request, action="refund", title="Refund orders",
            intro="Refund these orders through their gateway. What was bought is taken back: credits "
                  "in proportion to the money refunded (as far as the wallet allows; the rest is "
                  "recorded as a shortfall), a fully refunded token plan returns the user to basic.",
            objects=orders, form=form, submit_label="Refund",
            describe=lambda order: (f"{order} — {user_with_tenant(order.user)} — refundable "
                                    f"{order.refundable_paise} paise"),
        )

    @admin.action(description="Ask the gateway (reconcile)", permissions=["reconcile"])
    def reconcile(self, request, queryset):
        for order in queryset:
            try:
                outcome = services.order_reconcile(order_id=order.pk, source="admin")
            except ServiceError as exc:
                self.message_user(request, f"{order.gateway_order_id}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{order.gateway_order_id}: {outcome}", messages.INFO)


@admin.register(Refund)
class RefundAdmin(_ReadOnlyAdmin):
    list_display = ["id", "gateway_refund_id", "receipt", "order", "customer", "tenant", "amount_paise", "status",
                    "source", "credits_reversed", "credits_shortfall", "plan_reverted", "actor", "created_at"]
    list_filter = ["status", "source", "plan_reverted", "order__tenant"]
    search_fields = ["gateway_refund_id", "receipt", "order__gateway_order_id", "order__gateway_payment_id",
                     "order__user__phone", "order__user__email", "order__tenant__slug"]
    list_select_related = ["order", "order__user", "order__user__tenant", "order__tenant", "actor"]
    readonly_fields = ["customer", "tenant"]

    @admin.display(description="customer")
    def customer(self, obj):
        return user_with_tenant(obj.order.user)

    @admin.display(description="tenant")
    def tenant(self, obj):
        return obj.order.tenant or "—"


@admin.register(GatewayAttempt)
class GatewayAttemptAdmin(_ReadOnlyAdmin):
    list_display = ["id", "receipt", "gateway", "outcome", "order", "gateway_order_id", "amount_paise",
                    "fee_paise", "error", "elapsed_ms", "created_at"]
    list_filter = ["gateway", "outcome"]
    search_fields = ["receipt", "gateway_order_id", "order__gateway_order_id"]
    list_select_related = ["order"]
    date_hierarchy = "created_at"


@admin.register(WebhookEvent)
class WebhookEventAdmin(_ReadOnlyAdmin):
    list_display = ["id", "event_id", "gateway", "event_type", "received_at", "processed_at",
                    "attempts", "unprocessable", "result", "short_error"]
    list_filter = ["gateway", "event_type", "unprocessable", ("processed_at", admin.EmptyFieldListFilter)]
    search_fields = ["event_id", "event_type", "result"]
    actions = ["reprocess"]

    @admin.display(description="error")
    def short_error(self, obj):
        return (obj.error[:80] + "…") if len(obj.error) > 80 else obj.error

    def has_reprocess_permission(self, request):
        return request.user.has_perm("payments.change_webhookevent")

    @admin.action(description="Reprocess event", permissions=["reprocess"])
    def reprocess(self, request, queryset):
        for event in queryset:
            if event.processed_at is not None:
                self.message_user(request, f"{event.event_id}: already processed ({event.result})",
                                  messages.INFO)
                continue
            try:
                event = services.webhook_event_process(event_id=event.pk)
            except ServiceError as exc:
                self.message_user(request, f"{event.event_id}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{event.event_id}: {event.result}", messages.SUCCESS)


# --- seed 002's subscriptions: their orders and the period close ------------------------------
# The subscription admin belongs to `subscriptions`; payments (the layer above) adds what only it
# knows — the subscription's orders on its timeline, and the close with its renewal order.

from subscriptions.admin import SubscriptionAdmin as _BaseSubscriptionAdmin  # noqa: E402
from subscriptions.lifecycle import access  # noqa: E402
from subscriptions.models import Subscription  # noqa: E402


class SubscriptionOrderInline(admin.TabularInline):
    model = PaymentOrder
    fk_name = "subscription"
    extra = 0
    can_delete = False
    verbose_name_plural = "orders (checkout, upgrades, renewals)"
    fields = ["created_at", "purpose", "gateway_order_id", "amount_paise", "tax_paise", "status", "period_start",
              "period_end", "fulfilled_at", "fulfilled_via", "failure_reason"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class SubscriptionAdmin(_BaseSubscriptionAdmin):
    inlines = [*_BaseSubscriptionAdmin.inlines, SubscriptionOrderInline]
    actions = [*_BaseSubscriptionAdmin.actions, "close_now"]
    readonly_fields = [*_BaseSubscriptionAdmin.readonly_fields, "unpaid_since", "timeline_link"]
    fields = [*_BaseSubscriptionAdmin.fields, "unpaid_since", "timeline_link"]

    def get_urls(self):
        timeline = path("<int:object_id>/timeline/", self.admin_site.admin_view(self.timeline_view),
                        name="subscriptions_subscription_timeline")
        return [timeline, *super().get_urls()]

    @admin.display(description="timeline")
    def timeline_link(self, obj):
        from django.utils.html import format_html

        if obj is None or obj.pk is None:
            return "—"
        return format_html('<a href="{}">Events and orders, oldest first</a>',
                           reverse("admin:subscriptions_subscription_timeline", args=[obj.pk]))

    def timeline_view(self, request, object_id: int):
        """The subscription's events and orders in one list, oldest first (read-only)."""
        subscription = self.get_object(request, str(object_id))
        if subscription is None or not self.has_view_permission(request, subscription):
            raise PermissionDenied
        rows = [{"at": event.created_at, "kind": "event", "what": event.get_kind_display(),
                 "status": f"{event.from_status or '—'} → {event.to_status}" if event.to_status else "",
                 "detail": event.reason, "actor": event.actor or ""}
                for event in subscription.events.select_related("actor")]
        rows += [{"at": order.created_at, "kind": "order",
                  "what": f"{order.get_purpose_display()} order {order.gateway_order_id or order.receipt}",
                  "status": order.status, "actor": "",
                  "detail": f"₹{rupees(order.amount_paise)} incl. GST ₹{rupees(order.tax_paise)}"
                            + (f", period {order.period_start:%Y-%m-%d} to {order.period_end:%Y-%m-%d}"
                               if order.period_start else "")
                            + (f"; {order.failure_reason}" if order.failure_reason else "")}
                 for order in PaymentOrder.objects.filter(subscription=subscription)]
        rows.sort(key=lambda row: row["at"])
        context = {**self.admin_site.each_context(request), "opts": self.model._meta, "rows": rows,
                   "subscription": subscription, "title": f"Timeline of {subscription}"}
        return TemplateResponse(request, "admin/payments/subscription_timeline.html", context)

    def has_close_now_permission(self, request):
        return policy_allows(principal_for_user(request.user), "subscription.staff_action")

    @admin.action(description="Run the period close for these subscriptions now", permissions=["close_now"])
    def close_now(self, request, queryset):
        from payments.services.subscription_renewals import subscription_renewal_close_now

        principal = principal_for_user(request.user)
        for subscription in queryset.select_related("user", "plan"):
            try:
                access.require(principal, "subscription.staff_action", subscription)
                report = subscription_renewal_close_now(subscription_id=subscription.pk, actor=request.user,
                                                        reason="admin: run the period close now")
            except ServiceError as exc:
                self.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
                continue
            done = ", ".join(f"{key} {count}" for key, count in sorted(report.counts.items()) if count)
            if report.failed:
                self.message_user(request, f"{subscription}: failed ({'; '.join(e for _, e in report.failures)})",
                                  messages.ERROR)
            else:
                self.message_user(request, f"{subscription}: {done or 'nothing due'}", messages.SUCCESS)


admin.site.unregister(Subscription)
admin.site.register(Subscription, SubscriptionAdmin)
