"""The bot deduction's input check (`bot_deduct_input`): its shortcut for the common body gives
exactly what BotDeductSerializer gives, and every other body still gets the serializer's errors."""

import pytest
from rest_framework.exceptions import ValidationError

from credits.serializers import MAX_BOT_DEDUCT, BotDeductSerializer, bot_deduct_input

BODIES = [
    {"phone_number": "+919876543210"},
    {"phone_number": "  98765 43210 "},
    {"phone_number": "+919876543210", "credits": 1},
    {"phone_number": "+919876543210", "credits": MAX_BOT_DEDUCT},
    {"phone_number": "+919876543210", "credits": MAX_BOT_DEDUCT + 1},
    {"phone_number": "+919876543210", "credits": 0},
    {"phone_number": "+919876543210", "credits": -3},
    {"phone_number": "+919876543210", "credits": True},
    {"phone_number": "+919876543210", "credits": 2.0},
    {"phone_number": "+919876543210", "credits": "2"},
    {"phone_number": "+919876543210", "credits": None},
    {"phone_number": ""},
    {"phone_number": "   "},
    {"phone_number": "9" * 32},
    {"phone_number": "9" * 33},
    {"phone_number": " " + "9" * 32 + " "},
    {"phone_number": "98765\x0043210"},
    {"phone_number": "98765\u200b43210"},
    {"phone_number": "\ud800"},
    {"phone_number": 9876543210},
    {"phone_number": None},
    {"phone_number": ["+919876543210"]},
    {"credits": 1},
    {},
    {"phone_number": "+919876543210", "extra": 1},
    {"phone_number": "+919876543210", "source": "image_generation", "reference_id": "r-1"},
    {"phone_number": "+919876543210", "source": None},
    ["+919876543210"],
    "+919876543210",
    None,
]


def _serializer_result(body):
    serializer = BotDeductSerializer(data=body)
    if serializer.is_valid():
        return "valid", dict(serializer.validated_data)
    return "invalid", serializer.errors


def _input_result(body):
    try:
        return "valid", dict(bot_deduct_input(body))
    except ValidationError as exc:
        return "invalid", exc.detail


@pytest.mark.parametrize("body", BODIES, ids=repr)
def test_the_shortcut_answers_as_the_serializer_does(body):
    assert _input_result(body) == _serializer_result(body)
