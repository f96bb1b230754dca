"""The billing profile: seed 002's `customerData`, kept on the user for checkout and tax invoices.

`billing_profile_clean` checks and normalises fields without touching the database (checkout runs
it before asking the gateway for an order); `billing_profile_save` writes them.
"""

import re
import unicodedata

import phonenumbers
from django.db import transaction

from accounts.models import BillingProfile
from accounts.phones import InvalidPhoneNumber, phone_normalize
from config.errors import InvalidInput
from config.gst import GstinError, gstin_checked, state_code_for

FIELDS = ("first_name", "last_name", "phone", "company", "address", "city", "state", "country",
          "postal_code", "gstin")
MAX_LENGTHS = {name: BillingProfile._meta.get_field(name).max_length for name in FIELDS}
INDIA = "IN"
_PIN = re.compile(r"^[1-9][0-9]{5}$")
_POSTAL_CODE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9 -]*$")


def _error(field: str, message: str, code: str) -> InvalidInput:
    return InvalidInput(f"{field}: {message}", code=code, fields={field: [message]})


def _text(field: str, value) -> str:
    if not isinstance(value, str):
        raise _error(field, "Must be a string.", "invalid_billing_profile")
    value = " ".join(value.split()) if field != "address" else value.strip()
    if any(unicodedata.category(c) == "Cc" and c not in "\n\t" for c in value):
        raise _error(field, "Control characters are not allowed.", "invalid_billing_profile")
    limit = MAX_LENGTHS[field]
    if len(value) > limit:
        raise _error(field, f"At most {limit} characters.", "invalid_billing_profile")
    return value


def billing_profile_clean(**fields) -> dict:
    """The given fields checked and normalised: text trimmed, phone in E.164, country an ISO
    alpha-2 code, an Indian postal code 6 digits, GSTIN shape/state/check digit (Indian addresses
    only). `state_code` is derived from the GSTIN, else from a recognised state name. Blank
    (or None) clears a field. InvalidInput names the first bad field."""
    unknown = set(fields) - set(FIELDS)
    if unknown:
        raise InvalidInput(f"Unknown billing field {sorted(unknown)[0]}.", code="invalid_billing_profile")
    clean = {}
    for field, value in fields.items():
        clean[field] = "" if value is None else _text(field, value)
    if clean.get("phone"):
        try:
            clean["phone"] = phone_normalize(clean["phone"])
        except InvalidPhoneNumber as exc:
            raise _error("phone", "Not a valid phone number.", "invalid_phone_number") from exc
    if "country" in clean:
        country = clean["country"].upper() or INDIA
        if country not in phonenumbers.SUPPORTED_REGIONS:
            raise _error("country", "An ISO 3166 two-letter country code, e.g. IN.", "invalid_country")
        clean["country"] = country
    return clean


def _state_code(profile_fields: dict) -> str:
    if profile_fields["gstin"]:
        return profile_fields["gstin"][:2]
    if profile_fields["country"] == INDIA:
        return state_code_for(profile_fields["state"]) or ""
    return ""


def _check_together(merged: dict) -> None:
    """Rules across fields, checked on the profile as it will be saved."""
    if merged["gstin"]:
        if merged["country"] != INDIA:
            raise _error("gstin", "A GSTIN belongs to an Indian address (country IN).", "invalid_gstin")
        try:
            merged["gstin"] = gstin_checked(merged["gstin"])
        except GstinError as exc:
            raise _error("gstin", str(exc), "invalid_gstin") from exc
    postal_code = merged["postal_code"]
    if postal_code:
        if merged["country"] == INDIA and not _PIN.match(postal_code):
            raise _error("postal_code", "An Indian PIN code is 6 digits.", "invalid_postal_code")
        if not _POSTAL_CODE.match(postal_code):
            raise _error("postal_code", "Letters, digits, spaces and hyphens only.", "invalid_postal_code")


def billing_profile_preview(*, user, **fields) -> dict:
    """The profile `billing_profile_save` would store (all fields), checked, without writing."""
    clean = billing_profile_clean(**fields)
    existing = BillingProfile.objects.filter(user=user).first() if user.pk else None
    merged = {field: getattr(existing, field) if existing else "" for field in FIELDS}
    if existing is None:
        merged["country"] = INDIA
    merged.update(clean)
    _check_together(merged)
    merged["state_code"] = _state_code(merged)
    return merged


@transaction.atomic
def billing_profile_save(*, user, **fields) -> BillingProfile:
    """Set the given fields of the user's billing profile (created on first use); others stay."""
    billing_profile_clean(**fields)  # a bad field fails before anything is written
    BillingProfile.objects.get_or_create(user=user)
    profile = BillingProfile.objects.select_for_update().get(user=user)
    for field, value in billing_profile_preview(user=user, **fields).items():
        setattr(profile, field, value)
    profile.save()
    return profile
