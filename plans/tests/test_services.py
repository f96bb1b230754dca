"""Services and the selectors other apps call."""

from decimal import Decimal

import pytest
from django.db import connection, models
from django.test.utils import CaptureQueriesContext

from config.errors import Conflict, InvalidInput, NotFound
from plans import selectors, services
from plans.models import AddOn, CreditPackage, RatePlan
from plans.tests.factories import AddOnFactory, CreditPackageFactory, RatePlanFactory

pytestmark = pytest.mark.django_db


# Selectors for other apps -----------------------------------------------------------------

def test_token_plan_get():
    plan = selectors.token_plan_get(code="standard")
    assert (plan.product, plan.code, plan.token_allowance) == ("tokens", "standard", 10_000)
    for bad in ("STARTER", "", None, 5, "nope", "stan\x00dard", "x" * 500):  # STARTER: a telephony code
        with pytest.raises(selectors.UnknownTokenPlan) as info:
            selectors.token_plan_get(code=bad)
        assert (info.value.status_code, info.value.message, info.value.code) == (400, "invalid plan",
                                                                                 "invalid_plan")
        assert info.value.fields == {"plan": ["Unknown plan."]}
    RatePlan.objects.filter(product="tokens", code="premium").update(is_active=False)
    with pytest.raises(selectors.UnknownTokenPlan):
        selectors.token_plan_get(code="premium")
    # The plan a user is on may have been withdrawn from sale since.
    assert selectors.token_plan_get(code="premium", include_inactive=True).code == "premium"


def test_token_basic_plan_even_when_inactive():
    RatePlan.objects.filter(product="tokens", code="basic").update(is_active=False)
    basic = selectors.token_basic_plan()
    assert (basic.product, basic.code, basic.is_active) == ("tokens", "basic", False)
    assert list(selectors.token_plans_active().values_list("code", flat=True)) == ["standard", "premium"]


def test_credit_package_get():
    premium = CreditPackage.objects.get(name="Premium Pack")
    assert selectors.credit_package_get(package_id=premium.pk) == premium
    assert selectors.credit_package_get(package_id=str(premium.pk)) == premium
    retired = CreditPackageFactory(is_active=False)
    for bad in ("uuid", "", None, True, -1, 0, 10**30, str(10**30), "1.0", [premium.pk], retired.pk):
        with pytest.raises(selectors.UnknownCreditPackage) as info:
            selectors.credit_package_get(package_id=bad)
        assert (info.value.status_code, info.value.code) == (400, "invalid_package")
        assert info.value.fields == {"package_id": ["Unknown package."]}


def test_price_quote_get_for_other_apps():
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    with CaptureQueriesContext(connection) as queries:
        result = selectors.price_quote_get(plan_id=plan.pk, billing_cycle="quarterly",
                                           addons={"extraTollFreeNumbers": 2, "extraExtensions": 5})
    assert len(queries) == 2  # plan + its add-ons
    assert result.plan == plan and result.amount_paise == 123_546
    data = result.as_response()
    assert data["pricing"]["total"] == Decimal("1235.46") and data["amount"] == 123_546
    with pytest.raises(NotFound):
        selectors.price_quote_get(plan_id=10**30, billing_cycle="monthly")
    with pytest.raises(InvalidInput) as info:
        selectors.price_quote_get(plan_id=plan.pk, billing_cycle="fortnightly")
    assert info.value.code == "invalid_billing_cycle"


# Rate plan writes --------------------------------------------------------------------------

def test_rate_plan_create_with_add_ons():
    plan = services.rate_plan_create(
        product="platform", code="SCHOOL", name="School", monthly_price_paise=50_000, gst_rate="18",
        limits={"libraries": 3}, addons=[{"code": "extraLibrary", "payg_price_paise": 10_000}],
    )
    assert plan.pk and plan.gst_rate == Decimal("18")
    assert list(plan.addons.values_list("code", "payg_price_paise", "one_time_price_paise")) == [
        ("extraLibrary", 10_000, 0)]


