from decimal import Decimal

import pytest

from config.ids import MAX_ID, positive_id
from config.money import paise, round_paise, rupees


@pytest.mark.parametrize(("value", "expected"), [
    (1, 1), ("42", 42), (" 7 ", 7), (MAX_ID, MAX_ID), (str(MAX_ID), MAX_ID),
    (0, None), (-1, None), ("-1", None), ("+1", None), (True, None), (1.0, None), ("1.0", None),
    ("", None), ("٣", None), (MAX_ID + 1, None), (str(MAX_ID + 1), None), ("1" * 40, None),
    (None, None), ([1], None), ("1 2", None),
])
def test_positive_id(value, expected):
    assert positive_id(value) == expected


def test_rupees_and_paise_round_half_up():
    assert rupees(123546) == Decimal("1235.46")
    assert rupees(34900) == Decimal("349.00")
    assert paise(Decimal("1235.46")) == 123546
    assert paise("0.005") == 1
    assert round_paise(Decimal("0.5")) == 1
    assert round_paise(Decimal("1.49")) == 1
    assert round_paise(Decimal("-0.5")) == -1
