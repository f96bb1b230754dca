"""Wallets (balance read-only, adjusted only through the services) and the read-only ledger."""

from django import forms
from django.contrib import admin, messages
from django.urls import reverse
from django.utils.html import format_html

from accounts.display import user_with_tenant
from config.admin_actions import action_form_response
from config.errors import ServiceError
from credits import messages as credit_messages
from credits import services
from credits.models import CreditTransaction, Wallet


class AdjustCreditsForm(forms.Form):
    operation = forms.ChoiceField(choices=[("grant", "Grant (add credits)"),
                                           ("deduct", "Deduct (take credits away)")])
    credits = forms.IntegerField(min_value=1, max_value=10**9)
    reason = forms.CharField(max_length=500, widget=forms.Textarea(attrs={"rows": 3, "cols": 60}),
                             help_text="Required; stored on every ledger row this creates.")

    def clean_reason(self):
        reason = self.cleaned_data["reason"].strip()
        if not reason:
            raise forms.ValidationError("A reason is required.")
        return reason


@admin.register(Wallet)
class WalletAdmin(admin.ModelAdmin):
    list_display = ["id", "kind", "owner", "owner_tenant", "balance", "updated_at", "ledger_link"]
    list_filter = ["kind"]
    search_fields = ["user__phone", "user__email", "tenant__slug", "tenant__name", "user__tenant__slug",
                     "user__tenant__name"]
    list_select_related = ["user", "user__tenant", "tenant"]
    readonly_fields = ["kind", "owner", "owner_tenant", "user", "tenant", "balance", "created_at", "updated_at"]
    fields = readonly_fields
    actions = ["adjust_credits"]

    @admin.display(description="Owner")
    def owner(self, obj):
        if obj.user_id:
            return user_with_tenant(obj.user)  # a phone number means nothing without its tenant
        return obj.tenant or "platform"

    @admin.display(description="Tenant")
    def owner_tenant(self, obj):
        tenant = obj.tenant if obj.tenant_id else (obj.user.tenant if obj.user_id and obj.user.tenant_id else None)
        return tenant or "—"

    @admin.display(description="Ledger")
    def ledger_link(self, obj):
        url = reverse("admin:credits_credittransaction_changelist") + f"?wallet__id__exact={obj.pk}"
        return format_html('<a href="{}">transactions</a>', url)

    # Wallets are created by the services; their balance changes only through the ledger.
    def has_add_permission(self, request):
        return False

    def has_delete_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        # Needed at list level for the action; a single wallet's page is view-only.
        return obj is None and super().has_change_permission(request)

    def save_model(self, request, obj, form, change):  # never write a balance from a form
        return

    @admin.action(description="Grant / adjust credits", permissions=["change"])
    def adjust_credits(self, request, queryset):
        form = AdjustCreditsForm(request.POST if "apply" in request.POST else None)
        if form.is_bound and form.is_valid():
            self._apply(request, queryset, **form.cleaned_data)
            return None
        return action_form_response(
            self, request, action="adjust_credits", title="Grant / adjust credits",
            intro="Every change is a new ledger row with your name and the reason below. Deductions "
                  "never take a wallet below zero; wallets that are short are left unchanged and "
                  "listed afterwards.",
            objects=queryset, form=form, submit_label="Apply",
            describe=lambda wallet: f"{wallet} — {self.owner(wallet)} — balance {wallet.balance}",
        )

    def _apply(self, request, queryset, *, operation, credits, reason):
        done, failed = 0, []
        for wallet in queryset.order_by("pk"):
            try:
                services.wallet_adjust(wallet=wallet, credits=credits, deduct=operation != "grant",
                                       actor=request.user, reason=reason, metadata={"via": "admin"})
                done += 1
            except services.InsufficientCredits as exc:
                failed.append(f"{wallet}: "
                              f"{credit_messages.short_balance_phrase(exc.balance, exc.requested)}")
            except ServiceError as exc:
                failed.append(f"{wallet}: {exc.message}")
        verb = "granted to" if operation == "grant" else "deducted from"
        if done:
            self.message_user(request, f"{credits} credit(s) {verb} {done} wallet(s).", messages.SUCCESS)
        for failure in failed:
            self.message_user(request, failure, messages.ERROR)


@admin.register(CreditTransaction)
class CreditTransactionAdmin(admin.ModelAdmin):
    """Append-only: no add, change or delete, here or anywhere."""

    list_display = ["id", "created_at", "wallet", "action", "credits", "balance_after", "source",
                    "reference_id", "actor"]
    list_filter = ["action", "source", "wallet__kind"]
    search_fields = ["wallet__user__phone", "wallet__user__email", "reference_id", "idempotency_key",
                     "wallet__tenant__slug"]
    list_select_related = ["wallet", "actor"]
    readonly_fields = ["wallet", "action", "credits", "balance_after", "source", "reference_id",
                       "idempotency_key", "transfer_id", "actor", "reason", "metadata", "created_at"]
    fields = readonly_fields
    date_hierarchy = "created_at"
    show_full_result_count = False

    def has_add_permission(self, request):
        return False

    def has_change_permission(self, request, obj=None):
        return False

    def has_delete_permission(self, request, obj=None):
        return False
