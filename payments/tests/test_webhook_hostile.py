"""A correctly signed webhook whose body nests 1,000 deep is refused (400), never a 500."""

import pytest

from payments.models import WebhookEvent
from payments.tests.conftest import post_webhook


@pytest.mark.django_db
def test_signed_deeply_nested_webhook_body_is_a_400(api_client, fake_razorpay):
    body = ('{"event": "payment.captured", "payload": ' + "[" * 1000 + "]" * 1000 + "}").encode()
    response = post_webhook(api_client, body)
    assert response.status_code == 400
    assert response.json()["error"]["code"] == "invalid_body"
    assert not WebhookEvent.objects.exists()
