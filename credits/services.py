"""Every write to wallets and the ledger (DESIGN §4.4). Keyword-only arguments throughout.

Grant and deduct are one SQL statement on PostgreSQL: a data-modifying CTE whose conditional
``UPDATE credits_wallet ... WHERE id = %s AND balance >= %s RETURNING balance`` feeds the ledger
``INSERT``. One statement is one transaction, so the balance and its ledger row commit together
or not at all, with no read-then-write window: a concurrent deduction waits for the row lock and
then re-checks ``balance >= n`` against the committed balance. Nothing moved means the balance
was short (or the idempotency key was already used); one more read tells which. So a deduction
costs at most two round trips. The bot's deduction by phone number finds the wallet inside the
same statement (`wallet_deduct_for_phone`). Transfers lock both wallets in id order, then move
both sides in one transaction. On other databases (SQLite for local runs) the same steps run through the ORM
inside a transaction, which SQLite serializes.
"""

import json
import uuid
from contextlib import nullcontext

from django.conf import settings
from django.contrib.auth import get_user_model
from django.db import IntegrityError, connection, transaction
from django.db.models import F
from django.utils import timezone

from accounts.phones import phone_normalize
from config.errors import Conflict, Forbidden, InvalidInput, NotFound, PaymentRequired
from credits import messages
from credits.models import CreditTransaction, Wallet

Source = CreditTransaction.Source
Action = CreditTransaction.Action

# Far inside BIGINT so no sum of a few operations can overflow.
MAX_CREDITS_PER_OPERATION = 10**12
MAX_REASON_LENGTH = 500
MAX_REFERENCE_LENGTH = 255

USER_INACTIVE = "User is inactive."


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
    if source not in Source.values:
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

_TXN_COLUMNS = (
    "id", "action", "credits", "balance_after", "source", "reference_id", "idempotency_key",
    "transfer_id", "actor_id", "reason", "metadata", "created_at",
)


def _txn_instance(wallet: Wallet, values: dict) -> CreditTransaction:
    """A ledger row read or returned by raw SQL, as a saved model instance."""
    metadata = values.get("metadata")
    if isinstance(metadata, str):
        values["metadata"] = json.loads(metadata)
    txn = CreditTransaction(wallet=wallet, **values)
    txn._state.adding = False
    txn._state.db = "default"
    return txn


def ledger_move_sql(*, action: str, keyed: bool, by_phone: bool = False) -> str:
    """The single statement that moves credits on PostgreSQL (benchmarks/ runs it raw, too).

    The conditional UPDATE locks the wallet row; a concurrent statement waits for that lock and
    re-checks ``balance >= credits`` on the committed row. Its RETURNING feeds the ledger INSERT,
    so both changes commit together or not at all. With a key, a NOT EXISTS guard makes a replay
    move nothing; the partial unique index stops a concurrent duplicate. `by_phone` finds the
    wallet through its user's (tenant, phone) in the same statement (the bot's hot path), and
    only an active user's: a deactivated user is never charged.
    """
    wallet_table = Wallet._meta.db_table
    ledger_table = CreditTransaction._meta.db_table
    sign = "+" if action == Action.CREDIT else "-"
    if by_phone:
        target = (f"UPDATE {wallet_table} w SET balance = w.balance {sign} %(credits)s, updated_at = %(now)s"
                  f" FROM {get_user_model()._meta.db_table} u"
                  f" WHERE w.user_id = u.id AND u.tenant_id = %(tenant_id)s AND u.phone = %(phone)s"
                  f" AND u.is_active")
        wallet_id, balance = "w.id", "w.balance"
    else:
        target = (f"UPDATE {wallet_table} SET balance = balance {sign} %(credits)s, updated_at = %(now)s"
                  f" WHERE id = %(wallet_id)s")
        wallet_id, balance = "%(wallet_id)s", "balance"
    if action == Action.DEBIT:
        target += f" AND {balance} >= %(credits)s"
    if keyed:
        target += (f" AND NOT EXISTS (SELECT 1 FROM {ledger_table} t"
                   f" WHERE t.wallet_id = {wallet_id} AND t.idempotency_key = %(idempotency_key)s)")
    returning = "w.id, w.balance" if by_phone else "id, balance"
    return f"""
        WITH moved AS (
            {target}
            RETURNING {returning}
        )
        INSERT INTO {ledger_table} (wallet_id, action, credits, balance_after, source, reference_id,
                                    idempotency_key, transfer_id, actor_id, reason, metadata, created_at)
        SELECT moved.id, %(action)s::varchar, %(credits)s::bigint, moved.balance, %(source)s::varchar,
               %(reference_id)s::varchar, %(idempotency_key)s::varchar, %(transfer_id)s::uuid,
               %(actor_id)s::bigint, %(reason)s::varchar, %(metadata)s::jsonb, %(now)s::timestamptz
        FROM moved
        RETURNING id, wallet_id, balance_after
    """


