"""Seed 002's rate-plan endpoints and the credit-package list, against the migrated catalog."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.models import RatePlan
from plans.tests.factories import AddOnFactory, CreditPackageFactory, RatePlanFactory

pytestmark = pytest.mark.django_db

PUBLIC = "/api/rate-plans/public"
CALCULATE = "/api/rate-plans/calculate-price"
PLANS = "/api/rate-plans"


def starter():
    return RatePlan.objects.get(product="telephony", code="STARTER")


def _error(response, status, code, field=None):
    assert response.status_code == status, response.content
    body = response.json()
    assert body["success"] is False
    assert body["error"]["code"] == code, body
    assert body["error"]["message"]
    if field:
        assert field in body["error"]["fields"], body
    return body


# GET /api/rate-plans/public --------------------------------------------------------------

def test_public_plans_seed_002_shape(api_client):
    response = api_client.get(PUBLIC, {"product": "telephony"})
    assert response.status_code == 200
    body = response.json()
    assert body["success"] is True
    assert [p["plan_code"] for p in body["data"]] == ["STARTER", "PROFESSIONAL", "CALL_CENTER"]
    plan = body["data"][0]
    assert plan["id"] == starter().pk
    assert {k: plan[k] for k in ("plan_code", "planName", "monthlyPrice", "annualPrice", "currency",
                                 "billingCycle")} == {
        "plan_code": "STARTER", "planName": "Starter Plan", "monthlyPrice": 349, "annualPrice": 3349,
        "currency": "INR", "billingCycle": "monthly"}
    assert {k: plan["limits"][k] for k in ("tollFreeNumbers", "includedMinutes", "extensions",
                                           "pricePerMinute")} == {
        "tollFreeNumbers": 1, "includedMinutes": 100, "extensions": 2, "pricePerMinute": 1.99}
    assert isinstance(plan["features"], list) and plan["features"]
    add_ons = plan["metadata"]["addOns"]
    assert {code: (v["payg"], v["oneTime"]) for code, v in add_ons.items()} == {
        "extraTollFreeNumber": (1, 199), "extraExtension": (1, 99)}
    assert plan["quarterlyPrice"] == 1047
    assert body["data"][1]["annualPrice"] == 9590 and body["data"][2]["monthlyPrice"] == 4999


def test_public_plans_default_to_seed_002_catalog(api_client, settings):
    """Without ?product= seed 002's page sees exactly its three plans (DEFAULT_PLAN_PRODUCT)."""
    RatePlanFactory(code="HIDDEN", is_public=False)
    RatePlanFactory(code="RETIRED", is_active=False)
    data = api_client.get(PUBLIC).json()["data"]
    assert [(p["product"], p["plan_code"]) for p in data] == [
        ("telephony", "STARTER"), ("telephony", "PROFESSIONAL"), ("telephony", "CALL_CENTER")]
    assert data[0]["monthlyPrice"] == 349
    settings.DEFAULT_PLAN_PRODUCT = "platform"
    assert [p["plan_code"] for p in api_client.get(PUBLIC).json()["data"]] == [
        "FREE", "STARTER", "PROFESSIONAL", "ENTERPRISE"]


def test_public_plans_of_another_product_hide_inactive_and_private(api_client):
    RatePlanFactory(product="tokens", code="HIDDEN", is_public=False)
    RatePlanFactory(product="tokens", code="RETIRED", is_active=False)
    data = api_client.get(PUBLIC, {"product": "tokens"}).json()["data"]
    assert [p["plan_code"] for p in data] == ["basic", "standard", "premium"]
    token = next(p for p in data if p["plan_code"] == "standard")
    assert token["monthlyPrice"] == 29 and token["tokenAllowance"] == 10_000 and token["durationDays"] == 30
    assert token["annualPrice"] is None and token["metadata"] == {"addOns": {}}


def test_public_plans_ignore_credentials(api_client):
    api_client.credentials(HTTP_AUTHORIZATION="Bearer not-a-token")
    assert api_client.get(PUBLIC).status_code == 200


