"""Phone sign-in (DESIGN §4.9): POST /api/auth/phone/start and /api/auth/phone/verify, every limit.

Codes travel through the real webhook sender to a fake receiver on 127.0.0.1 (`otp_receiver`).
"""

from datetime import timedelta

import pytest
from django.utils import timezone
from rest_framework.test import APIClient

from accounts.models import PhoneCode, User
from accounts.otp import codes
from accounts.tests.factories import PhoneUserFactory, UserFactory
from tenants.models import Tenant
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

START, VERIFY = "/api/auth/phone/start", "/api/auth/phone/verify"
PHONE = "+919876543210"


def post(client, path, body, **extra):
    return client.post(path, body, format="json", **extra)


def error_of(response):
    body = response.json()
    assert body["success"] is False, body
    return body["error"]


def wrong(code: str) -> str:
    return f"{(int(code) + 1) % 10**6:06d}"


@pytest.fixture
def demo(settings):
    settings.DEFAULT_TENANT_SLUG = "demo"
    return TenantFactory(slug="demo", settings={"free_signup_credits": 3})


# --- start -------------------------------------------------------------------------------------------

def test_start_sends_a_code_and_stores_only_its_hash(api_client, demo, otp_receiver):
    response = post(api_client, START, {"phone_number": "98765 43210"})
    assert response.status_code == 200, response.content
    body = response.json()
    assert body["success"] is True
    assert body["data"] == {"phone_number": PHONE, "tenant": "demo", "expires_in": 300}
    code = otp_receiver.code_for(PHONE)
    assert codes.code_is_well_formed(code)
    row = PhoneCode.objects.get()
    assert (row.tenant_id, row.phone, row.attempts, row.used_at) == (demo.pk, PHONE, 0, None)
    assert row.sent_at is not None and row.expires_at - row.created_at == timedelta(minutes=5)
    stored = [str(value) for value in PhoneCode.objects.values_list().get()]
    assert not any(code in value for value in stored)  # only the HMAC
    assert codes.code_matches(stored_hash=row.code_hash, tenant_id=demo.pk, phone=PHONE, code=code)


def test_start_answers_the_same_for_known_and_unknown_numbers(api_client, demo, otp_receiver):
    PhoneUserFactory(tenant=demo, phone="+919876500001")
    known = post(api_client, START, {"phone_number": "+919876500001", "tenant": "demo"})
    unknown = post(api_client, START, {"phone_number": "+919876500002", "tenant": "demo"})
    assert known.status_code == unknown.status_code == 200
    strip = lambda r: {**r.json(), "data": {**r.json()["data"], "phone_number": None}}  # noqa: E731
    assert strip(known) == strip(unknown)
    assert len(otp_receiver.requests) == 2
    assert User.objects.filter(phone="+919876500002").count() == 0  # nothing created before a code


def test_start_names_the_tenant_by_slug(api_client, demo, otp_receiver):
    other = TenantFactory(slug="acme")
    response = post(api_client, START, {"phone_number": PHONE, "tenant": "acme"})
    assert response.status_code == 200 and response.json()["data"]["tenant"] == "acme"
    assert otp_receiver.last.json == {"phone_number": PHONE, "tenant": "acme",
                                      "code": otp_receiver.code_for(PHONE)}
    assert PhoneCode.objects.get().tenant_id == other.pk


@pytest.mark.parametrize("body, status, code", [
    ({"phone_number": "12"}, 400, "invalid_phone_number"),
    ({"phone_number": "not a number"}, 400, "invalid_phone_number"),
    ({"phone_number": ""}, 400, "invalid"),
    ({}, 400, "invalid"),
    ({"phone_number": PHONE, "tenant": "no-such-tenant"}, 400, "unknown_tenant"),
    ({"phone_number": PHONE, "tenant": "bad slug!"}, 400, "invalid"),
    ({"phone_number": PHONE, "tenant": ""}, 400, "invalid"),
    ({"phone_number": PHONE, "extra": 1}, 400, "invalid"),
])
def test_start_refuses_bad_input_and_sends_nothing(api_client, demo, otp_receiver, body, status, code):
    response = post(api_client, START, body)
    assert response.status_code == status, response.content
    assert error_of(response)["code"] == code
    assert not otp_receiver.requests and not PhoneCode.objects.exists()


