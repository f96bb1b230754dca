"""Text fields of input serializers take JSON strings only (issue 14, item 12)."""

import pytest
from rest_framework import serializers

from config.api import StrictSerializer, TextField


class Body(StrictSerializer):
    read_only_inputs = ("verified",)

    name = serializers.CharField(required=False, allow_null=True)
    email = serializers.EmailField(required=False)
    code = serializers.RegexField(r"^[0-9a-z]+$", required=False)
    tags = serializers.ListField(child=serializers.CharField(), required=False)
    labels = serializers.DictField(child=serializers.CharField(), required=False)
    note = TextField(required=False)


@pytest.mark.parametrize("field, value", [
    ("name", 12345), ("name", 1.5), ("name", True), ("name", {"a": "b"}), ("name", ["x"]),
    ("code", 12345), ("email", 5), ("tags", ["ok", 7]), ("labels", {"a": 1}), ("note", 42),
])
def test_non_strings_are_refused_in_text_fields(field, value):
    body = Body(data={field: value})
    assert not body.is_valid()
    assert body.errors[field] == ["Not a valid string."]


def test_strings_and_null_pass():
    body = Body(data={"name": None, "code": "abc1", "tags": ["a"], "labels": {"k": "v"}, "note": "n",
                      "email": "a@example.com"})
    assert body.is_valid(), body.errors
    assert body.validated_data["code"] == "abc1"


def test_read_only_inputs_are_refused_as_read_only():
    body = Body(data={"verified": True})
    assert not body.is_valid()
    assert body.errors == {"verified": ["Read-only."]}