@pytest.mark.parametrize("product", ["bogus", "TELEPHONY", "x" * 500])
def test_public_plans_unknown_product(api_client, product):
    _error(api_client.get(PUBLIC, {"product": product}), 400, "invalid_product", "product")


def _public_query_count(api_client) -> int:
    with CaptureQueriesContext(connection) as queries:
        response = api_client.get(PUBLIC, {"product": "telephony"})
    assert response.status_code == 200
    return len(response.json()["data"]), len(queries)


def test_public_list_query_count_does_not_grow_with_plans(api_client):
    count, queries_3 = _public_query_count(api_client)
    assert count == 3
    for _ in range(27):
        plan = RatePlanFactory()
        AddOnFactory(plan=plan)
        AddOnFactory(plan=plan)
    count, queries_30 = _public_query_count(api_client)
    assert count == 30
    assert queries_30 == queries_3 <= 2


# POST /api/rate-plans/calculate-price ----------------------------------------------------

SEED_BODY = {"billingCycle": "quarterly", "addons": {"extraTollFreeNumbers": 2, "extraExtensions": 5}}


def test_calculate_price_seed_002_worked_example(api_client):
    plan = starter()
    response = api_client.post(CALCULATE, {"planId": plan.pk, **SEED_BODY}, format="json")
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    data = body["data"]
    assert data["plan"] == {"id": plan.pk, "name": "Starter Plan", "code": "STARTER", "product": "telephony"}
    assert data["billingCycle"] == "quarterly"
    assert {k: data["pricing"][k] for k in ("basePrice", "setupFee", "subtotal", "gst", "total")} == {
        "basePrice": 1047, "setupFee": 0, "subtotal": 1047, "gst": 188.46, "total": 1235.46}
    assert data["addons"] == [
        {"type": "extraTollFreeNumbers", "quantity": 2, "unitPrice": 1, "total": 2,
         "description": "Extra Toll-Free Numbers (PAYG)"},
        {"type": "extraExtensions", "quantity": 5, "unitPrice": 1, "total": 5,
         "description": "Extra Extensions (PAYG)"},
    ]
    assert data["amount"] == 123546
    assert data["currency"] == "INR"
    assert data["limits"]["tollFreeNumbers"] == 1 and data["features"] == plan.features
    # Rupees are JSON numbers written exactly, never strings or float noise.
    assert b'"gst":188.46' in response.content and b'"total":1235.46' in response.content


@pytest.mark.parametrize("cycle, addons, subtotal, gst, total, amount", [
    ("monthly", {}, 349, 62.82, 411.82, 41182),
    ("monthly", {"extraTollFreeNumbers": 2, "extraExtensions": 5}, 1242, 223.56, 1465.56, 146556),
    ("annual", {"extraExtensions": 3}, 3349, 602.82, 3951.82, 395182),
])
def test_calculate_price_cycles(api_client, cycle, addons, subtotal, gst, total, amount):
    body = {"planId": starter().pk, "billingCycle": cycle, "addons": addons}
    data = api_client.post(CALCULATE, body, format="json").json()["data"]
    assert (data["pricing"]["subtotal"], data["pricing"]["gst"], data["pricing"]["total"], data["amount"]) == (
        subtotal, gst, total, amount)


def test_calculate_price_defaults_to_monthly_without_add_ons(api_client):
    data = api_client.post(CALCULATE, {"planId": starter().pk}, format="json").json()["data"]
    assert data["billingCycle"] == "monthly" and data["addons"] == [] and data["amount"] == 41182


def test_calculate_price_private_but_active_plan(api_client):
    plan = RatePlanFactory(is_public=False, monthly_price_paise=10_000, setup_fee_paise=2_500)
    data = api_client.post(CALCULATE, {"planId": plan.pk}, format="json").json()["data"]
    assert data["pricing"]["setupFee"] == 25 and data["pricing"]["total"] == 147.5


def test_calculate_price_token_plan_is_tax_inclusive(api_client):
    plan = RatePlan.objects.get(product="tokens", code="premium")
    data = api_client.post(CALCULATE, {"planId": plan.pk}, format="json").json()["data"]
    assert data["pricing"]["gst"] == 0 and data["pricing"]["total"] == 99 and data["amount"] == 9900