@pytest.mark.parametrize("kwargs, field", [
    ({"product": "hardware"}, "product"),
    ({"code": "  "}, "code"),
    ({"code": "has space"}, "code"),
    ({"code": "x" * 51}, "code"),
    ({"name": "x" * 121}, "name"),
    ({"name": "a\x00b"}, "name"),
    ({"description": "x" * 5_001}, "description"),
    ({"monthly_price_paise": -1}, "monthly_price_paise"),
    ({"annual_price_paise": 10**14 + 1}, "annual_price_paise"),
    ({"gst_rate": "18.001"}, "gst_rate"),
    ({"gst_rate": "NaN"}, "gst_rate"),
    ({"gst_rate": "100.01"}, "gst_rate"),
    ({"duration_days": 0}, "duration_days"),
    ({"tier": 10**6 + 1}, "tier"),
    ({"sort_order": -(10**6) - 1}, "sort_order"),
    ({"token_allowance": -1}, "token_allowance"),
    ({"limits": {"note": "a\x00b"}}, "limits"),
    ({"features": ["x" * 301]}, "features"),
    ({"features": ["f"] * 101}, "features"),
    ({"limits": []}, "limits"),
    ({"features": {}}, "features"),
    ({"currency": "USD"}, "currency"),
    ({"is_active": "yes"}, "is_active"),
    ({"created_at": None}, "created_at"),
    ({"addons": [{"code": "a"}, {"code": "a"}]}, "addons"),
    ({"addons": [{"description": "no code"}]}, "addons"),
    ({"addons": [{"code": "a", "payg_price_paise": -5}]}, "addons"),
    ({"addons": [{"code": "a", "colour": "red"}]}, "addons"),
    ({"addons": {"code": "a"}}, "addons"),
    ({"addons": [{"code": "x" * 51}]}, "addons"),
    ({"addons": [{"code": "a", "description": "d" * 201}]}, "addons"),
])
def test_rate_plan_create_refuses_bad_values(kwargs, field):
    values = {"product": "telephony", "code": "BAD", "name": "Bad", "monthly_price_paise": 100, **kwargs}
    with pytest.raises(InvalidInput) as info:
        services.rate_plan_create(**values)
    assert field in info.value.fields
    assert not RatePlan.objects.filter(code="BAD").exists()


def test_rate_plan_create_duplicate_code_conflicts():
    with pytest.raises(Conflict) as info:
        services.rate_plan_create(product="tokens", code="basic", name="Again", monthly_price_paise=0)
    assert info.value.code == "code_taken"


def test_rate_plan_update_and_add_ons_set():
    plan = RatePlanFactory()
    AddOnFactory(plan=plan, code="keep", payg_price_paise=1)
    AddOnFactory(plan=plan, code="drop")
    plan = services.rate_plan_update(plan=plan, name="Renamed", monthly_price_paise=60_000,
                                     addons=[{"code": "keep", "payg_price_paise": 7},
                                             {"code": "new", "one_time_price_paise": 500}])
    plan.refresh_from_db()
    assert (plan.name, plan.monthly_price_paise) == ("Renamed", 60_000)
    assert sorted(plan.addons.values_list("code", "payg_price_paise", "one_time_price_paise")) == [
        ("keep", 7, 0), ("new", 0, 500)]


def test_rate_plan_update_refuses_product_change():
    plan = RatePlanFactory(product="telephony")
    with pytest.raises(InvalidInput) as info:
        services.rate_plan_update(plan=plan, product="tokens")
    assert info.value.code == "product_immutable"


def test_rate_plan_activate_deactivate():
    plan = RatePlanFactory()
    assert services.rate_plan_deactivate(plan=plan).is_active is False
    assert services.rate_plan_activate(plan=plan).is_active is True


def test_rate_plan_delete_unreferenced_removes_plan_and_add_ons():
    plan = RatePlanFactory()
    AddOnFactory(plan=plan)
    assert services.rate_plan_delete(plan=plan) is True
    assert not RatePlan.objects.filter(pk=plan.pk).exists()
    assert not AddOn.objects.filter(plan_id=plan.pk).exists()


@pytest.mark.parametrize("on_delete", [models.PROTECT, models.RESTRICT, models.CASCADE, models.SET_NULL,
                                       models.DO_NOTHING])
def test_rate_plan_delete_referenced_deactivates_whatever_the_on_delete(reference_model_for, on_delete):
    model = reference_model_for("plans.RatePlan", on_delete=on_delete)
    plan = RatePlanFactory()
    reference = model.objects.create(ref=plan)
    assert services.rate_plan_delete(plan=plan) is False
    plan.refresh_from_db()
    assert plan.is_active is False
    reference.refresh_from_db()
    assert reference.ref_id == plan.pk  # history still points at the plan


def test_rate_plan_delete_with_reference_to_another_plan_still_deletes(reference_model_for):
    model = reference_model_for("plans.RatePlan")
    other, plan = RatePlanFactory(), RatePlanFactory()
    model.objects.create(ref=other)
    assert services.rate_plan_delete(plan=plan) is True
    assert services.rate_plan_delete(plan=other) is False


# Credit packages ---------------------------------------------------------------------------

