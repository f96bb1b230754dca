from django.conf import settings
from django.core.serializers.json import DjangoJSONEncoder
from django.db import models
from django.utils import timezone


class IdempotencyRecord(models.Model):
    """A stored answer to a request sent with `Idempotency-Key` (DESIGN §6).

    `scope` names the caller and the endpoint, so two callers may use the same key.
    """

    scope = models.CharField(max_length=200)
    key = models.CharField(max_length=255)
    request_hash = models.CharField(max_length=64)
    status_code = models.PositiveSmallIntegerField(null=True, blank=True)
    response_body = models.JSONField(null=True, blank=True)
    created_at = models.DateTimeField(auto_now_add=True, db_index=True)

    class Meta:
        constraints = [
            models.UniqueConstraint(fields=["scope", "key"], name="idempotency_scope_key_unique"),
        ]

    def __str__(self):
        return f"{self.scope}:{self.key}"


class AuditEventIsAppendOnly(Exception):
    """Raised on any attempt to change or delete an audit event through the ORM."""


_APPEND_ONLY = "Audit events cannot be changed or deleted; record a new event instead."


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)

    def delete(self):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)

    def bulk_update(self, objs, fields, batch_size=None):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)

    def update_or_create(self, *args, **kwargs):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)

    def _update(self, values):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)

    def _raw_delete(self, using):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)


class AuditEvent(models.Model):
    """One operator action (DESIGN §4.6): who did what to which object, before and after.

    Written only by `config.audit.audit_record`, inside the transaction of the write it records.
    Append-only: the ORM refuses changes here and, on PostgreSQL, a trigger refuses UPDATE and
    DELETE (migration 0003). `tenant_id` is a plain indexed integer: config sits below the tenants
    app and the event must outlive whatever it names.
    """

    created_at = models.DateTimeField(default=timezone.now)
    # PROTECT (as the ledger's actor): an actor with events cannot be deleted, only deactivated.
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+")
    # Who acted, in words: the user's email/phone, `api_key:<prefix>`, `command:<name>`, `system`.
    actor_label = models.CharField(max_length=200, blank=True, default="")
    action = models.CharField(max_length=64)
    object_type = models.CharField(max_length=64)
    object_id = models.CharField(max_length=64, blank=True, default="")
    tenant_id = models.BigIntegerField(null=True, blank=True)
    before = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    after = models.JSONField(null=True, blank=True, encoder=DjangoJSONEncoder)
    reason = models.CharField(max_length=500, blank=True, default="")
    ip = models.GenericIPAddressField(null=True, blank=True)
    request_id = models.CharField(max_length=64, blank=True, default="")

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            models.Index(fields=["created_at"], name="audit_created_at"),
            models.Index(fields=["action", "-id"], name="audit_action"),
            models.Index(fields=["actor", "-id"], name="audit_actor"),
            models.Index(fields=["tenant_id", "-id"], name="audit_tenant"),
            models.Index(fields=["object_type", "object_id"], name="audit_object"),
        ]
        constraints = [
            models.CheckConstraint(condition=~models.Q(action=""), name="audit_action_not_empty"),
            models.CheckConstraint(condition=~models.Q(object_type=""), name="audit_object_type_not_empty"),
        ]

    def __str__(self):
        return f"{self.action} {self.object_type}:{self.object_id} by {self.actor_label or 'system'}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AuditEventIsAppendOnly(_APPEND_ONLY)
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AuditEventIsAppendOnly(_APPEND_ONLY)
