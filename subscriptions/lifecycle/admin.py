"""Admin actions on seed 002's subscriptions: suspend, activate, renew, cancel — each asks for a
reason and calls the same service as the API."""

from django import forms
from django.contrib import admin, messages

from config.admin_actions import action_form_response
from config.errors import ServiceError
from subscriptions.lifecycle import services


class ReasonForm(forms.Form):
    reason = forms.CharField(max_length=services.REASON_MAX, widget=forms.TextInput(attrs={"size": 60}),
                             help_text="Recorded on the subscription's timeline.")


class CancelForm(ReasonForm):
    immediate = forms.BooleanField(required=False, label="End now (default: at the end of the period)")


_ACTIONS = {
    # action: (form, title, intro, submit label)
    "suspend": (ReasonForm, "Suspend subscriptions",
                "Active or past-due subscriptions become suspended: usage is refused until activated.",
                "Suspend"),
    "activate": (ReasonForm, "Activate subscriptions",
                 "Suspended or past-due subscriptions become active; a pending one starts its first "
                 "period now (paid offline).", "Activate"),
    "renew": (ReasonForm, "Renew subscriptions (offline payment)",
              "Each subscription moves one period forward and is active again. Every click renews once.",
              "Renew"),
    "cancel": (CancelForm, "Cancel subscriptions",
               "Cancel at the end of the current period, or now. A pending checkout ends now.", "Cancel"),
}


class LifecycleAdminActions:
    """Mixed into SubscriptionAdmin."""

    lifecycle_actions = ["lifecycle_suspend", "lifecycle_activate", "lifecycle_renew", "lifecycle_cancel"]

    def has_lifecycle_permission(self, request):
        return request.user.has_perm("subscriptions.change_subscription")

    def _lifecycle(self, request, queryset, action: str):
        form_class, title, intro, submit = _ACTIONS[action]
        subscriptions = list(queryset.select_related("user", "plan"))
        form = form_class(request.POST if "apply" in request.POST else None)
        if not (form.is_bound and form.is_valid()):
            return action_form_response(self, request, action=f"lifecycle_{action}", title=title, intro=intro,
                                        objects=subscriptions, form=form, submit_label=submit)
        extra = {"immediate": form.cleaned_data["immediate"]} if action == "cancel" else {}
        service = getattr(services, f"subscription_{action}")
        for subscription in subscriptions:
            try:
                done = service(subscription_id=subscription.pk, actor=request.user,
                               reason=f"admin: {form.cleaned_data['reason']}", **extra)
            except ServiceError as exc:
                self.message_user(request, f"{subscription}: {exc.message}", messages.ERROR)
                continue
            self.message_user(request, f"{subscription.user} · {done.plan.code}: {done.status}"
                                       f"{' (cancels at period end)' if done.cancel_at_period_end else ''}",
                              messages.SUCCESS)
        return None

    @admin.action(description="Suspend…", permissions=["lifecycle"])
    def lifecycle_suspend(self, request, queryset):
        return self._lifecycle(request, queryset, "suspend")

    @admin.action(description="Activate…", permissions=["lifecycle"])
    def lifecycle_activate(self, request, queryset):
        return self._lifecycle(request, queryset, "activate")

    @admin.action(description="Renew (offline payment)…", permissions=["lifecycle"])
    def lifecycle_renew(self, request, queryset):
        return self._lifecycle(request, queryset, "renew")

    @admin.action(description="Cancel…", permissions=["lifecycle"])
    def lifecycle_cancel(self, request, queryset):
        return self._lifecycle(request, queryset, "cancel")
