"""Catalog admin: prices edited and shown in rupees, every change made by plans.services.

The forms are model forms, so the model's field rules show on the form; the rupee fields are
checked against the rules of the paise fields they stand for.
"""

from decimal import Decimal

from django import forms
from django.contrib import admin, messages
from django.core.exceptions import ValidationError

from config.errors import ServiceError
from config.money import paise, rupees
from plans import services
from plans.models import (
    MAX_FEATURE_LENGTH,
    MAX_FEATURES,
    PRICE_PER_MINUTE,
    PRICE_PER_MINUTE_PAISE,
    TOKENS_LIMIT,
    AddOn,
    CreditPackage,
    RatePlan,
)


def _rupee_field(label: str, *, required: bool = True, help_text: str = "") -> forms.DecimalField:
    return forms.DecimalField(label=label, max_digits=12, decimal_places=2, min_value=Decimal(0),
                              required=required, help_text=help_text)


# RatePlan fields the admin form edits as they are (prices go through the rupee fields).
_PLAN_FORM_FIELDS = [name for name in services.RATE_PLAN_FIELDS if not name.endswith("_paise") and name != "currency"]


class _RupeeForm(forms.ModelForm):
    """Shows `<name>_paise` model fields as rupee fields named `<name>` (RUPEE_FIELDS)."""

    RUPEE_FIELDS: dict[str, str] = {}

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        if self.instance.pk:
            for form_field, model_field in self.RUPEE_FIELDS.items():
                value = getattr(self.instance, model_field)
                self.initial.setdefault(form_field, None if value is None else rupees(value))

    def paise_values(self) -> dict:
        return {model_field: None if self.cleaned_data.get(form_field) is None
                else paise(self.cleaned_data[form_field])
                for form_field, model_field in self.RUPEE_FIELDS.items()}

    def clean(self):
        cleaned = super().clean()
        for form_field, model_field in self.RUPEE_FIELDS.items():
            value = cleaned.get(form_field)
            if value is not None:
                try:
                    self._meta.model._meta.get_field(model_field).run_validators(paise(value))
                except ValidationError as exc:
                    self.add_error(form_field, exc)
        return cleaned


# The limits the admin edits as typed fields: form field → (limits key, label). Other keys a plan's
# limits hold (a token plan's `tokens`, derived from its allowance; keys set through the API) are
# kept as they are. `pricePerMinute` (rupees) is derived from the paise field by the services.
LIMIT_FIELDS = {
    "limit_toll_free_numbers": ("tollFreeNumbers", "Toll-free numbers (telephony)"),
    "limit_included_minutes": ("includedMinutes", "Included minutes per month (telephony)"),
    "limit_extensions": ("extensions", "Extensions (telephony)"),
    "limit_libraries": ("libraries", "Libraries (platform)"),
    "limit_students": ("students", "Students (platform)"),
}
_DERIVED_LIMITS = {PRICE_PER_MINUTE, PRICE_PER_MINUTE_PAISE}
_TYPED_LIMIT_KEYS = {key for key, _ in LIMIT_FIELDS.values()} | _DERIVED_LIMITS


def _limit_field(label: str) -> forms.IntegerField:
    return forms.IntegerField(label=label, required=False, min_value=0, max_value=10**9,
                              help_text="Empty: no such limit")