def test_credit_package_create_update_deactivate():
    package = services.credit_package_create(name=" Mega Pack ", price_paise=90_000, credits=1_000)
    assert package.name == "Mega Pack" and package.is_active
    package = services.credit_package_update(package=package, price_paise=85_000)
    assert CreditPackage.objects.get(pk=package.pk).price_paise == 85_000
    assert services.credit_package_deactivate(package=package).is_active is False


@pytest.mark.parametrize("kwargs, field", [
    ({"price_paise": 0}, "price_paise"), ({"credits": 0}, "credits"), ({"credits": 10**15 + 1}, "credits"),
    ({"name": ""}, "name"), ({"name": "  "}, "name"), ({"name": "x" * 121}, "name"),
    ({"currency": "EUR"}, "currency"), ({"sort_order": 10**6 + 1}, "sort_order"), ({"id": 3}, "id"),
])
def test_credit_package_create_refuses_bad_values(kwargs, field):
    values = {"name": "Bad Pack", "price_paise": 100, "credits": 1, **kwargs}
    with pytest.raises(InvalidInput) as info:
        services.credit_package_create(**values)
    assert info.value.status_code == 400 and field in info.value.fields
    assert not CreditPackage.objects.filter(price_paise=100, credits=1).exists()


def test_package_and_plan_names_are_refused_alike_never_cut():
    """Both names hold at most 120 characters: one more is a field error, for packages as for plans."""
    name = "N" * 121
    with pytest.raises(InvalidInput) as plan_error:
        services.rate_plan_create(product="telephony", code="LONG", name=name, monthly_price_paise=100)
    with pytest.raises(InvalidInput) as package_error:
        services.credit_package_create(name=name, price_paise=100, credits=1)
    package = CreditPackageFactory(name="Short")
    with pytest.raises(InvalidInput) as update_error:
        services.credit_package_update(package=package, name=name)
    for error in (plan_error, package_error, update_error):
        assert list(error.value.fields) == ["name"]
        assert "120" in error.value.fields["name"][0]
    package.refresh_from_db()
    assert package.name == "Short"
    assert not CreditPackage.objects.filter(name__startswith="NNN").exists()
    assert services.credit_package_create(name="N" * 120, price_paise=100, credits=1).name == "N" * 120


def test_credit_package_delete(reference_model_for):
    unused, used = CreditPackageFactory(), CreditPackageFactory()
    reference_model_for("plans.CreditPackage").objects.create(ref=used)
    assert services.credit_package_delete(package=unused) is True
    assert not CreditPackage.objects.filter(pk=unused.pk).exists()
    assert services.credit_package_delete(package=used) is False
    used.refresh_from_db()
    assert used.is_active is False


def test_update_and_delete_of_a_plan_deleted_meanwhile_is_not_found(db):
    """A PUT or DELETE that loaded the plan just before another request deleted it gets 404."""
    from config.errors import NotFound
    from plans.models import RatePlan
    from plans.services import rate_plan_create, rate_plan_delete, rate_plan_update

    plan = rate_plan_create(product="telephony", code="GONE", name="Gone", monthly_price_paise=100)
    stale = RatePlan.objects.get(pk=plan.pk)
    RatePlan.objects.filter(pk=plan.pk).delete()
    with pytest.raises(NotFound):
        rate_plan_update(plan=stale, name="Still here?")
    with pytest.raises(NotFound):
        rate_plan_delete(plan=stale)


@pytest.mark.parametrize("change", [{"is_active": False}, {"code": "free"}, {"delete": True}])
def test_the_basic_token_plan_cannot_be_removed(db, change):
    """Every token user falls back to basic; staff cannot delete, deactivate or rename it."""
    from config.errors import InvalidInput
    from plans.models import RatePlan
    from plans.services import rate_plan_delete, rate_plan_update

    basic = RatePlan.objects.get(product="tokens", code="basic")
    with pytest.raises(InvalidInput) as raised:
        if change.get("delete"):
            rate_plan_delete(plan=basic)
        else:
            rate_plan_update(plan=basic, **change)
    assert raised.value.code == "plan_protected"
    basic.refresh_from_db()
    assert basic.is_active and basic.code == "basic"
    # Other changes to it (its price list, its features) are still allowed.
    assert rate_plan_update(plan=basic, name="Basic (free)").name == "Basic (free)"


def test_deleting_basic_through_the_api_is_refused(staff_client):
    from plans.models import RatePlan

    basic = RatePlan.objects.get(product="tokens", code="basic")
    response = staff_client.delete(f"/api/rate-plans/{basic.pk}")
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "plan_protected"
    assert RatePlan.objects.filter(pk=basic.pk, is_active=True).exists()
