from datetime import UTC, datetime, timedelta

import pytest

from subscriptions import clock as clock_module


class Clock:
    """The time the subscriptions app sees; starts mid-January 2025 (UTC)."""

    def __init__(self):
        self.now = datetime(2025, 1, 15, 12, 0, tzinfo=UTC)

    def set(self, *args):
        self.now = datetime(*args, tzinfo=UTC)
        return self.now

    def advance(self, **kwargs):
        self.now += timedelta(**kwargs)
        return self.now


@pytest.fixture(autouse=True)
def clock(monkeypatch):
    fake = Clock()
    monkeypatch.setattr(clock_module, "now", lambda: fake.now)
    return fake


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings):
    # Factories set a password on every user; these tests never check one.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]
