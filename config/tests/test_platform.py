import os
import subprocess
import sys
from pathlib import Path

import pytest
from django.core.management import call_command
from django.db import OperationalError

ROOT = Path(__file__).resolve().parents[2]


@pytest.mark.django_db
def test_health_ok(client):
    response = client.get("/api/health")
    assert response.status_code == 200
    assert response.json() == {"status": "ok"}


@pytest.mark.django_db
def test_health_reports_database_down(client, monkeypatch):
    from django.db import connection

    def broken_cursor(*args, **kwargs):
        raise OperationalError("connection refused")

    monkeypatch.setattr(connection, "cursor", broken_cursor)
    response = client.get("/api/health")
    assert response.status_code == 503
    assert response.json()["status"] == "unavailable"


@pytest.mark.django_db
def test_openapi_schema_validates_without_warnings(tmp_path):
    out = tmp_path / "schema.yaml"
    call_command("spectacular", "--validate", "--fail-on-warn", "--file", str(out))
    text = out.read_text()
    assert "/api/auth/login" in text and "/api/health" in text


@pytest.mark.django_db
def test_docs_and_schema_are_served(client):
    assert client.get("/api/docs").status_code == 200
    schema = client.get("/api/schema", HTTP_ACCEPT="application/json")
    assert schema.status_code == 200
    assert "paths" in schema.json()


def _import_settings(env_overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECRET_KEY", "JWT_SECRET", "DEBUG"}}
    env.update(env_overrides)
    env["KOSH_ENV_FILE"] = ""  # a developer's .env (from make run) must not mask what is tested
    return subprocess.run(
        [sys.executable, "-c", "import django; from django.conf import settings; "
                               "settings.INSTALLED_APPS; print(settings.JWT_SECRET[:4])"],
        cwd=ROOT, env={**env, "DJANGO_SETTINGS_MODULE": "config.settings"},
        capture_output=True, text=True,
    )


def test_missing_secret_key_stops_startup_when_debug_is_off():
    result = _import_settings({"DEBUG": "false", "JWT_SECRET": "x" * 50})
    assert result.returncode != 0
    assert "SECRET_KEY is not set" in result.stderr


def test_missing_jwt_secret_stops_startup_when_debug_is_off():
    result = _import_settings({"DEBUG": "false", "SECRET_KEY": "x" * 50})
    assert result.returncode != 0
    assert "JWT_SECRET is not set" in result.stderr


def test_debug_falls_back_to_development_secrets():
    result = _import_settings({"DEBUG": "true"})
    assert result.returncode == 0, result.stderr


PRODUCTION_ENV = {
    "DEBUG": "false", "SECRET_KEY": "p" * 20 + "roduction-secret-key-with-enough-entropy-91x",
    "JWT_SECRET": "j" * 60, "DJANGO_SETTINGS_MODULE": "config.settings",
    "ALLOWED_HOSTS": "api.example.com", "RAZORPAY_KEY_ID": "rzp_live_x",
    "RAZORPAY_KEY_SECRET": "s" * 24, "RAZORPAY_WEBHOOK_SECRET": "w" * 24,
    "SELLER_GSTIN": "29AAGCB7383J1Z4", "SELLER_ADDRESS": "1 MG Road, Bengaluru 560001",
}


def _check_deploy(**overrides):
    env = {k: v for k, v in os.environ.items()
           if k not in {"SECURE_SSL_REDIRECT", "DEBUG", "PAYMENT_GATEWAY"}}
    env.update(PRODUCTION_ENV)
    env["KOSH_ENV_FILE"] = ""
    env.update(overrides)
    env = {k: v for k, v in env.items() if v is not None}
    return subprocess.run(
        [sys.executable, "manage.py", "check", "--deploy", "--fail-level", "WARNING"],
        cwd=ROOT, env=env, capture_output=True, text=True,
    )


def test_check_deploy_is_clean_with_production_settings():
    result = _check_deploy()
    assert result.returncode == 0, result.stdout + result.stderr
    assert "no issues" in result.stdout


def test_check_deploy_refuses_the_implicit_sandbox_gateway():
    result = _check_deploy(RAZORPAY_KEY_ID=None, RAZORPAY_KEY_SECRET=None, RAZORPAY_WEBHOOK_SECRET=None)
    assert result.returncode != 0
    assert "payments.E001" in result.stdout + result.stderr
