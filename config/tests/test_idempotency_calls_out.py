"""`idempotent(..., calls_out=True)`: the key is claimed and committed first, the handler runs with
no transaction open (it may call a payment gateway), and the same guarantees hold: a replay answers
the same, another body is a 409, a failure releases the key, concurrent requests apply once."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.utils import timezone

from config.idempotency import STALE_AFTER
from config.models import IdempotencyRecord
from config.tests.urls import CallsOut

pytestmark = [pytest.mark.urls("config.tests.urls"), pytest.mark.django_db]
SCOPE = "anon:POST:/calls-out"


@pytest.fixture(autouse=True)
def _seen():
    CallsOut.seen.clear()
    yield CallsOut.seen
    CallsOut.seen.clear()


def post(client, body, key="k-1"):
    return client.post("/calls-out", data=body, content_type="application/json", HTTP_IDEMPOTENCY_KEY=key)


def effects() -> int:
    return IdempotencyRecord.objects.filter(scope="effect").count()


@pytest.mark.django_db(transaction=True)  # autocommit: a row the handler sees is committed
def test_the_handler_runs_outside_any_transaction_after_its_claim_committed(client):
    response = post(client, '{"n": 1}')
    assert response.status_code == 201
    (seen,) = CallsOut.seen
    assert seen["open_transactions"] == [] and not connection.in_atomic_block
    assert seen["record"] == {"status_code": None}  # claimed, in progress, committed
    record = IdempotencyRecord.objects.get(scope=SCOPE, key="k-1")
    assert record.status_code == 201 and record.response_body == {"success": True, "data": {"n": 1}}


def test_replay_and_another_body(client):
    first = post(client, '{"n": 5}')
    replay = post(client, '{"n": 5}')
    assert replay.status_code == 201 and replay.json() == first.json()
    assert replay["Idempotent-Replayed"] == "true" and len(CallsOut.seen) == 1 and effects() == 1
    other = post(client, '{"n": 6}')
    assert other.status_code == 409 and other.json()["error"]["code"] == "idempotency_key_reused"
    assert effects() == 1


def test_a_failed_handler_releases_the_key(client):
    with pytest.raises(RuntimeError):
        post(client, '{"n": 500}')
    assert not IdempotencyRecord.objects.filter(scope=SCOPE).exists()
    refused = post(client, '{"n": 402}', key="k-2")
    assert refused.status_code == 402
    assert not IdempotencyRecord.objects.filter(scope=SCOPE).exists()
    # the client may try again with the same key (and, after a failure, even another body)
    assert post(client, '{"n": 402}', key="k-2").status_code == 402 and len(CallsOut.seen) == 3
    assert post(client, '{"n": 1}', key="k-2").status_code == 201 and effects() == 1


def test_a_request_in_progress_answers_409_until_it_is_abandoned(client):
    first = post(client, '{"n": 3}', key="warm")  # learn the body's hash as stored
    digest = IdempotencyRecord.objects.get(scope=SCOPE, key="warm").request_hash
    IdempotencyRecord.objects.create(scope=SCOPE, key="busy", request_hash=digest)  # in progress
    busy = post(client, '{"n": 3}', key="busy")
    assert busy.status_code == 409 and busy.json()["error"]["code"] == "idempotency_key_in_progress"
    assert len(CallsOut.seen) == 1 and first.status_code == 201
    # its owner died mid-way: after STALE_AFTER the key is taken over and the handler runs
    IdempotencyRecord.objects.filter(scope=SCOPE, key="busy").update(
        created_at=timezone.now() - STALE_AFTER - timedelta(seconds=1))
    taken_over = post(client, '{"n": 3}', key="busy")
    assert taken_over.status_code == 201 and len(CallsOut.seen) == 2
    assert IdempotencyRecord.objects.get(scope=SCOPE, key="busy").status_code == 201


@pytest.mark.postgres_only  # real threads need PostgreSQL
@pytest.mark.django_db(transaction=True)
def test_concurrent_requests_with_one_key_apply_once():
    from django.test import Client

    barrier, results = threading.Barrier(5), [None] * 5

    def send(index):
        try:
            barrier.wait()
            results[index] = post(Client(), '{"n": 7}', key="race")
        finally:
            connection.close()

    threads = [threading.Thread(target=send, args=(i,)) for i in range(5)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(30)
    statuses = [r.status_code for r in results]
    assert set(statuses) <= {201, 409} and statuses.count(201) >= 1, statuses
    assert effects() == 1 and len(CallsOut.seen) == 1
    bodies = {r.content for r in results if r.status_code == 201}
    assert len(bodies) == 1
