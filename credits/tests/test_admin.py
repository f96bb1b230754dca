import pytest
from django.urls import reverse

from accounts.tests.factories import UserFactory
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import funded_wallet, phone_user

pytestmark = pytest.mark.django_db


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


def test_grant_action_asks_for_a_reason_then_calls_the_service(admin_client):
    wallets = [funded_wallet(1), funded_wallet(5)]
    url = reverse("admin:credits_wallet_changelist")
    selected = {"action": "adjust_credits", "_selected_action": [w.pk for w in wallets]}
    form_page = admin_client.post(url, selected)
    assert form_page.status_code == 200 and b"reason" in form_page.content
    missing_reason = admin_client.post(url, {**selected, "apply": "1", "operation": "grant", "credits": 4,
                                             "reason": " "})
    assert missing_reason.status_code == 200 and "reason" in missing_reason.context["form"].errors
    assert sorted(Wallet.objects.values_list("balance", flat=True)) == [1, 5]
    done = admin_client.post(url, {**selected, "apply": "1", "operation": "grant", "credits": 4,
                                   "reason": "goodwill"})
    assert done.status_code == 302
    assert sorted(Wallet.objects.values_list("balance", flat=True)) == [5, 9]
    rows = CreditTransaction.objects.filter(reason="goodwill")
    assert rows.count() == 2 and {r.source for r in rows} == {"adjustment"}
    assert all(r.actor.is_superuser for r in rows)


def test_deduct_action_never_goes_negative(admin_client):
    poor, rich = funded_wallet(1), funded_wallet(5)
    url = reverse("admin:credits_wallet_changelist")
    response = admin_client.post(url, {"action": "adjust_credits", "_selected_action": [poor.pk, rich.pk],
                                       "apply": "1", "operation": "deduct", "credits": 3, "reason": "fix"},
                                 follow=True)
    assert f"of user {poor.user_id}: holds 1 credit; 3 requested.".encode() in response.content
    assert Wallet.objects.get(pk=poor.pk).balance == 1 and Wallet.objects.get(pk=rich.pk).balance == 2


def test_wallet_page_is_view_only(admin_client):
    wallet = funded_wallet(3)
    url = reverse("admin:credits_wallet_change", args=[wallet.pk])
    assert admin_client.get(url).status_code == 200
    admin_client.post(url, {"balance": 999})
    assert Wallet.objects.get(pk=wallet.pk).balance == 3
    assert admin_client.get(reverse("admin:credits_wallet_add")).status_code == 403
    assert admin_client.get(reverse("admin:credits_wallet_delete", args=[wallet.pk])).status_code == 403


def test_ledger_is_read_only_and_searchable(admin_client, tenant):
    customer = phone_user(tenant, "+919876543210", 3)
    row = CreditTransaction.objects.get(wallet__user=customer)
    changelist = reverse("admin:credits_credittransaction_changelist")
    found = admin_client.get(changelist, {"q": "+919876543210"})
    assert found.status_code == 200 and found.context["cl"].result_count == 1
    assert admin_client.get(changelist, {"q": "nobody"}).context["cl"].result_count == 0
    assert admin_client.get(reverse("admin:credits_credittransaction_add")).status_code == 403
    change = reverse("admin:credits_credittransaction_change", args=[row.pk])
    assert admin_client.get(change).status_code == 200
    admin_client.post(change, {"credits": 500})
    assert admin_client.get(reverse("admin:credits_credittransaction_delete", args=[row.pk])).status_code == 403
    assert CreditTransaction.objects.get(pk=row.pk).credits == 3
