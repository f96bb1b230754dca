"""The user admin: users added by staff are normalized like the API's; refresh tokens stay hidden.

`admin_client` is pytest-django's: a client logged in as a superuser."""

import pytest
from django.urls import reverse
from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

from accounts.models import User
from accounts.services import auth_tokens_issue
from accounts.tests.factories import UserFactory
from accounts.tokens import token_digest

pytestmark = pytest.mark.django_db


def test_refresh_tokens_are_not_shown_in_the_admin(admin_client):
    tokens = auth_tokens_issue(user=UserFactory())
    outstanding = OutstandingToken.objects.get(token=token_digest(tokens["refresh"]))
    page = admin_client.get(reverse("admin:token_blacklist_outstandingtoken_change", args=[outstanding.pk]))
    assert page.status_code == 200
    assert tokens["refresh"] not in page.content.decode()


def test_admin_added_user_is_normalized_like_everywhere_else(admin_client, tenant):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "Mixed@Example.COM", "phone": "98765 43210", "tenant": tenant.pk,
        "password1": "a-long-and-unusual-passphrase-42", "password2": "a-long-and-unusual-passphrase-42",
        "usable_password": "true",
    })
    assert response.status_code == 302, response.content.decode()[:2000]
    user = User.objects.get(phone="+919876543210")
    assert user.email == "mixed@example.com" and user.tenant == tenant


def test_admin_refuses_an_invalid_phone(admin_client):
    response = admin_client.post(reverse("admin:accounts_user_add"), {
        "email": "p@example.com", "phone": "12", "password1": "a-long-and-unusual-passphrase-42",
        "password2": "a-long-and-unusual-passphrase-42", "usable_password": "true",
    })
    assert response.status_code == 200 and "Invalid phone number" in response.content.decode()
    assert not User.objects.filter(email="p@example.com").exists()