class RatePlanAdminForm(_RupeeForm):
    RUPEE_FIELDS = {"monthly_price": "monthly_price_paise", "quarterly_price": "quarterly_price_paise",
                    "annual_price": "annual_price_paise", "setup_fee": "setup_fee_paise"}

    monthly_price = _rupee_field("Monthly price (₹)")
    quarterly_price = _rupee_field("Quarterly price (₹)", required=False,
                                   help_text="Empty: 3 × monthly (follows the monthly price). A price here is "
                                             "a discount: at most 3 × monthly.")
    annual_price = _rupee_field("Annual price (₹)", required=False,
                                help_text="Empty: the plan cannot be bought annually")
    setup_fee = _rupee_field("Setup fee (₹)", required=False, help_text="Empty: none")
    price_per_minute = _rupee_field("Price per extra minute (₹, telephony)", required=False,
                                    help_text="Empty: extra minutes are free")
    features_text = forms.CharField(
        label="Features", required=False, widget=forms.Textarea(attrs={"rows": 5, "cols": 60}),
        help_text=f"One per line, at most {MAX_FEATURES} lines of {MAX_FEATURE_LENGTH} characters.")
    limit_toll_free_numbers = _limit_field(LIMIT_FIELDS["limit_toll_free_numbers"][1])
    limit_included_minutes = _limit_field(LIMIT_FIELDS["limit_included_minutes"][1])
    limit_extensions = _limit_field(LIMIT_FIELDS["limit_extensions"][1])
    limit_libraries = _limit_field(LIMIT_FIELDS["limit_libraries"][1])
    limit_students = _limit_field(LIMIT_FIELDS["limit_students"][1])

    class Meta:
        model = RatePlan
        exclude = ["monthly_price_paise", "quarterly_price_paise", "annual_price_paise", "setup_fee_paise",
                   "currency", "limits", "features"]

    def __init__(self, *args, **kwargs):
        super().__init__(*args, **kwargs)
        plan = self.instance
        limits = plan.limits if isinstance(plan.limits, dict) else {}
        for name, (key, _) in LIMIT_FIELDS.items():
            self.initial.setdefault(name, limits.get(key))
        exact = limits.get(PRICE_PER_MINUTE_PAISE)
        if isinstance(exact, int) and not isinstance(exact, bool):
            self.initial.setdefault("price_per_minute", rupees(exact))
        self.initial.setdefault("features_text", "\n".join(str(item) for item in plan.features or []))
        if plan.pk and plan.quarterly_price_paise is not None and plan.quarterly_price_paise == 3 * plan.monthly_price_paise:
            self.initial["quarterly_price"] = None  # it is the derived figure: let it follow the monthly price

    def clean_features_text(self):
        features = [line.strip() for line in self.cleaned_data.get("features_text", "").splitlines() if line.strip()]
        for validator in RatePlan._meta.get_field("features").validators:
            try:
                validator(features)
            except ValidationError as exc:
                raise forms.ValidationError(exc.messages) from exc
        return features

    def clean(self):
        cleaned = super().clean()
        if self.cleaned_data.get("setup_fee") is None:
            self.cleaned_data["setup_fee"] = Decimal(0)
        code = self.cleaned_data.get("code")
        if self.instance.pk and code and RatePlan.objects.filter(
                product=self.instance.product, code=code).exclude(pk=self.instance.pk).exists():
            # product is read-only here, so the form's own (product, code) check is skipped
            self.add_error("code", f"A {self.instance.product} plan with this code exists.")
        monthly, quarterly = cleaned.get("monthly_price"), cleaned.get("quarterly_price")
        if monthly is not None and quarterly is not None and quarterly > 3 * monthly:
            self.add_error("quarterly_price", "At most three monthly prices (leave it empty for 3 × monthly).")
        return cleaned

    def limits_value(self) -> dict:
        product = self.instance.product if self.instance.pk else self.cleaned_data.get("product")
        current = self.instance.limits if isinstance(self.instance.limits, dict) else {}
        limits = {key: value for key, value in current.items() if key not in _TYPED_LIMIT_KEYS}
        for name, (key, _) in LIMIT_FIELDS.items():
            if self.cleaned_data.get(name) is not None:
                limits[key] = self.cleaned_data[name]
        if self.cleaned_data.get("price_per_minute") is not None:
            limits[PRICE_PER_MINUTE_PAISE] = paise(self.cleaned_data["price_per_minute"])
        if product == RatePlan.Product.TOKENS and TOKENS_LIMIT in limits and "token_allowance" in self.cleaned_data:
            limits[TOKENS_LIMIT] = self.cleaned_data["token_allowance"]  # derived from the allowance
        return limits

    def service_values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in _PLAN_FORM_FIELDS if name in self.cleaned_data}
        values.update(self.paise_values())
        values["limits"] = self.limits_value()
        values["features"] = self.cleaned_data.get("features_text", [])
        return values