def test_start_refuses_a_body_that_is_not_json(api_client, demo, otp_receiver):
    response = api_client.post(START, "phone_number=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415 and error_of(response)["code"] == "unsupported_media_type"
    assert not PhoneCode.objects.exists()


def test_unknown_default_tenant_is_refused(api_client, settings, otp_receiver):
    settings.DEFAULT_TENANT_SLUG = "nowhere"
    response = post(api_client, START, {"phone_number": PHONE})
    assert response.status_code == 400 and error_of(response)["code"] == "unknown_tenant"
    assert error_of(response)["fields"] == {"tenant": ["Unknown tenant."]}


def test_suspended_tenant_is_refused(api_client, demo, otp_receiver):
    demo.status = Tenant.Status.SUSPENDED
    demo.save()
    response = post(api_client, START, {"phone_number": PHONE})
    assert response.status_code == 403 and error_of(response)["code"] == "tenant_suspended"
    assert not otp_receiver.requests and not PhoneCode.objects.exists()


# --- limits on sending ---------------------------------------------------------------------------------

def test_three_codes_per_number_per_fifteen_minutes(api_client, demo, otp_receiver):
    for _ in range(3):
        assert post(api_client, START, {"phone_number": PHONE}).status_code == 200
    fourth = post(api_client, START, {"phone_number": PHONE})
    assert fourth.status_code == 429 and error_of(fourth)["code"] == "throttled"
    assert 0 < int(fourth["Retry-After"]) <= 15 * 60
    assert len(otp_receiver.requests) == 3 and PhoneCode.objects.count() == 3
    # Another number and the same number in another tenant have their own allowance.
    assert post(api_client, START, {"phone_number": "+919876500003"}).status_code == 200
    TenantFactory(slug="acme")
    assert post(api_client, START, {"phone_number": PHONE, "tenant": "acme"}).status_code == 200
    # The window slides: once the oldest code is 15 minutes old, one more may go.
    oldest = PhoneCode.objects.filter(tenant=demo, phone=PHONE).order_by("created_at").first()
    PhoneCode.objects.filter(pk=oldest.pk).update(created_at=timezone.now() - timedelta(minutes=15, seconds=1))
    assert post(api_client, START, {"phone_number": PHONE}).status_code == 200
    assert post(api_client, START, {"phone_number": PHONE}).status_code == 429


def test_per_address_limit(api_client, demo, otp_receiver, settings):
    settings.OTP_START_RATE = "2/hour"
    one = {"REMOTE_ADDR": "203.0.113.7"}
    assert post(api_client, START, {"phone_number": "+919876500011"}, **one).status_code == 200
    assert post(api_client, START, {"phone_number": "+919876500012"}, **one).status_code == 200
    third = post(api_client, START, {"phone_number": "+919876500013"}, **one)
    assert third.status_code == 429 and error_of(third)["code"] == "throttled"
    assert 0 < int(third["Retry-After"]) <= 3600
    assert len(otp_receiver.requests) == 2
    other = post(api_client, START, {"phone_number": "+919876500013"}, REMOTE_ADDR="203.0.113.8")
    assert other.status_code == 200


def test_the_default_per_address_rate_is_twenty_an_hour(api_client, demo, otp_receiver, settings):
    from django.conf import settings as live

    assert live.OTP_START_RATE == "20/hour"
    for n in range(20):
        assert post(api_client, START, {"phone_number": f"+9198765{n:05d}"}).status_code == 200
    assert post(api_client, START, {"phone_number": "+919876599999"}).status_code == 429


# --- verify ------------------------------------------------------------------------------------------------

def test_verify_signs_in_the_tenants_phone_user(api_client, demo, phone_code):
    code = phone_code(PHONE)
    response = post(api_client, VERIFY, {"phone_number": "9876543210", "code": code})
    assert response.status_code == 200, response.content
    data = response.json()["data"]
    assert set(data) == {"user", "access", "refresh"}
    user = User.objects.get(tenant=demo, phone=PHONE)
    assert data["user"]["id"] == user.pk and data["user"]["phone"] == PHONE
    assert data["user"]["tenant"] == demo.pk and data["user"]["email"] is None
    assert data["user"]["is_whatsapp_verified"] is True and user.is_whatsapp_verified
    assert not user.has_usable_password()
    me = APIClient()
    me.credentials(HTTP_AUTHORIZATION=f"Bearer {data['access']}")
    assert me.get("/api/auth/me").json()["data"]["id"] == user.pk
    refreshed = post(APIClient(), "/api/auth/refresh", {"refresh": data["refresh"]})
    assert refreshed.status_code == 200


def test_verify_reaches_the_user_the_bot_already_knows(api_client, demo, phone_code):
    bot_user = PhoneUserFactory(tenant=demo, phone=PHONE)
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": phone_code(PHONE)})
    assert response.status_code == 200 and response.json()["data"]["user"]["id"] == bot_user.pk
    assert User.objects.filter(phone=PHONE).count() == 1


def test_same_number_in_two_tenants_is_two_users(api_client, demo, phone_code):
    acme = TenantFactory(slug="acme")
    first = post(api_client, VERIFY, {"phone_number": PHONE, "code": phone_code(PHONE)}).json()["data"]
    second = post(api_client, VERIFY, {"phone_number": PHONE, "tenant": "acme",
                                       "code": phone_code(PHONE, "acme")}).json()["data"]
    assert first["user"]["id"] != second["user"]["id"]
    assert second["user"]["tenant"] == acme.pk


def test_a_code_works_once(api_client, demo, phone_code):
    code = phone_code(PHONE)
    assert post(api_client, VERIFY, {"phone_number": PHONE, "code": code}).status_code == 200
    again = post(api_client, VERIFY, {"phone_number": PHONE, "code": code})
    assert again.status_code == 400 and error_of(again)["code"] == "code_used"


def test_a_code_expires_after_five_minutes(api_client, demo, phone_code):
    code = phone_code(PHONE)
    PhoneCode.objects.update(created_at=timezone.now() - timedelta(minutes=5, seconds=1),
                             expires_at=timezone.now() - timedelta(seconds=1))
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": code})
    assert response.status_code == 400 and error_of(response)["code"] == "code_expired"
    assert not User.objects.filter(phone=PHONE).exists()
    assert PhoneCode.objects.get().attempts == 0


def test_the_sixth_try_fails_even_with_the_right_code(api_client, demo, phone_code):
    code = phone_code(PHONE)
    for left in (4, 3, 2, 1, 0):
        response = post(api_client, VERIFY, {"phone_number": PHONE, "code": wrong(code)})
        assert response.status_code == 400
        assert error_of(response)["code"] == "code_incorrect"
        assert error_of(response)["fields"] == {"code": ["Incorrect code."]}
        expected = f"{left} {'try' if left == 1 else 'tries'} left" if left else "no longer works"
        assert expected in error_of(response)["message"]
    sixth = post(api_client, VERIFY, {"phone_number": PHONE, "code": code})
    assert sixth.status_code == 400 and error_of(sixth)["code"] == "too_many_attempts"
    assert PhoneCode.objects.get().attempts == 5
    assert not User.objects.filter(phone=PHONE).exists()


def test_the_fifth_try_may_be_the_right_one(api_client, demo, phone_code):
    code = phone_code(PHONE)
    for _ in range(4):
        post(api_client, VERIFY, {"phone_number": PHONE, "code": wrong(code)})
    assert post(api_client, VERIFY, {"phone_number": PHONE, "code": code}).status_code == 200


def test_only_the_newest_code_counts(api_client, demo, phone_code):
    first = phone_code(PHONE)
    second = phone_code(PHONE)
    if first != second:
        stale = post(api_client, VERIFY, {"phone_number": PHONE, "code": first})
        assert stale.status_code == 400 and error_of(stale)["code"] == "code_incorrect"
    assert post(api_client, VERIFY, {"phone_number": PHONE, "code": second}).status_code == 200


def test_a_code_is_for_its_own_number_and_tenant(api_client, demo, phone_code):
    code = phone_code(PHONE)
    TenantFactory(slug="acme")
    other_tenant = post(api_client, VERIFY, {"phone_number": PHONE, "tenant": "acme", "code": code})
    assert other_tenant.status_code == 400 and error_of(other_tenant)["code"] == "code_not_found"
    other_number = post(api_client, VERIFY, {"phone_number": "+919876500099", "code": code})
    assert other_number.status_code == 400 and error_of(other_number)["code"] == "code_not_found"
    assert post(api_client, VERIFY, {"phone_number": PHONE, "code": code}).status_code == 200


@pytest.mark.parametrize("bad_code", ["12345", "1234567", "12a456", " 123456", "１２３４５６", "١٢٣٤٥٦", "",
                                      123456, None, ["123456"]])
def test_codes_of_the_wrong_shape_are_refused_without_spending_a_try(api_client, demo, phone_code, bad_code):
    phone_code(PHONE)
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": bad_code})
    assert response.status_code == 400
    assert error_of(response)["code"] in {"invalid_code_format", "invalid"}
    assert "code" in error_of(response)["fields"]
    assert PhoneCode.objects.get().attempts == 0
    assert not User.objects.filter(phone=PHONE).exists()


@pytest.mark.parametrize("body, code", [
    ({"phone_number": "12", "code": "123456"}, "invalid_phone_number"),
    ({"code": "123456"}, "invalid"),
    ({"phone_number": PHONE}, "invalid"),
    ({"phone_number": PHONE, "code": "123456", "tenant": "nope"}, "unknown_tenant"),
])
def test_verify_refuses_bad_input(api_client, demo, body, code):
    response = post(api_client, VERIFY, body)
    assert response.status_code == 400 and error_of(response)["code"] == code
    assert not User.objects.filter(phone=PHONE).exists()


def test_verify_without_any_code_sent(api_client, demo):
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": "123456"})
    assert response.status_code == 400 and error_of(response)["code"] == "code_not_found"
    assert not User.objects.exists()


def test_a_deactivated_user_gets_no_tokens(api_client, demo, phone_code):
    PhoneUserFactory(tenant=demo, phone=PHONE, is_active=False)
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": phone_code(PHONE)})
    assert response.status_code == 403 and error_of(response)["code"] == "user_inactive"


def test_staff_accounts_do_not_sign_in_by_phone(api_client, demo, phone_code):
    UserFactory(tenant=demo, phone=PHONE, is_staff=True)
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": phone_code(PHONE)})
    assert response.status_code == 403 and error_of(response)["code"] == "staff_account"


def test_a_tenant_suspended_after_the_code_was_sent(api_client, demo, phone_code):
    code = phone_code(PHONE)
    demo.status = Tenant.Status.SUSPENDED
    demo.save()
    response = post(api_client, VERIFY, {"phone_number": PHONE, "code": code})
    assert response.status_code == 403 and error_of(response)["code"] == "tenant_suspended"
    assert not User.objects.filter(phone=PHONE).exists()


# --- the profile's verified flag and number belong to the server ---------------------------------------

def test_clients_cannot_claim_a_verified_number(api_client, auth_client):
    register = post(api_client, "/api/auth/register", {"email": "v@example.com", "password": "a-long-passphrase-42",
                                                      "is_whatsapp_verified": True})
    assert register.status_code == 400 and "is_whatsapp_verified" in error_of(register)["fields"]
    assert not User.objects.filter(email="v@example.com").exists()
    patch = auth_client.patch("/api/auth/me", {"is_whatsapp_verified": True}, format="json")
    assert patch.status_code == 400 and "is_whatsapp_verified" in error_of(patch)["fields"]
    other = auth_client.patch("/api/auth/me", {"name": "Asha"}, format="json")
    assert other.status_code == 200 and other.json()["data"]["name"] == "Asha"


def test_a_tenant_user_changes_number_only_with_a_code(api_client, demo, phone_code, client_for):
    user = PhoneUserFactory(tenant=demo, phone=PHONE)
    client = client_for(user)
    response = client.patch("/api/auth/me", {"phone": "+919876500055"}, format="json")
    assert response.status_code == 400 and error_of(response)["code"] == "phone_change_needs_code"
    user.refresh_from_db()
    assert user.phone == PHONE
    assert client.patch("/api/auth/me", {"phone": "98765 43210"}, format="json").status_code == 200


def test_changing_a_web_users_number_clears_the_verified_flag(auth_client):
    User.objects.filter(pk=auth_client.user.pk).update(phone=PHONE, is_whatsapp_verified=True)
    response = auth_client.patch("/api/auth/me", {"phone": "+919876500066"}, format="json")
    assert response.status_code == 200
    assert response.json()["data"]["is_whatsapp_verified"] is False


def test_purge_keeps_the_codes_the_limit_still_counts(demo, phone_code):
    from django.core.management import call_command

    phone_code(PHONE)
    phone_code(PHONE)
    PhoneCode.objects.filter(pk=PhoneCode.objects.order_by("id").first().pk).update(
        created_at=timezone.now() - timedelta(days=2), expires_at=timezone.now() - timedelta(days=2) + codes.CODE_TTL)
    call_command("purge_phone_codes", hours=0)  # never below the 15-minute window
    assert PhoneCode.objects.count() == 1
