"""Code delivery (DESIGN §4.9): console, webhook and msg91 against a fake receiver on 127.0.0.1.
A failed delivery answers 502 and leaves no usable code; logs never carry codes or secrets (but
the console sender's, which is for development)."""

import hashlib
import hmac
import json
import logging
import time

import pytest

from accounts.models import PhoneCode
from accounts.otp.senders import webhook_body, webhook_signature
from accounts.tests.fake_receiver import WEBHOOK_SECRET as OTP_WEBHOOK_TEST_SECRET
from accounts.tests.fake_receiver import FakeReceiver
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

START = "/api/auth/phone/start"
PHONE = "+919876543210"
MSG91_KEY = "msg91-auth-key-test-only-123"


@pytest.fixture(autouse=True)
def demo(settings):
    settings.DEFAULT_TENANT_SLUG = "demo"
    return TenantFactory(slug="demo")


def start(client, phone=PHONE):
    return client.post(START, {"phone_number": phone}, format="json")


def log_text(caplog) -> str:
    return "\n".join(record.getMessage() for record in caplog.records)


# --- console -------------------------------------------------------------------------------------

def test_console_sender_logs_the_code_in_development(api_client, settings, caplog):
    settings.OTP_SENDER = "console"
    settings.OTP_CONSOLE_ALLOWED = True
    with caplog.at_level(logging.INFO, logger="kosh.otp"):
        response = start(api_client)
    assert response.status_code == 200
    line = next(r.getMessage() for r in caplog.records if "One-time code" in r.getMessage())
    code = line.split(": ")[1].split()[0]
    assert PHONE in line and "demo" in line
    verified = api_client.post("/api/auth/phone/verify", {"phone_number": PHONE, "code": code}, format="json")
    assert verified.status_code == 200


def test_console_sender_refuses_when_not_allowed(api_client, settings, caplog):
    settings.OTP_SENDER = "console"
    settings.OTP_CONSOLE_ALLOWED = False  # what DEBUG=false gives unless allowed
    with caplog.at_level(logging.INFO, logger="kosh.otp"):
        response = start(api_client)
    assert response.status_code == 503 and response.json()["error"]["code"] == "otp_unavailable"
    assert not PhoneCode.objects.exists()
    assert "One-time code" not in log_text(caplog)


def test_console_is_allowed_by_default_only_with_debug():
    import subprocess
    import sys

    script = "from django.conf import settings; print(settings.OTP_SENDER, settings.OTP_CONSOLE_ALLOWED)"
    for debug, expected in (("true", "console True"), ("false", "console False")):
        out = subprocess.run(
            [sys.executable, "-c", f"import django; django.setup(); {script}"],
            capture_output=True, text=True, check=True,
            env={"DJANGO_SETTINGS_MODULE": "config.settings", "DEBUG": debug, "SECRET_KEY": "x" * 50,
                 "JWT_SECRET": "y" * 50, "PATH": "/usr/bin:/bin"})
        assert out.stdout.strip() == expected


def test_unknown_sender_is_unavailable(api_client, settings):
    settings.OTP_SENDER = "carrier-pigeon"
    response = start(api_client)
    assert response.status_code == 503 and not PhoneCode.objects.exists()


# --- webhook ---------------------------------------------------------------------------------------

def test_webhook_body_and_signature(api_client, otp_receiver, caplog):
    with caplog.at_level(logging.DEBUG):
        assert start(api_client).status_code == 200
    received = otp_receiver.last
    assert received.path == "/otp"
    assert received.headers["content-type"] == "application/json"
    code = received.json["code"]
    # Exactly this body: compact JSON, keys in this order.
    assert received.body == f'{{"phone_number":"{PHONE}","tenant":"demo","code":"{code}"}}'.encode()
    expected = hmac.new(OTP_WEBHOOK_TEST_SECRET.encode(), received.body, hashlib.sha256).hexdigest()
    assert received.headers["x-kosh-signature"] == expected
    assert webhook_signature(webhook_body(phone=PHONE, tenant_slug="demo", code=code),
                             OTP_WEBHOOK_TEST_SECRET) == expected
    logs = log_text(caplog)
    assert code not in logs and OTP_WEBHOOK_TEST_SECRET not in logs and PHONE not in logs
    assert PhoneCode.objects.get().sent_at is not None


