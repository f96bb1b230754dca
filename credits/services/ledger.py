"""Every write to one wallet and its ledger (DESIGN §4.4). Keyword-only arguments throughout.

Grant and deduct are one SQL statement on PostgreSQL (`ledger_pg`): a data-modifying CTE whose
conditional ``UPDATE credits_wallet ... WHERE id = %s AND balance >= %s RETURNING balance`` feeds
the ledger ``INSERT``. One statement is one transaction, so the balance and its ledger row commit
together or not at all, with no read-then-write window: a concurrent deduction waits for the row
lock and then re-checks ``balance >= n`` against the committed balance. Nothing moved means the
balance was short (or the idempotency key was already used); one more read tells which. So a
deduction costs at most two round trips. On other databases (SQLite for local runs) the same steps
run through the ORM inside a transaction, which SQLite serializes.
"""

import json
from contextlib import nullcontext

from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from config.errors import Conflict, InvalidInput, NotFound, PaymentRequired
from credits import messages
from credits.models import CreditTransaction, Wallet
from credits.services.ledger_pg import _move_postgresql, _prior_and_balance

Source = CreditTransaction.Source
Action = CreditTransaction.Action

# Far inside BIGINT so no sum of a few operations can overflow.
MAX_CREDITS_PER_OPERATION = 10**12
MAX_REASON_LENGTH = 500
MAX_REFERENCE_LENGTH = 255
_SOURCES = frozenset(Source.values)  # `Source.values` builds a new list on every read

class InsufficientCredits(PaymentRequired):
    """The wallet holds fewer credits than asked for; nothing was deducted.

    The default message is seed 003's, whatever the shortfall; `balance` and `requested` stay on
    the exception for callers that word it their own way (seed 004's endpoints, the admin)."""

    code = "insufficient_credits"

    def __init__(self, *, balance: int, requested: int, message: str | None = None):
        self.balance = balance
        self.requested = requested
        super().__init__(
            message or messages.insufficient_message(),
            status_text="INSUFFICIENT_CREDITS",
            extra={"remaining_credits": balance},
        )


# --- validation -------------------------------------------------------------------------------

def _check_credits(credits) -> int:
    if isinstance(credits, bool) or not isinstance(credits, int) or not (
        0 < credits <= MAX_CREDITS_PER_OPERATION
    ):
        raise InvalidInput(
            f"credits must be a whole number from 1 to {MAX_CREDITS_PER_OPERATION}.",
            fields={"credits": ["Must be a positive whole number."]},
        )
    return credits


def _check_text(name: str, value, max_length: int, *, allow_none: bool) -> str | None:
    if value is None and allow_none:
        return None
    if not isinstance(value, str) or len(value) > max_length or (allow_none and not value):
        raise InvalidInput(f"{name} must be text of at most {max_length} characters.",
                           fields={name: ["Invalid."]})
    return value


def _check_common(*, source, reason, reference_id, idempotency_key, metadata):
    if source not in _SOURCES:
        raise InvalidInput(f"Unknown credit source: {source!r}.", fields={"source": ["Invalid."]})
    _check_text("reason", reason, MAX_REASON_LENGTH, allow_none=False)
    _check_text("reference_id", reference_id, MAX_REFERENCE_LENGTH, allow_none=True)
    _check_text("idempotency_key", idempotency_key, MAX_REFERENCE_LENGTH, allow_none=True)
    if metadata is not None:
        try:
            if not isinstance(metadata, dict):
                raise TypeError
            json.dumps(metadata)
        except (TypeError, ValueError) as exc:
            raise InvalidInput("metadata must be a JSON object.", fields={"metadata": ["Invalid."]}) from exc


def _check_move(*, credits, source, reason, reference_id, idempotency_key, metadata) -> None:
    _check_credits(credits)
    _check_common(source=source, reason=reason, reference_id=reference_id,
                  idempotency_key=idempotency_key, metadata=metadata)


# --- wallets ----------------------------------------------------------------------------------

def wallet_get_or_create_for_user(*, user) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(user=user, defaults={"kind": Wallet.Kind.USER})
    return wallet


def wallet_get_or_create_for_tenant(*, tenant) -> Wallet:
    wallet, _ = Wallet.objects.get_or_create(tenant=tenant, defaults={"kind": Wallet.Kind.TENANT})
    return wallet


def wallet_get_platform() -> Wallet:
    """The master wallet: the platform's credit inventory (seed 004)."""
    wallet, _ = Wallet.objects.get_or_create(kind=Wallet.Kind.PLATFORM)
    return wallet


# --- one movement -----------------------------------------------------------------------------

def _move_portable(*, wallet, action, credits, now, fields) -> CreditTransaction | None:
    with transaction.atomic():
        if fields["idempotency_key"] is not None and CreditTransaction.objects.filter(
            wallet_id=wallet.pk, idempotency_key=fields["idempotency_key"]
        ).exists():
            return None
        rows = Wallet.objects.filter(pk=wallet.pk)
        if action == Action.DEBIT:
            rows = rows.filter(balance__gte=credits)
            change = F("balance") - credits
        else:
            change = F("balance") + credits
        if not rows.update(balance=change, updated_at=now):
            return None
        balance = Wallet.objects.values_list("balance", flat=True).get(pk=wallet.pk)
        return CreditTransaction.objects.create(
            wallet=wallet, action=action, credits=credits, balance_after=balance, created_at=now,
            **fields,
        )


