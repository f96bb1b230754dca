"""GET /api/rate-plans/public from the cache (issue 16): no query once cached; a catalog change
through the services, the admin (save) or a QuerySet.update() followed by
catalog_cache_invalidate() shows at once; CATALOG_CACHE_SECONDS=0 turns it off."""

import pytest
from django.db import connection
from django.test.utils import CaptureQueriesContext

from plans.cache import catalog_cache_invalidate
from plans.models import RatePlan
from plans.services import rate_plan_update

pytestmark = pytest.mark.django_db

PUBLIC = "/api/rate-plans/public"


def names(api_client, **params) -> tuple[set[str], int]:
    with CaptureQueriesContext(connection) as captured:
        response = api_client.get(PUBLIC, params)
    assert response.status_code == 200
    return {plan["planName"] for plan in response.json()["data"]}, len(captured.captured_queries)


def starter() -> RatePlan:
    return RatePlan.objects.get(product="telephony", code="STARTER")


def test_served_from_the_cache_once_built(api_client):
    first, queries = names(api_client, product="telephony")
    assert "Starter Plan" in first and queries == 2
    assert names(api_client, product="telephony") == (first, 0)


def test_a_change_through_the_service_shows_at_once(api_client):
    names(api_client, product="telephony")
    rate_plan_update(plan=starter(), name="Starter Plus")
    assert "Starter Plus" in names(api_client, product="telephony")[0]
    assert "Starter Plus" in names(api_client)[0]


def test_an_update_needs_the_invalidation_call(api_client):
    names(api_client)
    RatePlan.objects.filter(pk=starter().pk).update(is_public=False)
    assert "Starter Plan" in names(api_client)[0]  # cached: update() sends no signal
    catalog_cache_invalidate()
    assert "Starter Plan" not in names(api_client)[0]


def test_cache_off(api_client, settings):
    settings.CATALOG_CACHE_SECONDS = 0
    names(api_client)
    assert names(api_client)[1] == 2