def _post_raw(client, body: str, content_type="application/json"):
    return client.post(CALCULATE, data=body, content_type=content_type)


@pytest.mark.parametrize("body, code, field", [
    ({}, "invalid_plan_id", "planId"),
    ({"billingCycle": "monthly"}, "invalid_plan_id", "planId"),
    ({"planId": None}, "invalid_plan_id", "planId"),
    ({"planId": "PLAN"}, "invalid_plan_id", "planId"),
    ({"planId": 1.5}, "invalid_plan_id", "planId"),
    ({"planId": True}, "invalid_plan_id", "planId"),
    ({"planId": [1]}, "invalid_plan_id", "planId"),
    ({"planId": {"id": 1}}, "invalid_plan_id", "planId"),
    ({"planId": 0}, "invalid_plan_id", "planId"),
    ({"planId": -4}, "invalid_plan_id", "planId"),
    ({"planId": 10**30}, "invalid_plan_id", "planId"),
    ({"billingCycle": "weekly"}, "invalid_billing_cycle", "billingCycle"),
    ({"billingCycle": "Quarterly"}, "invalid_billing_cycle", "billingCycle"),
    ({"billingCycle": 3}, "invalid_billing_cycle", "billingCycle"),
    ({"billingCycle": None}, "invalid_billing_cycle", "billingCycle"),
    ({"billingCycle": ["monthly"]}, "invalid_billing_cycle", "billingCycle"),
    ({"addons": ["extraTollFreeNumbers"]}, "invalid_addons", "addons"),
    ({"addons": "extraTollFreeNumbers"}, "invalid_addons", "addons"),
    ({"addons": None}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": -1}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": 1.5}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": "2"}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": True}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": None}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": {"qty": 1}}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": 10_001}}, "invalid_addons", "addons"),
    ({"addons": {"extraTollFreeNumbers": 10**40}}, "invalid_addons", "addons"),
    ({"addons": {f"k{i}": 1 for i in range(21)}}, "invalid_addons", "addons"),
    ({"addons": {"x" * 51: 1}}, "invalid_addons", "addons"),
    ({"addons": {"extraMinutes": 1}}, "unknown_addon", "addons"),
    ({"addons": {"extraTollFreeNumber": 1, "extraTollFreeNumbers": 1}}, "duplicate_addon", "addons"),
    ({"coupon": "FREE"}, "unknown_field", "coupon"),
])
def test_calculate_price_bad_input(api_client, body, code, field):
    body = {"planId": starter().pk, **body} if "planId" not in body and code != "invalid_plan_id" else body
    _error(api_client.post(CALCULATE, body, format="json"), 400, code, field)


@pytest.mark.parametrize("raw", ["[1, 2]", '"planId"', "42", "null", "true"])
def test_calculate_price_body_not_an_object(api_client, raw):
    _error(_post_raw(api_client, raw), 400, "invalid_body", "non_field_errors")


@pytest.mark.parametrize("raw", ["{", '{"planId": 1,}', "planId=1", "\x00\xff", '{"planId": NaN}'])
def test_calculate_price_malformed_json(api_client, raw):
    response = _post_raw(api_client, raw)
    assert response.status_code == 400
    assert response.json()["success"] is False


def test_calculate_price_form_encoded_body_is_refused(api_client):
    response = api_client.post(CALCULATE, {"planId": "1"})  # multipart
    _error(response, 415, "unsupported_media_type")


def test_calculate_price_empty_body(api_client):
    _error(_post_raw(api_client, ""), 400, "invalid_plan_id", "planId")


def test_calculate_price_unknown_plan(api_client):
    _error(api_client.post(CALCULATE, {"planId": 987654321}, format="json"), 404, "plan_not_found")


def test_calculate_price_inactive_plan(api_client):
    plan = RatePlanFactory(is_active=False)
    _error(api_client.post(CALCULATE, {"planId": plan.pk}, format="json"), 404, "plan_not_found")


