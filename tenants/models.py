from django.db import models
from django.db.models import Q


class Tenant(models.Model):
    """A business reselling to its own users (seed 004). Settings hold per-tenant overrides."""

    class Status(models.TextChoices):
        ACTIVE = "active", "Active"
        SUSPENDED = "suspended", "Suspended"
        # Deleted through the API: keys revoked, users refused, ledger kept. Final.
        ARCHIVED = "archived", "Archived"

    name = models.CharField(max_length=200)
    slug = models.SlugField(max_length=100, unique=True)
    status = models.CharField(max_length=20, choices=Status.choices, default=Status.ACTIVE)
    email = models.EmailField(blank=True, default="")
    phone = models.CharField(max_length=20, blank=True, default="", help_text="E.164")
    suspended_reason = models.CharField(max_length=500, blank=True, default="")
    # e.g. {"free_signup_credits": 5}
    settings = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    updated_at = models.DateTimeField(auto_now=True)

    class Meta:
        ordering = ["name"]
        constraints = [
            models.CheckConstraint(
                condition=Q(status__in=["active", "suspended", "archived"]), name="tenant_status_valid"
            ),
            models.CheckConstraint(condition=Q(phone="") | Q(phone__regex=r"^\+[1-9][0-9]{6,14}$"),
                                   name="tenant_phone_e164"),
        ]

    def __str__(self):
        return self.name

    @property
    def is_active(self) -> bool:
        return self.status == self.Status.ACTIVE

    @property
    def is_archived(self) -> bool:
        return self.status == self.Status.ARCHIVED


class ApiKey(models.Model):
    """A tenant's service key. Only a SHA-256 of the key is stored; the key is shown once."""

    # What config.permissions checks on `request.auth`: config may not import this class.
    is_api_key = True

    class Scope(models.TextChoices):
        BOT = "bot", "Bot (read and deduct credits)"
        TOKENS = "tokens", "Tokens (consume quotas)"
        PAYMENTS = "payments", "Payments (create orders for users)"
        USAGE = "usage", "Usage (record subscription usage of the tenant's users)"

    tenant = models.ForeignKey(Tenant, on_delete=models.CASCADE, related_name="api_keys")
    name = models.CharField(max_length=100)
    prefix = models.CharField(max_length=16, unique=True, help_text="Visible part of the key")
    key_hash = models.CharField(max_length=64, unique=True)
    scopes = models.JSONField(default=list, blank=True)
    created_at = models.DateTimeField(auto_now_add=True)
    revoked_at = models.DateTimeField(null=True, blank=True)
    last_used_at = models.DateTimeField(null=True, blank=True)

    class Meta:
        ordering = ["-created_at"]
        verbose_name = "API key"

    def __str__(self):
        return f"{self.name} ({self.prefix}…)"

    @property
    def is_revoked(self) -> bool:
        return self.revoked_at is not None

    def has_scope(self, scope: str) -> bool:
        return scope in (self.scopes or [])
