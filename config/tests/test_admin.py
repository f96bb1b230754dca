"""Every registered admin page renders for a superuser: changelist (with search), add form."""

import pytest
from django.contrib import admin
from django.urls import reverse

from accounts.tests.factories import UserFactory

pytestmark = pytest.mark.django_db

MODEL_ADMINS = sorted(admin.site._registry.items(), key=lambda item: item[0]._meta.label)


@pytest.fixture
def admin_client(client):
    client.force_login(UserFactory(is_staff=True, is_superuser=True))
    return client


@pytest.mark.parametrize("model,model_admin", MODEL_ADMINS, ids=[m._meta.label for m, _ in MODEL_ADMINS])
def test_changelist_and_search_render(admin_client, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_changelist")
    assert admin_client.get(url).status_code == 200
    if model_admin.search_fields:
        assert admin_client.get(url, {"q": "x"}).status_code == 200


@pytest.mark.parametrize("model,model_admin", MODEL_ADMINS, ids=[m._meta.label for m, _ in MODEL_ADMINS])
def test_add_form_renders_or_is_disabled(admin_client, model, model_admin):
    url = reverse(f"admin:{model._meta.app_label}_{model._meta.model_name}_add")
    assert admin_client.get(url).status_code in (200, 403)


def test_api_key_admin_never_shows_the_hash(admin_client, api_key):
    url = reverse("admin:tenants_apikey_change", args=[api_key[0].pk])
    page = admin_client.get(url).content.decode()
    assert api_key[0].key_hash not in page
    assert api_key[1] not in page


def test_refresh_tokens_are_not_shown_in_the_admin(admin_client):
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    from accounts.services import auth_tokens_issue

    tokens = auth_tokens_issue(user=UserFactory())
    outstanding = OutstandingToken.objects.get(token=tokens["refresh"])
    page = admin_client.get(reverse("admin:token_blacklist_outstandingtoken_change", args=[outstanding.pk]))
    assert page.status_code == 200
    assert tokens["refresh"] not in page.content.decode()


def test_admin_added_user_is_normalized_like_everywhere_else(admin_client, tenant):
    from accounts.models import User

    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "Mixed@Example.COM", "phone": "98765 43210", "tenant": tenant.pk,
        "password1": "a-long-and-unusual-passphrase-42", "password2": "a-long-and-unusual-passphrase-42",
        "usable_password": "true",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(phone="+919876543210")
    assert user.email == "mixed@example.com" and user.tenant == tenant


def test_admin_refuses_an_invalid_phone(admin_client):
    from accounts.models import User

    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "p@example.com", "phone": "12", "password1": "a-long-and-unusual-passphrase-42",
        "password2": "a-long-and-unusual-passphrase-42", "usable_password": "true",
    })
    assert response.status_code == 200 and "Invalid phone number" in response.content.decode()
    assert not User.objects.filter(email="p@example.com").exists()
