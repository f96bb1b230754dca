"""One-time codes for phone sign-in (DESIGN §4.9). Only an HMAC of a code is stored."""

from django.db import models
from django.db.models import F, Q
from django.utils import timezone

from accounts.otp.codes import MAX_TRIES


class PhoneCode(models.Model):
    """A code sent to one number of one tenant.

    `sent_at` stays NULL while the code is being delivered: such a row counts towards the
    per-number limit but can never be redeemed; a failed delivery deletes it. Only the newest
    delivered code of a number can be redeemed.
    """

    tenant = models.ForeignKey("tenants.Tenant", on_delete=models.CASCADE, related_name="+")
    phone = models.CharField(max_length=20, help_text="E.164")
    code_hash = models.CharField(max_length=64)
    attempts = models.PositiveSmallIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    expires_at = models.DateTimeField()
    sent_at = models.DateTimeField(null=True, blank=True)
    used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        app_label = "accounts"
        indexes = [models.Index(fields=["tenant", "phone", "created_at"], name="phonecode_number_created")]
        constraints = [
            # At most MAX_TRIES tries per code, also in the database.
            models.CheckConstraint(condition=Q(attempts__lte=MAX_TRIES), name="phonecode_attempts_bounded"),
            models.CheckConstraint(condition=Q(expires_at__gt=F("created_at")),
                                   name="phonecode_expires_after_created"),
            models.CheckConstraint(condition=Q(used_at__isnull=True) | Q(sent_at__isnull=False),
                                   name="phonecode_used_only_if_sent"),
        ]

    def __str__(self):
        return f"code for {self.phone} ({self.tenant_id})"
