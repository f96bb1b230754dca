"""Staff view of users' subscriptions and usage counters. Every change goes through the services."""

from django.contrib import admin, messages

from config.admin_actions import action_form_response
from config.errors import ServiceError
from config.money import rupees
from config.policy import principal_for_user
from subscriptions.forms import TokenPlanChangeForm
from subscriptions.lifecycle.admin import LifecycleAdminActions
from subscriptions.models import Subscription, SubscriptionEvent, SubscriptionPlanChange, UsageCounter
from subscriptions.selectors import TOKENS
from subscriptions.services import token_plan_change, token_usage_reset


class _ReadOnlyInline(admin.TabularInline):
    extra = 0
    can_delete = False

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


class UsageCounterInline(_ReadOnlyInline):
    model = UsageCounter
    fields = ["metric", "quota", "used", "remaining", "period_start", "updated_at"]
    readonly_fields = fields

    @admin.display(description="remaining")
    def remaining(self, obj):
        return obj.remaining


class SubscriptionEventInline(_ReadOnlyInline):
    model = SubscriptionEvent
    fields = ["created_at", "kind", "from_status", "to_status", "from_plan_code", "to_plan_code", "actor",
              "reason", "data"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]


class SubscriptionPlanChangeInline(_ReadOnlyInline):
    """Upgrades ordered through change-plan (pending until paid), with their proration."""

    model = SubscriptionPlanChange
    fk_name = "subscription"
    fields = ["created_at", "status", "from_plan", "from_billing_cycle", "to_plan", "to_billing_cycle",
              "new_period", "period_end", "credit_paise", "charge_paise", "subtotal_paise", "gst_paise",
              "total_paise", "payment_id", "resolved_at"]
    readonly_fields = fields
    ordering = ["-created_at", "-id"]


@admin.register(Subscription)
class SubscriptionAdmin(LifecycleAdminActions, admin.ModelAdmin):
    list_display = ["id", "user", "product", "plan", "status", "billing_cycle", "usage", "current_period_end",
                    "updated_at"]
    list_filter = ["product", "status", "plan", "billing_cycle", "auto_renew",
                   ("user__tenant", admin.RelatedOnlyFieldListFilter)]
    search_fields = ["user__email", "user__phone", "user__name"]
    list_select_related = ["user", "plan"]
    # Everything is read-only (money included): changes go through the actions and services.
    fields = ["user", "product", "plan", "status", "billing_cycle", "started_at", "current_period_start",
              "current_period_end", "billing_anchor_at", "auto_renew", "cancel_at_period_end",
              "scheduled_plan", "scheduled_billing_cycle", "addons", "price", "period_price_paise", "pricing",
              "ended_at", "created_at", "updated_at"]
    readonly_fields = fields
    inlines = [UsageCounterInline, SubscriptionPlanChangeInline, SubscriptionEventInline]
    actions = ["reset_usage", "change_plan", *LifecycleAdminActions.lifecycle_actions]

    def get_queryset(self, request):
        return super().get_queryset(request).prefetch_related("usage_counters")

    def has_add_permission(self, request):
        return False  # provisioned by the services (first usage read, payments)

    def has_delete_permission(self, request, obj=None):
        return False

    @admin.display(description="price paid")
    def price(self, obj):
        total = (obj.pricing or {}).get("totalPaise")
        return "—" if total is None else f"₹{rupees(total)} incl. GST ({obj.billing_cycle})"

    @admin.display(description="usage")
    def usage(self, obj):
        return ", ".join(f"{c.metric} {c.used}/{c.quota}" for c in obj.usage_counters.all()) or "—"

    def _token_subscriptions(self, request, queryset):
        chosen = [sub for sub in queryset.select_related("user", "plan")
                  if sub.product == TOKENS and sub.is_live]
        skipped = queryset.count() - len(chosen)
        if skipped:
            self.message_user(request, f"{skipped} subscription(s) skipped: only live token "
                                       "subscriptions have a token quota.", messages.WARNING)
        return chosen

    @admin.action(description="Reset token usage (used = 0)")
    def reset_usage(self, request, queryset):
        done = 0
        for subscription in self._token_subscriptions(request, queryset):
            token_usage_reset(user=subscription.user, actor=request.user,
                              reason="admin: reset usage")
            done += 1
        if done:
            self.message_user(request, f"Usage reset for {done} user(s).", messages.SUCCESS)

    @admin.action(description="Change token plan…")
    def change_plan(self, request, queryset):
        subscriptions = self._token_subscriptions(request, queryset)
        if not subscriptions:
            return None
        form = TokenPlanChangeForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            plan = form.cleaned_data["plan"]
            reason = form.cleaned_data["reason"] or "admin: change plan"
            for subscription in subscriptions:
                try:
                    change = token_plan_change(
                        principal=principal_for_user(request.user), user=subscription.user, plan_code=plan.code,
                        reset_used=form.cleaned_data["reset_used"], actor=request.user,
                        reason=reason,
                    )
                except ServiceError as exc:
                    self.message_user(request, f"{subscription.user}: {exc.message}", messages.ERROR)
                    continue
                self.message_user(request, f"{subscription.user}: {change.message} "
                                           f"({change.token_used}/{change.token_quota})",
                                  messages.SUCCESS)
            return None
        return action_form_response(
            self, request, action="change_plan", title="Change token plan",
            intro="Change the token plan of these users (seed 001 rules: upgrade carries over the "
                  "unused quota, downgrade keeps usage unless reset). Staff are not asked for payment.",
            objects=subscriptions, form=form, submit_label="Change plan",
        )
