"""Issue 14, item 9: login and register do not tell who has an account — not by the answer, not
by the time it takes."""

import statistics
import time

import pytest

from accounts.models import User
from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

STRONG = "a-long-and-unusual-passphrase-42"
REGISTERED = {"success": True, "data": {"email": "taken@example.com"},
              "message": "Registration received. Log in with your email and password."}


def post(client, path, body):
    return client.post(path, body, format="json")


def test_register_answers_the_same_for_a_taken_email_and_changes_nothing(api_client):
    owner = UserFactory(email="taken@example.com", name="Owner")
    before = User.objects.count()
    taken = post(api_client, "/api/auth/register",
                 {"email": "TAKEN@example.com", "password": STRONG, "name": "Mallory"})
    assert taken.status_code == 201
    assert taken.json() == REGISTERED
    assert User.objects.count() == before
    owner.refresh_from_db()
    assert owner.name == "Owner" and not owner.check_password(STRONG)

    fresh = post(api_client, "/api/auth/register", {"email": "fresh@example.com", "password": STRONG})
    assert fresh.status_code == 201
    assert fresh.json() == {**REGISTERED, "data": {"email": "fresh@example.com"}}
    assert User.objects.count() == before + 1


def test_register_answers_the_same_for_a_taken_phone(api_client):
    UserFactory(email="first@example.com", phone="+919876543210")
    response = post(api_client, "/api/auth/register",
                    {"email": "second@example.com", "password": STRONG, "phone": "9876543210"})
    assert response.status_code == 201
    assert response.json()["data"] == {"email": "second@example.com"}
    assert not User.objects.filter(email="second@example.com").exists()


def test_login_refuses_unknown_email_wrong_password_and_inactive_alike(api_client):
    UserFactory(email="known@example.com")
    UserFactory(email="gone@example.com", is_active=False)
    answers = [post(api_client, "/api/auth/login", {"email": email, "password": "wrong-password-1"})
               for email in ("known@example.com", "nobody@example.com", "gone@example.com")]
    assert {a.status_code for a in answers} == {401}
    assert len({a.content for a in answers}) == 1


def _interleaved_medians(client, path, bodies: dict, runs: int = 7) -> dict:
    """Median seconds per kind of request, the kinds taken in turn so that load on the machine
    weighs on each alike. `bodies[kind]` is a body or a function of the run number."""
    times = {kind: [] for kind in bodies}
    for run in range(runs):
        for kind, body in bodies.items():
            started = time.perf_counter()
            response = post(client, path, body(run) if callable(body) else body)
            times[kind].append(time.perf_counter() - started)
            assert response.status_code < 500
    return {kind: statistics.median(values) for kind, values in times.items()}


@pytest.fixture
def real_hasher(settings):
    # The real (slow) hasher: the point is that every path pays for it.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.PBKDF2PasswordHasher"]


def test_login_takes_as_long_for_an_unknown_email_as_for_a_known_one(api_client, real_hasher, settings):
    settings.AXES_ENABLED = False  # 14 failures would lock the address; the password path is timed
    UserFactory(email="known@example.com")
    medians = _interleaved_medians(api_client, "/api/auth/login", {
        "known": {"email": "known@example.com", "password": "wrong-password-1"},
        "unknown": {"email": "nobody@example.com", "password": "wrong-password-1"},
    })
    print("login medians (ms):", {k: round(v * 1000) for k, v in medians.items()})
    assert 0.5 < medians["unknown"] / medians["known"] < 2, medians


def test_register_takes_as_long_for_a_taken_email_as_for_a_new_one(api_client, real_hasher):
    UserFactory(email="taken@example.com")
    medians = _interleaved_medians(api_client, "/api/auth/register", {
        "taken": {"email": "taken@example.com", "password": STRONG},
        "new": lambda run: {"email": f"new{run}@example.com", "password": STRONG},
    })
    print("register medians (ms):", {k: round(v * 1000) for k, v in medians.items()})
    assert 0.5 < medians["taken"] / medians["new"] < 2, medians
