"""Who sells and who buys, as stored on an invoice: plain dicts, frozen at issue time.

Both have the keys of DESIGN §4.7 — name, address, state, stateCode, gstin — and the buyer also
email and phone (printed on the PDF, not in the API).

`buyer_snapshot(user)` is the one place that reads the buyer's billing profile.
"""

import logging

from django.conf import settings

from config.gst import gstin_normalize, gstin_problem, state_code_for, state_name

logger = logging.getLogger(__name__)


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


def _text(source, *names) -> str:
    """The first non-blank attribute of `source` among `names`, as a stripped string."""
    for name in names:
        value = getattr(source, name, None)
        if value is not None and str(value).strip():
            return str(value).strip()
    return ""


def buyer_snapshot(user) -> dict:
    """The buyer as the invoice must name them: the billing profile when there is one, else the
    account's own name, email and phone (a consumer, place of supply unknown).

    The billing profile's field names are read defensively so this one function is all that
    must follow the profile's final shape.
    """
    profile = getattr(user, "billing_profile", None)  # a missing one-to-one raises AttributeError too
    person = _text(user, "name") or _text(user, "business_name")
    email = _text(user, "email")
    phone = _text(user, "phone")
    if profile is None:
        return {"name": person or email or phone, "address": "", "state": "", "stateCode": "",
                "gstin": "", "email": email, "phone": phone}

    full_name = " ".join(part for part in (_text(profile, "first_name"), _text(profile, "last_name")) if part)
    full_name = full_name or _text(profile, "name", "full_name")
    company = _text(profile, "company", "company_name", "business_name")
    gstin = gstin_normalize(_text(profile, "gstin", "gst_number", "gstNumber"))
    if gstin and gstin_problem(gstin):
        logger.warning("user %s: billing profile GSTIN %r is not valid; invoiced as a consumer", user.pk, gstin)
        gstin = ""
    billing_state = _text(profile, "state")
    billing_code = state_code_for(billing_state)
    code = gstin[:2] if gstin else billing_code
    city_line = " ".join(part for part in (_text(profile, "city"), _text(profile, "postal_code", "postalCode"))
                         if part)
    address_parts = [_text(profile, "address", "address_line", "street"), city_line,
                     state_name(billing_code) if billing_code else billing_state,
                     _text(profile, "country")]
    return {
        # A registered business is invoiced in its legal name; a person in their own.
        "name": company or full_name or person or email or phone,
        "address": ", ".join(part for part in address_parts if part),
        "state": state_name(code) if code else billing_state,
        "stateCode": code or "",
        "gstin": gstin,
        "email": _text(profile, "email") or email,
        "phone": _text(profile, "phone") or phone,
    }
