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
    plan = selectors.token_plan_get("standard")
    assert (plan.product, plan.code, plan.token_allowance) == ("tokens", "standard", 10_000)
    assert selectors.token_plan_get("STARTER") is None  # a telephony code
    for bad in ("", None, 5, "nope", "stan\x00dard", "x" * 500):
        assert selectors.token_plan_get(bad) is None
    RatePlan.objects.filter(product="tokens", code="premium").update(is_active=False)
    assert selectors.token_plan_get("premium") is None


def test_credit_package_get():
    premium = CreditPackage.objects.get(name="Premium Pack")
    assert selectors.credit_package_get(premium.pk) == premium
    assert selectors.credit_package_get(str(premium.pk)) == premium
    for bad in ("uuid", "", None, True, -1, 0, 10**30, str(10**30), "1.0", [premium.pk]):
        assert selectors.credit_package_get(bad) is None
    retired = CreditPackageFactory(is_active=False)
    assert selectors.credit_package_get(retired.pk) is None


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
    ({"monthly_price_paise": -1}, "monthly_price_paise"),
    ({"monthly_price_paise": 1.5}, "monthly_price_paise"),
    ({"monthly_price_paise": True}, "monthly_price_paise"),
    ({"gst_rate": "18.001"}, "gst_rate"),
    ({"gst_rate": "NaN"}, "gst_rate"),
    ({"gst_rate": 18.0}, "gst_rate"),
    ({"duration_days": 0}, "duration_days"),
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
    ({"price_paise": 0}, "price_paise"), ({"credits": 0}, "credits"), ({"credits": "10"}, "credits"),
    ({"name": ""}, "name"), ({"currency": "EUR"}, "currency"), ({"id": 3}, "id"),
])
def test_credit_package_create_refuses_bad_values(kwargs, field):
    values = {"name": "Bad Pack", "price_paise": 100, "credits": 1, **kwargs}
    with pytest.raises(InvalidInput) as info:
        services.credit_package_create(**values)
    assert field in info.value.fields


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
