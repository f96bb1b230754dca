"""The catalog admin shows rupees and makes every change through plans.services."""

import pytest
from django.db import models

from plans import services
from plans.models import CreditPackage, RatePlan
from plans.tests.factories import AddOnFactory, RatePlanFactory

pytestmark = pytest.mark.django_db

PLAN_URL = "/admin/plans/rateplan/"
PACKAGE_URL = "/admin/plans/creditpackage/"


@pytest.fixture
def calls(monkeypatch):
    """Record the plans services the admin calls (they still run)."""
    seen = []
    for name in ("rate_plan_create", "rate_plan_update", "rate_plan_addons_set", "rate_plan_delete",
                 "rate_plan_deactivate", "credit_package_create", "credit_package_update",
                 "credit_package_delete"):
        original = getattr(services, name)

        def spy(*args, _original=original, _name=name, **kwargs):
            seen.append(_name)
            return _original(*args, **kwargs)

        monkeypatch.setattr(services, name, spy)
    return seen


def _plan_form(**overrides):
    data = {
        "product": "telephony", "code": "ADMINPLAN", "name": "Admin Plan", "description": "",
        "tier": "5", "sort_order": "7", "is_public": "on", "is_active": "on",
        "monthly_price": "499.50", "quarterly_price": "", "annual_price": "4999", "setup_fee": "",
        "gst_rate": "18", "token_allowance": "0", "duration_days": "", "limit_extensions": "4",
        "features_text": "Four extensions",
        "addons-TOTAL_FORMS": "1", "addons-INITIAL_FORMS": "0", "addons-MIN_NUM_FORMS": "0",
        "addons-MAX_NUM_FORMS": "1000",
        "addons-0-code": "extraExtension", "addons-0-description": "Extra Extensions",
        "addons-0-payg_price": "1.50", "addons-0-one_time_price": "99",
    }
    data.update(overrides)
    return data


def test_changelist_shows_rupees_and_filters(admin_client):
    response = admin_client.get(PLAN_URL, {"product__exact": "telephony", "is_active__exact": "1",
                                           "is_public__exact": "1", "q": "Starter"})
    assert response.status_code == 200
    content = response.content.decode()
    assert "349.00" in content and "3349.00" in content
    assert "CALL_CENTER" not in content


def test_change_form_shows_rupees(admin_client):
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    response = admin_client.get(f"{PLAN_URL}{plan.pk}/change/")
    assert response.status_code == 200
    content = response.content.decode()
    assert 'value="349.00"' in content and 'value="199.00"' in content


def test_add_plan_with_add_on_goes_through_services(admin_client, calls):
    response = admin_client.post(f"{PLAN_URL}add/", _plan_form())
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = RatePlan.objects.get(product="telephony", code="ADMINPLAN")
    assert (plan.monthly_price_paise, plan.quarterly_price_paise, plan.annual_price_paise,
            plan.setup_fee_paise) == (49_950, None, 499_900, 0)
    assert plan.limits == {"extensions": 4} and plan.tier == 5
    assert list(plan.addons.values_list("code", "payg_price_paise", "one_time_price_paise")) == [
        ("extraExtension", 150, 9_900)]
    assert calls == ["rate_plan_create", "rate_plan_addons_set"]


