"""OpenAPI pieces: security schemes for our authentication classes and error shapes."""

from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.utils import OpenApiResponse, inline_serializer
from rest_framework import serializers

from config import envelopes


class JWTAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "accounts.authentication.JWTAuthentication"
    name = "jwtAuth"

    def get_security_definition(self, auto_schema):
        return {"type": "http", "scheme": "bearer", "bearerFormat": "JWT"}


class ApiKeyAuthenticationScheme(OpenApiAuthenticationExtension):
    target_class = "tenants.authentication.ApiKeyAuthentication"
    name = ["botSecret", "apiKey"]

    def get_security_definition(self, auto_schema):
        return [
            {"type": "apiKey", "in": "header", "name": "X-Bot-Secret"},
            {"type": "apiKey", "in": "header", "name": "Authorization",
             "description": "`Api-Key <key>`"},
        ]


FlatError = inline_serializer(
    name="FlatError", fields={"error": serializers.CharField()}
)
StatusError = inline_serializer(
    name="StatusError",
    fields={"status": serializers.CharField(), "message": serializers.CharField()},
)
SuccessError = inline_serializer(
    name="SuccessError",
    fields={
        "success": serializers.BooleanField(),
        "error": inline_serializer(
            name="ErrorDetail",
            fields={
                "code": serializers.CharField(),
                "message": serializers.CharField(),
                "fields": serializers.DictField(required=False),
            },
        ),
    },
)

_ERROR_SHAPES = {envelopes.FLAT: FlatError, envelopes.STATUS: StatusError,
                 envelopes.SUCCESS: SuccessError}


def error_responses(envelope: str, *codes: int) -> dict:
    shape = _ERROR_SHAPES[envelope]
    return {code: OpenApiResponse(shape) for code in codes}
