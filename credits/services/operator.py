"""Operator actions on wallets (DESIGN §4.6): the master wallet's purchases, allocations to a
tenant, and staff grants and adjustments. Each is the ledger movement plus one `AuditEvent`, in
one transaction; the API, the admin and `grant_credits` all come through here.

A call replayed by its idempotency key returns the first call's rows and records nothing more.
"""

from django.db import transaction
from django.utils import timezone

from config.audit import audit_record
from credits.models import CreditTransaction, Wallet
from credits.services.ledger import (
    wallet_deduct,
    wallet_get_or_create_for_tenant,
    wallet_get_platform,
    wallet_grant,
)
from credits.services.transfers import wallet_transfer

Source = CreditTransaction.Source


def _wallet_tenant_id(wallet: Wallet) -> int | None:
    if wallet.tenant_id is not None:
        return wallet.tenant_id
    if wallet.user_id is not None:
        return type(wallet).objects.filter(pk=wallet.pk).values_list("user__tenant_id", flat=True).first()
    return None


def _audit_move(*, actor, action: str, wallet: Wallet, txn: CreditTransaction, started, reason: str,
                tenant_id: int | None, extra: dict | None = None) -> None:
    if txn.created_at < started:  # the idempotent replay of an earlier call: already recorded
        return
    after = txn.balance_after
    before = after - txn.signed_credits
    audit_record(actor=actor, action=action, object_type="wallet", object_id=wallet.pk, tenant_id=tenant_id,
                 before={"balance": before},
                 after={"balance": after, "credits": txn.credits, "transaction_id": txn.pk, **(extra or {})},
                 reason=reason)


@transaction.atomic
def master_wallet_purchase(*, credits: int, actor=None, reason: str = "", reference_id: str | None = None,
                           idempotency_key: str | None = None, metadata: dict | None = None
                           ) -> CreditTransaction:
    """Credits bought for the platform's inventory (seed 004's purchase): action `credits.purchase`."""
    started = timezone.now()
    wallet = wallet_get_platform()
    txn = wallet_grant(wallet=wallet, credits=credits, source=Source.PAYMENT, actor=actor, reason=reason,
                       reference_id=reference_id, idempotency_key=idempotency_key, metadata=metadata)
    _audit_move(actor=actor, action="credits.purchase", wallet=wallet, txn=txn, started=started,
                reason=reason, tenant_id=None, extra=metadata)
    return txn


@transaction.atomic
def tenant_wallet_allocate(*, tenant, credits: int, actor=None, reason: str = "",
                           reference_id: str | None = None, idempotency_key: str | None = None
                           ) -> tuple[Wallet, Wallet, CreditTransaction, CreditTransaction]:
    """Master wallet → the tenant's wallet (seed 004's allocate): action `credits.allocate`.
    Returns (master wallet, tenant wallet, debit row, credit row)."""
    started = timezone.now()
    master = wallet_get_platform()
    target = wallet_get_or_create_for_tenant(tenant=tenant)
    debit, credit = wallet_transfer(source_wallet=master, target_wallet=target, credits=credits, actor=actor,
                                    reason=reason, reference_id=reference_id, idempotency_key=idempotency_key)
    _audit_move(actor=actor, action="credits.allocate", wallet=target, txn=credit, started=started,
                reason=reason, tenant_id=tenant.pk,
                extra={"master_wallet": master.pk, "master_balance": debit.balance_after,
                       "debit_transaction_id": debit.pk})
    return master, target, debit, credit


@transaction.atomic
def wallet_adjust(*, wallet: Wallet, credits: int, deduct: bool = False, actor=None, reason: str = "",
                  reference_id: str | None = None, idempotency_key: str | None = None,
                  metadata: dict | None = None) -> CreditTransaction:
    """A staff grant (action `credits.grant`) or deduction (action `credits.adjust`) on any wallet,
    ledger source `adjustment`. A deduction never goes below zero (InsufficientCredits)."""
    started = timezone.now()
    move = wallet_deduct if deduct else wallet_grant
    txn = move(wallet=wallet, credits=credits, source=Source.ADJUSTMENT, actor=actor, reason=reason,
               reference_id=reference_id, idempotency_key=idempotency_key, metadata=metadata)
    _audit_move(actor=actor, action="credits.adjust" if deduct else "credits.grant", wallet=wallet, txn=txn,
                started=started, reason=reason, tenant_id=_wallet_tenant_id(wallet),
                extra={"operation": "deduct" if deduct else "grant"})
    return txn
