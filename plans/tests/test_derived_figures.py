"""Derived figures cannot disagree with what they derive from (issue 10, item 8): the services
fill them in, a disagreement given is refused, and the database refuses it as well."""

import pytest
from django.db import IntegrityError, connection, transaction

from config.errors import InvalidInput
from plans import services
from plans.models import RatePlan

pytestmark = pytest.mark.django_db


def _telephony(**fields):
    return services.rate_plan_create(product="telephony", code="DERIVED", name="Derived",
                                     monthly_price_paise=10_000, **fields)


def test_the_rupee_price_per_minute_is_derived_from_paise_and_the_other_way_round():
    assert _telephony(limits={"pricePerMinutePaise": 150}).limits == {"pricePerMinutePaise": 150,
                                                                      "pricePerMinute": 1.5}
    plan = RatePlan.objects.get(code="DERIVED")
    services.rate_plan_update(plan=plan, limits={"pricePerMinute": "2.25"})
    plan.refresh_from_db()
    assert plan.limits == {"pricePerMinute": "2.25", "pricePerMinutePaise": 225}


@pytest.mark.parametrize("limits", [
    {"pricePerMinute": 1.99, "pricePerMinutePaise": 200}, {"pricePerMinute": 1.999},
    {"pricePerMinutePaise": -1}, {"pricePerMinutePaise": 1.5}, {"pricePerMinute": "abc"},
])
def test_a_disagreeing_or_bad_price_per_minute_is_refused(limits):
    with pytest.raises(InvalidInput) as caught:
        _telephony(limits=limits)
    assert "limits" in caught.value.fields
    assert not RatePlan.objects.filter(code="DERIVED").exists()


def test_the_api_answers_a_disagreement_with_400(staff_client):
    plan = RatePlan.objects.get(product="telephony", code="STARTER")
    response = staff_client.put(f"/api/rate-plans/{plan.pk}",
                                {"limits": {"pricePerMinute": 1.99, "pricePerMinutePaise": 150}}, format="json")
    assert response.status_code == 400 and "disagrees" in response.json()["error"]["message"]
    plan.refresh_from_db()
    assert plan.limits["pricePerMinutePaise"] == 199


def test_a_token_plans_tokens_limit_follows_its_allowance():
    plan = RatePlan.objects.get(product="tokens", code="standard")
    services.rate_plan_update(plan=plan, token_allowance=12_000)
    plan.refresh_from_db()
    assert plan.limits["tokens"] == 12_000
    with pytest.raises(InvalidInput):
        services.rate_plan_update(plan=plan, token_allowance=13_000, limits={"tokens": 1})


def test_a_quarterly_price_above_three_months_is_refused():
    with pytest.raises(InvalidInput) as caught:
        _telephony(quarterly_price_paise=30_001)
    assert "quarterly_price_paise" in caught.value.fields
    plan = _telephony(quarterly_price_paise=27_000)  # a discount is fine
    with pytest.raises(InvalidInput):
        services.rate_plan_update(plan=plan, monthly_price_paise=8_000)  # 27,000 > 3 × 8,000
    with pytest.raises(IntegrityError), transaction.atomic():
        RatePlan.objects.filter(pk=plan.pk).update(quarterly_price_paise=30_001)


@pytest.mark.postgres_only  # JSON checks are PostgreSQL constraints
@pytest.mark.parametrize("sql", [
    """UPDATE plans_rateplan SET limits = jsonb_set(limits, '{pricePerMinute}', '2.5') WHERE code = 'STARTER'""",
    """UPDATE plans_rateplan SET token_allowance = 5 WHERE product = 'tokens' AND code = 'standard'""",
])
def test_the_database_refuses_disagreeing_figures(sql):
    with pytest.raises(IntegrityError), transaction.atomic():
        with connection.cursor() as cursor:
            cursor.execute(sql)
