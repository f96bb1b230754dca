"""The code itself and the limits DESIGN §4.9 fixes.

A code is 6 random digits, stored as an HMAC-SHA256 keyed by SECRET_KEY over tenant, number and
code: a leaked table without the key gives no code away, and a hash is only good for its own
number. Five tries per code bound guessing one code to 5 in 1,000,000.
"""

import hmac
import re
import secrets
from datetime import timedelta

from django.utils.crypto import salted_hmac

CODE_LENGTH = 6
CODE_TTL = timedelta(minutes=5)
MAX_TRIES = 5
CODES_PER_NUMBER = 3
CODES_PER_NUMBER_WINDOW = timedelta(minutes=15)

CODE_RE = re.compile(rf"[0-9]{{{CODE_LENGTH}}}")
_HMAC_SALT = "kosh.accounts.otp.code"


def code_generate() -> str:
    return f"{secrets.randbelow(10 ** CODE_LENGTH):0{CODE_LENGTH}d}"


def code_is_well_formed(code) -> bool:
    return isinstance(code, str) and CODE_RE.fullmatch(code) is not None


def code_hash(*, tenant_id: int, phone: str, code: str) -> str:
    return salted_hmac(_HMAC_SALT, f"{tenant_id}:{phone}:{code}", algorithm="sha256").hexdigest()


def code_matches(*, stored_hash: str, tenant_id: int, phone: str, code: str) -> bool:
    return hmac.compare_digest(stored_hash, code_hash(tenant_id=tenant_id, phone=phone, code=code))
