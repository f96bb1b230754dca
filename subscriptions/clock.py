"""The clock token quotas and plan expiry run on.

Everything in this app asks `clock.now()` (never `timezone.now()` directly), so tests can move
time by patching this one function: ``monkeypatch.setattr(clock, "now", lambda: moment)``.
The SQL statements take the time and the month as parameters rather than calling the
database's ``now()``, for the same reason.
"""

from datetime import date, datetime
from zoneinfo import ZoneInfo

from django.conf import settings
from django.utils import timezone


def now() -> datetime:
    return timezone.now()


def billing_month_start(at: datetime | None = None) -> date:
    """First day of the billing month (calendar month in BILLING_TIME_ZONE) containing `at`."""
    moment = at if at is not None else now()
    return moment.astimezone(ZoneInfo(settings.BILLING_TIME_ZONE)).date().replace(day=1)
