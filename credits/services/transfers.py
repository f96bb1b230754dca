"""Transfers between two wallets (seed 004's allocations from the master wallet, tenant moves)."""

import uuid

from django.db import transaction
from django.utils import timezone

from config.errors import Conflict, InvalidInput, NotFound
from credits.models import CreditTransaction, Wallet
from credits.services.ledger import (
    Action,
    InsufficientCredits,
    Source,
    _check_common,
    _check_credits,
)


@transaction.atomic
def wallet_transfer(*, source_wallet: Wallet, target_wallet: Wallet, credits: int, actor=None,
                    reason: str = "", reference_id: str | None = None,
                    idempotency_key: str | None = None, source: str | None = None
                    ) -> tuple[CreditTransaction, CreditTransaction]:
    """Move credits between two wallets in one transaction; returns (debit row, credit row).

    Both wallet rows are locked in id order first, so two opposite transfers queue up instead of
    deadlocking. The ledger source is `allocation` when the master wallet gives (seed 004's
    allocate) and `transfer` otherwise, unless `source` says otherwise.
    """
    _check_credits(credits)
    if source is None:
        source = Source.ALLOCATION if source_wallet.kind == Wallet.Kind.PLATFORM else Source.TRANSFER
    _check_common(source=source, reason=reason, reference_id=reference_id,
                  idempotency_key=idempotency_key, metadata=None)
    if source_wallet.pk == target_wallet.pk:
        raise InvalidInput("A transfer needs two different wallets.", code="same_wallet")
    locked = {
        wallet.pk: wallet
        for wallet in Wallet.objects.select_for_update().filter(
            pk__in=[source_wallet.pk, target_wallet.pk]).order_by("pk")
    }
    if len(locked) != 2:
        raise NotFound("Wallet not found.", code="wallet_not_found")
    if idempotency_key is not None:
        prior = list(CreditTransaction.objects.filter(
            transfer_id__in=CreditTransaction.objects.filter(
                wallet_id=source_wallet.pk, idempotency_key=idempotency_key,
            ).values("transfer_id")
        ).order_by("id"))
        if prior:
            debit = next((t for t in prior if t.wallet_id == source_wallet.pk), None)
            credit = next((t for t in prior if t.wallet_id == target_wallet.pk), None)
            if debit is None or credit is None or debit.credits != credits:
                raise Conflict("This idempotency key was already used for a different transfer.",
                               code="idempotency_key_reused")
            return debit, credit
    from_balance = locked[source_wallet.pk].balance
    if from_balance < credits:
        source_wallet.balance = from_balance
        raise InsufficientCredits(balance=from_balance, requested=credits)
    to_balance = locked[target_wallet.pk].balance + credits
    from_balance -= credits
    now = timezone.now()
    Wallet.objects.filter(pk=source_wallet.pk).update(balance=from_balance, updated_at=now)
    Wallet.objects.filter(pk=target_wallet.pk).update(balance=to_balance, updated_at=now)
    transfer_id = uuid.uuid4()
    common = {"credits": credits, "source": source, "reference_id": reference_id,
              "transfer_id": transfer_id, "actor": actor, "reason": reason, "created_at": now}
    # The key sits on the debit row only: it is unique per wallet, and the target wallet's keys
    # belong to whoever else credits it.
    debit, credit = CreditTransaction.objects.bulk_create([
        CreditTransaction(wallet=source_wallet, action=Action.DEBIT, balance_after=from_balance,
                          idempotency_key=idempotency_key, metadata={"to_wallet": target_wallet.pk},
                          **common),
        CreditTransaction(wallet=target_wallet, action=Action.CREDIT, balance_after=to_balance,
                          metadata={"from_wallet": source_wallet.pk}, **common),
    ])
    source_wallet.balance, target_wallet.balance = from_balance, to_balance
    return debit, credit