def test_calculate_price_annual_needs_an_annual_price(api_client):
    plan = RatePlan.objects.get(product="tokens", code="standard")
    body = {"planId": plan.pk, "billingCycle": "annual"}
    _error(api_client.post(CALCULATE, body, format="json"), 400, "billing_cycle_unavailable", "billingCycle")


def test_calculate_price_add_on_the_plan_does_not_offer(api_client):
    plan = RatePlan.objects.get(product="platform", code="STARTER")
    body = {"planId": plan.pk, "addons": {"extraExtensions": 1}}
    body = _error(api_client.post(CALCULATE, body, format="json"), 400, "unknown_addon", "addons")
    assert body["error"]["fields"]["addons"] == {"extraExtensions": ["Unknown add-on for this plan."]}


def test_calculate_price_get_is_not_allowed(api_client):
    _error(api_client.get(CALCULATE), 405, "method_not_allowed")


# Staff endpoints --------------------------------------------------------------------------

STAFF_CALLS = [
    ("get", PLANS, None),
    ("post", PLANS, {"product": "telephony", "plan_code": "X", "planName": "X", "monthlyPrice": 1}),
    ("get", f"{PLANS}/1", None),
    ("put", f"{PLANS}/1", {"planName": "Y"}),
    ("delete", f"{PLANS}/1", None),
    ("get", f"{PLANS}/code/STARTER", None),
]


@pytest.mark.parametrize("method, path, body", STAFF_CALLS)
def test_staff_endpoints_refuse_anonymous_with_401(api_client, method, path, body):
    response = getattr(api_client, method)(path, body, format="json")
    _error(response, 401, "not_authenticated")
    assert response.headers["WWW-Authenticate"].startswith("Bearer")


@pytest.mark.parametrize("method, path, body", STAFF_CALLS)
def test_staff_endpoints_refuse_users_with_403(auth_client, method, path, body):
    _error(getattr(auth_client, method)(path, body, format="json"), 403, "forbidden")


def test_staff_endpoints_refuse_api_keys(bot_client):
    # API keys are not JWTs: the staff views do not even authenticate them.
    _error(bot_client.get(PLANS), 401, "not_authenticated")


def test_staff_list_includes_inactive_and_private(staff_client):
    retired = RatePlanFactory(code="RETIRED", is_active=False, is_public=False)
    response = staff_client.get(PLANS, {"page_size": 100})
    assert response.status_code == 200
    page = response.json()["data"]
    data = page["results"]
    assert page["count"] == len(data) == RatePlan.objects.count()
    row = next(p for p in data if p["id"] == retired.pk)
    assert row["isActive"] is False and row["isPublic"] is False
    telephony = staff_client.get(PLANS, {"product": "telephony"}).json()["data"]["results"]
    assert {p["product"] for p in telephony} == {"telephony"}
    _error(staff_client.get(PLANS, {"product": "nope"}), 400, "invalid_product", "product")


def test_staff_get_by_id(staff_client):
    plan = starter()
    data = staff_client.get(f"{PLANS}/{plan.pk}").json()["data"]
    assert data["plan_code"] == "STARTER" and data["quarterlyPrice"] == 1047 and data["isActive"] is True
    assert data["metadata"]["addOns"]["extraExtension"] == {"payg": 1, "oneTime": 99,
                                                            "description": "Extra Extensions"}
    assert "createdAt" in data and "updatedAt" in data


@pytest.mark.parametrize("path", [f"{PLANS}/987654321", f"{PLANS}/99999999999999999999999999", f"{PLANS}/0"])
def test_staff_get_unknown_id(staff_client, path):
    _error(staff_client.get(path), 404, "plan_not_found")


def test_staff_get_by_code_defaults_to_telephony_and_honours_product(staff_client):
    data = staff_client.get(f"{PLANS}/code/STARTER").json()["data"]
    assert (data["product"], data["planName"]) == ("telephony", "Starter Plan")
    data = staff_client.get(f"{PLANS}/code/STARTER", {"product": "platform"}).json()["data"]
    assert (data["product"], data["planName"]) == ("platform", "Starter")
    assert staff_client.get(f"{PLANS}/code/premium", {"product": "tokens"}).json()["data"]["product"] == "tokens"
    _error(staff_client.get(f"{PLANS}/code/premium"), 404, "plan_not_found")  # not a telephony code


