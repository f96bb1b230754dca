"""Input and output shapes of the token API (seeds 000/001). Shapes only: rules live in services."""

from rest_framework import serializers

from config.api import StrictIntegerField, StrictSerializer
from subscriptions.services import CONSUME_MAX

USER_ID_MAX = 2**63 - 1


class StrictBooleanField(serializers.BooleanField):
    """A JSON true/false only: no "true", 1 or "yes"."""

    default_error_messages = {"invalid": "Must be true or false."}

    def to_internal_value(self, data):
        if not isinstance(data, bool):
            self.fail("invalid")
        return data


class StrictCharField(serializers.CharField):
    """A JSON string only (a number is not a plan code)."""

    default_error_messages = {"invalid": "Must be a string."}

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class TokenSetPlanSerializer(StrictSerializer):
    # Any string; an unknown or empty one is "invalid plan" (400), not "invalid body".
    plan = StrictCharField(allow_blank=True, trim_whitespace=False)
    reset_used = StrictBooleanField(required=False, default=False)
    user_id = StrictIntegerField(required=False, min_value=1, max_value=USER_ID_MAX,
                                 help_text="Staff / API key: act for this user.")


class TokenConsumeSerializer(StrictSerializer):
    tokens = StrictIntegerField(min_value=1, max_value=CONSUME_MAX)
    user_id = StrictIntegerField(required=False, min_value=1, max_value=USER_ID_MAX,
                                 help_text="Staff / API key: consume for this user.")


class TokenUsageSerializer(serializers.Serializer):
    plan = serializers.CharField()
    token_quota = serializers.IntegerField()
    token_used = serializers.IntegerField()
    remaining = serializers.IntegerField(help_text="token_quota − token_used; negative after a "
                                                   "downgrade below what was already used")
    plan_end_at = serializers.DateTimeField(allow_null=True)


class TokenSetPlanResultSerializer(serializers.Serializer):
    status = serializers.CharField()
    message = serializers.CharField()
    plan = serializers.CharField()
    token_quota = serializers.IntegerField()
    token_used = serializers.IntegerField()
    remaining = serializers.IntegerField()


class TokenQuotaExceededSerializer(serializers.Serializer):
    error = serializers.CharField()
    remaining = serializers.IntegerField()
