"""Admin forms for users: the same normalization as every other path (lowercased email, E.164
phone), so a user added by staff is the same user the API and the bots find."""

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm

from accounts.models import User
from accounts.phones import InvalidPhoneNumber, phone_normalize


class _NormalizedContact:
    def clean_email(self):
        email = self.cleaned_data.get("email")
        return User.objects.normalize_email(email).strip().lower() if email else None

    def clean_phone(self):
        phone = self.cleaned_data.get("phone")
        if not phone:
            return None
        try:
            return phone_normalize(phone)
        except InvalidPhoneNumber as exc:
            raise forms.ValidationError(exc.message) from exc

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and not self.errors:
            raise forms.ValidationError("A user needs an email or a phone number.")
        return cleaned


class UserCreationForm(_NormalizedContact, BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "phone", "tenant")


class UserChangeForm(_NormalizedContact, BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