@pytest.mark.parametrize("failure", ["error500", "refused", "timeout"])
def test_webhook_failure_is_502_and_leaves_no_code(api_client, otp_receiver, settings, failure):
    if failure == "error500":
        otp_receiver.mode = "error500"
    elif failure == "refused":
        otp_receiver.stop()
    else:
        otp_receiver.mode, otp_receiver.delay = "sleep", 3.0
        settings.OTP_SEND_TIMEOUT = 0.3
    began = time.monotonic()
    response = start(api_client)
    assert response.status_code == 502, response.content
    assert response.json()["error"]["code"] == "otp_delivery_failed"
    assert time.monotonic() - began < 2.5  # the timeout, not the receiver, ended the wait
    assert not PhoneCode.objects.exists()
    # A failed delivery does not use up the number's allowance.
    otp_receiver.mode = "ok"
    if failure != "refused":
        for _ in range(3):
            assert start(api_client).status_code == 200


def test_webhook_needs_its_url_and_secret(api_client, settings):
    settings.OTP_SENDER = "webhook"
    settings.OTP_WEBHOOK_URL, settings.OTP_WEBHOOK_SECRET = "http://127.0.0.1:9/otp", ""
    response = start(api_client)
    assert response.status_code == 503 and not PhoneCode.objects.exists()


# --- msg91 -------------------------------------------------------------------------------------------------

@pytest.fixture
def msg91(settings):
    receiver = FakeReceiver().start()
    receiver.answer = {"type": "success", "request_id": "3763646c3058373530393938"}
    settings.OTP_SENDER = "msg91"
    settings.MSG91_AUTH_KEY = MSG91_KEY
    settings.MSG91_TEMPLATE_ID = "tmpl_otp_1"
    settings.MSG91_BASE_URL = receiver.url + "/"
    settings.OTP_SEND_TIMEOUT = 2.0
    yield receiver
    receiver.stop()


def test_msg91_send_otp_call(api_client, msg91, caplog):
    with caplog.at_level(logging.DEBUG):
        assert start(api_client).status_code == 200
    received = msg91.last
    assert received.path == "/api/v5/otp"
    code = received.query["otp"]
    assert received.query == {"template_id": "tmpl_otp_1", "mobile": "919876543210", "otp": code,
                              "otp_length": "6", "otp_expiry": "5"}
    assert received.headers["authkey"] == MSG91_KEY
    assert "authkey" not in received.query
    assert json.loads(received.body) == {}
    logs = log_text(caplog)
    assert code not in logs and MSG91_KEY not in logs and PHONE not in logs
    verified = api_client.post("/api/auth/phone/verify", {"phone_number": PHONE, "code": code}, format="json")
    assert verified.status_code == 200


@pytest.mark.parametrize("answer, mode", [
    ({"type": "error", "message": "Invalid authkey"}, "ok"),  # MSG91 says no with HTTP 200
    ({"unexpected": True}, "ok"),
    ({"type": "success"}, "error500"),
])
def test_msg91_refusal_is_502_and_leaves_no_code(api_client, msg91, answer, mode):
    msg91.answer, msg91.mode = answer, mode
    response = start(api_client)
    assert response.status_code == 502 and response.json()["error"]["code"] == "otp_delivery_failed"
    assert not PhoneCode.objects.exists()


def test_msg91_timeout(api_client, msg91, settings):
    msg91.mode, msg91.delay = "sleep", 3.0
    settings.OTP_SEND_TIMEOUT = 0.3
    began = time.monotonic()
    assert start(api_client).status_code == 502
    assert time.monotonic() - began < 2.5
    assert not PhoneCode.objects.exists()


def test_msg91_needs_its_key_and_template(api_client, msg91, settings):
    settings.MSG91_TEMPLATE_ID = ""
    assert start(api_client).status_code == 503
    assert not msg91.requests


# --- configuration checks ------------------------------------------------------------------------------

def test_system_checks_catch_a_broken_sender_configuration(settings):
    from accounts.otp.checks import otp_console_sender_check, otp_settings_check

    assert otp_settings_check(None) == []
    settings.OTP_SENDER = "webhook"
    settings.OTP_WEBHOOK_URL = ""
    settings.OTP_START_RATE = "lots"
    assert {e.id for e in otp_settings_check(None)} == {"accounts.E102", "accounts.E104"}
    settings.OTP_SENDER = "sms"
    assert "accounts.E101" in {e.id for e in otp_settings_check(None)}
    settings.OTP_SENDER, settings.DEBUG, settings.OTP_CONSOLE_ALLOWED = "console", False, True
    assert [w.id for w in otp_console_sender_check(None)] == ["accounts.W101"]
