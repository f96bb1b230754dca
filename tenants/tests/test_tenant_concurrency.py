"""Tenant services under real threads on PostgreSQL (DESIGN §8): exact outcomes, no mocks."""


import pytest

from config.errors import Conflict
from config.models import AuditEvent
from config.tests.threads import run_together
from tenants.models import Tenant
from tenants.services import tenant_create, tenant_suspend
from tenants.tests.factories import TenantFactory

pytestmark = [pytest.mark.django_db(transaction=True), pytest.mark.postgres_only]
THREADS = 8
TIMEOUT = 60


def together(job, threads=THREADS):
    """`job` on `threads` threads released at once; each one's result or exception."""
    return run_together([job] * threads, timeout=TIMEOUT)


def test_concurrent_suspensions_one_wins_the_rest_409():
    tenant = TenantFactory()
    results = together(lambda: tenant_suspend(tenant=Tenant.objects.get(pk=tenant.pk), reason="race"))
    assert sum(isinstance(r, Tenant) for r in results) == 1
    assert sum(isinstance(r, Conflict) for r in results) == THREADS - 1
    assert AuditEvent.objects.filter(action="tenant.suspend").count() == 1


def test_concurrent_creates_with_one_name_get_distinct_slugs():
    results = together(lambda: tenant_create(name="Same Name"))
    assert all(isinstance(r, Tenant) for r in results), results
    assert sorted(Tenant.objects.values_list("slug", flat=True)) == sorted(
        ["same-name", *(f"same-name-{n}" for n in range(2, THREADS + 1))])
    assert AuditEvent.objects.filter(action="tenant.create").count() == THREADS
