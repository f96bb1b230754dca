"""accounts.selectors.user_by_phone: the one read of "the user with this phone in this tenant"."""

import pytest

from accounts.selectors import user_by_phone
from accounts.tests.factories import PhoneUserFactory
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"


def test_finds_the_user_of_that_tenant_only():
    first, second = TenantFactory(), TenantFactory()
    mine = PhoneUserFactory(tenant=first, phone=PHONE)
    theirs = PhoneUserFactory(tenant=second, phone=PHONE)
    assert user_by_phone(tenant=first, phone=PHONE) == mine
    assert user_by_phone(tenant=second.pk, phone=PHONE) == theirs  # a tenant id does as well
    assert user_by_phone(tenant=TenantFactory(), phone=PHONE) is None


def test_no_tenant_means_users_without_one():
    tenant = TenantFactory()
    PhoneUserFactory(tenant=tenant, phone=PHONE)
    assert user_by_phone(tenant=None, phone=PHONE) is None
    own = PhoneUserFactory(tenant=None, phone=PHONE)
    assert user_by_phone(tenant=None, phone=PHONE) == own


def test_one_query(django_assert_num_queries):
    tenant = TenantFactory()
    PhoneUserFactory(tenant=tenant, phone=PHONE)
    with django_assert_num_queries(1):
        assert user_by_phone(tenant=tenant, phone=PHONE) is not None
