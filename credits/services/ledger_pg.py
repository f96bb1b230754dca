"""The ledger's raw SQL: PostgreSQL's single-statement moves (a data-modifying CTE that updates
the wallet and inserts its ledger row) and the one-query read of a balance with a replayed row."""

import json
from functools import lru_cache

from django.contrib.auth import get_user_model
from django.db import connection

from config.db import prepared_fetchone
from credits.models import CreditTransaction, Wallet

Action = CreditTransaction.Action

_TXN_COLUMNS = (
    "id", "action", "credits", "balance_after", "source", "reference_id", "idempotency_key",
    "transfer_id", "actor_id", "reason", "metadata", "created_at",
)


_TXN_ATTNAMES = [field.attname for field in CreditTransaction._meta.concrete_fields]


def _txn_instance(wallet: Wallet | None, values: dict, *, wallet_id=None) -> CreditTransaction:
    """A ledger row read or returned by raw SQL, as a saved model instance (built as the ORM
    builds a fetched row: a third of the cost of keyword arguments). Without `wallet`, the
    instance loads its wallet on first access."""
    metadata = values.get("metadata")
    if isinstance(metadata, str):
        values["metadata"] = json.loads(metadata)
    values["wallet_id"] = wallet.pk if wallet is not None else wallet_id
    txn = CreditTransaction.from_db("default", _TXN_ATTNAMES, [values[name] for name in _TXN_ATTNAMES])
    if wallet is not None:
        CreditTransaction.wallet.field.set_cached_value(txn, wallet)
    return txn


@lru_cache(maxsize=16)  # a handful of variants, built once each
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
    # Planned once per connection: most of the statement's cost.
    return prepared_fetchone(sql, {**params, "metadata": json.dumps(params["metadata"])})


def _moved(wallet: Wallet, row, *, action, credits, now, fields) -> CreditTransaction | None:
    """The ledger row a move statement returned (id, wallet_id, balance_after), or None."""
    if row is None:
        return None
    return _txn_instance(wallet, {**fields, "id": row[0], "balance_after": row[2], "action": action,
                                  "credits": credits, "created_at": now})


def _move_postgresql(*, wallet, action, credits, now, fields) -> CreditTransaction | None:
    sql = ledger_move_sql(action=action, keyed=fields["idempotency_key"] is not None)
    row = _run_move(sql, {**fields, "wallet_id": wallet.pk, "action": action, "credits": credits, "now": now})
    return _moved(wallet, row, action=action, credits=credits, now=now, fields=fields)


def _deduct_by_phone_postgresql(*, tenant_id, phone, credits, now, fields) -> CreditTransaction | None:
    """Deduct from the active user's wallet found by (tenant, phone E.164), in one statement."""
    sql = ledger_move_sql(action=Action.DEBIT, keyed=fields["idempotency_key"] is not None,
                          by_phone=True)
    row = _run_move(sql, {**fields, "tenant_id": tenant_id, "phone": phone, "action": Action.DEBIT,
                          "credits": credits, "now": now})
    if row is None:
        return None
    return _txn_instance(None, {**fields, "id": row[0], "balance_after": row[2], "action": Action.DEBIT,
                                "credits": credits, "created_at": now}, wallet_id=row[1])


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
