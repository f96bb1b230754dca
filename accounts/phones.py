"""Phone numbers in E.164, parsed with `phonenumbers` (DESIGN §3)."""

from functools import lru_cache

import phonenumbers
from django.conf import settings

from config.errors import InvalidInput


class InvalidPhoneNumber(InvalidInput):
    code = "invalid_phone_number"
    default_message = "Invalid phone number."


# Numbers seen lately, normalized: parsing costs ~30 µs and the bot sends the same numbers again
# and again. A pure function of (text, region), so a bounded memo changes no answer.
PHONE_MEMO_SIZE = 16_384


def phone_normalize(raw, *, region: str | None = None) -> str:
    """'9876543210', '+91 98765 43210' and '+919876543210' all give '+919876543210'."""
    if not isinstance(raw, str) or not raw.strip() or len(raw) > 32:
        raise InvalidPhoneNumber(fields={"phone_number": ["Invalid phone number."]})
    e164 = _e164_or_none(raw, region or settings.DEFAULT_PHONE_REGION)
    if e164 is None:
        raise InvalidPhoneNumber(fields={"phone_number": ["Invalid phone number."]})
    return e164


@lru_cache(maxsize=PHONE_MEMO_SIZE)
def _e164_or_none(raw: str, region: str) -> str | None:
    try:
        parsed = phonenumbers.parse(raw, region)
    except phonenumbers.NumberParseException:
        return None
    if not phonenumbers.is_valid_number(parsed):
        return None
    return phonenumbers.format_number(parsed, phonenumbers.PhoneNumberFormat.E164)


def phone_masked(phone: str | None) -> str | None:
    """'+919876543210' -> '+91******3210': enough to follow a log line, not enough to reuse."""
    if not phone:
        return phone
    return phone[:3] + "*" * (len(phone) - 7) + phone[-4:] if len(phone) > 7 else "***"
