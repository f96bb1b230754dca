"""Input and output shapes of phone sign-in (no rules here)."""

from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import extend_schema_field
from rest_framework import serializers

from accounts.otp.codes import CODE_LENGTH
from accounts.serializers import UserSerializer
from config.api import StrictSerializer


@extend_schema_field(OpenApiTypes.STR)
class CodeField(serializers.Field):
    """The code as the person typed it: a JSON string (a number would lose leading zeros). Its
    shape (6 ASCII digits) is checked by the service, after the number and the tenant."""

    default_error_messages = {"invalid": f"Enter the {CODE_LENGTH}-digit code as a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str) or len(data) > 64:
            self.fail("invalid")
        return data

    def to_representation(self, value):
        return value


class PhoneStartSerializer(StrictSerializer):
    phone_number = serializers.CharField(max_length=32, help_text="Any common format; E.164 in answers")
    tenant = serializers.SlugField(max_length=100, required=False, allow_null=True,
                                   help_text="The tenant's slug; default DEFAULT_TENANT_SLUG")


class PhoneVerifySerializer(PhoneStartSerializer):
    code = CodeField()


class PhoneStartResultSerializer(serializers.Serializer):
    phone_number = serializers.CharField()
    tenant = serializers.CharField()
    expires_in = serializers.IntegerField(help_text="Seconds the code stays valid")


class PhoneAttachResultSerializer(serializers.Serializer):
    user = UserSerializer()
    merged = serializers.BooleanField(help_text="Whether the number's bot account was merged in")
    merged_user_id = serializers.IntegerField(required=False)
    credits_moved = serializers.IntegerField(required=False)
    orders_moved = serializers.IntegerField(required=False)
    subscriptions_moved = serializers.IntegerField(required=False)
    subscriptions_closed = serializers.ListField(child=serializers.IntegerField(), required=False)
