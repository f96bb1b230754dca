"""Issue 14, item 12: a user cannot verify themselves, and text given as numbers is refused
everywhere instead of being stored as a string."""

import pytest


@pytest.mark.django_db
def test_a_user_cannot_mark_their_whatsapp_verified(auth_client):
    response = auth_client.patch("/api/auth/me", {"is_whatsapp_verified": True}, format="json")
    assert response.status_code == 400
    assert response.json()["error"]["fields"] == {"is_whatsapp_verified": ["Read-only."]}
    auth_client.user.refresh_from_db()
    assert auth_client.user.is_whatsapp_verified is False


@pytest.mark.django_db
def test_register_cannot_claim_whatsapp_verified(api_client):
    response = api_client.post("/api/auth/register", {
        "email": "new@example.com", "password": "a-long-passphrase-42", "is_whatsapp_verified": True,
    }, format="json")
    assert response.status_code == 400
    from accounts.models import User

    assert not User.objects.filter(email="new@example.com").exists()


@pytest.mark.django_db
@pytest.mark.parametrize("path, client_name, body", [
    ("/api/bot/deduct", "api_key", {"phone_number": "+919876543210", "source": 12345}),
    ("/api/bot/deduct", "api_key", {"phone_number": "+919876543210", "reference_id": 42}),
    ("/api/v1/admin/credits/purchase", "staff", {"credits": 5, "reason": 5}),
    ("/api/v1/admin/credits/purchase", "staff", {"credits": 5, "vendor": 5}),
    ("/api/v1/admin/credits/purchase", "staff", {"credits": 5, "reference_id": 5}),
    ("/api/auth/me", "user", {"name": 12345}),
    ("/api/auth/me", "user", {"core_processes": ["sales", 3]}),
])
def test_numbers_in_text_fields_are_refused(callers, path, client_name, body):
    client = callers[client_name]
    method = client.patch if path == "/api/auth/me" else client.post
    response = method(path, body, format="json")
    assert response.status_code == 400, response.content
    assert "Not a valid string." in response.content.decode()
