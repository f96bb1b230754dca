from django import forms


class RefundForm(forms.Form):
    """The admin's "refund" intermediate form."""

    amount = forms.IntegerField(min_value=1, required=False,
                                help_text="In paise (₹1 = 100). Empty: everything still refundable.")
    reason = forms.CharField(max_length=500, widget=forms.TextInput(attrs={"size": 60}))