def test_staff_get_by_code_finds_an_inactive_plan_of_the_product(staff_client):
    starter().__class__.objects.filter(product="telephony", code="STARTER").update(is_active=False)
    data = staff_client.get(f"{PLANS}/code/STARTER").json()["data"]
    assert (data["product"], data["isActive"]) == ("telephony", False)


def test_staff_get_by_code_errors(staff_client):
    _error(staff_client.get(f"{PLANS}/code/NOPE"), 404, "plan_not_found")
    _error(staff_client.get(f"{PLANS}/code/STA%00RTER"), 404, "plan_not_found")
    _error(staff_client.get(f"{PLANS}/code/{'X' * 300}"), 404, "plan_not_found")
    _error(staff_client.get(f"{PLANS}/code/premium", {"product": "telephony"}), 404, "plan_not_found")
    _error(staff_client.get(f"{PLANS}/code/STARTER", {"product": "x"}), 400, "invalid_product", "product")


NEW_PLAN = {
    "product": "telephony", "plan_code": "GOLD", "planName": "Gold Plan", "description": "For big teams",
    "monthlyPrice": 1999.5, "annualPrice": "19999.00", "setupFee": 500, "gstRate": 18,
    "limits": {"tollFreeNumbers": 3, "includedMinutes": 900, "extensions": 20, "pricePerMinute": 1.5},
    "features": ["3 toll-free numbers"], "tier": 4, "sortOrder": 9, "isPublic": False,
    "metadata": {"addOns": {"extraExtension": {"payg": 1.5, "oneTime": 49, "description": "Extra Extensions"}}},
}


def test_staff_create_plan(staff_client):
    response = staff_client.post(PLANS, NEW_PLAN, format="json")
    assert response.status_code == 201, response.content
    body = response.json()
    data = body["data"]
    plan = RatePlan.objects.get(pk=data["id"])
    assert (plan.monthly_price_paise, plan.quarterly_price_paise, plan.annual_price_paise,
            plan.setup_fee_paise) == (199_950, None, 1_999_900, 50_000)
    assert plan.is_public is False and plan.tier == 4 and plan.limits["extensions"] == 20
    addon = plan.addons.get()
    assert (addon.code, addon.payg_price_paise, addon.one_time_price_paise) == ("extraExtension", 150, 4_900)
    assert data["monthlyPrice"] == 1999.5 and data["quarterlyPrice"] is None
    assert data["metadata"]["addOns"]["extraExtension"]["payg"] == 1.5
    # The new plan prices like any other (quarterly = 3 × monthly, setup fee, GST).
    quote = staff_client.post(CALCULATE, {"planId": plan.pk, "billingCycle": "quarterly"},
                              format="json").json()["data"]
    assert quote["pricing"]["subtotal"] == 6498.5 and quote["pricing"]["gst"] == 1169.73
    assert quote["amount"] == 766823


def test_staff_create_same_code_other_product_is_fine_same_product_conflicts(staff_client):
    body = {"product": "tokens", "plan_code": "STARTER", "planName": "Token starter", "monthlyPrice": 10}
    assert staff_client.post(PLANS, body, format="json").status_code == 201
    _error(staff_client.post(PLANS, body, format="json"), 409, "code_taken", "code")


