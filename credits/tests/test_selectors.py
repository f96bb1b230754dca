"""credits.selectors take plain arguments: who may see which user (the principal), wallets and
ledger pages."""

from datetime import timedelta

import pytest
from django.utils import timezone

from accounts.tests.factories import UserFactory
from config.errors import InvalidInput, NotFound
from config.policy import principal_for_api_key, principal_for_user
from credits import selectors, services
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user
from tenants.services import api_key_create
from tenants.tests.factories import TenantFactory

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"


@pytest.fixture
def two_tenants():
    first, second = TenantFactory(), TenantFactory()
    return first, second, phone_user(first, PHONE, 3), phone_user(second, PHONE, 7)


def P(who):
    """The principal (config.policy) of a key or a person."""
    return principal_for_api_key(who) if getattr(who, "is_api_key", False) else principal_for_user(who)


def _key(tenant):
    key, _ = api_key_create(tenant=tenant, name="k", scopes=["bot"])
    return key


def test_an_api_key_sees_its_tenants_user_only(two_tenants):
    first, second, mine, _ = two_tenants
    assert selectors.user_visible_by_phone(principal=P(_key(first)), phone="98765 43210") == mine
    # A slug naming another tenant changes nothing for a key.
    assert selectors.user_visible_by_phone(principal=P(_key(first)), phone=PHONE,
                                           tenant_slug=second.slug) == mine
    assert selectors.user_visible_by_id(principal=P(_key(first)), user_id=mine.pk) == mine
    with pytest.raises(NotFound):
        selectors.user_visible_by_phone(principal=P(_key(TenantFactory())), phone=PHONE)


def test_staff_pick_the_tenant_when_a_number_is_ambiguous(two_tenants):
    first, second, mine, theirs = two_tenants
    staff = UserFactory(is_staff=True)
    with pytest.raises(InvalidInput) as ambiguous:
        selectors.user_visible_by_phone(principal=P(staff), phone=PHONE)
    assert ambiguous.value.code == "ambiguous_phone_number"
    assert selectors.user_visible_by_phone(principal=P(staff), phone=PHONE, tenant_slug=second.slug) == theirs
    with pytest.raises(NotFound):
        selectors.user_visible_by_phone(principal=P(staff), phone=PHONE, tenant_slug="no-such-tenant")
    assert selectors.user_visible_by_id(principal=P(staff), user_id=theirs.pk) == theirs


def test_a_user_sees_themself_only(two_tenants):
    _, _, mine, theirs = two_tenants
    assert selectors.user_visible_by_phone(principal=P(mine), phone=PHONE) == mine
    assert selectors.user_visible_by_id(principal=P(mine), user_id=mine.pk) == mine
    with pytest.raises(NotFound):
        selectors.user_visible_by_id(principal=P(mine), user_id=theirs.pk)
    stranger = UserFactory()
    with pytest.raises(NotFound):
        selectors.user_visible_by_phone(principal=P(stranger), phone=PHONE)


def test_wallet_by_phone_carries_the_users_state(two_tenants):
    first, _, mine, _ = two_tenants
    wallet = selectors.wallet_by_phone(tenant=first, phone=PHONE)
    assert wallet.user_id == mine.pk and wallet.balance == 3 and wallet.user_is_active is True
    assert selectors.wallet_by_phone(tenant=TenantFactory(), phone=PHONE) is None


def test_wallet_transactions_page_filters_with_plain_values(two_tenants):
    _, _, mine, _ = two_tenants
    wallet = Wallet.objects.get(user=mine)
    services.wallet_deduct(wallet=wallet, credits=1)
    now = timezone.now()

    def ids(**filters):
        page = selectors.wallet_transactions_page(user=mine, page=1, page_size=10, **filters)
        return [row.action for row in page["results"]]

    assert ids() == [CreditTransaction.Action.DEBIT, CreditTransaction.Action.CREDIT]
    assert ids(action="credit") == ["credit"]
    assert ids(source="usage") == ["debit"]
    assert ids(created_from=now + timedelta(minutes=1)) == []
    assert ids(created_to=now - timedelta(days=1)) == []
    assert len(ids(created_from=now - timedelta(days=1), created_to=now + timedelta(days=1))) == 2


def test_tenant_wallets_page_takes_page_numbers():
    funded = TenantFactory(name="A")
    TenantFactory(name="B")
    services.wallet_grant(wallet=services.wallet_get_or_create_for_tenant(tenant=funded), credits=4,
                          source="adjustment")
    page = selectors.tenant_wallets_page(page=1, page_size=1)
    assert page["count"] == 2 and page["total_pages"] == 2
    assert page["results"][0]["tenant_id"] == funded.pk and page["results"][0]["balance"] == 4
    assert selectors.tenant_wallets_page(page=2, page_size=1)["results"][0]["balance"] == 0