def _run_move(sql: str, params: dict):
    with connection.cursor() as cursor:
        cursor.execute(sql, {**params, "metadata": json.dumps(params["metadata"])})
        return cursor.fetchone()


def _move_postgresql(*, wallet, action, credits, now, fields) -> CreditTransaction | None:
    sql = ledger_move_sql(action=action, keyed=fields["idempotency_key"] is not None)
    row = _run_move(sql, {**fields, "wallet_id": wallet.pk, "action": action, "credits": credits, "now": now})
    if row is None:
        return None
    return _txn_instance(wallet, {**fields, "id": row[0], "balance_after": row[2], "action": action,
                                  "credits": credits, "created_at": now})


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


def _prior_and_balance(*, wallet, idempotency_key) -> tuple[int | None, CreditTransaction | None]:
    """One query: the wallet's balance and the ledger row already holding `idempotency_key`."""
    columns = ", ".join(f"t.{name}" for name in _TXN_COLUMNS)
    sql = (f"SELECT w.balance, {columns} FROM {Wallet._meta.db_table} w "
           f"LEFT JOIN {CreditTransaction._meta.db_table} t "
           f"ON t.wallet_id = w.id AND t.idempotency_key = %s WHERE w.id = %s")
    with connection.cursor() as cursor:
        cursor.execute(sql, [idempotency_key, wallet.pk])
        row = cursor.fetchone()
    if row is None:
        return None, None
    if row[1] is None:
        return row[0], None
    if connection.vendor != "postgresql":  # raw SQLite values need the ORM's converters
        return row[0], CreditTransaction.objects.get(pk=row[1])
    return row[0], _txn_instance(wallet, dict(zip(_TXN_COLUMNS, row[1:], strict=True)))


def _replay(prior: CreditTransaction, *, action: str, credits: int) -> CreditTransaction:
    if prior.action != action or prior.credits != credits:
        raise Conflict("This idempotency key was already used for a different credit movement.",
                       code="idempotency_key_reused")
    return prior


def _move(*, wallet, action, credits, source, actor, reason, reference_id, idempotency_key,
          metadata, transfer_id=None) -> CreditTransaction:
    fields = {
        "source": source, "reference_id": reference_id, "idempotency_key": idempotency_key,
        "transfer_id": transfer_id, "actor_id": getattr(actor, "pk", None), "reason": reason,
        "metadata": metadata or {},
    }
    now = timezone.now()
    mover = _move_postgresql if connection.vendor == "postgresql" else _move_portable
    # A keyed call inside a caller's transaction can lose a race on the unique key; a savepoint
    # keeps the caller's transaction usable. Outside one, the failed statement stands alone.
    guard = (transaction.atomic() if idempotency_key is not None and connection.in_atomic_block
             else nullcontext())
    lost_race = None
    try:
        with guard:
            txn = mover(wallet=wallet, action=action, credits=credits, now=now, fields=fields)
    except IntegrityError as exc:
        if idempotency_key is None:
            raise
        txn, lost_race = None, exc  # a concurrent call with the same key won; replay its row below
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
    _check_credits(credits)
    _check_common(source=source, reason=reason, reference_id=reference_id,
                  idempotency_key=idempotency_key, metadata=metadata)
    return _move(wallet=wallet, action=Action.CREDIT, credits=credits, source=source, actor=actor,
                 reason=reason, reference_id=reference_id, idempotency_key=idempotency_key,
                 metadata=metadata)


def wallet_deduct(*, wallet: Wallet, credits: int, source: str = Source.USAGE, actor=None,
                  reason: str = "", reference_id: str | None = None,
                  idempotency_key: str | None = None, metadata: dict | None = None) -> CreditTransaction:
    """Take `credits` or nothing: raises InsufficientCredits when the balance is short."""
    _check_credits(credits)
    _check_common(source=source, reason=reason, reference_id=reference_id,
                  idempotency_key=idempotency_key, metadata=metadata)
    return _move(wallet=wallet, action=Action.DEBIT, credits=credits, source=source, actor=actor,
                 reason=reason, reference_id=reference_id, idempotency_key=idempotency_key,
                 metadata=metadata)


@transaction.atomic
def wallet_deduct_up_to(*, wallet: Wallet, credits: int, source: str, actor=None, reason: str = "",
                        reference_id: str | None = None, metadata: dict | None = None
                        ) -> tuple[CreditTransaction | None, int]:
    """Take as much of `credits` as the balance allows; returns (row or None, shortfall)."""
    _check_credits(credits)
    _check_common(source=source, reason=reason, reference_id=reference_id, idempotency_key=None,
                  metadata=metadata)
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


# --- phone users (seed 003) -------------------------------------------------------------------

def signup_credits_for(tenant) -> int:
    """FREE_SIGNUP_CREDITS, unless the tenant's settings carry a valid `free_signup_credits`."""
    override = (tenant.settings or {}).get("free_signup_credits") if tenant is not None else None
    if isinstance(override, int) and not isinstance(override, bool) and 0 <= override <= 10**6:
        return override
    return settings.FREE_SIGNUP_CREDITS


