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


NOT_A_STRING = "Not a valid string."


def _is_text(field) -> bool:
    # CharField and everything built on it: EmailField, RegexField, SlugField, URLField, ...
    return isinstance(field, serializers.CharField)


def _text_type_error(field, value):
    """DRF's CharField turns 5 into "5"; a text field here takes only a JSON string (or null,
    which the field itself accepts or refuses)."""
    if value is None:
        return None
    if _is_text(field):
        return None if isinstance(value, str) else [NOT_A_STRING]
    child = getattr(field, "child", None)
    if child is not None and _is_text(child):
        if isinstance(field, serializers.ListField) and isinstance(value, list):
            return None if all(isinstance(item, str) for item in value) else [NOT_A_STRING]
        if isinstance(field, serializers.DictField) and isinstance(value, dict):
            return None if all(isinstance(item, str) for item in value.values()) else [NOT_A_STRING]
    return None


class TextField(serializers.CharField):
    """Text that must arrive as a JSON string (no 9876543210 as a number, no true)."""

    def to_internal_value(self, data):
        if not isinstance(data, str):
            self.fail("invalid")
        return super().to_internal_value(data)


class StrictSerializer(serializers.Serializer):
    """Input serializer that refuses keys it does not know, so typos fail loudly, and refuses
    non-strings in every text field (each CharField behaves as a `TextField`).

    `read_only_inputs` names keys a caller may see in an answer but never set (refused with
    "Read-only." rather than "Unknown field.")."""

    read_only_inputs: tuple[str, ...] = ()

    def to_internal_value(self, data):
        if isinstance(data, dict):
            unknown = set(data) - set(self.fields)
            if unknown:
                raise serializers.ValidationError(
                    {name: ["Read-only." if name in self.read_only_inputs else "Unknown field."]
                     for name in sorted(unknown)}
                )
            errors = {}
            for name, field in self.fields.items():
                if not field.read_only and name in data:
                    error = _text_type_error(field, data[name])
                    if error:
                        errors[name] = error
            if errors:
                raise serializers.ValidationError(errors)
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
