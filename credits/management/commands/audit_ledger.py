"""Prove the wallets agree with the ledger (DESIGN §4.4). Exits non-zero on any mismatch.

One pass over the ledger, in wallet-id ranges (progress after each), plus one over transfers:
1. chain: in id order, each row's balance_after is the previous row's (0 before the first) plus
   or minus its credits, and never negative;
2. balance: every wallet's balance equals Σ credits − Σ debits of its rows (a wallet without rows
   holds 0), read as the newest row's expected balance (equal to Σ when check 1 passes);
3. transfers: each transfer id has exactly one debit and one credit of the same size.

Checks 1 and 2 are one statement per range (several ranges at once with --jobs): a window over each wallet's rows newest first, read
in the order of the `credit_txn_wallet_chain` index, which covers the columns it needs (no sort,
no table reads on a vacuumed table), merged with the wallets of the range by id. Each wallet is
checked within one statement, so a deduction running meanwhile never shows as a mismatch.

Cron: `manage.py audit_ledger` nightly; alert on a non-zero exit.
"""

import time
from concurrent.futures import ThreadPoolExecutor

from django.core.management.base import BaseCommand, CommandError
from django.db import connection, connections

from credits.models import CreditTransaction, Wallet

W = Wallet._meta.db_table
T = CreditTransaction._meta.db_table
SIGNED = "CASE WHEN t.action = 'credit' THEN t.credits ELSE -t.credits END"

# Wallets with ids in [lo, hi): problem rows only. `expected` is the previous row's balance_after
# (LEAD: the window runs newest first, the index's order) plus this row's movement. On the newest
# row it is the wallet's Σ whenever no chain problem is reported before it (by induction), so the
# wallet's balance is compared with it: one pass proves both.
RANGE_SQL = f"""
    SELECT w.id, w.balance, c.wallet_id, c.id, c.balance_after, c.expected, c.newest_first
    FROM (
        SELECT t.wallet_id, t.id, t.balance_after,
               COALESCE(LEAD(t.balance_after) OVER chain, 0) + t.signed AS expected,
               ROW_NUMBER() OVER chain AS newest_first
        FROM (SELECT wallet_id, id, balance_after,
                     CASE WHEN action = 'credit' THEN credits ELSE -credits END AS signed
              FROM {T} WHERE wallet_id >= %(lo)s AND wallet_id < %(hi)s) t
        WINDOW chain AS (PARTITION BY t.wallet_id ORDER BY t.id DESC)
    ) c
    FULL JOIN (SELECT id, balance FROM {W} WHERE id >= %(lo)s AND id < %(hi)s) w ON w.id = c.wallet_id
    WHERE (c.id IS NULL AND w.balance <> 0)
       OR (c.id IS NOT NULL AND (c.balance_after <> c.expected OR c.balance_after < 0))
       OR (c.newest_first = 1 AND w.balance <> c.expected)
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
        parser.add_argument("--batch-wallets", type=int, default=100_000,
                            help="Wallet ids per statement (default 100,000); progress after each.")
        parser.add_argument("--jobs", type=int, default=2,
                            help="Ranges checked at once, each on its own connection (default 2).")
        parser.add_argument("--quiet", action="store_true", help="No progress lines.")

    @staticmethod
    def _check_range(bounds: tuple[int, int]) -> list[tuple]:
        with connection.cursor() as cursor:
            cursor.execute(RANGE_SQL, {"lo": bounds[0], "hi": bounds[1]})
            return cursor.fetchall()

    @classmethod
    def _check_range_in_thread(cls, bounds: tuple[int, int]) -> list[tuple]:
        try:
            return cls._check_range(bounds)
        finally:
            connections.close_all()  # this thread's own connection

    def handle(self, *args, show, batch_wallets, jobs, quiet, **options):
        if batch_wallets < 1 or jobs < 1:
            raise CommandError("--batch-wallets and --jobs must be positive.")
        started = time.perf_counter()
        balance_problems = chain_problems = 0
        with connection.cursor() as cursor:
            cursor.execute(f"SELECT COALESCE(MIN(id), 0), COALESCE(MAX(id), 0), COUNT(*) FROM {W}")
            first, last, wallets = cursor.fetchone()
        ranges = [(lo, lo + batch_wallets) for lo in range(first, last + 1, batch_wallets)]
        # Ranges are independent; on PostgreSQL several run at once, each thread on its own
        # connection, like the parallel workers a GROUP BY gets. Inside a transaction (whose rows
        # other connections cannot see) or for one range, they run here.
        parallel = (jobs > 1 and len(ranges) > 1 and connection.vendor == "postgresql"
                    and not connection.in_atomic_block)
        with ThreadPoolExecutor(max_workers=jobs if parallel else 1) as pool:
            results = (pool.map(self._check_range_in_thread, ranges) if parallel
                       else map(self._check_range, ranges))
            for (lo, hi), problem_rows in zip(ranges, results, strict=True):
                for wallet_id, balance, row_wallet, txn_id, balance_after, expected, newest in problem_rows:
                    if txn_id is None or (newest == 1 and balance is not None and balance != expected):
                        ledger = 0 if txn_id is None else expected
                        balance_problems += 1
                        if balance_problems <= show:
                            self.stdout.write(f"wallet {wallet_id}: balance {balance} but ledger sums to "
                                              f"{ledger} (difference {balance - ledger})")
                    if txn_id is not None and (balance_after != expected or balance_after < 0):
                        chain_problems += 1
                        if chain_problems <= show:
                            self.stdout.write(f"wallet {row_wallet}: transaction {txn_id} has balance_after "
                                              f"{balance_after}, expected {expected} from the previous row")
                if not quiet:
                    self.stderr.write(f"  wallets {lo}..{min(hi, last + 1) - 1} of {first}..{last}: "
                                      f"{balance_problems + chain_problems} problem(s) so far, "
                                      f"{time.perf_counter() - started:.1f} s")

        with connection.cursor() as cursor:
            cursor.execute(TRANSFER_SQL)
            rows = cursor.fetchall()
            for transfer_id, debits, credits, net in rows[:show]:
                self.stdout.write(f"transfer {transfer_id}: {debits} debit row(s), {credits} credit "
                                  f"row(s), net {net} (expected one of each, net 0)")
            cursor.execute(f"SELECT COUNT(*) FROM {T}")
            transactions = cursor.fetchone()[0]

        problems = balance_problems + chain_problems + len(rows)
        if problems:
            raise CommandError(f"Ledger audit failed: {problems} problem(s) across {wallets} wallet(s) "
                               f"and {transactions} transaction(s).")
        self.stdout.write(self.style.SUCCESS(
            f"Ledger audit clean: {wallets} wallet(s), {transactions} transaction(s)."))
