"""Indian GST identification numbers (GSTIN): shape, state code and check digit.

A GSTIN is 15 characters: a 2-digit state code, the holder's 10-character PAN (5 letters,
4 digits, 1 letter), an entity number (1-9 or A-Z), the letter Z (by default), and a check
character computed over the first 14 with the GSTN's mod-36 Luhn variant: each character is
worth its index in 0-9A-Z, multiplied by 1 and 2 alternately from the left; the "digits" of every
product in base 36 are summed (quotient + remainder), and the check character is
``(36 − sum mod 36) mod 36``.
"""

import re

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"
LENGTH = 15
SHAPE = re.compile(r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$")
# The same shape for the database check (POSIX classes work on PostgreSQL and SQLite's REGEXP).
SHAPE_SQL = r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$"

# GST state and union-territory codes (CBIC). 25 (Daman and Diu) was merged into 26 in 2020 but
# registrations under it still exist; 28 is undivided Andhra Pradesh; 97 other territory;
# 99 the Centre's jurisdiction.
STATE_CODES = {
    "01": "Jammu and Kashmir", "02": "Himachal Pradesh", "03": "Punjab", "04": "Chandigarh",
    "05": "Uttarakhand", "06": "Haryana", "07": "Delhi", "08": "Rajasthan", "09": "Uttar Pradesh",
    "10": "Bihar", "11": "Sikkim", "12": "Arunachal Pradesh", "13": "Nagaland", "14": "Manipur",
    "15": "Mizoram", "16": "Tripura", "17": "Meghalaya", "18": "Assam", "19": "West Bengal",
    "20": "Jharkhand", "21": "Odisha", "22": "Chhattisgarh", "23": "Madhya Pradesh", "24": "Gujarat",
    "25": "Daman and Diu", "26": "Dadra and Nagar Haveli and Daman and Diu", "27": "Maharashtra",
    "28": "Andhra Pradesh (before 2014)", "29": "Karnataka", "30": "Goa", "31": "Lakshadweep",
    "32": "Kerala", "33": "Tamil Nadu", "34": "Puducherry", "35": "Andaman and Nicobar Islands",
    "36": "Telangana", "37": "Andhra Pradesh", "38": "Ladakh", "97": "Other Territory",
    "99": "Centre Jurisdiction",
}

_STATE_NAMES = {name.casefold(): code for code, name in STATE_CODES.items() if code not in ("28", "97", "99")}
_STATE_NAMES.update({"orissa": "21", "pondicherry": "34", "new delhi": "07", "nct of delhi": "07",
                     "jammu & kashmir": "01", "andaman & nicobar islands": "35"})


class GstinError(ValueError):
    """Why a string is not a GSTIN, in words for the person who typed it."""


def gstin_check_character(first_14: str) -> str:
    """The 15th character of a GSTIN whose first 14 characters are `first_14`."""
    total = 0
    for position, character in enumerate(first_14):
        product = ALPHABET.index(character) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return ALPHABET[(36 - total % 36) % 36]


def gstin_normalize(raw: str) -> str:
    """Upper-case, inner spaces removed, then checked; GstinError says what is wrong."""
    if not isinstance(raw, str):
        raise GstinError("A GSTIN is a string.")
    value = "".join(raw.split()).upper()
    if len(value) != LENGTH:
        raise GstinError(f"A GSTIN has {LENGTH} characters.")
    if not SHAPE.match(value):
        raise GstinError("Not a GSTIN: expected 2 digits, a PAN (5 letters, 4 digits, 1 letter), "
                         "an entity number, Z and a check character.")
    if value[:2] not in STATE_CODES:
        raise GstinError(f"{value[:2]} is not a GST state code.")
    if gstin_check_character(value[:14]) != value[14]:
        raise GstinError("The GSTIN's check character does not match; please check for a typo.")
    return value


def state_code_for_name(name: str) -> str | None:
    """The GST state code of an Indian state or union territory named `name`, if recognised."""
    if not isinstance(name, str):
        return None
    return _STATE_NAMES.get(" ".join(name.split()).casefold())