class AddOnAdminForm(_RupeeForm):
    RUPEE_FIELDS = {"payg_price": "payg_price_paise", "one_time_price": "one_time_price_paise"}

    payg_price = _rupee_field("PAYG (₹ per unit per month)")
    one_time_price = _rupee_field("One-time (₹ per unit)")

    class Meta:
        model = AddOn
        fields = ["code", "description"]


class AddOnInline(admin.TabularInline):
    model = AddOn
    form = AddOnAdminForm
    extra = 0
    fields = ["code", "description", "payg_price", "one_time_price"]


@admin.register(RatePlan)
class RatePlanAdmin(admin.ModelAdmin):
    form = RatePlanAdminForm
    inlines = [AddOnInline]
    list_display = ["code", "name", "product", "monthly", "quarterly", "annual", "setup", "gst_rate", "tier",
                    "is_public", "is_active", "sort_order"]
    list_filter = ["product", "is_active", "is_public"]
    search_fields = ["code", "name", "description"]
    ordering = ["product", "sort_order", "tier", "id"]
    readonly_fields = ["currency", "other_limits", "created_at", "updated_at"]
    actions = ["activate", "deactivate"]
    fieldsets = (
        (None, {"fields": ("product", "code", "name", "description", "tier", "sort_order",
                           "is_public", "is_active")}),
        ("Prices (₹)", {"fields": ("monthly_price", "quarterly_price", "annual_price", "setup_fee",
                                   "gst_rate", "currency")}),
        ("Allowances", {"fields": ("token_allowance", "duration_days", *LIMIT_FIELDS, "price_per_minute",
                                   "other_limits", "features_text")}),
        ("Dates", {"fields": ("created_at", "updated_at")}),
    )

    def get_readonly_fields(self, request, obj=None):
        # The product of an existing plan never changes (services.rate_plan_update refuses it).
        return [*self.readonly_fields, "product"] if obj else self.readonly_fields

    @admin.display(description="Other limits")
    def other_limits(self, plan):
        limits = plan.limits if isinstance(plan.limits, dict) else {}
        others = {key: value for key, value in limits.items() if key not in _TYPED_LIMIT_KEYS}
        return ", ".join(f"{key}: {value}" for key, value in sorted(others.items())) or "—"

    @admin.display(description="Monthly ₹", ordering="monthly_price_paise")
    def monthly(self, plan):
        return rupees(plan.monthly_price_paise)

    @admin.display(description="Quarterly ₹", ordering="quarterly_price_paise")
    def quarterly(self, plan):
        if plan.quarterly_price_paise is None:
            return f"{rupees(3 * plan.monthly_price_paise)} (3 × monthly)"
        return rupees(plan.quarterly_price_paise)

    @admin.display(description="Annual ₹", ordering="annual_price_paise")
    def annual(self, plan):
        return "—" if plan.annual_price_paise is None else rupees(plan.annual_price_paise)

    @admin.display(description="Setup ₹", ordering="setup_fee_paise")
    def setup(self, plan):
        return rupees(plan.setup_fee_paise)

    def save_model(self, request, obj, form, change):
        values = form.service_values()
        if change:
            services.rate_plan_update(plan=obj, actor=request.user, **values)
        else:
            plan = services.rate_plan_create(product=form.cleaned_data["product"], actor=request.user, **values)
            obj.pk, obj.created_at, obj.updated_at = plan.pk, plan.created_at, plan.updated_at
            obj._state.adding = False
            obj._state.db = plan._state.db

    def save_formset(self, request, form, formset, change):
        if formset.model is not AddOn:
            return super().save_formset(request, form, formset, change)
        rows = []
        for addon_form in formset.forms:
            data = getattr(addon_form, "cleaned_data", None)
            if not data or data.get("DELETE") or (addon_form.instance.pk is None and not addon_form.has_changed()):
                continue
            rows.append({"code": data["code"], "description": data.get("description") or "",
                         **addon_form.paise_values()})
        services.rate_plan_addons_set(plan=form.instance, addons=rows, actor=request.user)
        # The admin's change message reads these; the service did the saving.
        formset.new_objects, formset.changed_objects, formset.deleted_objects = [], [], []

    def delete_model(self, request, obj):
        try:
            deleted = services.rate_plan_delete(plan=obj, actor=request.user)
        except ServiceError as exc:
            messages.error(request, f"{obj}: {exc.message}")
            return
        if not deleted:
            messages.warning(request, f"{obj} is in use; it was deactivated instead of deleted.")

    def delete_queryset(self, request, queryset):
        for plan in queryset:
            self.delete_model(request, plan)

    @admin.action(description="Activate selected plans")
    def activate(self, request, queryset):
        for plan in queryset:
            services.rate_plan_activate(plan=plan, actor=request.user)
        self.message_user(request, f"{queryset.count()} plan(s) activated.")

    @admin.action(description="Deactivate selected plans")
    def deactivate(self, request, queryset):
        done = 0
        for plan in queryset:
            try:
                services.rate_plan_deactivate(plan=plan, actor=request.user)
                done += 1
            except ServiceError as exc:
                self.message_user(request, f"{plan}: {exc.message}", messages.ERROR)
        self.message_user(request, f"{done} plan(s) deactivated.")


