from datetime import UTC, date, datetime, timedelta
from types import SimpleNamespace

import pytest
from django.db import IntegrityError, transaction
from django.test import override_settings

from accounts.tests.factories import UserFactory
from config.errors import Forbidden, InvalidInput, NotFound, PaymentRequired
from config.policy import principal_for_user
from plans.models import RatePlan
from subscriptions import clock as clock_module
from subscriptions import services
from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter
from subscriptions.services import QuotaExceeded
from subscriptions.tests.factories import SubscriptionFactory, token_plan, token_state
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

# A platform admin (config.policy reads roles by duck typing): may change anyone's token plan.
ADMIN = principal_for_user(SimpleNamespace(pk=10**9, is_authenticated=True, is_active=True, role="admin",
                                           tenant_id=None, tenant=None))


def counter_of(user) -> UsageCounter:
    return UsageCounter.objects.select_related("subscription__plan").get(
        subscription__user=user, subscription__status="active", metric="tokens")


# --- provisioning and reads ----------------------------------------------------------------

def test_first_usage_provisions_basic(user, clock):
    usage = services.token_usage_get(user=user)
    assert usage == {"plan": "basic", "token_quota": 1000, "token_used": 0, "remaining": 1000,
                     "plan_end_at": None}
    subscription = Subscription.objects.get(user=user)
    assert (subscription.product, subscription.status, subscription.plan.code) == (
        "tokens", "active", "basic")
    assert subscription.current_period_end is None
    counter = counter_of(user)
    assert counter.period_start == date(2025, 1, 1)
    assert SubscriptionEvent.objects.filter(subscription=subscription, kind="provisioned").count() == 1


def test_second_read_is_one_query_and_provisions_nothing(user, django_assert_num_queries):
    services.token_usage_get(user=user)
    with django_assert_num_queries(1):
        usage = services.token_usage_get(user=user)
    assert usage["token_quota"] == 1000
    assert Subscription.objects.filter(user=user).count() == 1
    assert UsageCounter.objects.filter(subscription__user=user).count() == 1


def test_plan_end_at_is_iso_utc(clock):
    counter = token_state(plan="premium", end=datetime(2025, 2, 14, 12, 0, tzinfo=UTC))
    usage = services.token_usage_get(user=counter.subscription.user)
    assert usage["plan_end_at"] == "2025-02-14T12:00:00Z"


# --- set-plan rules (seed 001) -------------------------------------------------------------

def test_upgrade_carries_over_remaining(clock):
    counter = token_state(plan="standard", quota=10_000, used=3_000,
                          end=clock.now + timedelta(days=10))
    change = services.token_plan_change(principal=ADMIN, user=counter.subscription.user, plan_code="premium")
    assert change.as_response() == {"status": "ok", "message": "upgraded to premium with carry-over",
                                    "plan": "premium", "token_quota": 57_000, "token_used": 0,
                                    "remaining": 57_000}
    assert change.action == "upgrade" and change.previous_plan == "standard"
    subscription = Subscription.objects.get(pk=counter.subscription_id)
    assert subscription.plan.code == "premium"
    assert subscription.current_period_end == clock.now + timedelta(days=30)
    event = SubscriptionEvent.objects.get(subscription=subscription, kind="plan_changed")
    assert (event.from_plan_code, event.to_plan_code) == ("standard", "premium")
    assert event.data["before"]["quota"] == 10_000 and event.data["after"]["quota"] == 57_000


def test_upgrade_never_carries_over_a_negative_remaining():
    counter = token_state(plan="basic", quota=1_000, used=4_000)  # after a downgrade
    change = services.token_plan_change(principal=ADMIN, user=counter.subscription.user, plan_code="standard")
    assert (change.token_quota, change.token_used) == (10_000, 0)


