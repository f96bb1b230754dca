"""config.bulk: one UPDATE ... FROM unnest / COPY on PostgreSQL, bulk_update / bulk_create elsewhere;
the same rows either way (JSON, NULLs, foreign keys, auto_now)."""

from datetime import UTC, datetime

import pytest

from config.bulk import rows_insert, rows_update
from subscriptions.models import Subscription, SubscriptionEvent
from subscriptions.tests.factories import SubscriptionFactory, token_plan

pytestmark = pytest.mark.django_db


def test_rows_update_writes_only_the_named_fields_of_each_row():
    first, second = SubscriptionFactory(), SubscriptionFactory()
    end = datetime(2030, 1, 31, tzinfo=UTC)
    first.current_period_end, first.addons, first.plan = end, {"x": 1, "ü": [None]}, token_plan("premium")
    second.current_period_end, second.addons = None, {}
    second.status = "expired"  # not in the fields: left alone
    assert rows_update([first, second], ["current_period_end", "addons", "plan"]) == 2
    first, second = Subscription.objects.get(pk=first.pk), Subscription.objects.get(pk=second.pk)
    assert (first.current_period_end, first.addons, first.plan.code) == (end, {"x": 1, "ü": [None]}, "premium")
    assert (second.current_period_end, second.addons, second.status) == (None, {}, "active")


def test_rows_insert_inserts_every_row():
    subscription = SubscriptionFactory()
    at = datetime(2030, 1, 1, tzinfo=UTC)
    rows_insert([SubscriptionEvent(subscription=subscription, kind="renewal_notice", reason=f"r{i}",
                                   data={"i": i, "nested": {"a": [1, 2]}}, created_at=at) for i in range(3)])
    events = list(SubscriptionEvent.objects.filter(subscription=subscription).order_by("reason"))
    assert [(e.reason, e.data["i"], e.data["nested"], e.created_at) for e in events] == [
        (f"r{i}", i, {"a": [1, 2]}, at) for i in range(3)]
    assert rows_update([], ["status"]) == 0 and rows_insert([]) is None
