"""GSTIN check and state codes (config/gst.py): pure, table-tested. The one validator that
accounts (billing profiles) and payments (invoices, settings) share."""

import re

import pytest

from config.gst import (
    GSTIN_PATTERN,
    GSTIN_SHAPE_SQL,
    STATES,
    GstinError,
    gstin_check_character,
    gstin_checked,
    gstin_is_valid,
    gstin_normalize,
    gstin_problem,
    gstin_state_code,
    state_code_for,
    state_name,
)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"

# Published GSTINs whose check characters are known to be right (the last two of well-known
# companies).
KNOWN_GOOD = ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "07AAACR5055K1Z9", "33AAACH7409R1Z8"]


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_known_good_gstins_pass(gstin):
    assert gstin_problem(gstin) is None and gstin_is_valid(gstin)
    assert gstin_check_character(gstin[:14]) == gstin[14]
    assert gstin_checked(gstin) == gstin


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_every_single_character_change_is_caught(gstin):
    """Change any one of the 15 characters to any other allowed one: never valid (the shape, the
    state code or the check character catches it; mod-36 Luhn detects every single substitution)."""
    for position in range(15):
        for char in ALPHABET:
            if char == gstin[position]:
                continue
            changed = gstin[:position] + char + gstin[position + 1:]
            assert not gstin_is_valid(changed), changed
            with pytest.raises(GstinError):
                gstin_checked(changed)


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_swapped_neighbours_within_the_pan_are_caught(gstin):
    for position in range(2, 13):
        a, b = gstin[position], gstin[position + 1]
        if a == b:
            continue
        swapped = gstin[:position] + b + a + gstin[position + 2:]
        assert not gstin_is_valid(swapped), swapped
        with pytest.raises(GstinError):
            gstin_checked(swapped)


@pytest.mark.parametrize("gstin, message", [
    ("27AAPFU0939F1ZW", "check character"),
    ("29AAGCB7383J1Z3", "check character"),
    ("27AAPFU0939F1Z", "15 characters"),
    ("27AAPFU0939F1ZVV", "15 characters"),
    ("27AAPFU0939F0ZV", "a state code, a PAN"),  # entity number 0 does not exist
    ("27AAPFU0939F1YV", "a state code, a PAN"),  # 14th must be Z
    ("27AAPFU0939F1AV", "a state code, a PAN"),
    ("2AAAPFU0939F1ZV", "a state code, a PAN"),
    ("2XAAPFU0939F1ZV", "a state code, a PAN"),
    ("27AAPF10939F1ZV", "a state code, a PAN"),  # a digit among the PAN's letters
    ("27AAPFU0939F1Z-", "a state code, a PAN"),
    ("27AAPFU0939F1ZÄ", "a state code, a PAN"),
    ("27AAPFU٠٩٣٩F1ZV", "a state code, a PAN"),  # Arabic-Indic digits are digits to \d, not here
    ("00AAPFU0939F1ZV", "not a GST state code"),
    ("25AAPFU0939F1ZV", "not a GST state code"),  # Daman and Diu, merged into 26 in 2020
    ("28AAPFU0939F1ZV", "not a GST state code"),  # Andhra Pradesh before its division
    ("", "15 characters"),
    (None, "15 characters"),
    (270939, "15 characters"),
])
def test_bad_gstins_say_why(gstin, message):
    assert message in gstin_problem(gstin)
    with pytest.raises(GstinError, match=re.escape(message) if isinstance(gstin, str) else "a string"):
        gstin_checked(gstin)


def test_unknown_state_code_even_with_a_matching_check_character():
    for state in ("00", "25", "28", "39", "50", "98"):
        body = state + "AAPFU0939F1Z"
        with pytest.raises(GstinError, match="state code"):
            gstin_checked(body + gstin_check_character(body))


def test_every_state_code_with_its_check_character_passes():
    for state in STATES:
        gstin = state + "AAPFU0939F1Z"
        gstin += gstin_check_character(gstin)
        assert gstin_checked(gstin) == gstin and gstin_state_code(gstin) == state


def test_normalize_and_state_of_a_gstin():
    assert gstin_normalize(" 27aapfu 0939f1zv ") == "27AAPFU0939F1ZV"
    assert gstin_checked(" 27aapfu0939f1zv ") == "27AAPFU0939F1ZV"
    assert gstin_checked("27 AAPFU 0939 F1ZV") == "27AAPFU0939F1ZV"
    assert gstin_normalize(27) == ""
    assert "a state code, a PAN" in gstin_problem("27aapfu0939f1zv")  # stored upper case: normalize first
    assert gstin_state_code("27AAPFU0939F1ZV") == "27" and STATES["27"] == "Maharashtra"
    assert gstin_state_code("29AAGCB7383J1Z4") == "29" and STATES["29"] == "Karnataka"
    assert gstin_state_code("27AAPFU0939F1ZW") is None


def test_the_database_shape_is_the_python_shape():
    """The billing profile's CHECK constraint uses GSTIN_SHAPE_SQL; migration 0002 spells it out."""
    assert GSTIN_PATTERN.pattern == GSTIN_SHAPE_SQL
    assert GSTIN_SHAPE_SQL == r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$"


def test_state_table_has_the_current_codes():
    assert {"07": "Delhi", "24": "Gujarat", "33": "Tamil Nadu", "36": "Telangana", "37": "Andhra Pradesh",
            "38": "Ladakh", "97": "Other Territory"}.items() <= STATES.items()
    assert "26" in STATES and "25" not in STATES and "28" not in STATES
    assert all(len(code) == 2 and code.isdigit() for code in STATES)
    assert state_name("29") == "Karnataka" and state_name("28") is None


@pytest.mark.parametrize("text, code", [
    ("Maharashtra", "27"), ("maharashtra", "27"), ("  MAHARASHTRA ", "27"), ("MH", "27"), ("27", "27"),
    ("Tamil Nadu", "33"), ("tamilnadu", "33"), ("  tamil   nadu ", "33"), ("TN", "33"), ("7", "07"),
    ("New Delhi", "07"), ("Delhi", "07"), ("Jammu & Kashmir", "01"), ("Orissa", "21"), ("Pondicherry", "34"),
    ("Telangana", "36"), ("TG", "36"), ("Andhra Pradesh", "37"), ("Dadra and Nagar Haveli and Daman and Diu", "26"),
    ("Other Territory", "97"), ("Atlantis", None), ("", None), (None, None), (27, None), ("25", None), ("99", "99"),
    ("123", None),
])
def test_state_code_for_what_people_type(text, code):
    assert state_code_for(text) == code