def test_same_tier_is_unchanged_unless_reset(clock):
    end = clock.now + timedelta(days=5)
    counter = token_state(plan="standard", quota=12_000, used=2_500, end=end)
    user = counter.subscription.user
    same = services.token_plan_change(principal=ADMIN, user=user, plan_code="standard")
    assert same.message == "plan confirmed"
    assert (same.token_quota, same.token_used, same.plan_end_at) == (12_000, 2_500, end)
    reset = services.token_plan_change(principal=ADMIN, user=user, plan_code="standard", reset_used=True)
    assert (reset.token_quota, reset.token_used, reset.remaining) == (12_000, 0, 12_000)
    assert Subscription.objects.get(user=user, status="active").current_period_end == end


def test_same_tier_renewal_extends_from_the_current_end(clock):
    end = clock.now + timedelta(days=5)
    counter = token_state(plan="premium", end=end)
    change = services.token_plan_change(principal=ADMIN, user=counter.subscription.user, plan_code="premium",
                                        extend_period=True)
    assert change.plan_end_at == end + timedelta(days=30)


def test_downgrade_to_basic_keeps_used_and_clears_end(clock):
    counter = token_state(plan="premium", quota=50_000, used=7_000, end=clock.now + timedelta(days=9))
    user = counter.subscription.user
    change = services.token_plan_change(principal=ADMIN, user=user, plan_code="basic")
    assert change.as_response() == {"status": "ok", "message": "downgraded to basic", "plan": "basic",
                                    "token_quota": 1_000, "token_used": 7_000, "remaining": -6_000}
    assert services.token_usage_get(user=user) == {
        "plan": "basic", "token_quota": 1_000, "token_used": 7_000, "remaining": -6_000,
        "plan_end_at": None}


def test_downgrade_with_reset_and_between_paid_plans_keeps_the_end(clock):
    end = clock.now + timedelta(days=9)
    counter = token_state(plan="premium", quota=50_000, used=7_000, end=end)
    change = services.token_plan_change(principal=ADMIN, user=counter.subscription.user, plan_code="standard",
                                        reset_used=True)
    assert (change.message, change.token_quota, change.token_used) == ("downgraded to standard",
                                                                       10_000, 0)
    assert change.plan_end_at == end


@pytest.mark.parametrize("code", ["gold", "", "Premium", "STARTER", None, 3, "x" * 300])
def test_invalid_plan(user, code):
    with pytest.raises(InvalidInput) as exc:
        services.token_plan_change(principal=ADMIN, user=user, plan_code=code)
    assert exc.value.message == "invalid plan"


def test_inactive_plan_is_invalid(user):
    RatePlan.objects.filter(product="tokens", code="standard").update(is_active=False)
    with pytest.raises(InvalidInput):
        services.token_plan_change(principal=ADMIN, user=user, plan_code="standard")


def test_paid_upgrade_can_be_refused_but_not_downgrades_or_confirmations(clock):
    counter = token_state(plan="standard", used=100, end=clock.now + timedelta(days=3))
    user = counter.subscription.user
    with pytest.raises(PaymentRequired) as exc:
        services.token_plan_change(principal=principal_for_user(user), user=user, plan_code="premium")
    assert exc.value.message == "payment required"
    assert counter_of(user).subscription.plan.code == "standard"
    assert services.token_plan_change(principal=principal_for_user(user), user=user, plan_code="standard").message == "plan confirmed"
    assert services.token_plan_change(principal=principal_for_user(user), user=user, plan_code="basic").message == "downgraded to basic"


def test_plan_change_is_decided_by_the_policy_deny_by_default(clock):
    """Issue 14 item 3: the service itself refuses; a caller that forgets a flag gives nothing away."""
    counter = token_state(plan="basic")
    user = counter.subscription.user
    stranger = principal_for_user(UserFactory())
    with pytest.raises(NotFound):
        services.token_plan_change(principal=stranger, user=user, plan_code="basic")
    with pytest.raises(Forbidden):
        services.token_plan_change(principal=principal_for_user(user), user=user, plan_code="basic",
                                   reset_used=True)
    with pytest.raises(TypeError):
        services.token_plan_change(user=user, plan_code="premium")  # no principal: no call
    tenant = TenantFactory()
    tenant_admin = principal_for_user(UserFactory(role="tenant_admin", tenant=tenant))
    customer = token_state(plan="basic", user=UserFactory(tenant=tenant)).subscription.user
    with pytest.raises(PaymentRequired):  # tenant staff do not give paid plans away
        services.token_plan_change(principal=tenant_admin, user=customer, plan_code="premium")
    assert counter_of(customer).subscription.plan.code == "basic"


