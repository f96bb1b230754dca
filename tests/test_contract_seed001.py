"""Contract audit against seed 001 (FastAPI token routes) as amended by DESIGN §4.2.

Seed 001's schemas: TokenUsageResponse {plan, token_quota, token_used, remaining, plan_end_at},
SetPlanRequest {plan, reset_used?}, SetPlanResponse {status, message, plan, token_quota,
token_used, remaining}, ErrorResponse {error}; messages f"upgraded to {plan} with carry-over",
"plan confirmed", f"downgraded to {plan}". DESIGN: the reset puts `quota` back to the allowance
(carry-over lives one period), and applies on every path that reads or changes the counter.
"""

from datetime import timedelta

import pytest
from rest_framework.test import APIClient

from subscriptions import services
from subscriptions.models import UsageCounter

pytestmark = pytest.mark.django_db

USAGE, SET_PLAN, CONSUME = "/api/tokens/usage", "/api/tokens/set-plan", "/api/tokens/consume"


def _types_of_usage(body):
    assert set(body) == {"plan", "token_quota", "token_used", "remaining", "plan_end_at"}
    assert isinstance(body["plan"], str)
    for key in ("token_quota", "token_used", "remaining"):
        assert isinstance(body[key], int) and not isinstance(body[key], bool)


def _set_plan(client, plan, **extra):
    response = client.post(SET_PLAN, {"plan": plan, **extra}, format="json")
    assert response.status_code == 200, response.content
    return response.json()


def _age_counter(user):
    """Put the user's token counter into an earlier billing month."""
    counter = UsageCounter.objects.get(subscription__user=user, subscription__product="tokens",
                                       metric="tokens")
    earlier = (counter.period_start - timedelta(days=1)).replace(day=1)
    UsageCounter.objects.filter(pk=counter.pk).update(period_start=earlier)


def test_usage_response_types(auth_client):
    body = auth_client.get(USAGE).json()
    _types_of_usage(body)
    assert body["remaining"] == body["token_quota"] - body["token_used"]


def test_same_tier_keeps_used_and_quota(staff_client):
    # same tier: new_quota = quota; new_used = 0 if reset_used else used; message "plan confirmed"
    _set_plan(staff_client, "standard")
    quota = staff_client.get(USAGE).json()["token_quota"]
    services.token_consume(user_id=staff_client.user.pk, tokens=400, tenant_id=None)
    body = _set_plan(staff_client, "standard")
    assert body == {"status": "ok", "message": "plan confirmed", "plan": "standard",
                    "token_quota": quota, "token_used": 400, "remaining": quota - 400}


def test_downgrade_keeps_used_unless_reset(staff_client):
    # downgrade: new_quota = allowance(new); new_used = 0 if reset_used else used
    _set_plan(staff_client, "premium")
    services.token_consume(user_id=staff_client.user.pk, tokens=1500, tenant_id=None)
    body = _set_plan(staff_client, "basic")
    # "The remaining tokens might be negative after downgrade (which is fine)" (seed 000 FAQ)
    assert body == {"status": "ok", "message": "downgraded to basic", "plan": "basic",
                    "token_quota": 1000, "token_used": 1500, "remaining": -500}
    usage = staff_client.get(USAGE).json()
    assert usage["plan_end_at"] is None and usage["remaining"] == -500


def test_downgrade_with_reset_used(staff_client):
    _set_plan(staff_client, "premium")
    services.token_consume(user_id=staff_client.user.pk, tokens=1500, tenant_id=None)
    body = _set_plan(staff_client, "standard", reset_used=True)
    assert body == {"status": "ok", "message": "downgraded to standard", "plan": "standard",
                    "token_quota": 10000, "token_used": 0, "remaining": 10000}
    # downgrade to a paid tier keeps the plan's end (plan_end_at = user_plan.plan_end_at)
    assert staff_client.get(USAGE).json()["plan_end_at"] is not None


def test_upgrade_from_basic_carries_over(staff_client):
    staff_client.get(USAGE)
    services.token_consume(user_id=staff_client.user.pk, tokens=250, tenant_id=None)
    body = _set_plan(staff_client, "standard")
    assert body == {"status": "ok", "message": "upgraded to standard with carry-over",
                    "plan": "standard", "token_quota": 10750, "token_used": 0, "remaining": 10750}


def test_lazy_monthly_reset_on_usage(staff_client):
    # "Check if monthly reset is needed ... token_used = 0"; DESIGN: quota = plan allowance too
    _set_plan(staff_client, "premium")  # 51000 with carry-over of basic's 1000
    services.token_consume(user_id=staff_client.user.pk, tokens=700, tenant_id=None)
    _age_counter(staff_client.user)
    body = staff_client.get(USAGE).json()
    assert (body["plan"], body["token_quota"], body["token_used"], body["remaining"]) == (
        "premium", 50000, 0, 50000)


def test_lazy_reset_applies_on_set_plan(staff_client):
    # DESIGN §4.2: the reset "applies on every path that reads or changes the counter (usage,
    # consume, set-plan)": an old period's used tokens are not carried, nor kept on same tier.
    _set_plan(staff_client, "standard")
    services.token_consume(user_id=staff_client.user.pk, tokens=900, tenant_id=None)
    _age_counter(staff_client.user)
    body = _set_plan(staff_client, "standard")
    assert (body["token_quota"], body["token_used"]) == (10000, 0)


def test_lazy_reset_applies_on_consume(auth_client):
    auth_client.get(USAGE)
    services.token_consume(user_id=auth_client.user.pk, tokens=1000, tenant_id=None)
    _age_counter(auth_client.user)
    response = auth_client.post(CONSUME, {"tokens": 10}, format="json")
    assert response.status_code == 200
    body = response.json()
    _types_of_usage(body)
    assert (body["token_quota"], body["token_used"], body["remaining"]) == (1000, 10, 990)


def test_consume_refuses_over_quota(auth_client):
    # DESIGN §4.2: 402 {"error": "quota exceeded", "remaining": r}
    auth_client.get(USAGE)
    assert auth_client.post(CONSUME, {"tokens": 990}, format="json").status_code == 200
    response = auth_client.post(CONSUME, {"tokens": 11}, format="json")
    assert response.status_code == 402
    assert response.json() == {"error": "quota exceeded", "remaining": 10}
    assert auth_client.get(USAGE).json()["token_used"] == 990


@pytest.mark.parametrize("body", [{}, {"tokens": "5"}, {"tokens": 0}, {"tokens": -1}, {"tokens": 1.5}])
def test_consume_invalid_body(auth_client, body):
    response = auth_client.post(CONSUME, body, format="json")
    assert response.status_code == 400
    assert response.json() == {"error": "invalid body"}


def test_consume_unauthorized():
    response = APIClient().post(CONSUME, {"tokens": 1}, format="json")
    assert response.status_code == 401 and response.json() == {"error": "unauthorized"}

