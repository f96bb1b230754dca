"""Admin forms for users: the same normalization as every other path (lowercased email, E.164
phone), so a user added by staff is the same user the API and the bots find."""

from django import forms
from django.contrib.auth.forms import BaseUserCreationForm
from django.contrib.auth.forms import UserChangeForm as BaseUserChangeForm

from accounts.models import User
from accounts.phones import InvalidPhoneNumber, phone_normalize
from config import policy


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

    # The admin sets this to the person using the form (UserAdmin.get_form).
    acting_user = None

    def clean(self):
        cleaned = super().clean()
        if not cleaned.get("email") and not cleaned.get("phone") and not self.errors:
            raise forms.ValidationError("A user needs an email or a phone number.")
        if "role" in cleaned or "tenant" in cleaned:
            self._clean_role(cleaned)
        return cleaned

    def _clean_role(self, cleaned):
        """Platform roles have no tenant, tenant roles need one (the database says so too); only a
        super_admin makes another super_admin. `is_staff`/`is_superuser` follow the role."""
        role = cleaned.get("role", getattr(self.instance, "role", "")) or ""
        tenant = cleaned.get("tenant", getattr(self.instance, "tenant", None))
        if role in policy.PLATFORM_ROLES and tenant is not None:
            self.add_error("role", "Platform staff belong to no tenant: clear the tenant.")
        elif role in policy.TENANT_ROLES and tenant is None:
            self.add_error("role", "Tenant staff need a tenant.")
        granting_super = role == policy.SUPER_ADMIN and getattr(self.instance, "role", "") != policy.SUPER_ADMIN
        if granting_super and not policy.policy_allows(policy.principal_for_user(self.acting_user),
                                                       "admin_user.grant_super_admin"):
            self.add_error("role", "Only a super admin may make a super admin.")
        self.instance.is_staff = role in policy.PLATFORM_ROLES
        self.instance.is_superuser = role == policy.SUPER_ADMIN


class UserCreationForm(_NormalizedContact, BaseUserCreationForm):
    class Meta:
        model = User
        fields = ("email", "phone", "tenant", "role")


class UserChangeForm(_NormalizedContact, BaseUserChangeForm):
    class Meta:
        model = User
        fields = "__all__"
