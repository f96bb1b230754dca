"""The limits of phone sign-in hold under concurrency: real threads, real PostgreSQL (DESIGN §8)."""


import pytest
from rest_framework.test import APIClient

from accounts.models import PhoneCode
from config.tests.threads import run_together
from tenants.tests.factories import TenantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]

PHONE = "+919876543210"
THREADS = 8
TIMEOUT = 60


def together(job, n=THREADS):
    """Run `job(i)` on n threads released at once; the answers' status codes and bodies."""
    results = run_together([lambda i=i: job(i) for i in range(n)], timeout=TIMEOUT)
    for result in results:
        if isinstance(result, Exception):
            raise result
    return results


@pytest.fixture
def demo(settings):
    settings.DEFAULT_TENANT_SLUG = "demo"
    return TenantFactory(slug="demo")


def test_concurrent_requests_never_make_a_fourth_code_for_a_number(demo, otp_receiver):
    def start(i):
        response = APIClient().post("/api/auth/phone/start", {"phone_number": PHONE}, format="json",
                                    REMOTE_ADDR=f"198.51.100.{i}")
        return response.status_code

    statuses = together(start)
    assert sorted(statuses) == [200] * 3 + [429] * (THREADS - 3)
    assert PhoneCode.objects.filter(phone=PHONE).count() == 3
    assert len(otp_receiver.requests) == 3


def test_concurrent_guesses_get_five_tries_in_all(demo, phone_code):
    code = phone_code(PHONE)
    wrong = f"{(int(code) + 1) % 10**6:06d}"

    def guess(i):
        response = APIClient().post("/api/auth/phone/verify", {"phone_number": PHONE, "code": wrong},
                                    format="json", REMOTE_ADDR=f"198.51.100.{i}")
        return response.json()["error"]["code"]

    answers = together(guess)
    assert answers.count("code_incorrect") == 5
    assert answers.count("too_many_attempts") == THREADS - 5
    assert PhoneCode.objects.get().attempts == 5
    right = APIClient().post("/api/auth/phone/verify", {"phone_number": PHONE, "code": code}, format="json")
    assert right.status_code == 400 and right.json()["error"]["code"] == "too_many_attempts"


def test_one_right_code_signs_in_once_among_concurrent_tries(demo, phone_code):
    code = phone_code(PHONE)

    def submit(i):
        response = APIClient().post("/api/auth/phone/verify", {"phone_number": PHONE, "code": code},
                                    format="json", REMOTE_ADDR=f"198.51.100.{i}")
        return response.status_code, response.json().get("error", {}).get("code")

    answers = together(submit, n=4)
    assert sorted(answers, key=str)[0] == (200, None)
    assert answers.count((200, None)) == 1
    assert all(answer == (400, "code_used") for answer in answers if answer != (200, None))