def _replay(prior: CreditTransaction, *, action: str, credits: int) -> CreditTransaction:
    if prior.action != action or prior.credits != credits:
        raise Conflict("This idempotency key was already used for a different credit movement.",
                       code="idempotency_key_reused")
    return prior


def _ledger_fields(*, source, reference_id, idempotency_key, actor, reason, metadata,
                   transfer_id=None) -> dict:
    """The ledger row's columns besides the movement itself (action, credits, balance, time)."""
    return {
        "source": source, "reference_id": reference_id, "idempotency_key": idempotency_key,
        "transfer_id": transfer_id, "actor_id": getattr(actor, "pk", None), "reason": reason,
        "metadata": metadata or {},
    }


def _attempt_keyed(attempt, *, idempotency_key):
    """Run one movement; (its result, None), or (None, the IntegrityError) when a keyed call lost
    the race on the (wallet, idempotency_key) unique index to a concurrent call with the same key.

    Inside a caller's transaction a savepoint keeps that transaction usable after the lost race;
    outside one, the failed statement stands alone. Without a key an IntegrityError propagates.
    """
    guard = (transaction.atomic() if idempotency_key is not None and connection.in_atomic_block
             else nullcontext())
    try:
        with guard:
            return attempt(), None
    except IntegrityError as exc:
        if idempotency_key is None:
            raise
        return None, exc


def _move(*, wallet, action, credits, source, actor, reason, reference_id, idempotency_key,
          metadata, transfer_id=None) -> CreditTransaction:
    fields = _ledger_fields(source=source, reference_id=reference_id, idempotency_key=idempotency_key,
                            actor=actor, reason=reason, metadata=metadata, transfer_id=transfer_id)
    now = timezone.now()
    mover = _move_postgresql if connection.vendor == "postgresql" else _move_portable
    # On a lost race the winner's row is replayed below.
    txn, lost_race = _attempt_keyed(
        lambda: mover(wallet=wallet, action=action, credits=credits, now=now, fields=fields),
        idempotency_key=idempotency_key)
    if txn is not None:
        wallet.balance = txn.balance_after
        wallet.updated_at = now
        return txn
    balance, prior = _prior_and_balance(wallet=wallet, idempotency_key=idempotency_key)
    if prior is not None:
        return _replay(prior, action=action, credits=credits)
    if lost_race is not None:
        raise lost_race  # not the key after all (e.g. an unknown actor)
    if balance is None:
        raise NotFound("Wallet not found.", code="wallet_not_found")
    wallet.balance = balance
    if action == Action.DEBIT:
        raise InsufficientCredits(balance=balance, requested=credits)
    raise Conflict("The credit could not be recorded.")  # unreachable: a credit always applies


def wallet_grant(*, wallet: Wallet, credits: int, source: str, actor=None, reason: str = "",
                 reference_id: str | None = None, idempotency_key: str | None = None,
                 metadata: dict | None = None) -> CreditTransaction:
    """Add credits. With `idempotency_key`, a second call on the same wallet returns the first row."""
    _check_move(credits=credits, source=source, reason=reason, reference_id=reference_id,
                idempotency_key=idempotency_key, metadata=metadata)
    return _move(wallet=wallet, action=Action.CREDIT, credits=credits, source=source, actor=actor,
                 reason=reason, reference_id=reference_id, idempotency_key=idempotency_key,
                 metadata=metadata)


def wallet_deduct(*, wallet: Wallet, credits: int, source: str = Source.USAGE, actor=None,
                  reason: str = "", reference_id: str | None = None,
                  idempotency_key: str | None = None, metadata: dict | None = None) -> CreditTransaction:
    """Take `credits` or nothing: raises InsufficientCredits when the balance is short."""
    _check_move(credits=credits, source=source, reason=reason, reference_id=reference_id,
                idempotency_key=idempotency_key, metadata=metadata)
    return _move(wallet=wallet, action=Action.DEBIT, credits=credits, source=source, actor=actor,
                 reason=reason, reference_id=reference_id, idempotency_key=idempotency_key,
                 metadata=metadata)


@transaction.atomic
def wallet_deduct_up_to(*, wallet: Wallet, credits: int, source: str, actor=None, reason: str = "",
                        reference_id: str | None = None, metadata: dict | None = None
                        ) -> tuple[CreditTransaction | None, int]:
    """Take as much of `credits` as the balance allows; returns (row or None, shortfall)."""
    _check_move(credits=credits, source=source, reason=reason, reference_id=reference_id,
                idempotency_key=None, metadata=metadata)
    balance = Wallet.objects.select_for_update().values_list("balance", flat=True).filter(
        pk=wallet.pk).first()
    if balance is None:
        raise NotFound("Wallet not found.", code="wallet_not_found")
    taken = min(balance, credits)
    if taken == 0:
        wallet.balance = balance
        return None, credits
    txn = _move(wallet=wallet, action=Action.DEBIT, credits=taken, source=source, actor=actor,
                reason=reason, reference_id=reference_id, idempotency_key=None, metadata=metadata)
    return txn, credits - taken
