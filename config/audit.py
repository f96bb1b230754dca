"""The audit writer (DESIGN §4.6): every operator action is one append-only `AuditEvent`.

Services call `audit_record(...)` inside the transaction of the write they record, so the event
and the change commit or roll back together. The request's client IP and request id come from a
context variable that `config.middleware.AuditContextMiddleware` sets per request, so services need
not be handed the request. Management commands name themselves with
`with audit_context(actor_label="command:<name>"):`.

`actor` may be a user, an API key (anything with `is_api_key` and `prefix`), a label string, or
None (the system, a cron job, or whatever `audit_context` names).
"""

import contextlib
import json
import os
import re
from contextvars import ContextVar
from dataclasses import dataclass, replace

from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import connection

from config.models import AuditEvent

REQUEST_ID_HEADER = "X-Request-ID"
_REQUEST_ID = re.compile(r"^[A-Za-z0-9._:-]{1,64}$")


@dataclass(frozen=True)
class AuditContext:
    ip: str | None = None
    request_id: str = ""
    actor_label: str = ""


_context: ContextVar[AuditContext] = ContextVar("kosh_audit_context", default=AuditContext())  # noqa: B039 (frozen)


def current_context() -> AuditContext:
    return _context.get()


@contextlib.contextmanager
def audit_context(**changes):
    """Within the block, events carry these `ip`, `request_id` and/or `actor_label` values."""
    token = _context.set(replace(_context.get(), **changes))
    try:
        yield _context.get()
    finally:
        _context.reset(token)


def client_ip(request) -> str | None:
    """REMOTE_ADDR, or behind `TRUSTED_PROXY_COUNT` proxies the address the outermost of them saw
    (the N-th entry from the right of X-Forwarded-For; entries further left are the client's own
    claims and can be forged)."""
    count = settings.TRUSTED_PROXY_COUNT
    if count:
        forwarded = [part.strip() for part in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",")]
        forwarded = [part for part in forwarded if part]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def request_id_for(request) -> str:
    """The caller's `X-Request-ID` when it is a short token, else a fresh one (32 hex digits).
    Read from META: `request.headers` would build a dict of every header first."""
    given = request.META.get("HTTP_X_REQUEST_ID")
    if given:
        given = given.strip()
        if _REQUEST_ID.match(given):
            return given
    return os.urandom(16).hex()


def request_context_enter(request):
    """Start the audit context of one HTTP request (`AuditContextMiddleware`); returns the token
    for `request_context_exit` and the request id. `audit_context` without its generator."""
    request_id = request_id_for(request)
    outer = _context.get()
    token = _context.set(AuditContext(ip=client_ip(request), request_id=request_id,
                                      actor_label=outer.actor_label))
    return token, request_id


def request_context_exit(token) -> None:
    _context.reset(token)


def _valid_ip(value) -> str | None:
    import ipaddress

    try:
        return str(ipaddress.ip_address(str(value).strip())) if value else None
    except ValueError:
        return None


def user_label(user) -> str:
    return user.email or user.phone or f"user:{user.pk}"


def _actor_fields(actor, context: AuditContext) -> tuple[object | None, str]:
    """(the user to link, the label) for `actor`."""
    if actor is None:
        return None, context.actor_label or "system"
    if isinstance(actor, str):
        return None, actor
    if getattr(actor, "is_api_key", False) is True:
        return None, f"api_key:{actor.prefix}"
    if getattr(actor, "pk", None) is None or not getattr(actor, "is_authenticated", False):
        return None, context.actor_label or "anonymous"
    label = user_label(actor)
    if context.actor_label:
        label = f"{label} via {context.actor_label}"
    return actor, label[:200]


def _json(value):
    """Plain JSON (Decimals and dates as strings), so the event reads back as it was written."""
    return None if value is None else json.loads(json.dumps(value, cls=DjangoJSONEncoder))


def audit_record(*, actor, action: str, object_type: str, object_id, tenant_id: int | None = None,
                 before: dict | None = None, after: dict | None = None, reason: str = "",
                 ip: str | None = None) -> AuditEvent:
    """Record one operator action. Call it inside the transaction that makes the change."""
    if not connection.in_atomic_block:
        raise RuntimeError("audit_record must run inside the transaction of the write it records.")
    context = _context.get()
    user, label = _actor_fields(actor, context)
    return AuditEvent.objects.create(
        actor=user, actor_label=label, action=action, object_type=object_type,
        object_id="" if object_id is None else str(object_id)[:64], tenant_id=tenant_id,
        before=_json(before), after=_json(after), reason=(reason or "")[:500],
        ip=_valid_ip(ip or context.ip), request_id=context.request_id,
    )
