"""`Idempotency-Key` handling shared by every endpoint that moves money, credits or tokens.

Two ways to run the handler, one guarantee: a replay returns the same answer, another body under
the same key is a 409, and concurrent requests with one key apply once.

- Database-only handlers (the default): the stored record and the effect commit in one
  transaction, so a replay sees either both or neither. A concurrent request with the same key
  waits on the unique index and then replays.
- Handlers that call out (`calls_out=True`: a payment gateway): no network call may sit inside a
  transaction. The record is claimed first and committed as in progress (no answer yet); the
  handler runs with no transaction open; its 2xx answer is then stored. A concurrent request with
  the same key meanwhile gets 409 `idempotency_key_in_progress` (retry later). A failed handler
  (an error or a non-2xx answer) releases the key, so the client may retry. A claim abandoned by a
  process that died mid-way is taken over after STALE_AFTER; the handler must then be safe to run
  again: the services it calls resume by the same key (`idempotency_token`) — a refund finds its
  own requested refund instead of refunding twice.
"""

import hashlib
import json
import logging
from collections.abc import Callable
from datetime import timedelta

from django.db import DatabaseError, IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from config.errors import Conflict, InvalidInput
from config.models import IdempotencyRecord
from config.permissions import is_api_key_request
from config.renderers import JSONRenderer

logger = logging.getLogger(__name__)

HEADER = "Idempotency-Key"
# Where the header sits in request.META (reading request.headers builds a dict of every header).
HEADER_META_KEY = "HTTP_IDEMPOTENCY_KEY"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)
# Longer than any gateway call can take (timeouts are seconds), so a claim this old is abandoned.
STALE_AFTER = timedelta(minutes=5)


def caller_identity(request) -> str:
    """Who is calling: `key:<api key id>`, `user:<user id>` or `anon`. Keys scoped per caller
    (stored answers here, ledger rows in credits) carry it."""
    if is_api_key_request(request):
        return f"key:{request.auth.pk}"
    if request.user and request.user.is_authenticated:
        return f"user:{request.user.pk}"
    return "anon"


def caller_scope(request) -> str:
    return f"{caller_identity(request)}:{request.method}:{request.path}"


def _request_hash(request) -> str:
    try:
        canonical = json.dumps(request.data, sort_keys=True, separators=(",", ":"), default=str)
    except (TypeError, ValueError):
        canonical = request.body.decode("utf-8", "replace")
    return hashlib.sha256(canonical.encode()).hexdigest()


def idempotency_token(request) -> str | None:
    """A stable id for this request's (caller, endpoint, key), or None without a key: services that
    call out store it so a retry of the same request resumes what the first attempt started."""
    key = (request.META.get(HEADER_META_KEY) or "").strip()
    if not key:
        return None
    return hashlib.sha256(f"{caller_scope(request)}\n{key}".encode()).hexdigest()


def _read_key(request) -> str | None:
    key = request.META.get(HEADER_META_KEY)
    if key is None:
        return None
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                           code="invalid_idempotency_key", fields={HEADER: ["Invalid length."]})
    return key


def _replay(record: IdempotencyRecord) -> Response:
    response = Response(record.response_body, status=record.status_code)
    response["Idempotent-Replayed"] = "true"
    return response


def _stored_body(response: Response):
    # What the client received (Decimals as the renderer writes them), so a replay is byte-for-byte
    # the same answer.
    return json.loads(JSONRenderer().render(response.data))


def idempotent(request, handler: Callable[[], Response], *, conflict_extra=None,
               calls_out: bool = False) -> Response:
    """Run `handler` at most once per (caller, endpoint, key); replay its 2xx answer after.
    `calls_out`: the handler makes network calls, so it runs with no transaction open."""
    key = _read_key(request)
    if key is None:
        return handler()
    scope = caller_scope(request)
    digest = _request_hash(request)
    if calls_out:
        return _claimed(scope, key, digest, handler, conflict_extra)
    with transaction.atomic():
        try:
            with transaction.atomic():
                record = IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=digest)
            created = True
        except IntegrityError:
            # Another request holds or held this key: wait for it by locking its row.
            record = IdempotencyRecord.objects.select_for_update().get(scope=scope, key=key)
            created = False
        if not created:
            if record.request_hash != digest:
                raise _reused(conflict_extra)
            if record.status_code is not None:
                return _replay(record)
        response = handler()
        if 200 <= response.status_code < 300:
            record.status_code = response.status_code
            record.response_body = _stored_body(response)
            record.request_hash = digest
            record.save(update_fields=["status_code", "response_body", "request_hash"])
        return response


def _reused(conflict_extra) -> Conflict:
    return Conflict("Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused", extra=conflict_extra)


def _claimed(scope: str, key: str, digest: str, handler, conflict_extra) -> Response:
    record, replay = _claim(scope, key, digest, conflict_extra)
    if replay is not None:
        return replay
    try:
        response = handler()
    except BaseException:
        _release(record)
        raise
    if not 200 <= response.status_code < 300:
        _release(record)
        return response
    IdempotencyRecord.objects.filter(pk=record.pk).update(
        status_code=response.status_code, response_body=_stored_body(response))
    return response


def _claim(scope: str, key: str, digest: str, conflict_extra) -> tuple[IdempotencyRecord | None, Response | None]:
    """Commit an in-progress record for the key: (record, None); or (None, the stored answer)."""
    for _ in range(3):  # the holder may release the key between our insert and our read
        with transaction.atomic():
            try:
                with transaction.atomic():
                    return IdempotencyRecord.objects.create(scope=scope, key=key, request_hash=digest), None
            except IntegrityError:
                record = IdempotencyRecord.objects.select_for_update().filter(scope=scope, key=key).first()
            if record is None:
                continue
            if record.request_hash != digest:
                raise _reused(conflict_extra)
            if record.status_code is not None:
                return None, _replay(record)
            if record.created_at > timezone.now() - STALE_AFTER:
                raise Conflict("A request with this Idempotency-Key is still in progress; retry later.",
                               code="idempotency_key_in_progress", extra=conflict_extra)
            # Abandoned by a request that died mid-way: take it over.
            record.created_at = timezone.now()
            record.save(update_fields=["created_at"])
            return record, None
    raise Conflict("A request with this Idempotency-Key is still in progress; retry later.",
                   code="idempotency_key_in_progress", extra=conflict_extra)


def _release(record: IdempotencyRecord) -> None:
    """The handler failed: free the key so the same request may be tried again."""
    try:
        IdempotencyRecord.objects.filter(pk=record.pk, status_code__isnull=True).delete()
    except DatabaseError:
        logger.exception("could not release Idempotency-Key record %s", record.pk)


def idempotency_records_purge(*, older_than: timedelta = RETENTION) -> int:
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
