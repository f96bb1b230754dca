from django import forms

from plans.models import RatePlan


class TokenPlanChangeForm(forms.Form):
    """The admin's "change plan" intermediate form."""

    plan = forms.ModelChoiceField(
        queryset=RatePlan.objects.filter(product=RatePlan.Product.TOKENS, is_active=True)
        .order_by("tier"),
        to_field_name="code", empty_label=None,
    )
    reset_used = forms.BooleanField(required=False, label="Reset used tokens")
    reason = forms.CharField(max_length=500, required=False,
                             widget=forms.TextInput(attrs={"size": 60}))
