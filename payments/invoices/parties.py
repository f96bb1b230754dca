"""Who sells and who buys, as stored on an invoice: plain dicts, frozen at issue time.

Both have the keys of DESIGN §4.7 — name, address, state, stateCode, gstin — and the buyer also
email and phone (printed on the PDF, not in the API).

`buyer_snapshot(user)` is the one place that reads the buyer's billing profile (accounts'
`BillingProfile`, written by `accounts.billing.billing_profile_save`).
"""

import logging

from django.conf import settings
from django.core.exceptions import ObjectDoesNotExist

from config.gst import gstin_normalize, gstin_problem, state_code_for, state_name

logger = logging.getLogger(__name__)

# The billing profile stores an ISO 3166 alpha-2 country; the invoice prints its name. Buyers
# abroad are rare enough that their code is printed as it is.
INDIA = "IN"
COUNTRY_NAMES = {INDIA: "India"}


def seller_snapshot() -> dict:
    """The seller from settings: SELLER_NAME, SELLER_ADDRESS, SELLER_GSTIN (its state), else
    SELLER_STATE."""
    gstin = gstin_normalize(settings.SELLER_GSTIN)
    if gstin and gstin_problem(gstin):
        gstin = ""  # the start-up check refuses this; never print an invalid GSTIN
    code = gstin[:2] if gstin else state_code_for(settings.SELLER_STATE)
    return {
        "name": settings.SELLER_NAME,
        "address": settings.SELLER_ADDRESS,
        "state": state_name(code) if code else (settings.SELLER_STATE or ""),
        "stateCode": code or "",
        "gstin": gstin,
    }


def _text(value) -> str:
    return str(value).strip() if value is not None else ""


def _billing_profile(user):
    """The user's billing profile (accounts' BillingProfile), or None when they never gave one."""
    try:
        return user.billing_profile
    except ObjectDoesNotExist:
        return None


def _address_state(profile) -> str:
    """The billing state as printed: an Indian state by its full name ("MH" → "Maharashtra")."""
    typed = _text(profile.state)
    code = state_code_for(typed) if profile.country == INDIA else None
    return state_name(code) if code else typed


def buyer_snapshot(user) -> dict:
    """The buyer as the invoice must name them: the billing profile when there is one, else the
    account's own name, email and phone (a consumer, place of supply unknown)."""
    profile = _billing_profile(user)
    person = _text(user.name) or _text(user.business_name)
    email = _text(user.email)
    phone = _text(user.phone)
    if profile is None:
        return {"name": person or email or phone, "address": "", "state": "", "stateCode": "",
                "gstin": "", "email": email, "phone": phone}

    gstin = gstin_normalize(profile.gstin)
    if gstin and gstin_problem(gstin):
        # The profile service refuses such a GSTIN; a row written around it is still no GSTIN.
        logger.warning("user %s: billing profile GSTIN %r is not valid; invoiced as a consumer", user.pk, gstin)
        gstin = ""
    # The profile's state_code is its GSTIN's state, else its Indian state's (accounts.billing).
    code = gstin[:2] if gstin else (profile.state_code if state_name(profile.state_code) else "")
    city_line = " ".join(part for part in (_text(profile.city), _text(profile.postal_code)) if part)
    address_parts = [_text(profile.address), city_line, _address_state(profile),
                     COUNTRY_NAMES.get(profile.country, profile.country)]
    return {
        # A registered business is invoiced in its legal name; a person in their own.
        "name": _text(profile.company) or profile.full_name or person or email or phone,
        "address": ", ".join(part for part in address_parts if part),
        "state": state_name(code) if code else _text(profile.state),
        "stateCode": code or "",
        "gstin": gstin,
        "email": email,
        "phone": _text(profile.phone) or phone,
    }
