from django import forms

from plans.selectors import token_plans_active


class TokenPlanChangeForm(forms.Form):
    """The admin's "change plan" intermediate form."""

    plan = forms.ModelChoiceField(
        queryset=token_plans_active(), to_field_name="code", empty_label=None,
    )
    reset_used = forms.BooleanField(required=False, label="Reset used tokens")
    reason = forms.CharField(max_length=500, required=False,
                             widget=forms.TextInput(attrs={"size": 60}))
