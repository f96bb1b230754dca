from django import forms
from django.contrib import admin, messages

from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create, api_key_revoke, tenant_set_status


class ApiKeyInline(admin.TabularInline):
    model = ApiKey
    extra = 0
    can_delete = False
    fields = ["name", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    readonly_fields = fields

    def has_add_permission(self, request, obj=None):
        return False


@admin.register(Tenant)
class TenantAdmin(admin.ModelAdmin):
    list_display = ["name", "slug", "status", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ApiKeyInline]
    actions = ["suspend", "reactivate"]

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.SUSPENDED)
        self.message_user(request, f"{queryset.count()} tenant(s) suspended.")

    @admin.action(description="Reactivate selected tenants")
    def reactivate(self, request, queryset):
        for tenant in queryset:
            tenant_set_status(tenant=tenant, status=Tenant.Status.ACTIVE)
        self.message_user(request, f"{queryset.count()} tenant(s) reactivated.")


class ApiKeyAdminForm(forms.ModelForm):
    """Scopes are ticked from the known list: anything else is a form error, never a 500."""

    scopes = forms.MultipleChoiceField(choices=ApiKey.Scope.choices, widget=forms.CheckboxSelectMultiple,
                                       initial=[ApiKey.Scope.BOT],
                                       help_text="What the key may do; at least one.")

    class Meta:
        model = ApiKey
        fields = ["tenant", "name", "scopes"]


@admin.register(ApiKey)
class ApiKeyAdmin(admin.ModelAdmin):
    """The secret is never stored; a new key is shown once in the success message."""

    form = ApiKeyAdminForm

    list_display = ["name", "tenant", "prefix", "scopes", "created_at", "last_used_at", "revoked_at"]
    list_filter = ["tenant", "revoked_at"]
    search_fields = ["name", "prefix", "tenant__name", "tenant__slug"]
    list_select_related = ["tenant"]
    fields = ["tenant", "name", "scopes", "prefix", "created_at", "last_used_at", "revoked_at"]
    actions = ["revoke"]

    def get_readonly_fields(self, request, obj=None):
        if obj is None:
            return ["prefix", "created_at", "last_used_at", "revoked_at"]
        return self.fields

    def get_form(self, request, obj=None, **kwargs):
        if obj is not None:  # an existing key is view-only (revoke it with the action)
            kwargs["form"] = forms.ModelForm
        return super().get_form(request, obj, **kwargs)

    def has_delete_permission(self, request, obj=None):
        return False

    def save_model(self, request, obj, form, change):
        if change:
            return
        api_key, raw = api_key_create(tenant=obj.tenant, name=obj.name, scopes=form.cleaned_data["scopes"],
                                      actor=request.user)
        obj.pk = api_key.pk
        obj.__dict__.update(api_key.__dict__)
        self.message_user(request, f"API key created. Copy it now, it is not shown again: {raw}",
                          messages.WARNING)

    @admin.action(description="Revoke selected keys")
    def revoke(self, request, queryset):
        for api_key in queryset:
            api_key_revoke(api_key=api_key, actor=request.user)
        self.message_user(request, f"{queryset.count()} key(s) revoked.")
