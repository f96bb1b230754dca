"""The billing profile service: normalisation, checks, partial updates."""

import pytest

from accounts.billing import billing_profile_clean, billing_profile_preview, billing_profile_save
from accounts.models import BillingProfile
from config.errors import InvalidInput

pytestmark = pytest.mark.django_db

SEED_002 = dict(first_name="John", last_name="Doe", phone="+919876543210", company="ABC Corp",
                address="123 Main St", city="Mumbai", state="Maharashtra", country="IN", postal_code="400001",
                gstin="27AAPFU0939F1ZV")


def _refused(field, code, **fields):
    with pytest.raises(InvalidInput) as info:
        billing_profile_save(**fields)
    assert info.value.code == code and field in info.value.fields, (info.value.code, info.value.fields)
    return info.value


def test_seed_002_customer_data_is_stored_normalised(user):
    profile = billing_profile_save(user=user, **{**SEED_002, "phone": "098765 43210", "gstin": "27aapfu0939f1zv",
                                                 "country": "in", "city": "  Mumbai  "})
    profile.refresh_from_db()
    assert (profile.phone, profile.gstin, profile.country, profile.city, profile.state_code) == (
        "+919876543210", "27AAPFU0939F1ZV", "IN", "Mumbai", "27")
    assert profile.full_name == "John Doe"


def test_given_fields_replace_others_stay(user):
    billing_profile_save(user=user, **SEED_002)
    billing_profile_save(user=user, city="Pune", gstin=None)
    profile = BillingProfile.objects.get(user=user)
    assert (profile.city, profile.gstin, profile.company) == ("Pune", "", "ABC Corp")
    assert profile.state_code == "27"  # from the state name once the GSTIN is gone
    assert BillingProfile.objects.filter(user=user).count() == 1


@pytest.mark.parametrize("field, value, code", [
    ("gstin", "27AAPFU0939F1ZW", "invalid_gstin"),       # check character
    ("gstin", "99AAPFU0939F1ZV", "invalid_gstin"),
    ("gstin", "27AAPFU0939F1Z", "invalid_gstin"),
    ("phone", "12345", "invalid_phone_number"),
    ("phone", "not a phone", "invalid_phone_number"),
    ("country", "XX", "invalid_country"),
    ("country", "India", "invalid_billing_profile"),      # over 2 characters
    ("postal_code", "40001", "invalid_postal_code"),
    ("postal_code", "040001", "invalid_postal_code"),
    ("first_name", "x" * 101, "invalid_billing_profile"),
    ("address", "x" * 501, "invalid_billing_profile"),
    ("city", "Mum\x00bai", "invalid_billing_profile"),
    ("company", 42, "invalid_billing_profile"),
])
def test_bad_fields_are_refused_and_nothing_is_written(user, field, value, code):
    billing_profile_save(user=user, **SEED_002)
    _refused(field, code, user=user, **{field: value})
    profile = BillingProfile.objects.get(user=user)
    assert {name: getattr(profile, name) for name in SEED_002} == SEED_002


def test_a_gstin_needs_an_indian_address(user):
    _refused("gstin", "invalid_gstin", user=user, country="US", gstin="27AAPFU0939F1ZV")
    assert not BillingProfile.objects.filter(user=user).exists()


def test_foreign_postal_codes(user):
    profile = billing_profile_save(user=user, country="GB", postal_code="SW1A 1AA", state="London")
    assert (profile.postal_code, profile.state_code) == ("SW1A 1AA", "")
    _refused("postal_code", "invalid_postal_code", user=user, postal_code="SW1A_1AA")


def test_clean_is_pure_and_rejects_unknown_fields():
    assert billing_profile_clean(city=" A  B ") == {"city": "A B"}
    with pytest.raises(InvalidInput):
        billing_profile_clean(shoe_size="9")


def test_preview_writes_nothing(user):
    merged = billing_profile_preview(user=user, gstin="29AAGCB7383J1Z4")
    assert merged["state_code"] == "29" and merged["country"] == "IN"
    assert not BillingProfile.objects.filter(user=user).exists()


def test_database_refuses_a_malformed_gstin(user):
    from django.db import IntegrityError, transaction

    with pytest.raises(IntegrityError), transaction.atomic():
        BillingProfile.objects.create(user=user, gstin="27aapfu0939f1zv")