_PACKAGE_FORM_FIELDS = ["name", "credits", "is_active", "sort_order"]


class CreditPackageAdminForm(_RupeeForm):
    RUPEE_FIELDS = {"price": "price_paise"}

    price = _rupee_field("Price (₹)")

    class Meta:
        model = CreditPackage
        fields = _PACKAGE_FORM_FIELDS

    def service_values(self) -> dict:
        values = {name: self.cleaned_data[name] for name in _PACKAGE_FORM_FIELDS if name in self.cleaned_data}
        values.update(self.paise_values())
        return values


@admin.register(CreditPackage)
class CreditPackageAdmin(admin.ModelAdmin):
    form = CreditPackageAdminForm
    list_display = ["name", "credits", "price_rupees", "is_active", "sort_order"]
    list_filter = ["is_active"]
    search_fields = ["name"]
    readonly_fields = ["currency", "created_at", "updated_at"]
    fields = ["name", "credits", "price", "currency", "is_active", "sort_order", "created_at", "updated_at"]
    actions = ["deactivate"]

    @admin.display(description="Price ₹", ordering="price_paise")
    def price_rupees(self, package):
        return rupees(package.price_paise)

    def save_model(self, request, obj, form, change):
        values = form.service_values()
        if change:
            services.credit_package_update(package=obj, actor=request.user, **values)
        else:
            package = services.credit_package_create(actor=request.user, **values)
            obj.pk, obj.created_at, obj.updated_at = package.pk, package.created_at, package.updated_at
            obj._state.adding = False
            obj._state.db = package._state.db

    def delete_model(self, request, obj):
        if not services.credit_package_delete(package=obj, actor=request.user):
            messages.warning(request, f"{obj} is in use; it was deactivated instead of deleted.")

    def delete_queryset(self, request, queryset):
        for package in queryset:
            self.delete_model(request, package)

    @admin.action(description="Deactivate selected packages")
    def deactivate(self, request, queryset):
        for package in queryset:
            services.credit_package_deactivate(package=package, actor=request.user)
        self.message_user(request, f"{queryset.count()} package(s) deactivated.")
