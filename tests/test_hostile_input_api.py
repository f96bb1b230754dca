"""Every endpoint that takes a JSON body, as every kind of caller: a body nested 1,000 deep or of
3 MB is a 4xx in the endpoint's envelope, never a 500 (issue 14, items 5 and 7)."""

import re

import pytest
from drf_spectacular.generators import SchemaGenerator

DEEP = "[" * 1000 + "]" * 1000
TOO_DEEP = "JSON parse error - JSON nested deeper than 32 levels"
HUGE = '{"pad": "' + "x" * (3 * 1024 * 1024) + '"}'


def _json_operations() -> list[tuple[str, str]]:
    schema = SchemaGenerator().get_schema(request=None, public=True)
    operations = []
    for path, item in schema["paths"].items():
        for method, operation in item.items():
            if "requestBody" in operation:
                operations.append((method, re.sub(r"\{[^}]+\}", "1", path)))
    return sorted(operations)


def _assert_enveloped_error(response):
    body = response.json()
    assert (set(body) >= {"error"} and (isinstance(body["error"], str) or body.get("success") is False)
            or body.get("status") == "ERROR"), body


@pytest.mark.django_db
def test_every_json_endpoint_refuses_deep_and_huge_bodies_as_every_caller(callers):
    operations = _json_operations()
    assert len(operations) >= 20, operations  # the sweep really covers the API
    for method, path in operations:
        for who, client in callers.items():
            for name, raw in (("deep", DEEP), ("huge", HUGE)):
                response = getattr(client, method)(path, data=raw, content_type="application/json")
                where = f"{who} {method.upper()} {path} ({name})"
                assert 400 <= response.status_code < 500, (where, response.status_code, response.content[:300])
                assert response["Content-Type"].startswith("application/json"), where
                _assert_enveloped_error(response)


@pytest.mark.django_db
@pytest.mark.parametrize("path, client_name, expected", [
    # flat (seeds 000/001)
    ("/api/tokens/consume", "user", {"error": "invalid body"}),
    # status (seed 003)
    ("/api/bot/deduct", "api_key", {"status": "ERROR", "message": TOO_DEEP}),
    # success, anonymous
    ("/api/auth/login", "anonymous",
     {"success": False, "error": {"code": "invalid_body", "message": TOO_DEEP}}),
    # success, staff
    ("/api/v1/admin/credits/purchase", "staff",
     {"success": False, "error": {"code": "invalid_body", "message": TOO_DEEP}}),
])
def test_deep_json_answers_in_the_endpoints_envelope(callers, path, client_name, expected):
    response = callers[client_name].post(path, data=DEEP, content_type="application/json")
    assert response.status_code == 400
    assert response.json() == expected


@pytest.mark.django_db
@pytest.mark.parametrize("path, client_name, expected", [
    ("/api/tokens/consume", "user", {"error": "request body too large"}),
    ("/api/bot/deduct", "api_key", {"status": "ERROR", "message": "Request body too large."}),
    ("/api/auth/register", "anonymous",
     {"success": False, "error": {"code": "body_too_large", "message": "Request body too large."}}),
    # The webhook reads the raw body itself (for its HMAC).
    ("/api/payments/webhook/razorpay", "anonymous",
     {"success": False, "error": {"code": "body_too_large", "message": "Request body too large."}}),
])
def test_a_3mb_body_answers_in_the_endpoints_envelope(callers, path, client_name, expected):
    response = callers[client_name].post(path, data=HUGE, content_type="application/json")
    assert response.status_code == 413
    assert response.json() == expected