def user_get_or_create_by_phone(*, phone: str, tenant) -> tuple:
    """The tenant's user with this phone number, created with the free signup credits if new.

    Two concurrent first calls create one user and one grant: the loser of the race on the
    (tenant, phone) unique index rolls back its savepoint and reads the winner's user.
    """
    e164 = phone_normalize(phone)
    if tenant is not None and not tenant.is_active:
        raise Forbidden("Tenant is suspended.", code="tenant_suspended")
    User = get_user_model()
    existing = next(iter(User.objects.filter(tenant=tenant, phone=e164)[:1]), None)
    if existing is not None:
        return existing, False
    try:
        with transaction.atomic():
            user = User.objects.create_user(phone=e164, tenant=tenant)
            wallet = Wallet.objects.create(kind=Wallet.Kind.USER, user=user)
            credits = signup_credits_for(tenant)
            if credits > 0:
                wallet_grant(wallet=wallet, credits=credits, source=Source.SIGNUP_BONUS,
                             reason="Free signup credits")
    except IntegrityError:
        winner = User.objects.filter(tenant=tenant, phone=e164).first()
        if winner is None:
            raise
        return winner, False
    return user, True


def wallet_deduct_for_phone(*, phone: str, tenant, credits: int, source: str = Source.USAGE, actor=None,
                            reason: str = "", reference_id: str | None = None,
                            idempotency_key: str | None = None, metadata: dict | None = None
                            ) -> tuple[CreditTransaction, bool]:
    """Deduct from the wallet of the tenant's user with this phone; (row, user_existed).

    On PostgreSQL the common case (a known, active user with enough credits) is one statement that
    finds the wallet by (tenant, phone), deducts and writes the ledger row. Anything else (a new
    number, a short balance, a replayed key, a deactivated user) takes the general path, which
    works out why: find or create (403 `user_inactive` for a deactivated user), then wallet_deduct.
    """
    e164 = phone_normalize(phone)
    _check_credits(credits)
    _check_common(source=source, reason=reason, reference_id=reference_id,
                  idempotency_key=idempotency_key, metadata=metadata)
    if tenant is not None and not tenant.is_active:
        raise Forbidden("Tenant is suspended.", code="tenant_suspended")
    if connection.vendor == "postgresql" and tenant is not None:
        fields = {
            "source": source, "reference_id": reference_id, "idempotency_key": idempotency_key,
            "transfer_id": None, "actor_id": getattr(actor, "pk", None), "reason": reason,
            "metadata": metadata or {},
        }
        now = timezone.now()
        sql = ledger_move_sql(action=Action.DEBIT, keyed=idempotency_key is not None, by_phone=True)
        guard = (transaction.atomic() if idempotency_key is not None and connection.in_atomic_block
                 else nullcontext())
        try:
            with guard:
                row = _run_move(sql, {**fields, "tenant_id": tenant.pk, "phone": e164,
                                      "action": Action.DEBIT, "credits": credits, "now": now})
        except IntegrityError:
            if idempotency_key is None:
                raise
            row = None  # a concurrent call with the same key won; the general path replays it
        if row is not None:
            wallet = Wallet(pk=row[1], kind=Wallet.Kind.USER, balance=row[2], updated_at=now)
            wallet._state.adding = False
            return _txn_instance(wallet, {**fields, "id": row[0], "balance_after": row[2],
                                          "action": Action.DEBIT, "credits": credits,
                                          "created_at": now}), True
    wallet, existed = wallet_get_or_create_for_phone(phone=e164, tenant=tenant)
    txn = wallet_deduct(wallet=wallet, credits=credits, source=source, actor=actor, reason=reason,
                        reference_id=reference_id, idempotency_key=idempotency_key, metadata=metadata)
    return txn, existed


def _refuse_inactive(user_is_active: bool) -> None:
    if not user_is_active:
        raise Forbidden(USER_INACTIVE, code="user_inactive")


def wallet_get_or_create_for_phone(*, phone: str, tenant) -> tuple[Wallet, bool]:
    """The wallet of the tenant's user with this phone (user created if new); (wallet, user_existed).

    The common case is one query: the wallet found through its user's (tenant, phone), with the
    user's `is_active`. A deactivated user gets no wallet and is not created again: 403.
    """
    e164 = phone_normalize(phone)
    # At most one row ((tenant, phone) is unique): no ORDER BY, which could steer the planner
    # away from the (tenant, phone) index.
    wallet = next(iter(Wallet.objects.filter(user__tenant=tenant, user__phone=e164)
                       .annotate(user_is_active=F("user__is_active"))[:1]), None)
    if wallet is not None:
        _refuse_inactive(wallet.user_is_active)
        return wallet, True
    user, created = user_get_or_create_by_phone(phone=e164, tenant=tenant)
    _refuse_inactive(user.is_active)
    return wallet_get_or_create_for_user(user=user), not created
