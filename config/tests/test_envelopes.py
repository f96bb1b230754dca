import pytest

from config.models import IdempotencyRecord

pytestmark = [pytest.mark.urls("config.tests.urls"), pytest.mark.django_db]


def post(client, path, body, **headers):
    return client.post(path, data=body, content_type="application/json", **headers)


def test_flat_success_and_errors(client):
    assert post(client, "/flat", '{"n": 1}').json() == {"n": 1}
    bad = post(client, "/flat", '{"n": "x"}')
    assert bad.status_code == 400 and bad.json() == {"error": "invalid body"}
    paid = post(client, "/flat", '{"n": 402}')
    assert paid.status_code == 402 and paid.json() == {"error": "quota exceeded", "remaining": 7}


def test_status_success_and_errors(client):
    assert post(client, "/status", '{"n": 2}').json() == {"status": "SUCCESS", "message": "ok",
                                                         "data": {"n": 2}}
    bad = post(client, "/status", '{"n": 0}')
    assert bad.status_code == 400
    assert bad.json()["status"] == "ERROR" and "n" in bad.json()["message"]


def test_success_success_and_errors(client):
    assert post(client, "/success", '{"n": 3}').json() == {"success": True, "data": {"n": 3}}
    bad = post(client, "/success", '{"n": 3, "extra": 1}')
    assert bad.status_code == 400
    body = bad.json()
    assert body["success"] is False
    assert body["error"]["code"] == "invalid"
    assert body["error"]["fields"] == {"extra": ["Unknown field."]}


@pytest.mark.parametrize("path", ["/flat", "/status", "/success"])
@pytest.mark.parametrize("raw", ['{"n": 1', "[1, 2]", '"text"', "null", "\xff\xfe", "", '{"n": true}',
                                 '{"n": 1.5}', '{"n": "1"}', '{"n": 99999999999999999999999999}'])
def test_malformed_input_is_a_400_in_the_view_envelope(client, path, raw):
    response = post(client, path, raw)
    assert response.status_code == 400, response.content
    body = response.json()
    if path == "/flat":
        assert body == {"error": "invalid body"}
    elif path == "/status":
        assert body["status"] == "ERROR"
    else:
        assert body["success"] is False


def test_wrong_content_type_is_a_client_error(client):
    response = client.post("/flat", data="n=1", content_type="application/x-www-form-urlencoded")
    assert response.status_code == 415
    assert response.json() == {"error": "invalid body"}


def test_idempotent_replay_and_conflict(client):
    first = post(client, "/counter", '{"n": 5}', HTTP_IDEMPOTENCY_KEY="abc")
    assert first.status_code == 201
    effects = IdempotencyRecord.objects.filter(scope="effect").count()
    replay = post(client, "/counter", '{"n": 5}', HTTP_IDEMPOTENCY_KEY="abc")
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true"
    assert IdempotencyRecord.objects.filter(scope="effect").count() == effects
    conflict = post(client, "/counter", '{"n": 6}', HTTP_IDEMPOTENCY_KEY="abc")
    assert conflict.status_code == 409
    assert conflict.json()["error"]["code"] == "idempotency_key_reused"
    other_key = post(client, "/counter", '{"n": 6}', HTTP_IDEMPOTENCY_KEY="def")
    assert other_key.status_code == 201
    assert IdempotencyRecord.objects.filter(scope="effect").count() == effects + 1


def test_idempotency_key_too_long_is_rejected(client):
    response = post(client, "/counter", '{"n": 5}', HTTP_IDEMPOTENCY_KEY="k" * 256)
    assert response.status_code == 400


def test_failed_request_is_not_stored(client):
    bad = post(client, "/counter", '{"n": 0}', HTTP_IDEMPOTENCY_KEY="again")
    assert bad.status_code == 400
    assert not IdempotencyRecord.objects.filter(key="again").exists()
    good = post(client, "/counter", '{"n": 1}', HTTP_IDEMPOTENCY_KEY="again")
    assert good.status_code == 201


def test_purge_keeps_records_younger_than_a_day():
    from datetime import timedelta

    from django.core.management import call_command
    from django.utils import timezone

    old = IdempotencyRecord.objects.create(scope="s", key="old", request_hash="h")
    IdempotencyRecord.objects.filter(pk=old.pk).update(created_at=timezone.now() - timedelta(hours=25))
    IdempotencyRecord.objects.create(scope="s", key="new", request_hash="h")
    call_command("purge_idempotency_keys", "--hours", "1")  # below the minimum: 24h applies
    assert list(IdempotencyRecord.objects.values_list("key", flat=True)) == ["new"]
