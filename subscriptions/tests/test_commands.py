from datetime import UTC, date, datetime, timedelta
from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from subscriptions.models import Subscription, UsageCounter
from subscriptions.tests.factories import token_state

pytestmark = pytest.mark.django_db

DECEMBER, JANUARY = date(2024, 12, 1), date(2025, 1, 1)


def run(*args) -> str:
    out = StringIO()
    call_command(*args, stdout=out)
    return out.getvalue()


def snapshot():
    return list(UsageCounter.objects.order_by("id").values_list("id", "quota", "used", "period_start"))


@pytest.fixture
def counters(clock):
    """Five stale counters (one on a plan that has ended), one current, one of another metric."""
    stale = [
        token_state(plan="basic", used=700, period_start=DECEMBER),
        token_state(plan="standard", quota=10_500, used=9_000, period_start=DECEMBER,
                    end=clock.now + timedelta(days=3)),
        token_state(plan="premium", quota=60_000, used=1, period_start=date(2024, 1, 1),
                    end=clock.now + timedelta(days=3)),
        token_state(plan="premium", used=5, period_start=DECEMBER,
                    end=datetime(2025, 1, 2, tzinfo=UTC)),  # ended: resets to basic allowance
        token_state(plan="basic", used=1, period_start=DECEMBER),
    ]
    current = token_state(plan="basic", used=300, period_start=JANUARY)
    minutes = UsageCounter.objects.create(subscription=current.subscription, metric="minutes",
                                          quota=100, used=80, period_start=DECEMBER)
    cancelled = token_state(plan="basic", used=10, period_start=DECEMBER, status="cancelled")
    return stale, current, minutes, cancelled


def test_reset_quotas_resets_stale_counters_in_batches(counters):
    stale, current, minutes, cancelled = counters
    out = run("reset_quotas", "--batch-size", "2")
    assert "batch 1: ids up to" in out and "batch 4:" in out and "batch 5:" not in out
    assert out.strip().endswith("Reset 5 counter(s) to 2025-01-01.")
    got = {c.pk: (c.quota, c.used, c.period_start) for c in UsageCounter.objects.all()}
    assert [got[c.pk] for c in stale] == [(1_000, 0, JANUARY), (10_000, 0, JANUARY),
                                          (50_000, 0, JANUARY), (1_000, 0, JANUARY),
                                          (1_000, 0, JANUARY)]
    assert got[current.pk] == (1_000, 300, JANUARY)
    assert got[minutes.pk] == (100, 80, DECEMBER)  # not a token counter
    assert got[cancelled.pk] == (1_000, 10, DECEMBER)  # not live


def test_second_run_in_the_same_month_changes_nothing(counters):
    run("reset_quotas")
    before = snapshot()
    assert run("reset_quotas").strip().endswith("Reset 0 counter(s) to 2025-01-01.")
    assert snapshot() == before


def test_dry_run_counts_and_changes_nothing(counters):
    before = snapshot()
    out = run("reset_quotas", "--dry-run", "--batch-size", "3")
    assert "would reset" in out and out.strip().endswith("Dry run: 5 counter(s) would be reset.")
    assert snapshot() == before


def test_next_month_resets_again(counters, clock):
    run("reset_quotas")
    clock.set(2025, 2, 1, 0, 0, 1)
    assert run("reset_quotas").strip().endswith("Reset 6 counter(s) to 2025-02-01.")


def test_batch_size_must_be_positive(counters):
    with pytest.raises(CommandError):
        call_command("reset_quotas", "--batch-size", "0")


def test_reset_quotas_on_an_empty_table():
    assert run("reset_quotas").strip().endswith("Reset 0 counter(s) to 2025-01-01.")


def test_expire_plans_moves_ended_paid_plans_to_basic(clock):
    ended = token_state(plan="premium", used=4_000, end=clock.now - timedelta(hours=1))
    ended_long_ago = token_state(plan="standard", used=4_000, period_start=DECEMBER,
                                 end=datetime(2024, 12, 20, tzinfo=UTC))
    running = token_state(plan="premium", used=4_000, end=clock.now + timedelta(hours=1))
    basic = token_state(plan="basic", used=4)
    out = run("expire_plans", "--batch-size", "1")
    assert out.strip().endswith("Moved 2 ended plan(s) to basic.")
    got = {c.subscription.user_id: c for c in UsageCounter.objects.select_related("subscription__plan")}
    first, second = got[ended.subscription.user_id], got[ended_long_ago.subscription.user_id]
    assert (first.subscription.plan.code, first.quota, first.used) == ("basic", 1_000, 4_000)
    assert first.subscription.current_period_end is None
    assert (second.subscription.plan.code, second.quota, second.used, second.period_start) == (
        "basic", 1_000, 0, JANUARY)
    assert got[running.subscription.user_id].subscription.plan.code == "premium"
    assert got[basic.subscription.user_id].used == 4
    assert run("expire_plans").strip().endswith("Moved 0 ended plan(s) to basic.")
    assert Subscription.objects.filter(status="active").count() == 4


def test_generic_batch_path_matches_the_postgresql_statement(counters, monkeypatch):
    """The ORM batch (used on SQLite in development) does exactly what the SQL statement does."""
    from django.db import connection

    with monkeypatch.context() as patch:
        patch.setattr(connection, "vendor", "sqlite")
        assert run("reset_quotas", "--dry-run").strip().endswith("5 counter(s) would be reset.")
        assert run("reset_quotas", "--batch-size", "3").strip().endswith(
            "Reset 5 counter(s) to 2025-01-01.")
        generic = snapshot()
        assert run("reset_quotas").strip().endswith("Reset 0 counter(s) to 2025-01-01.")
    UsageCounter.objects.filter(pk__in=[c.pk for c in counters[0]]).update(period_start=DECEMBER)
    assert run("reset_quotas").strip().endswith("Reset 5 counter(s) to 2025-01-01.")
    assert snapshot() == generic
