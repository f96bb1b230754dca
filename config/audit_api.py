"""`GET /api/v1/admin/audit-logs` and `/api/v1/admin/audit-logs/:id` (seed 004, DESIGN §4.6):
the audit trail, newest first, for platform staff.

Filters: `actor` (a user id, or a label such as `command:grant_credits` or `api_key:<prefix>`),
`action` (exact, or a family such as `credits.*`), `tenant` (id), `object` (`type` or
`type:id`), `from` / `to` (dates, YYYY-MM-DD, inclusive, in TIME_ZONE). A bad value → 400.
"""

import re
from datetime import date, datetime, time, timedelta

from django.utils import timezone
from drf_spectacular.types import OpenApiTypes
from drf_spectacular.utils import OpenApiParameter, extend_schema
from rest_framework import serializers

from config import envelopes
from config.api import SuccessAPIView, envelope_serializer
from config.envelopes import success_response
from config.errors import InvalidInput, NotFound
from config.ids import positive_id
from config.models import AuditEvent
from config.pagination import PAGE_PARAMETERS, page_params, page_serializer, paginate
from config.policy import PolicyPermission
from config.schema import error_responses

TAGS = ["admin audit"]
_DATE = re.compile(r"\d{4}-\d{2}-\d{2}", re.ASCII)
_ACTION = re.compile(r"[a-z][a-z0-9_]*(\.[a-z0-9_]+)*(\.\*)?", re.ASCII)
_OBJECT_TYPE = re.compile(r"[a-z][a-z0-9_]*", re.ASCII)
_LABEL_MAX = 200


class AuditEventSerializer(serializers.ModelSerializer):
    actor_id = serializers.IntegerField(allow_null=True)

    class Meta:
        model = AuditEvent
        fields = ["id", "created_at", "actor_id", "actor_label", "action", "object_type", "object_id",
                  "tenant_id", "before", "after", "reason", "ip", "request_id"]


AuditEventPageSerializer = page_serializer("AuditEventPage", AuditEventSerializer)

FILTER_PARAMETERS = [
    OpenApiParameter("actor", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     description="A user id, or an actor label (`command:grant_credits`, `api_key:<prefix>`)."),
    OpenApiParameter("action", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     description="`tenant.suspend`, or a family: `credits.*`."),
    OpenApiParameter("tenant", OpenApiTypes.INT, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("object", OpenApiTypes.STR, OpenApiParameter.QUERY, required=False,
                     description="`type` or `type:id`, e.g. `rate_plan:4`."),
    OpenApiParameter("from", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False),
    OpenApiParameter("to", OpenApiTypes.DATE, OpenApiParameter.QUERY, required=False),
]


def _bad(name: str, message: str) -> InvalidInput:
    return InvalidInput(message, code="invalid_query", fields={name: ["Invalid."]})


def _date(params, name: str) -> date | None:
    raw = params.get(name)
    if raw is None or raw == "":
        return None
    if _DATE.fullmatch(raw):
        try:
            return date.fromisoformat(raw)
        except ValueError:
            pass
    raise _bad(name, f"{name} must be a date, YYYY-MM-DD.")


def _start_of(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min), timezone.get_default_timezone())


def audit_events_filtered(params):
    """The events the query parameters ask for; InvalidInput for a value that cannot be one."""
    events = AuditEvent.objects.all()
    actor = params.get("actor")
    if actor:
        if actor.isascii() and actor.isdigit():
            actor_id = positive_id(actor)
            if actor_id is None:
                raise _bad("actor", "actor must be a user id or an actor label.")
            events = events.filter(actor_id=actor_id)
        elif len(actor) > _LABEL_MAX or not actor.isprintable():
            raise _bad("actor", "actor must be a user id or an actor label.")
        else:
            events = events.filter(actor_label=actor)
    action = params.get("action")
    if action:
        if len(action) > 64 or not _ACTION.fullmatch(action):
            raise _bad("action", "action must look like `tenant.suspend` or `credits.*`.")
        events = (events.filter(action__startswith=action[:-1]) if action.endswith(".*")
                  else events.filter(action=action))
    tenant = params.get("tenant")
    if tenant:
        tenant_id = positive_id(tenant)
        if tenant_id is None:
            raise _bad("tenant", "tenant must be a tenant id.")
        events = events.filter(tenant_id=tenant_id)
    target = params.get("object")
    if target:
        object_type, _, object_id = target.partition(":")
        if not _OBJECT_TYPE.fullmatch(object_type) or len(object_type) > 64 or len(object_id) > 64 \
                or (":" in target and not object_id) or not object_id.isprintable():
            raise _bad("object", "object must be `type` or `type:id`.")
        events = events.filter(object_type=object_type)
        if object_id:
            events = events.filter(object_id=object_id)
    start, end = _date(params, "from"), _date(params, "to")
    if start and end and start > end:
        raise _bad("from", "from must not be after to.")
    if start:
        events = events.filter(created_at__gte=_start_of(start))
    if end:
        events = events.filter(created_at__lt=_start_of(end + timedelta(days=1)))
    return events.order_by("-id")


class AuditLogListView(SuccessAPIView):
    permission_classes = [PolicyPermission]
    policy_action = "audit.read"

    @extend_schema(tags=TAGS, operation_id="audit_logs_list", parameters=[*PAGE_PARAMETERS, *FILTER_PARAMETERS],
                   summary="The audit trail, newest first (platform staff)",
                   responses={200: envelope_serializer("AuditEventPageEnvelope", AuditEventPageSerializer,
                                                       envelope=envelopes.SUCCESS),
                              **error_responses(envelopes.SUCCESS, 400, 401, 403)})
    def get(self, request):
        page, page_size = page_params(request.query_params)
        events = audit_events_filtered(request.query_params)
        return success_response(AuditEventPageSerializer(paginate(events, page=page, page_size=page_size)).data)


class AuditLogDetailView(SuccessAPIView):
    permission_classes = [PolicyPermission]
    policy_action = "audit.read"

    @extend_schema(tags=TAGS, operation_id="audit_logs_retrieve", summary="One audit event (platform staff)",
                   responses={200: envelope_serializer("AuditEventEnvelope", AuditEventSerializer,
                                                       envelope=envelopes.SUCCESS),
                              **error_responses(envelopes.SUCCESS, 401, 403, 404)})
    def get(self, request, event_id: str):
        pk = positive_id(event_id)
        event = None if pk is None else AuditEvent.objects.filter(pk=pk).first()
        if event is None:
            raise NotFound("Audit event not found.", code="audit_event_not_found")
        return success_response(AuditEventSerializer(event).data)
