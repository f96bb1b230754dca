from rest_framework import serializers
from rest_framework.relations import PKOnlyObject

from accounts.models import User
from config.api import FieldsBuiltOnce, StrictSerializer


class UserSerializer(FieldsBuiltOnce, serializers.ModelSerializer):
    class Meta:
        model = User
        fields = [
            "id", "email", "phone", "name", "business_name", "is_whatsapp_verified",
            "industry_type", "sub_industry", "core_processes", "monthly_revenue", "employees",
            "goal_amount", "goal_years", "tenant", "role", "is_staff", "created_at", "updated_at",
        ]
        read_only_fields = fields


_user_fields = None


def user_representation(user) -> dict:
    """`UserSerializer(user).data` as a plain dict, for GET /api/auth/me: the same fields turn
    the same values into the same output, but bound once per process instead of copied and
    bound for every response (what DRF's `to_representation` does, minus the per-instance
    field set). Output fields need no context or request, so sharing them between threads is
    safe."""
    global _user_fields
    fields = _user_fields
    if fields is None:
        fields = _user_fields = list(UserSerializer().fields.values())
    data = {}
    for field in fields:
        attribute = field.get_attribute(user)
        check = attribute.pk if isinstance(attribute, PKOnlyObject) else attribute
        data[field.field_name] = None if check is None else field.to_representation(attribute)
    return data


class _ProfileFields(StrictSerializer):
    # Set only by a proven phone (or staff in the admin), never by the user about themselves.
    read_only_inputs = ("is_whatsapp_verified",)

    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    phone = serializers.CharField(max_length=32, required=False, allow_blank=True, allow_null=True)
    business_name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    industry_type = serializers.CharField(max_length=100, required=False, allow_blank=True)
    sub_industry = serializers.CharField(max_length=100, required=False, allow_blank=True)
    core_processes = serializers.ListField(
        child=serializers.CharField(max_length=200), required=False, max_length=100
    )
    monthly_revenue = serializers.DecimalField(
        max_digits=15, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    employees = serializers.IntegerField(min_value=0, max_value=10_000_000, required=False,
                                         allow_null=True)
    goal_amount = serializers.DecimalField(
        max_digits=15, decimal_places=2, min_value=0, required=False, allow_null=True
    )
    goal_years = serializers.IntegerField(min_value=0, max_value=100, required=False,
                                          allow_null=True)


class RegisterSerializer(_ProfileFields):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)


class ProfileUpdateSerializer(_ProfileFields):
    email = serializers.EmailField(max_length=254, required=False)


class LoginSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, trim_whitespace=False)


class RefreshSerializer(StrictSerializer):
    refresh = serializers.CharField(max_length=4096)


class VerifySerializer(StrictSerializer):
    token = serializers.CharField(max_length=4096)


class TokenPairSerializer(serializers.Serializer):
    access = serializers.CharField()
    refresh = serializers.CharField()


class AuthResultSerializer(serializers.Serializer):
    user = UserSerializer()
    access = serializers.CharField()
    refresh = serializers.CharField()


class RegisteredSerializer(serializers.Serializer):
    email = serializers.EmailField()


class VerifyResultSerializer(serializers.Serializer):
    valid = serializers.BooleanField()
    user_id = serializers.IntegerField()
    exp = serializers.IntegerField(allow_null=True)


# --- staff accounts (seed 004: /api/v1/tenants/:id/users, /api/v1/admin/users) ------------------

class StaffCreateSerializer(StrictSerializer):
    email = serializers.EmailField(max_length=254)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    role = serializers.CharField(max_length=20)


class AdminUserUpdateSerializer(StrictSerializer):
    read_only_inputs = ("id", "tenant_id", "last_login", "created_at", "updated_at")

    email = serializers.EmailField(max_length=254, required=False)
    password = serializers.CharField(max_length=128, write_only=True, trim_whitespace=False, required=False)
    name = serializers.CharField(max_length=255, required=False, allow_blank=True)
    role = serializers.CharField(max_length=20, required=False)
    is_active = serializers.BooleanField(required=False)

    def to_internal_value(self, data):
        # A boolean must arrive as a JSON boolean (DRF also takes "yes", 1, "true").
        if isinstance(data, dict) and "is_active" in data and not isinstance(data["is_active"], bool):
            raise serializers.ValidationError({"is_active": ["Must be true or false."]})
        return super().to_internal_value(data)


class ReasonSerializer(StrictSerializer):
    reason = serializers.CharField(max_length=500, required=False, allow_blank=True)


class StaffSerializer(serializers.ModelSerializer):
    class Meta:
        model = User
        fields = ["id", "email", "name", "role", "tenant_id", "is_active", "last_login", "created_at",
                  "updated_at"]
        read_only_fields = fields
