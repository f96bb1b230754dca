"""Credit wallets and their append-only ledger (DESIGN §4.4).

A wallet belongs to exactly one of a user, a tenant or the platform (the single master wallet).
Its `balance` is a cache of the ledger kept in step by the services in `credits.services`, which
write both in one statement or transaction; `manage.py audit_ledger` proves they agree.
"""

from django.conf import settings
from django.db import models
from django.db.models import Q
from django.utils import timezone


class Wallet(models.Model):
    class Kind(models.TextChoices):
        USER = "user", "User"
        TENANT = "tenant", "Tenant"
        PLATFORM = "platform", "Platform (master)"

    kind = models.CharField(max_length=10, choices=Kind.choices)
    user = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="credit_wallets",
    )
    tenant = models.ForeignKey(
        "tenants.Tenant", null=True, blank=True, on_delete=models.PROTECT,
        related_name="credit_wallets",
    )
    balance = models.BigIntegerField(default=0)
    created_at = models.DateTimeField(default=timezone.now)
    updated_at = models.DateTimeField(default=timezone.now)

    class Meta:
        constraints = [
            models.CheckConstraint(
                condition=(
                    Q(kind="user", user__isnull=False, tenant__isnull=True)
                    | Q(kind="tenant", tenant__isnull=False, user__isnull=True)
                    | Q(kind="platform", user__isnull=True, tenant__isnull=True)
                ),
                name="wallet_exactly_one_owner",
            ),
            models.CheckConstraint(condition=Q(balance__gte=0), name="wallet_balance_non_negative"),
            models.UniqueConstraint(fields=["user"], condition=Q(user__isnull=False),
                                    name="wallet_one_per_user"),
            models.UniqueConstraint(fields=["tenant"], condition=Q(tenant__isnull=False),
                                    name="wallet_one_per_tenant"),
            models.UniqueConstraint(fields=["kind"], condition=Q(kind="platform"),
                                    name="wallet_single_platform"),
        ]

    def __str__(self):
        if self.kind == self.Kind.USER:
            return f"wallet of user {self.user_id}"
        if self.kind == self.Kind.TENANT:
            return f"wallet of tenant {self.tenant_id}"
        return "platform master wallet"


class LedgerIsAppendOnly(Exception):
    """Raised on any attempt to change or delete a ledger row through the ORM."""


class CreditTransactionQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise LedgerIsAppendOnly("Ledger rows cannot be updated; add a correcting row instead.")

    def delete(self):
        raise LedgerIsAppendOnly("Ledger rows cannot be deleted; add a correcting row instead.")

    def bulk_update(self, objs, fields, batch_size=None):
        raise LedgerIsAppendOnly("Ledger rows cannot be updated; add a correcting row instead.")

    # Both would update rows that already exist.
    def update_or_create(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger rows cannot be updated; add a correcting row instead.")

    def _update(self, values):
        raise LedgerIsAppendOnly("Ledger rows cannot be updated; add a correcting row instead.")

    def _raw_delete(self, using):
        raise LedgerIsAppendOnly("Ledger rows cannot be deleted; add a correcting row instead.")


class CreditTransaction(models.Model):
    """One movement of credits. Never changed, never deleted: corrections are new rows."""

    class Action(models.TextChoices):
        CREDIT = "credit", "Credit"
        DEBIT = "debit", "Debit"

    class Source(models.TextChoices):
        SIGNUP_BONUS = "signup_bonus", "Signup bonus"
        PAYMENT = "payment", "Payment"
        USAGE = "usage", "Usage"
        ALLOCATION = "allocation", "Allocation"
        TRANSFER = "transfer", "Transfer"
        ADJUSTMENT = "adjustment", "Adjustment"
        REFUND = "refund", "Refund"
        EXPIRY = "expiry", "Expiry"

    # No index of its own: credit_txn_wallet_chain (wallet, -id) serves every lookup by wallet,
    # and is then the only plan for the ledger trigger's "latest row of this wallet".
    wallet = models.ForeignKey(Wallet, on_delete=models.PROTECT, related_name="transactions",
                               db_index=False)
    action = models.CharField(max_length=6, choices=Action.choices)
    credits = models.BigIntegerField()
    balance_after = models.BigIntegerField()
    source = models.CharField(max_length=20, choices=Source.choices)
    reference_id = models.CharField(max_length=255, null=True, blank=True)
    idempotency_key = models.CharField(max_length=255, null=True, blank=True)
    transfer_id = models.UUIDField(null=True, blank=True, db_index=True)
    actor = models.ForeignKey(
        settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
        related_name="+",
    )
    reason = models.CharField(max_length=500, blank=True, default="")
    metadata = models.JSONField(default=dict, blank=True)
    created_at = models.DateTimeField(default=timezone.now)

    objects = CreditTransactionQuerySet.as_manager()

    class Meta:
        ordering = ["-id"]
        indexes = [
            # Newest first per wallet (history), and covering what audit_ledger reads: it walks
            # every wallet's chain in this order from the index alone, without a sort.
            models.Index(fields=["wallet", "-id"], name="credit_txn_wallet_chain",
                         include=["action", "credits", "balance_after"]),
            models.Index(fields=["reference_id"], name="credit_txn_reference"),
        ]
        constraints = [
            models.CheckConstraint(condition=Q(credits__gt=0), name="credit_txn_credits_positive"),
            models.CheckConstraint(condition=Q(balance_after__gte=0),
                                   name="credit_txn_balance_after_non_negative"),
            models.CheckConstraint(condition=Q(action__in=["credit", "debit"]),
                                   name="credit_txn_action_valid"),
            models.CheckConstraint(
                condition=Q(source__in=[
                    "signup_bonus", "payment", "usage", "allocation", "transfer", "adjustment",
                    "refund", "expiry",
                ]),
                name="credit_txn_source_valid",
            ),
            models.UniqueConstraint(
                fields=["wallet", "idempotency_key"], condition=Q(idempotency_key__isnull=False),
                name="credit_txn_idempotency_key_per_wallet",
            ),
        ]

    def __str__(self):
        return f"{self.action} {self.credits} ({self.source}) on wallet {self.wallet_id}"

    @property
    def signed_credits(self) -> int:
        return self.credits if self.action == self.Action.CREDIT else -self.credits

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise LedgerIsAppendOnly("Ledger rows cannot be updated; add a correcting row instead.")
        kwargs["force_insert"] = True
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise LedgerIsAppendOnly("Ledger rows cannot be deleted; add a correcting row instead.")