def test_downgrade_to_basic_and_usage_reset(clock):
    staff = UserFactory(is_staff=True)
    counter = token_state(plan="premium", used=900, end=clock.now + timedelta(days=20))
    user = counter.subscription.user
    change = services.token_plan_change(principal=ADMIN, user=user, plan_code="basic", actor=staff, reason="refund rf_1")
    assert (change.plan, change.token_quota, change.token_used, change.plan_end_at) == (
        "basic", 1000, 900, None)
    usage = services.token_usage_reset(user=user, actor=staff, reason="goodwill")
    assert usage["token_used"] == 0 and usage["token_quota"] == 1000
    event = SubscriptionEvent.objects.get(kind="usage_reset")
    assert (event.actor, event.reason, event.data["previous_used"]) == (staff, "goodwill", 900)


# --- lazy period reset and expiry ----------------------------------------------------------

def test_month_roll_over_resets_used_and_ends_carry_over(clock):
    # January: upgraded with carry-over (quota above the allowance), used some.
    counter = token_state(plan="premium", quota=50_700, used=20_000,
                          end=datetime(2025, 2, 10, tzinfo=UTC))
    user = counter.subscription.user
    assert services.token_usage_get(user=user)["token_used"] == 20_000
    clock.set(2025, 1, 31, 23, 59)
    assert services.token_usage_get(user=user)["remaining"] == 30_700
    clock.set(2025, 2, 1, 0, 0)
    assert services.token_usage_get(user=user) == {
        "plan": "premium", "token_quota": 50_000, "token_used": 0, "remaining": 50_000,
        "plan_end_at": "2025-02-10T00:00:00Z"}
    assert counter_of(user).period_start == date(2025, 2, 1)


def test_year_roll_over_resets_a_user_away_exactly_twelve_months(clock):
    # Seed 001 compares month numbers, so March 2024 == March 2025 and nothing resets.
    clock.set(2024, 3, 10)
    counter = token_state(plan="basic", used=800)
    user = counter.subscription.user
    clock.set(2025, 3, 10)
    usage = services.token_usage_get(user=user)
    assert (usage["token_used"], usage["remaining"]) == (0, 1000)
    assert counter_of(user).period_start == date(2025, 3, 1)


def test_no_reset_within_the_month_or_when_the_clock_is_behind(clock):
    counter = token_state(plan="basic", used=800, period_start=date(2025, 2, 1))
    assert services.token_usage_get(user=counter.subscription.user)["token_used"] == 800
    assert counter_of(counter.subscription.user).period_start == date(2025, 2, 1)


@override_settings(BILLING_TIME_ZONE="Asia/Kolkata")
def test_billing_month_follows_the_billing_time_zone(clock):
    counter = token_state(plan="basic", used=800, period_start=date(2025, 1, 1))
    clock.set(2025, 1, 31, 18, 0)  # 23:30 in Kolkata: still January
    assert services.token_usage_get(user=counter.subscription.user)["token_used"] == 800
    clock.set(2025, 1, 31, 18, 30)  # 00:00 on 1 February in Kolkata
    assert clock_module.billing_month_start() == date(2025, 2, 1)
    assert services.token_usage_get(user=counter.subscription.user)["token_used"] == 0


