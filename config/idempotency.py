"""`Idempotency-Key` handling shared by every endpoint that moves money, credits or tokens.

The stored record and the effect commit in one transaction: a replay sees either both or
neither. A concurrent request with the same key waits on the unique index and then replays.
"""

import hashlib
import json
from collections.abc import Callable
from datetime import timedelta

from django.db import IntegrityError, transaction
from django.utils import timezone
from rest_framework.response import Response

from config.errors import Conflict, InvalidInput
from config.models import IdempotencyRecord
from config.permissions import is_api_key_request
from config.renderers import JSONRenderer

HEADER = "Idempotency-Key"
MAX_KEY_LENGTH = 255
RETENTION = timedelta(hours=24)


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


def idempotent(request, handler: Callable[[], Response], *, conflict_extra=None) -> Response:
    """Run `handler` at most once per (caller, endpoint, key); replay its 2xx answer after."""
    key = request.headers.get(HEADER)
    if key is None:
        return handler()
    key = key.strip()
    if not key or len(key) > MAX_KEY_LENGTH:
        raise InvalidInput(f"{HEADER} must be 1 to {MAX_KEY_LENGTH} characters.",
                           code="invalid_idempotency_key", fields={HEADER: ["Invalid length."]})
    scope = caller_scope(request)
    digest = _request_hash(request)
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
                raise Conflict(
                    "Idempotency-Key was already used with a different request body.",
                    code="idempotency_key_reused", extra=conflict_extra,
                )
            if record.status_code is not None:
                response = Response(record.response_body, status=record.status_code)
                response["Idempotent-Replayed"] = "true"
                return response
        response = handler()
        if 200 <= response.status_code < 300:
            record.status_code = response.status_code
            # Store what the client received (Decimals as the renderer writes them), so a replay
            # is byte-for-byte the same answer.
            record.response_body = json.loads(JSONRenderer().render(response.data))
            record.request_hash = digest
            record.save(update_fields=["status_code", "response_body", "request_hash"])
        return response


def idempotency_records_purge(*, older_than: timedelta = RETENTION) -> int:
    cutoff = timezone.now() - older_than
    deleted, _ = IdempotencyRecord.objects.filter(created_at__lt=cutoff).delete()
    return deleted
