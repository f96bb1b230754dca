"""The catalog is in the database after `migrate` (the test database runs the migrations)."""

from decimal import Decimal

import pytest
from django.apps import apps as django_apps
from django.db import IntegrityError, transaction

from plans.catalog import catalog_load
from plans.models import AddOn, CreditPackage, RatePlan

pytestmark = pytest.mark.django_db


def _plans(product):
    return {p.code: p for p in RatePlan.objects.filter(product=product)}


def test_token_plans():
    plans = _plans("tokens")
    assert {code: (p.monthly_price_paise, p.token_allowance, p.duration_days, p.tier, p.gst_rate)
            for code, p in plans.items()} == {
        "basic": (0, 1_000, None, 0, Decimal("0")),
        "standard": (2_900, 10_000, 30, 1, Decimal("0")),
        "premium": (9_900, 50_000, 30, 2, Decimal("0")),
    }
    assert all(p.is_active and p.is_public for p in plans.values())


def test_telephony_plans_match_seed_002():
    plans = _plans("telephony")
    assert {code: (p.name, p.monthly_price_paise, p.quarterly_price_paise, p.annual_price_paise,
                   p.setup_fee_paise, p.gst_rate) for code, p in plans.items()} == {
        "STARTER": ("Starter Plan", 34_900, 104_700, 334_900, 0, Decimal("18.00")),
        "PROFESSIONAL": ("Professional Plan", 99_900, 299_700, 959_000, 0, Decimal("18.00")),
        "CALL_CENTER": ("Call Center Plan", 499_900, 1_499_700, 4_799_000, 0, Decimal("18.00")),
    }
    limits = {code: {k: p.limits[k] for k in ("tollFreeNumbers", "includedMinutes", "extensions",
                                               "pricePerMinute")} for code, p in plans.items()}
    assert limits == {
        "STARTER": {"tollFreeNumbers": 1, "includedMinutes": 100, "extensions": 2, "pricePerMinute": 1.99},
        "PROFESSIONAL": {"tollFreeNumbers": 2, "includedMinutes": 500, "extensions": 10, "pricePerMinute": 1.6},
        "CALL_CENTER": {"tollFreeNumbers": 5, "includedMinutes": 1500, "extensions": 50,
                        "pricePerMinute": 1.45},
    }
    for plan in plans.values():
        assert {(a.code, a.payg_price_paise, a.one_time_price_paise) for a in plan.addons.all()} == {
            ("extraTollFreeNumber", 100, 19_900), ("extraExtension", 100, 9_900)}


def test_platform_plans_match_seed_004():
    plans = _plans("platform")
    assert {code: (p.name, p.monthly_price_paise, p.limits) for code, p in plans.items()} == {
        "FREE": ("Free", 0, {"libraries": 1, "students": 50}),
        "STARTER": ("Starter", 99_900, {"libraries": 2, "students": 200}),
        "PROFESSIONAL": ("Professional", 249_900, {"libraries": 5, "students": 1000}),
        "ENTERPRISE": ("Enterprise", 999_900, {"libraries": 20, "students": 5000}),
    }
    assert [p.tier for p in RatePlan.objects.filter(product="platform")] == [0, 1, 2, 3]


def test_credit_packages_include_seed_003_premium_pack():
    assert [(p.name, p.credits, p.price_paise, p.is_active) for p in CreditPackage.objects.all()] == [
        ("Starter Pack", 20, 2_000, True), ("Premium Pack", 100, 10_000, True), ("Pro Pack", 500, 45_000, True)]


def test_catalog_load_is_idempotent_and_keeps_staff_changes():
    RatePlan.objects.filter(product="telephony", code="STARTER").update(monthly_price_paise=39_900)
    before = (RatePlan.objects.count(), AddOn.objects.count(), CreditPackage.objects.count())
    catalog_load(django_apps.get_model("plans", "RatePlan"), django_apps.get_model("plans", "AddOn"),
                 django_apps.get_model("plans", "CreditPackage"))
    assert (RatePlan.objects.count(), AddOn.objects.count(), CreditPackage.objects.count()) == before
    assert RatePlan.objects.get(product="telephony", code="STARTER").monthly_price_paise == 39_900


@pytest.mark.parametrize("model, values", [
    (RatePlan, {"product": "tokens", "code": "neg", "name": "x", "monthly_price_paise": -1}),
    (RatePlan, {"product": "tokens", "code": "neg", "name": "x", "quarterly_price_paise": -1}),
    (RatePlan, {"product": "tokens", "code": "neg", "name": "x", "annual_price_paise": -1}),
    (RatePlan, {"product": "tokens", "code": "neg", "name": "x", "setup_fee_paise": -1}),
    (RatePlan, {"product": "tokens", "code": "neg", "name": "x", "gst_rate": Decimal("100.01")}),
    (RatePlan, {"product": "tokens", "code": "neg", "name": "x", "duration_days": 0}),
    (RatePlan, {"product": "tokens", "code": "", "name": "x"}),
    (RatePlan, {"product": "tokens", "code": "basic", "name": "duplicate"}),
    (CreditPackage, {"name": "free", "price_paise": 0, "credits": 10}),
    (CreditPackage, {"name": "empty", "price_paise": 100, "credits": 0}),
    (CreditPackage, {"name": "", "price_paise": 100, "credits": 1}),
])
def test_database_constraints(model, values):
    with pytest.raises(IntegrityError), transaction.atomic():
        model.objects.create(**values)


def test_add_on_constraints():
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    for values in ({"code": "x", "payg_price_paise": -1}, {"code": "x", "one_time_price_paise": -1},
                   {"code": ""}, {"code": "extraExtension"}):
        with pytest.raises(IntegrityError), transaction.atomic():
            AddOn.objects.create(plan=plan, **values)
