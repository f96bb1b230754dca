from django import forms
from django.contrib import admin, messages

from config.errors import ServiceError
from tenants.models import ApiKey, Tenant
from tenants.services import api_key_create, api_key_revoke, tenant_reactivate, tenant_suspend


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
    list_display = ["name", "slug", "status", "email", "created_at"]
    list_filter = ["status"]
    search_fields = ["name", "slug", "email"]
    prepopulated_fields = {"slug": ("name",)}
    inlines = [ApiKeyInline]
    actions = ["suspend", "reactivate"]

    @admin.action(description="Suspend selected tenants")
    def suspend(self, request, queryset):
        self._each(request, queryset, "suspended", lambda tenant: tenant_suspend(
            tenant=tenant, actor=request.user, reason="Suspended in the admin"))

    @admin.action(description="Reactivate selected tenants")
    def reactivate(self, request, queryset):
        self._each(request, queryset, "reactivated", lambda tenant: tenant_reactivate(
            tenant=tenant, actor=request.user, reason="Reactivated in the admin"))

    def _each(self, request, queryset, done: str, change) -> None:
        """Through the services (audited, caches forgotten); a tenant in the wrong state (already
        suspended, archived) is reported and skipped."""
        changed = 0
        for tenant in queryset:
            try:
                change(tenant)
                changed += 1
            except ServiceError as exc:
                self.message_user(request, f"{tenant}: {exc.message}", level=messages.WARNING)
        self.message_user(request, f"{changed} tenant(s) {done}.")

    def get_readonly_fields(self, request, obj=None):
        # Status moves only through the actions above and the API (archive is final).
        return ["status", "suspended_reason"] if obj is not None else ["suspended_reason"]


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
