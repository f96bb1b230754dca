"""On PostgreSQL the database itself refuses a ledger row that lies (DESIGN §4.4), as django-hordak
does for its legs: the services stay the first line, `audit_ledger` the last.

1. BEFORE INSERT, each row: `balance_after` must be the wallet's balance as this transaction left it
   (every writer updates the wallet first: the deduct/grant CTE's UPDATE runs before its INSERT,
   transfers update both wallets before inserting both rows) and must continue the wallet's chain:
   the previous row's balance_after (0 before the first) plus or minus this row's credits. The
   wallet row is locked by that UPDATE, so the previous row cannot change underneath.
2. A deferred constraint trigger: at commit, each transfer_id has exactly one debit and one credit,
   on two wallets, of the same size. A transaction that writes half a transfer does not commit.

Both raise check_violation (SQLSTATE 23514), an IntegrityError in Django. Other databases (SQLite
for local runs) rely on the services' own checks and `audit_ledger`.

The wallet foreign key loses its own index: (wallet, -id) serves every lookup by wallet, and being
the only index on wallet it is always the plan for "this wallet's latest row" — one index probe
however long the wallet's history (with both, a stale plan could scan all of a wallet's rows).
"""

import django.db.models.deletion
from django.db import migrations, models

WALLET_INDEX = "credits_credittransaction_wallet_id_e08d6640"  # Django's name for the FK's index

FORWARD = """
CREATE OR REPLACE FUNCTION credits_ledger_check_balance() RETURNS trigger AS $$
DECLARE
    wallet_balance bigint;
    previous_balance bigint;
    signed_credits bigint;
BEGIN
    SELECT balance INTO wallet_balance FROM credits_wallet WHERE id = NEW.wallet_id;
    IF NEW.balance_after IS DISTINCT FROM wallet_balance THEN
        RAISE EXCEPTION 'ledger row refused: balance_after % but wallet % holds %',
            NEW.balance_after, NEW.wallet_id, wallet_balance
            USING ERRCODE = 'check_violation',
                  HINT = 'Update the wallet first, in the same transaction, then insert its row.';
    END IF;
    SELECT balance_after INTO previous_balance FROM credits_credittransaction
        WHERE wallet_id = NEW.wallet_id ORDER BY id DESC LIMIT 1;
    signed_credits := CASE WHEN NEW.action = 'credit' THEN NEW.credits ELSE -NEW.credits END;
    IF NEW.balance_after <> COALESCE(previous_balance, 0) + signed_credits THEN
        RAISE EXCEPTION 'ledger row refused: balance_after % does not follow % % % on wallet %',
            NEW.balance_after, COALESCE(previous_balance, 0), NEW.action, NEW.credits, NEW.wallet_id
            USING ERRCODE = 'check_violation';
    END IF;
    RETURN NEW;
END;
$$ LANGUAGE plpgsql;

CREATE TRIGGER credits_ledger_balance_after
    BEFORE INSERT ON credits_credittransaction
    FOR EACH ROW EXECUTE FUNCTION credits_ledger_check_balance();

CREATE OR REPLACE FUNCTION credits_ledger_check_transfer() RETURNS trigger AS $$
DECLARE
    legs integer;
    debits integer;
    wallets integer;
    net numeric;
BEGIN
    SELECT count(*), count(*) FILTER (WHERE action = 'debit'), count(DISTINCT wallet_id),
           COALESCE(sum(CASE WHEN action = 'credit' THEN credits ELSE -credits END), 0)
        INTO legs, debits, wallets, net
        FROM credits_credittransaction WHERE transfer_id = NEW.transfer_id;
    IF legs <> 2 OR debits <> 1 OR wallets <> 2 OR net <> 0 THEN
        RAISE EXCEPTION 'transfer % refused: % row(s), % debit(s), % wallet(s), net %',
            NEW.transfer_id, legs, debits, wallets, net
            USING ERRCODE = 'check_violation',
                  HINT = 'A transfer is one debit and one credit of the same size on two wallets.';
    END IF;
    RETURN NULL;
END;
$$ LANGUAGE plpgsql;

CREATE CONSTRAINT TRIGGER credits_ledger_transfer_balanced
    AFTER INSERT ON credits_credittransaction
    DEFERRABLE INITIALLY DEFERRED
    FOR EACH ROW WHEN (NEW.transfer_id IS NOT NULL)
    EXECUTE FUNCTION credits_ledger_check_transfer();
"""

BACKWARD = """
DROP TRIGGER IF EXISTS credits_ledger_transfer_balanced ON credits_credittransaction;
DROP FUNCTION IF EXISTS credits_ledger_check_transfer();
DROP TRIGGER IF EXISTS credits_ledger_balance_after ON credits_credittransaction;
DROP FUNCTION IF EXISTS credits_ledger_check_balance();
"""


def forward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(FORWARD, params=None)


def backward(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(BACKWARD, params=None)


class Migration(migrations.Migration):

    dependencies = [
        ("credits", "0003_ledger_chain_index"),
    ]

    operations = [
        # Only the index goes: AlterField would also drop and re-validate the foreign key, a scan
        # of the whole ledger under lock.
        migrations.SeparateDatabaseAndState(
            state_operations=[migrations.AlterField(
                model_name="credittransaction",
                name="wallet",
                field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT,
                                        related_name="transactions", to="credits.wallet"),
            )],
            database_operations=[migrations.RunSQL(
                f"DROP INDEX IF EXISTS {WALLET_INDEX}",
                reverse_sql=f"CREATE INDEX {WALLET_INDEX} ON credits_credittransaction (wallet_id)",
            )],
        ),
        migrations.RunPython(forward, backward, elidable=False),
    ]
