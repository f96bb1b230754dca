"""The bot's deduction answers its plain call without DRF's machinery (config.lean): the same
answer as the full view, everything else handed to the full view before anything changes, and
the work never run twice."""

import json
from unittest import mock

import pytest
from django.urls import resolve
from rest_framework.test import APIClient

from credits import services
from credits.models import CreditTransaction, Wallet
from credits.tests.factories import phone_user
from credits.views import bot
from tenants.services import api_key_create

pytestmark = pytest.mark.django_db

PHONE = "+919876543210"
# Headers that differ from one answer to the next whatever the path.
PER_REQUEST_HEADERS = {"X-Request-ID"}


def deduct(client, body, *, path="/api/bot/deduct", content_type="application/json", **headers):
    data = body if isinstance(body, str) else json.dumps(body)
    return client.post(path, data=data, content_type=content_type, **headers)


def balance_of(user) -> int:
    return Wallet.objects.get(user=user).balance


def answer(response) -> tuple:
    headers = {name: value for name, value in response.items() if name not in PER_REQUEST_HEADERS}
    return response.status_code, response.content, headers


@pytest.fixture
def full_view_calls():
    """How many requests reached the full DRF view (its handler or its exception handling)."""
    with mock.patch.object(bot.BotDeductView, "dispatch", autospec=True,
                           side_effect=bot.BotDeductView.dispatch) as dispatch:
        yield dispatch


def test_the_view_keeps_its_class_for_urls_schema_and_csrf():
    view = resolve("/api/bot/deduct").func
    assert view.cls is bot.BotDeductView and view.initkwargs == {}
    assert view.csrf_exempt is True


def test_a_plain_call_skips_the_full_view_and_deducts_once(bot_client, tenant, full_view_calls):
    user = phone_user(tenant, PHONE, 5)
    response = deduct(bot_client, {"phone_number": PHONE, "credits": 2})
    assert response.status_code == 200
    assert response.json() == {"status": "SUCCESS", "message": "Image generated successfully. You have "
                               "3 credits remaining.", "data": {"remaining_credits": 3}}
    assert full_view_calls.call_count == 0
    assert balance_of(user) == 3
    row = CreditTransaction.objects.get(wallet__user=user, action="debit")
    assert row.metadata == {"api_key": bot_client.api_key.prefix} and row.idempotency_key is None


@pytest.mark.parametrize(("balance", "body"), [
    (5, {"phone_number": "{known}"}),                        # 200
    (5, {"phone_number": "  {known} ", "credits": 5}),       # 200, stripped, down to 0
    (1, {"phone_number": "{known}", "credits": 2}),          # 402 from the work
    (5, {"phone_number": "{new}"}),                          # a new number, created with signup credits
    (5, {"phone_number": "12abc"}),                          # 400 from the work (not a phone number)
])
def test_the_plain_call_answers_byte_for_byte_as_the_full_view(bot_client, tenant, balance, body):
    """The same call on two equal wallets: once plain, once with a query string (which only the
    full view takes, and which it ignores)."""
    answers = []
    for known, new, path in (("+919876543210", "+919800000001", "/api/bot/deduct"),
                             ("+919876543211", "+919800000002", "/api/bot/deduct?from=test")):
        phone_user(tenant, known, balance)
        call = {name: value.format(known=known, new=new) if isinstance(value, str) else value
                for name, value in body.items()}
        answers.append(answer(deduct(bot_client, call, path=path)))
    assert answers[0] == answers[1]
    assert answers[0][0] in (200, 400, 402)


def test_the_work_runs_once_when_it_fails(bot_client, tenant, full_view_calls):
    user = phone_user(tenant, PHONE, 1)
    with mock.patch.object(services, "wallet_deduct_for_phone",
                           wraps=services.wallet_deduct_for_phone) as work:
        response = deduct(bot_client, {"phone_number": PHONE, "credits": 2})
    assert response.status_code == 402
    assert response.json()["status"] == "INSUFFICIENT_CREDITS"
    assert work.call_count == 1 and full_view_calls.call_count == 0
    assert balance_of(user) == 1


def test_an_unexpected_error_in_the_work_is_a_500_and_runs_once(tenant, api_key):
    client = APIClient(HTTP_X_BOT_SECRET=api_key[1], raise_request_exception=False)
    phone_user(tenant, PHONE, 5)
    with mock.patch.object(services, "wallet_deduct_for_phone", side_effect=RuntimeError("boom")) as work:
        response = deduct(client, {"phone_number": PHONE})
    assert response.status_code == 500 and work.call_count == 1


@pytest.mark.parametrize(("kwargs", "status"), [
    ({"HTTP_ACCEPT": "text/html"}, 406),
    ({"content_type": "text/plain"}, 415),
    ({"body": "{"}, 400),
    ({"body": "[1]"}, 400),
    ({"body": {"phone_number": PHONE, "credits": "1"}}, 400),
    ({"body": {"phone_number": PHONE, "amount": 1}}, 400),
    ({"HTTP_X_BOT_SECRET": "kosh_nope_nope"}, 401),
    ({"HTTP_X_BOT_SECRET": ""}, 401),
])
def test_other_calls_go_to_the_full_view_and_change_nothing(bot_client, tenant, full_view_calls, kwargs, status):
    user = phone_user(tenant, PHONE, 5)
    body = kwargs.pop("body", {"phone_number": PHONE})
    client = APIClient() if "HTTP_X_BOT_SECRET" in kwargs else bot_client  # credentials win over kwargs
    response = deduct(client, body, **kwargs)
    assert response.status_code == status, response.content
    if status != 406:  # a 406 is answered before any envelope can be negotiated
        assert response.json()["status"] == "ERROR"
    assert full_view_calls.call_count == 1
    assert balance_of(user) == 5


def test_a_key_without_the_bot_scope_goes_to_the_full_view(tenant, full_view_calls):
    user = phone_user(tenant, PHONE, 5)
    _, raw = api_key_create(tenant=tenant, name="payments only", scopes=["payments"])
    response = deduct(APIClient(HTTP_X_BOT_SECRET=raw), {"phone_number": PHONE})
    assert response.status_code == 403 and full_view_calls.call_count == 1
    assert balance_of(user) == 5


def test_an_unknown_key_keeps_its_authenticate_header(tenant):
    response = deduct(APIClient(HTTP_X_BOT_SECRET="kosh_nope_nope"), {"phone_number": PHONE})
    assert response.status_code == 401 and response["WWW-Authenticate"] == "Api-Key"


def test_a_call_with_an_idempotency_key_goes_to_the_full_view(bot_client, tenant, full_view_calls):
    user = phone_user(tenant, PHONE, 5)
    first = deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    again = deduct(bot_client, {"phone_number": PHONE}, HTTP_IDEMPOTENCY_KEY="gen-1")
    assert again.json() == first.json() and again["Idempotent-Replayed"] == "true"
    assert full_view_calls.call_count == 2
    assert balance_of(user) == 4


def test_the_authorization_header_takes_the_plain_path_too(tenant, api_key, full_view_calls):
    user = phone_user(tenant, PHONE, 5)
    response = deduct(APIClient(HTTP_AUTHORIZATION=f"Api-Key {api_key[1]}"), {"phone_number": PHONE})
    assert response.status_code == 200 and full_view_calls.call_count == 0
    assert balance_of(user) == 4


def test_other_methods_are_the_full_views(bot_client, full_view_calls):
    response = bot_client.get("/api/bot/deduct")
    assert response.status_code == 405 and response.json()["status"] == "ERROR"
    assert full_view_calls.call_count == 1
