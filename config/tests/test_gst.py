"""GSTIN check and state codes (config/gst.py): pure, table-tested."""

import pytest

from config.gst import (
    STATES,
    gstin_check_character,
    gstin_is_valid,
    gstin_normalize,
    gstin_problem,
    gstin_state_code,
    state_code_for,
)

# Published GSTINs whose check characters are known to be right.
KNOWN_GOOD = ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4"]


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_known_good_gstins_pass(gstin):
    assert gstin_problem(gstin) is None and gstin_is_valid(gstin)
    assert gstin_check_character(gstin[:14]) == gstin[14]


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_every_single_character_change_is_caught(gstin):
    """Change any one of the 15 characters to any other allowed one: never valid (mod-36 Luhn
    catches every single substitution)."""
    alphabet = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
    for position in range(15):
        for char in alphabet:
            if char == gstin[position]:
                continue
            changed = gstin[:position] + char + gstin[position + 1:]
            assert not gstin_is_valid(changed), changed


@pytest.mark.parametrize("gstin, message", [
    ("27AAPFU0939F1ZW", "check character"),
    ("29AAGCB7383J1Z3", "check character"),
    ("27AAPFU0939F1Z", "15 characters"),
    ("27AAPFU0939F1ZVV", "15 characters"),
    ("27aapfu0939f1zv", "state code, a PAN"),  # stored upper case: normalize first
    ("27AAPFU0939F0ZV", "state code, a PAN"),  # entity number 0 does not exist
    ("27AAPFU0939F1YV", "state code, a PAN"),  # 14th must be Z
    ("2AAAPFU0939F1ZV", "state code, a PAN"),
    ("00AAPFU0939F1ZV", "not a GST state code"),
    ("25AAPFU0939F1ZV", "not a GST state code"),  # Daman and Diu, merged into 26 in 2020
    ("28AAPFU0939F1ZV", "not a GST state code"),  # Andhra Pradesh before its division
    ("", "15 characters"),
    (None, "15 characters"),
    (270939, "15 characters"),
])
def test_bad_gstins_say_why(gstin, message):
    assert message in gstin_problem(gstin)


def test_normalize_and_state_of_a_gstin():
    assert gstin_normalize(" 27aapfu 0939f1zv ") == "27AAPFU0939F1ZV"
    assert gstin_state_code("27AAPFU0939F1ZV") == "27" and STATES["27"] == "Maharashtra"
    assert gstin_state_code("29AAGCB7383J1Z4") == "29" and STATES["29"] == "Karnataka"
    assert gstin_state_code("27AAPFU0939F1ZW") is None


def test_state_table_has_the_current_codes():
    assert {"07": "Delhi", "24": "Gujarat", "33": "Tamil Nadu", "36": "Telangana", "37": "Andhra Pradesh",
            "38": "Ladakh", "97": "Other Territory"}.items() <= STATES.items()
    assert "26" in STATES and "25" not in STATES and "28" not in STATES
    assert all(len(code) == 2 and code.isdigit() for code in STATES)


@pytest.mark.parametrize("text, code", [
    ("Maharashtra", "27"), ("maharashtra", "27"), ("  MAHARASHTRA ", "27"), ("MH", "27"), ("27", "27"),
    ("Tamil Nadu", "33"), ("tamilnadu", "33"), ("TN", "33"), ("7", "07"), ("New Delhi", "07"), ("Delhi", "07"),
    ("Jammu & Kashmir", "01"), ("Orissa", "21"), ("Pondicherry", "34"), ("Telangana", "36"), ("TG", "36"),
    ("Andhra Pradesh", "37"), ("Dadra and Nagar Haveli and Daman and Diu", "26"), ("Other Territory", "97"),
    ("Atlantis", None), ("", None), (None, None), ("25", None), ("99", "99"), ("123", None),
])
def test_state_code_for_what_people_type(text, code):
    assert state_code_for(text) == code
