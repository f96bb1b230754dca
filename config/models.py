from django.db import models


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