@pytest.mark.parametrize("change, code, field", [
    ({"product": None}, "invalid_product", "product"),
    ({"product": "hardware"}, "invalid_product", "product"),
    ({"plan_code": ""}, "invalid_code", "plan_code"),
    ({"plan_code": "has space"}, "invalid_code", "plan_code"),
    ({"plan_code": "x" * 51}, "invalid_code", "plan_code"),
    ({"monthlyPrice": -1}, "invalid", "monthlyPrice"),
    ({"monthlyPrice": 1.001}, "invalid", "monthlyPrice"),
    ({"monthlyPrice": "abc"}, "invalid", "monthlyPrice"),
    ({"monthlyPrice": True}, "invalid", "monthlyPrice"),
    ({"monthlyPrice": 10**12}, "invalid", "monthlyPrice"),
    ({"gstRate": 101}, "invalid", "gstRate"),
    ({"durationDays": 0}, "invalid", "durationDays"),
    ({"tier": "1"}, "invalid", "tier"),
    ({"limits": [1, 2]}, "invalid", "limits"),
    ({"features": "many"}, "invalid", "features"),
    ({"currency": "USD"}, "invalid", "currency"),
    ({"metadata": {"addOns": {"x": {"payg": -1}}}}, "invalid", "metadata"),
    ({"metadata": {"addOns": {"x": {"price": 1}}}}, "unknown_field", "metadata"),
    ({"metadata": {"other": {}}}, "invalid", "metadata"),
    ({"metadata": {"addOns": ["x"]}}, "invalid", "metadata"),
    ({"id": 5}, "unknown_field", "id"),
    ({"limits": {"note": "a\u0000b"}}, "invalid", "limits"),
    ({"limits": {"a\u0000": 1}}, "invalid", "limits"),
    ({"planName": "a\u0000b"}, "invalid", "planName"),
    ({"features": ["a\u0000b"]}, "invalid", "features"),
    ({"metadata": {"addOns": {"x\u0000": {"payg": 1}}}}, "invalid", "addons"),
    ({"metadata": {"addOns": {"x" * 51: {"payg": 1}}}}, "invalid", "addons"),
    ({"planName": "x" * 121}, "invalid", "planName"),
    ({"description": "x" * 5_001}, "invalid", "description"),
    ({"gstRate": 100.01}, "invalid", "gstRate"),
    ({"tier": 10**6 + 1}, "invalid", "tier"),
    ({"tokenAllowance": -1}, "invalid", "tokenAllowance"),
    ({"sortOrder": 10**7}, "invalid", "sortOrder"),
    ({"features": ["x" * 301]}, "invalid", "features"),
])
def test_staff_create_bad_input(staff_client, change, code, field):
    body = {"product": "telephony", "plan_code": "NEWPLAN", "planName": "New", "monthlyPrice": 10, **change}
    _error(staff_client.post(PLANS, body, format="json"), 400, code, field)
    assert not RatePlan.objects.filter(code="NEWPLAN").exists()


def test_staff_write_refusals_name_the_api_fields(staff_client):
    """The model's rules apply in the service; the answer still names the field as the API does."""
    body = {"product": "telephony", "plan_code": "has space", "planName": "x" * 121, "monthlyPrice": 10}
    error = _error(staff_client.post(PLANS, body, format="json"), 400, "invalid_code", "plan_code")["error"]
    assert error["message"].startswith("plan_code: ") and "planName" in error["fields"]
    assert not {"code", "name"} & set(error["fields"])
    plan = starter()
    error = _error(staff_client.put(f"{PLANS}/{plan.pk}", {"durationDays": 0}, format="json"),
                   400, "invalid", "durationDays")["error"]
    assert error["message"] == "durationDays: Ensure this value is greater than or equal to 1."
    plan.refresh_from_db()
    assert plan.duration_days is None


@pytest.mark.parametrize("raw", ["[]", "{", "null"])
def test_staff_create_malformed(staff_client, raw):
    response = staff_client.post(PLANS, data=raw, content_type="application/json")
    assert response.status_code == 400 and response.json()["success"] is False


def test_staff_update_changes_only_what_is_sent(staff_client):
    plan = starter()
    response = staff_client.put(f"{PLANS}/{plan.pk}", {"monthlyPrice": 399, "isPublic": False}, format="json")
    assert response.status_code == 200, response.content
    plan.refresh_from_db()
    assert plan.monthly_price_paise == 39_900 and plan.is_public is False
    assert plan.quarterly_price_paise == 104_700 and plan.name == "Starter Plan"
    assert plan.addons.count() == 2
    assert response.json()["data"]["monthlyPrice"] == 399


