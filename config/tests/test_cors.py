"""Issue 14, item 14: no CORS origin is trusted by default in production; the API's own request
headers are allowed in preflights."""

import pytest
from django.test import override_settings

from config.tests.settings_probe import settings_values

PRODUCTION = {"DEBUG": "false", "SECRET_KEY": "s" * 50, "JWT_SECRET": "j" * 50}


def test_production_trusts_no_origin_by_default():
    assert settings_values(["CORS_ALLOWED_ORIGINS"], **PRODUCTION) == {"CORS_ALLOWED_ORIGINS": []}


def test_debug_trusts_the_local_dev_servers():
    origins = settings_values(["CORS_ALLOWED_ORIGINS"], DEBUG="true")["CORS_ALLOWED_ORIGINS"]
    assert origins == ["http://localhost:5173", "http://localhost:3000"]


def test_origins_come_from_the_environment():
    values = settings_values(["CORS_ALLOWED_ORIGINS"], CORS_ALLOWED_ORIGINS="https://app.example.com",
                             **PRODUCTION)
    assert values == {"CORS_ALLOWED_ORIGINS": ["https://app.example.com"]}


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=["https://app.example.com"])
@pytest.mark.parametrize("header", ["idempotency-key", "x-bot-secret", "x-razorpay-signature",
                                    "authorization", "content-type"])
def test_preflight_allows_the_apis_request_headers(client, header):
    response = client.options("/api/bot/deduct", HTTP_ORIGIN="https://app.example.com",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST",
                              HTTP_ACCESS_CONTROL_REQUEST_HEADERS=header)
    assert response.status_code == 200
    assert response["Access-Control-Allow-Origin"] == "https://app.example.com"
    assert header in response["Access-Control-Allow-Headers"].split(", ")


@pytest.mark.django_db
@override_settings(CORS_ALLOWED_ORIGINS=[])
def test_an_unlisted_origin_gets_no_cors_headers(client):
    response = client.options("/api/bot/deduct", HTTP_ORIGIN="http://localhost:5173",
                              HTTP_ACCESS_CONTROL_REQUEST_METHOD="POST")
    assert "Access-Control-Allow-Origin" not in response
