"""Prove the wallets agree with the ledger (DESIGN §4.4). Exits non-zero on any mismatch.

Three set-based queries, each one pass over the ledger (aggregates and window functions run in
the database; nothing loops over rows in Python):
1. balance: every wallet's balance equals Σ credits − Σ debits of its rows;
2. chain: in id order, each row's balance_after is the previous row's (0 before the first)
   plus or minus its credits, and never negative;
3. transfers: each transfer id has exactly one debit and one credit of the same size.

Cron: `manage.py audit_ledger` nightly; alert on a non-zero exit.
"""

from django.core.management.base import BaseCommand, CommandError
from django.db import connection

from credits.models import CreditTransaction, Wallet

W = Wallet._meta.db_table
T = CreditTransaction._meta.db_table
SIGNED = "CASE WHEN t.action = 'credit' THEN t.credits ELSE -t.credits END"

BALANCE_SQL = f"""
    SELECT w.id, w.balance, COALESCE(l.total, 0) AS ledger
    FROM {W} w
    LEFT JOIN (SELECT t.wallet_id, SUM({SIGNED}) AS total FROM {T} t GROUP BY t.wallet_id) l
           ON l.wallet_id = w.id
    WHERE w.balance <> COALESCE(l.total, 0)
    ORDER BY w.id
"""

CHAIN_SQL = f"""
    SELECT id, wallet_id, balance_after, expected FROM (
        SELECT t.id, t.wallet_id, t.balance_after,
               COALESCE(LAG(t.balance_after) OVER (PARTITION BY t.wallet_id ORDER BY t.id), 0)
                 + {SIGNED} AS expected
        FROM {T} t
    ) chained
    WHERE balance_after <> expected OR balance_after < 0
    ORDER BY wallet_id, id
"""

TRANSFER_SQL = f"""
    SELECT t.transfer_id,
           SUM(CASE WHEN t.action = 'debit' THEN 1 ELSE 0 END) AS debits,
           SUM(CASE WHEN t.action = 'credit' THEN 1 ELSE 0 END) AS credits,
           SUM({SIGNED}) AS net
    FROM {T} t
    WHERE t.transfer_id IS NOT NULL
    GROUP BY t.transfer_id
    HAVING COUNT(*) <> 2 OR SUM({SIGNED}) <> 0
           OR SUM(CASE WHEN t.action = 'debit' THEN 1 ELSE 0 END) <> 1
"""


class Command(BaseCommand):
    help = "Check every wallet balance and balance_after chain against the ledger; non-zero exit on a mismatch."

    def add_arguments(self, parser):
        parser.add_argument("--show", type=int, default=50,
                            help="Print at most this many problems of each kind (default 50).")

    def handle(self, *args, show, **options):
        problems = 0
        with connection.cursor() as cursor:
            cursor.execute(BALANCE_SQL)
            rows = cursor.fetchall()
            problems += len(rows)
            for wallet_id, balance, ledger in rows[:show]:
                self.stdout.write(f"wallet {wallet_id}: balance {balance} but ledger sums to {ledger} "
                                  f"(difference {balance - ledger})")

            cursor.execute(CHAIN_SQL)
            rows = cursor.fetchall()
            problems += len(rows)
            for txn_id, wallet_id, balance_after, expected in rows[:show]:
                self.stdout.write(f"wallet {wallet_id}: transaction {txn_id} has balance_after "
                                  f"{balance_after}, expected {expected} from the previous row")

            cursor.execute(TRANSFER_SQL)
            rows = cursor.fetchall()
            problems += len(rows)
            for transfer_id, debits, credits, net in rows[:show]:
                self.stdout.write(f"transfer {transfer_id}: {debits} debit row(s), {credits} credit "
                                  f"row(s), net {net} (expected one of each, net 0)")

            cursor.execute(f"SELECT COUNT(*) FROM {W}")
            wallets = cursor.fetchone()[0]
            cursor.execute(f"SELECT COUNT(*) FROM {T}")
            transactions = cursor.fetchone()[0]

        if problems:
            raise CommandError(f"Ledger audit failed: {problems} problem(s) across {wallets} wallet(s) "
                               f"and {transactions} transaction(s).")
        self.stdout.write(self.style.SUCCESS(
            f"Ledger audit clean: {wallets} wallet(s), {transactions} transaction(s)."))