def test_staff_update_replaces_add_ons(staff_client):
    plan = starter()
    body = {"metadata": {"addOns": {"extraExtension": {"payg": 2, "oneTime": 89},
                                    "extraMinutes": {"payg": 0.5, "description": "Extra minutes"}}}}
    data = staff_client.put(f"{PLANS}/{plan.pk}", body, format="json").json()["data"]
    assert data["metadata"]["addOns"] == {
        "extraExtension": {"payg": 2, "oneTime": 89, "description": ""},
        "extraMinutes": {"payg": 0.5, "oneTime": 0, "description": "Extra minutes"},
    }
    assert set(plan.addons.values_list("code", flat=True)) == {"extraExtension", "extraMinutes"}


def test_staff_update_can_clear_quarterly_price(staff_client):
    plan = starter()
    data = staff_client.put(f"{PLANS}/{plan.pk}", {"quarterlyPrice": None}, format="json").json()["data"]
    assert data["quarterlyPrice"] is None
    public = next(p for p in staff_client.get(PUBLIC).json()["data"] if p["id"] == plan.pk)
    assert public["quarterlyPrice"] == 1047  # 3 × 349


def test_staff_update_errors(staff_client):
    plan = starter()
    _error(staff_client.put(f"{PLANS}/{plan.pk}", {"product": "platform"}, format="json"),
           400, "product_immutable", "product")
    _error(staff_client.put(f"{PLANS}/{plan.pk}", {"plan_code": "PROFESSIONAL"}, format="json"),
           409, "code_taken", "code")
    _error(staff_client.put(f"{PLANS}/{plan.pk}", {"annualPrice": -5}, format="json"), 400, "invalid", "annualPrice")
    _error(staff_client.put(f"{PLANS}/987654321", {"planName": "x"}, format="json"), 404, "plan_not_found")
    _error(staff_client.put(f"{PLANS}/{plan.pk}", [1], format="json"), 400, "invalid_body")
    plan.refresh_from_db()
    assert plan.code == "STARTER" and plan.annual_price_paise == 334_900


def test_staff_update_same_product_is_allowed(staff_client):
    plan = starter()
    assert staff_client.put(f"{PLANS}/{plan.pk}", {"product": "telephony"}, format="json").status_code == 200


def test_staff_delete_unreferenced_plan(staff_client):
    plan = RatePlanFactory()
    AddOnFactory(plan=plan)
    response = staff_client.delete(f"{PLANS}/{plan.pk}")
    assert response.status_code == 200
    assert response.json()["data"] == {"id": plan.pk, "deleted": True, "deactivated": False}
    assert not RatePlan.objects.filter(pk=plan.pk).exists()
    _error(staff_client.delete(f"{PLANS}/{plan.pk}"), 404, "plan_not_found")


def test_staff_delete_referenced_plan_deactivates(staff_client, plan_reference_model):
    plan = RatePlanFactory()
    plan_reference_model.objects.create(ref=plan)
    response = staff_client.delete(f"{PLANS}/{plan.pk}")
    assert response.status_code == 200
    body = response.json()
    assert body["data"] == {"id": plan.pk, "deleted": False, "deactivated": True}
    assert "deactivated" in body["message"]
    plan.refresh_from_db()
    assert plan.is_active is False
    _error(staff_client.post(CALCULATE, {"planId": plan.pk}, format="json"), 404, "plan_not_found")


# GET /api/credit-packages ----------------------------------------------------------------

def test_credit_packages(api_client):
    CreditPackageFactory(name="Old Pack", is_active=False)
    response = api_client.get("/api/credit-packages")
    assert response.status_code == 200
    data = response.json()["data"]
    assert [(p["name"], p["credits"], p["price"]) for p in data] == [
        ("Starter Pack", 20, 20), ("Premium Pack", 100, 100), ("Pro Pack", 500, 450)]
    assert set(data[0]) == {"id", "name", "credits", "price"}


def test_credit_packages_price_with_paise(api_client):
    CreditPackageFactory(name="Odd Pack", price_paise=4_999, credits=50)
    response = api_client.get("/api/credit-packages")
    assert next(p for p in response.json()["data"] if p["name"] == "Odd Pack")["price"] == 49.99
    assert b'"price":49.99' in response.content
