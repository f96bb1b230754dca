"""GSTIN: shape, state code and the mod-36 check character (pure, no database)."""

import pytest

from accounts.gstin import (
    ALPHABET,
    STATE_CODES,
    GstinError,
    gstin_check_character,
    gstin_normalize,
    state_code_for_name,
)

# Commonly cited valid GSTINs (and two of well-known companies' published numbers).
KNOWN_GOOD = ["27AAPFU0939F1ZV", "29AAGCB7383J1Z4", "07AAACR5055K1Z9", "33AAACH7409R1Z8"]


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_known_good_gstins_pass(gstin):
    assert gstin_check_character(gstin[:14]) == gstin[14]
    assert gstin_normalize(gstin) == gstin


def test_normalize_accepts_lower_case_and_spaces():
    assert gstin_normalize(" 27aapfu0939f1zv ") == "27AAPFU0939F1ZV"
    assert gstin_normalize("27 AAPFU 0939 F1ZV") == "27AAPFU0939F1ZV"


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_every_one_character_change_is_refused(gstin):
    """Every substitution at every position fails: the shape, the state code or the check
    character catches it (mod-36 Luhn detects every single-character error)."""
    for position in range(15):
        for character in ALPHABET:
            if character == gstin[position]:
                continue
            changed = gstin[:position] + character + gstin[position + 1:]
            with pytest.raises(GstinError):
                gstin_normalize(changed)


@pytest.mark.parametrize("gstin", KNOWN_GOOD)
def test_adjacent_transpositions_within_the_pan_are_refused(gstin):
    for position in range(2, 13):
        a, b = gstin[position], gstin[position + 1]
        if a == b:
            continue
        swapped = gstin[:position] + b + a + gstin[position + 2:]
        with pytest.raises(GstinError):
            gstin_normalize(swapped)


@pytest.mark.parametrize("value, reason", [
    ("27AAPFU0939F1Z", "15 characters"),
    ("27AAPFU0939F1ZVV", "15 characters"),
    ("", "15 characters"),
    ("27AAPFU0939F1AV", "Not a GSTIN"),   # 14th must be Z
    ("27AAPFU0939F0ZV", "Not a GSTIN"),   # entity number 0
    ("2XAAPFU0939F1ZV", "Not a GSTIN"),
    ("27AAPF10939F1ZV", "Not a GSTIN"),   # digit inside the PAN's letters
    ("27AAPFU0939F1Z-", "Not a GSTIN"),
    ("27AAPFU0939F1ZÄ", "Not a GSTIN"),
])
def test_bad_shapes(value, reason):
    with pytest.raises(GstinError, match=reason):
        gstin_normalize(value)


def test_unknown_state_code_even_with_a_matching_check_character():
    for state in ("00", "39", "50", "98"):
        body = state + "AAPFU0939F1Z"
        with pytest.raises(GstinError, match="state code"):
            gstin_normalize(body + gstin_check_character(body))


def test_every_state_code_with_its_check_character_passes():
    for state in STATE_CODES:
        body = state + "AAPFU0939F1Z"
        assert gstin_normalize(body + gstin_check_character(body)) == body + gstin_check_character(body)


def test_not_a_string():
    with pytest.raises(GstinError):
        gstin_normalize(27)


def test_state_names():
    assert state_code_for_name("Maharashtra") == "27"
    assert state_code_for_name("  tamil   nadu ") == "33"
    assert state_code_for_name("Orissa") == "21"
    assert state_code_for_name("Atlantis") is None
    assert state_code_for_name(None) is None
