"""Seed 004's tenants API: input (strict: unknown keys and non-strings refused) and output."""

from rest_framework import serializers

from config.api import StrictSerializer
from config.pagination import page_serializer
from tenants.models import ApiKey, Tenant

READ_ONLY_TENANT_FIELDS = ("id", "status", "suspended_reason", "created_at", "updated_at")


class TenantCreateSerializer(StrictSerializer):
    read_only_inputs = READ_ONLY_TENANT_FIELDS

    name = serializers.CharField(max_length=200)
    slug = serializers.CharField(max_length=100, required=False, allow_blank=True)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    settings = serializers.DictField(required=False)


class TenantUpdateSerializer(StrictSerializer):
    """PUT changes only the fields it is given; the slug is fixed at creation."""

    read_only_inputs = (*READ_ONLY_TENANT_FIELDS, "slug")

    name = serializers.CharField(max_length=200, required=False)
    email = serializers.EmailField(max_length=254, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True)
    settings = serializers.DictField(required=False)


class ReasonRequiredSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class TenantSerializer(serializers.ModelSerializer):
    class Meta:
        model = Tenant
        fields = ["id", "name", "slug", "status", "email", "phone", "settings", "suspended_reason",
                  "created_at", "updated_at"]


TenantPageSerializer = page_serializer("TenantPage", TenantSerializer)


class TenantStatsSerializer(serializers.Serializer):
    tenant_id = serializers.IntegerField()
    window_days = serializers.IntegerField()
    since = serializers.DateTimeField()
    as_of = serializers.DateTimeField()
    users = serializers.IntegerField(help_text="End users of the tenant (not staff).")
    staff = serializers.IntegerField()
    wallet_balance = serializers.IntegerField(help_text="Credits in the tenant wallet.")
    credits_granted_30d = serializers.IntegerField(help_text="Credits into the tenant's and its users' wallets.")
    credits_used_30d = serializers.IntegerField(help_text="Credits spent (usage) from those wallets.")
    revenue_paise = serializers.IntegerField(help_text="Amount of the tenant's paid orders, in paise.")
    paid_orders = serializers.IntegerField()
    live_subscriptions = serializers.IntegerField()
    active_api_keys = serializers.IntegerField()


class ApiKeyCreateSerializer(StrictSerializer):
    name = serializers.CharField(max_length=100)
    scopes = serializers.ListField(child=serializers.ChoiceField(choices=ApiKey.Scope.choices),
                                   required=False, allow_empty=False, max_length=len(ApiKey.Scope.choices))


class ApiKeySerializer(serializers.ModelSerializer):
    """A key as listed: never its hash, never the key."""

    active = serializers.SerializerMethodField()

    class Meta:
        model = ApiKey
        fields = ["id", "tenant_id", "name", "prefix", "scopes", "active", "created_at", "last_used_at",
                  "revoked_at"]

    def get_active(self, api_key) -> bool:
        return api_key.revoked_at is None


class ApiKeyCreatedSerializer(ApiKeySerializer):
    key = serializers.CharField(help_text="The key itself: shown this once, never again.")

    class Meta(ApiKeySerializer.Meta):
        fields = [*ApiKeySerializer.Meta.fields, "key"]


ApiKeyPageSerializer = page_serializer("ApiKeyPage", ApiKeySerializer)
