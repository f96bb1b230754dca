"""Base classes every API view and input serializer builds on."""

import copy

from rest_framework import serializers
from rest_framework.views import APIView

from config import envelopes


class FlatAPIView(APIView):
    """Seeds 000/001: bare bodies, ``{"error": "..."}`` on failure."""

    envelope = envelopes.FLAT


class StatusAPIView(APIView):
    """Seed 003: ``{"status", "message", "data"}``."""

    envelope = envelopes.STATUS


class SuccessAPIView(APIView):
    """Seed 002 and new endpoints: ``{"success": true, "data"}``."""

    envelope = envelopes.SUCCESS


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses keys it does not know, so typos fail loudly."""

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Unknown field."] for name in sorted(unknown)}
                )
        return super().to_internal_value(data)


class FieldsBuiltOnce:
    """For flat output serializers on hot paths (no nested serializers): the fields are built
    once per class and each instance binds shallow copies. A ModelSerializer otherwise rebuilds
    every field from the model on every instance, which cost more than the rest of GET
    /api/auth/me together."""

    def get_fields(self):
        cls = type(self)
        prototypes = cls.__dict__.get("_field_prototypes")
        if prototypes is None:
            prototypes = super().get_fields()
            cls._field_prototypes = prototypes
        return {name: copy.copy(field) for name, field in prototypes.items()}


class StrictIntegerField(serializers.IntegerField):
    """An integer that must arrive as a JSON integer: no "5", no 5.0, no true."""

    default_error_messages = {"invalid": "A whole number is required."}

    def to_internal_value(self, data):
        if isinstance(data, bool) or not isinstance(data, int):
            self.fail("invalid")
        return super().to_internal_value(data)


def envelope_serializer(name: str, data_serializer, *, envelope: str, many=False):
    """An OpenAPI-only serializer describing ``data_serializer`` wrapped in an envelope."""
    from drf_spectacular.utils import inline_serializer

    data_field = data_serializer(many=many) if isinstance(data_serializer, type) else data_serializer
    if envelope == envelopes.SUCCESS:
        fields = {"success": serializers.BooleanField(), "data": data_field}
    elif envelope == envelopes.STATUS:
        fields = {
            "status": serializers.CharField(),
            "message": serializers.CharField(),
            "data": data_field,
        }
    else:
        raise ValueError("flat responses are described by their own serializer")
    return inline_serializer(name=name, fields=fields)