def test_ended_plan_falls_back_to_basic_on_read(clock):
    end = clock.now + timedelta(days=3)
    counter = token_state(plan="premium", quota=50_000, used=1_200, end=end)
    user = counter.subscription.user
    clock.now = end - timedelta(seconds=1)
    assert services.token_usage_get(user=user)["plan"] == "premium"
    clock.now = end
    assert services.token_usage_get(user=user) == {
        "plan": "basic", "token_quota": 1_000, "token_used": 1_200, "remaining": -200,
        "plan_end_at": None}
    subscription = Subscription.objects.get(user=user, status="active")
    assert subscription.current_period_start == end
    event = SubscriptionEvent.objects.get(kind="expired")
    assert (event.from_plan_code, event.to_plan_code) == ("premium", "basic")


def test_ended_plan_in_a_later_month_falls_back_and_resets(clock):
    counter = token_state(plan="standard", used=9_000, end=datetime(2025, 1, 25, tzinfo=UTC))
    clock.set(2025, 3, 2)
    usage = services.token_usage_get(user=counter.subscription.user)
    assert usage == {"plan": "basic", "token_quota": 1_000, "token_used": 0, "remaining": 1_000,
                     "plan_end_at": None}


def test_plan_change_applies_the_lazy_reset_first(clock):
    counter = token_state(plan="basic", used=1_000, period_start=date(2024, 12, 1))
    change = services.token_plan_change(principal=ADMIN, user=counter.subscription.user, plan_code="standard")
    # December's usage is gone before carry-over is computed: 10,000 + 1,000.
    assert (change.token_quota, change.token_used) == (11_000, 0)


# --- consumption ---------------------------------------------------------------------------

def test_consume_adds_and_refuses_past_the_quota():
    counter = token_state(plan="basic", used=0)
    user = counter.subscription.user
    assert services.token_consume(user=user, tokens=300) == {
        "plan": "basic", "token_quota": 1000, "token_used": 300, "remaining": 700,
        "plan_end_at": None}
    assert services.token_consume(user=user, tokens=700)["remaining"] == 0
    with pytest.raises(QuotaExceeded) as exc:
        services.token_consume(user=user, tokens=1)
    assert (exc.value.status_code, exc.value.message, exc.value.extra) == (
        402, "quota exceeded", {"remaining": 0})
    assert counter_of(user).used == 1000


@pytest.mark.postgres_only
def test_consume_on_postgresql_is_one_statement(django_assert_num_queries):
    counter = token_state(plan="premium", end=datetime(2025, 2, 1, tzinfo=UTC))
    with django_assert_num_queries(1) as captured:
        usage = services.token_consume(user_id=counter.subscription.user_id, tokens=5)
    assert captured.captured_queries[0]["sql"].lstrip().startswith("UPDATE")
    assert usage["token_used"] == 5 and usage["plan_end_at"] == "2025-02-01T00:00:00Z"


@pytest.mark.postgres_only  # one PostgreSQL statement
def test_consume_folds_in_the_month_reset(clock, django_assert_num_queries):
    counter = token_state(plan="standard", quota=13_000, used=12_999,
                          period_start=date(2024, 12, 1), end=clock.now + timedelta(days=5))
    with django_assert_num_queries(1):
        usage = services.token_consume(user=counter.subscription.user, tokens=10_000)
    assert (usage["token_quota"], usage["token_used"]) == (10_000, 10_000)
    counter.refresh_from_db()
    assert (counter.quota, counter.used, counter.period_start) == (10_000, 10_000, date(2025, 1, 1))


def test_refused_consume_still_resets_the_stale_period(clock):
    counter = token_state(plan="basic", used=900, period_start=date(2024, 12, 1))
    with pytest.raises(QuotaExceeded) as exc:
        services.token_consume(user=counter.subscription.user, tokens=1_001)
    assert exc.value.extra == {"remaining": 1_000}
    counter.refresh_from_db()
    assert (counter.used, counter.period_start) == (0, date(2025, 1, 1))


def test_consume_on_an_ended_plan_falls_back_first(clock):
    counter = token_state(plan="premium", used=200, end=clock.now - timedelta(minutes=1))
    usage = services.token_consume(user=counter.subscription.user, tokens=100)
    assert usage == {"plan": "basic", "token_quota": 1_000, "token_used": 300, "remaining": 700,
                     "plan_end_at": None}


