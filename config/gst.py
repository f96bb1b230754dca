"""GST identifiers: the state-code table and the GSTIN check (DESIGN §4.7). Pure functions.

The one GSTIN validator: accounts (billing profiles) and payments (invoices, settings) use it.

A GSTIN is 15 characters: a 2-digit state code, the holder's PAN (5 letters, 4 digits, 1
letter), the registration's entity number within the state (1-9, A-Z), the letter ``Z`` and a
check character computed over the first 14 with the mod-36 Luhn scheme GSTN uses: each
character is worth its index in 0-9A-Z, multiplied by 1 and 2 alternately from the left; the
base-36 "digits" of every product are summed (quotient + remainder), and the check character
is ``(36 − sum mod 36) mod 36``.
"""

import re

# State and union-territory codes in force (GSTN's list). 25 (Daman and Diu) and 28 (Andhra
# Pradesh before its division) are retired: 25 merged into 26 in 2020, and Andhra Pradesh
# registers under 37.
STATES: dict[str, str] = {
    "01": "Jammu and Kashmir",
    "02": "Himachal Pradesh",
    "03": "Punjab",
    "04": "Chandigarh",
    "05": "Uttarakhand",
    "06": "Haryana",
    "07": "Delhi",
    "08": "Rajasthan",
    "09": "Uttar Pradesh",
    "10": "Bihar",
    "11": "Sikkim",
    "12": "Arunachal Pradesh",
    "13": "Nagaland",
    "14": "Manipur",
    "15": "Mizoram",
    "16": "Tripura",
    "17": "Meghalaya",
    "18": "Assam",
    "19": "West Bengal",
    "20": "Jharkhand",
    "21": "Odisha",
    "22": "Chhattisgarh",
    "23": "Madhya Pradesh",
    "24": "Gujarat",
    "26": "Dadra and Nagar Haveli and Daman and Diu",
    "27": "Maharashtra",
    "29": "Karnataka",
    "30": "Goa",
    "31": "Lakshadweep",
    "32": "Kerala",
    "33": "Tamil Nadu",
    "34": "Puducherry",
    "35": "Andaman and Nicobar Islands",
    "36": "Telangana",
    "37": "Andhra Pradesh",
    "38": "Ladakh",
    "97": "Other Territory",
    "99": "Centre Jurisdiction",
}

# Other spellings people type in an address form: GSTN's alpha codes, older names, common typos.
_ALIASES: dict[str, str] = {
    "jk": "01", "jammuandkashmir": "01", "jammukashmir": "01",
    "hp": "02",
    "pb": "03",
    "ch": "04",
    "uk": "05", "ua": "05", "ut": "05", "uttaranchal": "05",
    "hr": "06",
    "dl": "07", "newdelhi": "07", "nctofdelhi": "07", "nationalcapitalterritoryofdelhi": "07",
    "rj": "08",
    "up": "09",
    "br": "10",
    "sk": "11",
    "ar": "12", "arunanchalpradesh": "12",
    "nl": "13",
    "mn": "14",
    "mz": "15",
    "tr": "16",
    "ml": "17",
    "as": "18",
    "wb": "19",
    "jh": "20",
    "od": "21", "or": "21", "orissa": "21",
    "cg": "22", "ct": "22", "chattisgarh": "22",
    "mp": "23",
    "gj": "24", "gujrat": "24",
    "dn": "26", "dd": "26", "dnhdd": "26", "dadraandnagarhaveli": "26", "damananddiu": "26",
    "mh": "27",
    "ka": "29",
    "ga": "30",
    "ld": "31", "lakshadweepislands": "31",
    "kl": "32", "kerela": "32",
    "tn": "33",
    "py": "34", "pondicherry": "34", "pondy": "34",
    "an": "35", "andamanandnicobar": "35",
    "ts": "36", "tg": "36",
    "ad": "37", "ap": "37",
    "la": "38",
    "ot": "97",
}

GSTIN_LENGTH = 15
# The shape alone, also for a database CHECK constraint: ASCII classes only (no \d, which in
# Python matches any Unicode digit), understood by PostgreSQL and by SQLite's REGEXP.
GSTIN_SHAPE_SQL = r"^[0-9]{2}[A-Z]{5}[0-9]{4}[A-Z][1-9A-Z]Z[0-9A-Z]$"
GSTIN_PATTERN = re.compile(GSTIN_SHAPE_SQL)
_ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ"


class GstinError(ValueError):
    """Why a string is not a GSTIN, in words for the person who typed it."""


def _squash(text: str) -> str:
    return re.sub(r"[^a-z0-9]", "", text.lower().replace("&", "and"))


_BY_NAME: dict[str, str] = {_squash(name): code for code, name in STATES.items()} | _ALIASES


def state_name(code: str) -> str | None:
    return STATES.get(code)


def state_code_for(text) -> str | None:
    """The state code a billing address's state field means: a code ("27", "7"), a name in any
    case and spacing ("Tamil Nadu", "tamilnadu", "Jammu & Kashmir") or an alpha code ("MH")."""
    if not isinstance(text, str) or not text.strip():
        return None
    squashed = _squash(text)
    if squashed.isdigit() and len(squashed) <= 2:
        code = squashed.zfill(2)
        return code if code in STATES else None
    return _BY_NAME.get(squashed)


def gstin_check_character(first14: str) -> str:
    """The 15th character of a GSTIN whose first 14 are given (mod-36 Luhn, factors 1, 2, 1, …)."""
    total = 0
    for position, char in enumerate(first14.upper()):
        product = _ALPHABET.index(char) * (2 if position % 2 else 1)
        total += product // 36 + product % 36
    return _ALPHABET[(36 - total % 36) % 36]


def gstin_normalize(value) -> str:
    """Upper case without spaces: how a GSTIN is stored and compared."""
    return re.sub(r"\s+", "", value).upper() if isinstance(value, str) else ""


def gstin_problem(value) -> str | None:
    """Why `value` is not a valid GSTIN, or None when it is (give it normalized)."""
    if not isinstance(value, str) or len(value) != GSTIN_LENGTH:
        return f"A GSTIN has {GSTIN_LENGTH} characters."
    if not GSTIN_PATTERN.fullmatch(value):
        return ("A GSTIN is a state code, a PAN (5 letters, 4 digits, 1 letter), an entity number, "
                "Z and a check character.")
    if value[:2] not in STATES:
        return f"{value[:2]} is not a GST state code."
    if gstin_check_character(value[:14]) != value[14]:
        return "The GSTIN's check character does not match (a mistyped character?)."
    return None


def gstin_checked(value) -> str:
    """`value` normalized (upper case, no spaces) if it is a valid GSTIN; else GstinError says why."""
    if not isinstance(value, str):
        raise GstinError("A GSTIN is a string.")
    normalized = gstin_normalize(value)
    problem = gstin_problem(normalized)
    if problem:
        raise GstinError(problem)
    return normalized


def gstin_is_valid(value) -> bool:
    return gstin_problem(value) is None


def gstin_state_code(value) -> str | None:
    """The state code of a valid GSTIN, else None."""
    return value[:2] if gstin_is_valid(value) else None