def test_change_plan_and_remove_add_on(admin_client, calls):
    plan = RatePlanFactory(code="EDITME")
    keep = AddOnFactory(plan=plan, code="keep", one_time_price_paise=100)
    drop = AddOnFactory(plan=plan, code="drop")
    data = _plan_form(**{
        "code": "EDITME", "monthly_price": "10.01",
        "addons-TOTAL_FORMS": "2", "addons-INITIAL_FORMS": "2",
        "addons-0-id": str(keep.pk), "addons-0-plan": str(plan.pk), "addons-0-code": "keep",
        "addons-0-description": "", "addons-0-payg_price": "0", "addons-0-one_time_price": "2.50",
        "addons-1-id": str(drop.pk), "addons-1-plan": str(plan.pk), "addons-1-code": "drop",
        "addons-1-description": "", "addons-1-payg_price": "1", "addons-1-one_time_price": "1",
        "addons-1-DELETE": "on",
    })
    data.pop("product")  # read-only once the plan exists
    response = admin_client.post(f"{PLAN_URL}{plan.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan.refresh_from_db()
    assert plan.monthly_price_paise == 1_001
    assert list(plan.addons.values_list("code", "one_time_price_paise")) == [("keep", 250)]
    assert calls == ["rate_plan_update", "rate_plan_addons_set"]


def test_change_form_refuses_duplicate_code_in_product(admin_client, calls):
    plan = RatePlanFactory(code="MINE")
    data = _plan_form(code="STARTER", **{"addons-TOTAL_FORMS": "0"})
    data.pop("product")
    response = admin_client.post(f"{PLAN_URL}{plan.pk}/change/", data)
    assert response.status_code == 200  # the form again, with an error
    assert "plan with this code exists" in response.content.decode()
    assert calls == []


def test_add_form_refuses_bad_limits(admin_client, calls):
    response = admin_client.post(f"{PLAN_URL}add/", _plan_form(limit_extensions="four"))
    assert response.status_code == 200
    assert not RatePlan.objects.filter(code="ADMINPLAN").exists()
    assert calls == []


@pytest.mark.parametrize("change, field", [
    ({"tier": str(10**6 + 1)}, "tier"), ({"code": "has space"}, "code"),
    ({"features_text": "x" * 301}, "features_text"), ({"features_text": "a\u0000b"}, "features_text"),
    ({"limit_extensions": "-1"}, "limit_extensions"), ({"price_per_minute": "-1"}, "price_per_minute"),
    ({"quarterly_price": "2000"}, "quarterly_price"), ({"addons-0-code": "x" * 51}, "code"),
])
def test_add_form_shows_the_models_rules(admin_client, calls, change, field):
    """The same rules as the API: the model's, shown on the form before any service is called."""
    response = admin_client.post(f"{PLAN_URL}add/", _plan_form(**change))
    assert response.status_code == 200
    form = response.context["adminform"].form
    errors = form.errors or response.context["inline_admin_formsets"][0].formset.errors[0]
    assert field in errors, errors
    assert not RatePlan.objects.filter(product="telephony", code__in=["ADMINPLAN", "has space"]).exists()
    assert calls == []


def test_admin_delete_of_referenced_plan_deactivates(admin_client, calls, reference_model_for):
    model = reference_model_for("plans.RatePlan", on_delete=models.CASCADE)
    plan = RatePlanFactory()
    model.objects.create(ref=plan)
    response = admin_client.post(f"{PLAN_URL}{plan.pk}/delete/", {"post": "yes"})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.is_active is False
    assert model.objects.filter(ref=plan).exists()
    assert calls == ["rate_plan_delete"]


def test_admin_deactivate_action(admin_client, calls):
    plan = RatePlanFactory()
    response = admin_client.post(PLAN_URL, {"action": "deactivate", "_selected_action": [plan.pk]})
    assert response.status_code == 302
    plan.refresh_from_db()
    assert plan.is_active is False and calls[0] == "rate_plan_deactivate"


def test_credit_package_admin(admin_client, calls):
    assert "450.00" in admin_client.get(PACKAGE_URL).content.decode()
    response = admin_client.post(f"{PACKAGE_URL}add/", {"name": "Odd Pack", "credits": "50", "price": "49.99",
                                                        "is_active": "on", "sort_order": "9"})
    assert response.status_code == 302, response.content.decode()[:3000]
    package = CreditPackage.objects.get(name="Odd Pack")
    assert (package.price_paise, package.credits) == (4_999, 50)
    response = admin_client.post(f"{PACKAGE_URL}{package.pk}/change/",
                                 {"name": "Odd Pack", "credits": "60", "price": "59", "sort_order": "9"})
    assert response.status_code == 302
    package.refresh_from_db()
    assert (package.price_paise, package.credits, package.is_active) == (5_900, 60, False)
    response = admin_client.post(f"{PACKAGE_URL}add/", {"name": "Free", "credits": "5", "price": "0",
                                                        "sort_order": "0"})
    assert response.status_code == 200 and not CreditPackage.objects.filter(name="Free").exists()
    assert calls == ["credit_package_create", "credit_package_update"]


def test_admin_cannot_deactivate_or_delete_the_basic_token_plan(admin_client):
    from django.urls import reverse

    from plans.models import RatePlan

    basic = RatePlan.objects.get(product="tokens", code="basic")
    url = reverse("admin:plans_rateplan_changelist")
    response = admin_client.post(url, {"action": "deactivate", "_selected_action": [basic.pk]}, follow=True)
    assert response.status_code == 200
    assert "fallback plan" in response.content.decode()
    response = admin_client.post(reverse("admin:plans_rateplan_delete", args=[basic.pk]), {"post": "yes"},
                                 follow=True)
    assert response.status_code == 200
    basic.refresh_from_db()
    assert basic.is_active


# --- typed limits and derived figures (issue 10, item 8) ---------------------------------------------

def test_limits_and_features_are_typed_fields_and_the_rupee_price_per_minute_is_derived(admin_client, calls):
    response = admin_client.post(f"{PLAN_URL}add/", _plan_form(
        price_per_minute="1.99", limit_included_minutes="100", features_text="One\n\n  Two  \n"))
    assert response.status_code == 302, response.content.decode()[:3000]
    plan = RatePlan.objects.get(product="telephony", code="ADMINPLAN")
    assert plan.limits == {"extensions": 4, "includedMinutes": 100, "pricePerMinutePaise": 199,
                           "pricePerMinute": 1.99}
    assert plan.features == ["One", "Two"]
    page = admin_client.get(f"{PLAN_URL}{plan.pk}/change/").content.decode()
    assert 'name="price_per_minute"' in page and 'value="1.99"' in page and 'name="limits"' not in page


def test_changing_the_price_per_minute_moves_its_rupee_copy_and_keeps_other_keys(admin_client):
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    plan.limits = {**plan.limits, "customKey": 7}
    RatePlan.objects.filter(pk=plan.pk).update(limits=plan.limits)
    data = _plan_form(code="STARTER", name=plan.name, monthly_price="349", quarterly_price="",
                      annual_price="3349", price_per_minute="2.05", limit_toll_free_numbers="1",
                      limit_included_minutes="100", limit_extensions="2",
                      **{"addons-TOTAL_FORMS": "0"})
    data.pop("product")
    response = admin_client.post(f"{PLAN_URL}{plan.pk}/change/", data)
    assert response.status_code == 302, response.content.decode()[:3000]
    plan.refresh_from_db()
    assert plan.limits == {"tollFreeNumbers": 1, "includedMinutes": 100, "extensions": 2,
                           "pricePerMinutePaise": 205, "pricePerMinute": 2.05, "customKey": 7}


def test_a_quarterly_price_of_three_months_is_shown_empty_so_it_follows_the_monthly_price(admin_client):
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    assert plan.quarterly_price_paise == 3 * plan.monthly_price_paise
    page = admin_client.get(f"{PLAN_URL}{plan.pk}/change/").content.decode()
    assert 'name="quarterly_price" value' not in page  # shown empty: it is 3 × monthly
    data = _plan_form(code="STARTER", name=plan.name, monthly_price="400", quarterly_price="",
                      annual_price="3349", **{"addons-TOTAL_FORMS": "0"})
    data.pop("product")
    assert admin_client.post(f"{PLAN_URL}{plan.pk}/change/", data).status_code == 302
    plan.refresh_from_db()
    assert (plan.monthly_price_paise, plan.quarterly_price_paise) == (40_000, None)  # 3 × monthly