def test_consume_after_a_downgrade_reports_negative_remaining():
    counter = token_state(plan="basic", quota=1_000, used=1_500)
    with pytest.raises(QuotaExceeded) as exc:
        services.token_consume(user=counter.subscription.user, tokens=1)
    assert exc.value.extra == {"remaining": -500}


def test_consume_provisions_a_new_user(user):
    usage = services.token_consume(user=user, tokens=10)
    assert (usage["plan"], usage["token_used"]) == ("basic", 10)
    assert Subscription.objects.filter(user=user).count() == 1


def test_consume_unknown_user_and_tenant_limit():
    tenant, other = TenantFactory(), TenantFactory()
    member = UserFactory(tenant=tenant)
    with pytest.raises(NotFound):
        services.token_consume(user_id=member.pk + 10_000, tokens=1)
    with pytest.raises(NotFound):
        services.token_consume(user_id=member.pk, tokens=1, tenant_id=other.pk)
    token_state(user=member)
    with pytest.raises(NotFound):  # provisioned, still not theirs
        services.token_consume(user_id=member.pk, tokens=1, tenant_id=other.pk)
    assert services.token_consume(user_id=member.pk, tokens=1, tenant_id=tenant.pk)["token_used"] == 1


def test_consume_refused_for_a_suspended_subscription():
    counter = token_state(status=Subscription.Status.SUSPENDED)
    with pytest.raises(Forbidden):
        services.token_consume(user=counter.subscription.user, tokens=1)
    assert services.token_usage_get(user=counter.subscription.user)["token_used"] == 0


@pytest.mark.parametrize("tokens", [0, -1, True, 1.5, "3", None, services.CONSUME_MAX + 1])
def test_consume_rejects_bad_amounts(user, tokens):
    with pytest.raises(InvalidInput):
        services.token_consume(user=user, tokens=tokens)


# --- constraints ---------------------------------------------------------------------------

def test_one_live_subscription_per_user_and_product(user):
    SubscriptionFactory(user=user)
    with pytest.raises(IntegrityError), transaction.atomic():
        SubscriptionFactory(user=user, plan=token_plan("premium"))
    SubscriptionFactory(user=user, status=Subscription.Status.CANCELLED)
    SubscriptionFactory(user=user, status=Subscription.Status.EXPIRED)
    assert Subscription.objects.filter(user=user).count() == 3


@pytest.mark.parametrize("field", ["used", "quota"])
def test_counter_values_cannot_be_negative(field):
    counter = token_state()
    with pytest.raises(IntegrityError), transaction.atomic():
        UsageCounter.objects.filter(pk=counter.pk).update(**{field: -1})


def test_used_may_exceed_quota_in_the_database():
    counter = token_state(quota=10, used=11)
    assert counter.remaining == -1


def test_generic_consume_path_keeps_the_same_rules(monkeypatch, clock):
    """Without PostgreSQL, consume runs the locked path: same results, same refusals."""
    from django.db import connection

    monkeypatch.setattr(connection, "vendor", "sqlite")
    counter = token_state(plan="premium", quota=50_500, used=50_000, period_start=date(2024, 12, 1),
                          end=clock.now + timedelta(days=1))
    user = counter.subscription.user
    assert services.token_consume(user=user, tokens=30_000)["token_used"] == 30_000
    with pytest.raises(QuotaExceeded) as exc:
        services.token_consume(user=user, tokens=20_001)
    assert exc.value.extra == {"remaining": 20_000}
    clock.advance(days=1)  # premium ended: basic, usage kept
    with pytest.raises(QuotaExceeded) as exc:
        services.token_consume(user=user, tokens=1)
    assert exc.value.extra == {"remaining": -29_000}
    clock.set(2025, 2, 1)
    usage = services.token_consume(user=user, tokens=1)
    assert (usage["plan"], usage["token_quota"], usage["token_used"]) == ("basic", 1_000, 1)
