from django.contrib import admin
from django.contrib.auth.admin import UserAdmin as BaseUserAdmin

from accounts.forms import UserChangeForm, UserCreationForm
from accounts.models import BillingProfile, User


class BillingProfileInline(admin.StackedInline):
    """Read-only: the profile is written by checkout (accounts.billing), which checks the GSTIN."""

    model = BillingProfile
    can_delete = False
    extra = 0
    fields = ["first_name", "last_name", "company", "phone", "address", "city", "state", "state_code",
              "postal_code", "country", "gstin", "updated_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False

    def has_change_permission(self, request, obj=None):
        return False


@admin.register(User)
class UserAdmin(BaseUserAdmin):
    form = UserChangeForm
    add_form = UserCreationForm
    ordering = ["-created_at"]
    list_display = ["id", "email", "phone", "name", "tenant", "role", "is_active", "created_at"]
    list_filter = ["role", "is_active", "tenant", "is_whatsapp_verified"]
    search_fields = ["email", "phone", "name", "business_name", "billing_profile__gstin"]
    list_select_related = ["tenant"]
    # is_staff and is_superuser follow the role (accounts.forms); groups and permissions are not
    # used: what a role may do is config.policy's.
    readonly_fields = ["created_at", "updated_at", "last_login", "merged_into", "is_staff", "is_superuser"]
    autocomplete_fields = ["tenant"]
    inlines = [BillingProfileInline]

    def get_inlines(self, request, obj):
        return self.inlines if obj is not None else []  # no profile on the add page

    def get_form(self, request, obj=None, **kwargs):
        form = super().get_form(request, obj, **kwargs)
        form.acting_user = request.user
        return form
    fieldsets = (
        (None, {"fields": ("email", "phone", "password", "tenant", "merged_into")}),
        ("Profile", {"fields": ("name", "business_name", "is_whatsapp_verified", "industry_type",
                                "sub_industry", "core_processes", "monthly_revenue", "employees",
                                "goal_amount", "goal_years")}),
        ("Role", {"fields": ("is_active", "role", "is_staff", "is_superuser")}),
        ("Dates", {"fields": ("last_login", "created_at", "updated_at")}),
    )
    add_fieldsets = ((None, {"classes": ("wide",),
                             "fields": ("email", "phone", "tenant", "role", "password1", "password2")}),)


# simplejwt's admin shows each outstanding refresh token in full on its change page; a refresh
# token is a live credential, so ours lists the same rows without it.
from rest_framework_simplejwt.token_blacklist.admin import OutstandingTokenAdmin  # noqa: E402
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken  # noqa: E402

admin.site.unregister(OutstandingToken)


@admin.register(OutstandingToken)
class RefreshTokenAdmin(OutstandingTokenAdmin):
    exclude = ["token"]
    list_filter = ["created_at", "expires_at"]

    def get_readonly_fields(self, *args, **kwargs):
        return [f.name for f in self.model._meta.fields if f.name != "token"]
