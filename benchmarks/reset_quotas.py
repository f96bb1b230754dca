#!/usr/bin/env python
"""Benchmark `manage.py reset_quotas` against one raw UPDATE doing the same work (DESIGN §8).

Builds N stale token counters (users, subscriptions, counters spread over basic/standard/premium)
in a PostgreSQL database of its own, then on the same table:

1. times `call_command("reset_quotas")` (primary-key batches, one transaction each);
2. times a second `reset_quotas` in the same month (must change nothing);
3. re-stales the table and times ONE raw ``UPDATE ... SET used = 0, quota = allowance,
   period_start = month FROM subscription, plan WHERE period_start < month`` — the same reset
   as a single statement, i.e. the floor for this work on this machine;
4. re-stales again and times the bare ``UPDATE ... SET used = 0, period_start = month`` (no join).

Each timed phase starts from the same physical state (the stale rows rewritten once, then VACUUM
ANALYZE and CHECKPOINT), so none pays for the previous one's dead rows or dirty pages.

    .venv/bin/python benchmarks/reset_quotas.py                 # N = 1,000,000
    .venv/bin/python benchmarks/reset_quotas.py --n 200000 --batch-size 5000

The database URL defaults to postgres://postgres@127.0.0.1:5432/kosh_bench_reset (created and
migrated if missing; its tables are rebuilt on every run). `--drop` removes it afterwards.
"""

import argparse
import os
import sys
import time
from datetime import timedelta
from io import StringIO
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_reset"


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=1_000_000, help="counters to build (default 1,000,000)")
    parser.add_argument("--batch-size", type=int, default=10_000, help="reset_quotas --batch-size")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database at the end")
    return parser.parse_args()


def ensure_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    admin_url = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_url, autocommit=True) as conn:
        exists = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone()
        if not exists:
            conn.execute(f'CREATE DATABASE "{name}"')
            print(f"created database {name}")


def drop_database(url: str) -> None:
    import psycopg

    parts = urlsplit(url)
    name = parts.path.lstrip("/")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    print(f"dropped database {name}")


def setup_django(url: str) -> None:
    os.environ["DATABASE_URL"] = url
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings")
    os.environ.setdefault("DEBUG", "false")  # DEBUG would keep a log of every query
    os.environ.setdefault("SECRET_KEY", "kosh-benchmark-secret-key-not-for-production-0000000000")
    os.environ.setdefault("JWT_SECRET", "kosh-benchmark-jwt-secret-not-for-production-000000000")
    sys.path.insert(0, str(ROOT))
    import django

    django.setup()


def timed(label: str, func):
    start = time.perf_counter()
    result = func()
    elapsed = time.perf_counter() - start
    print(f"  {label}: {elapsed:.2f} s")
    return result, elapsed


def main():
    args = parse_args()
    ensure_database(args.database_url)
    setup_django(args.database_url)

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from plans.models import RatePlan
    from subscriptions import clock
    from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter

    call_command("migrate", verbosity=0)
    User = get_user_model()
    users, subs, counters = User._meta.db_table, Subscription._meta.db_table, UsageCounter._meta.db_table
    plans = RatePlan._meta.db_table
    now = clock.now()
    month = clock.billing_month_start(now)
    stale_month = (month - timedelta(days=1)).replace(day=1)
    n = args.n

    def execute(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.rowcount

    def scalar(sql, params=None):
        with connection.cursor() as cursor:
            cursor.execute(sql, params)
            return cursor.fetchone()[0]

    def settle():
        execute(f"VACUUM ANALYZE {counters}")
        execute("CHECKPOINT")

    def restale():
        execute(f"UPDATE {counters} SET period_start = %s, used = (id * 7919) %% 1000", [stale_month])
        settle()

    print(f"Building {n:,} token counters in {connection.settings_dict['NAME']} ...")
    start = time.perf_counter()
    execute(f"TRUNCATE {counters}, {SubscriptionEvent._meta.db_table}, {subs} RESTART IDENTITY")
    execute(f"DELETE FROM {users} WHERE email LIKE %s", ["bench-%@example.com"])
    columns, expressions, params = [], [], []
    for field in User._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.name == "email":
            expressions.append("'bench-' || g || '@example.com'")
        elif field.name == "password":
            expressions.append("'!'")
        else:
            expressions.append("%s")
            auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            value = now if auto else field.get_default()
            params.append(field.get_db_prep_save(value, connection))
    execute(f"INSERT INTO {users} ({', '.join(columns)}) "
            f"SELECT {', '.join(expressions)} FROM generate_series(1, %s) AS g", [*params, n])
    # Plans spread 60% basic, 25% standard, 15% premium; paid ones end in 20 days.
    execute(f"""
        INSERT INTO {subs} (user_id, plan_id, product, status, billing_cycle,
                            current_period_start, current_period_end, created_at, updated_at)
        SELECT u.id, p.id, 'tokens', 'active', 'monthly', %(now)s,
               CASE WHEN p.duration_days IS NULL THEN NULL
                    ELSE %(now)s + interval '20 days' END, %(now)s, %(now)s
        FROM {users} AS u
        JOIN {plans} AS p ON p.product = 'tokens' AND p.code =
             CASE WHEN u.id %% 20 < 12 THEN 'basic' WHEN u.id %% 20 < 17 THEN 'standard'
                  ELSE 'premium' END
        WHERE u.email LIKE 'bench-%%@example.com'
        ORDER BY u.id""", {"now": now})
    execute(f"""
        INSERT INTO {counters} (subscription_id, metric, quota, used, period_start, updated_at)
        SELECT s.id, 'tokens', p.token_allowance + 500, (s.id * 7919) %% 1000, %(stale)s, %(now)s
        FROM {subs} AS s JOIN {plans} AS p ON p.id = s.plan_id ORDER BY s.id""",
            {"stale": stale_month, "now": now})
    execute(f"VACUUM ANALYZE {users}")
    execute(f"VACUUM ANALYZE {subs}")
    settle()
    built = scalar(f"SELECT count(*) FROM {counters} WHERE period_start < %s", [month])
    size = scalar(f"SELECT pg_size_pretty(pg_total_relation_size('{counters}'))")
    print(f"  built {built:,} stale counters ({size}) in {time.perf_counter() - start:.1f} s")

    # Every timed phase starts from the same state: stale rows rewritten once, then vacuumed.
    restale()
    print(f"reset_quotas --batch-size {args.batch_size}:")
    out = StringIO()
    _, command_s = timed("first run", lambda: call_command(
        "reset_quotas", batch_size=args.batch_size, stdout=out))
    reset = scalar(f"SELECT count(*) FROM {counters} WHERE period_start = %s AND used = 0", [month])
    assert reset == n, (reset, n)
    print(f"  {out.getvalue().strip().splitlines()[-1]}")
    second = StringIO()
    settle()
    _, noop_s = timed("second run, same month", lambda: call_command(
        "reset_quotas", batch_size=args.batch_size, stdout=second))
    print(f"  {second.getvalue().strip().splitlines()[-1]}")

    restale()
    live = ", ".join(f"'{s}'" for s in Subscription.LIVE_STATUSES)
    print("raw UPDATE, same work in one statement:")
    raw_rows, raw_s = timed("one statement", lambda: execute(f"""
        UPDATE {counters} AS c
        SET used = 0, quota = p.token_allowance, period_start = %(month)s, updated_at = %(now)s
        FROM {subs} AS s JOIN {plans} AS p ON p.id = s.plan_id
        WHERE c.subscription_id = s.id AND c.metric = 'tokens' AND s.product = 'tokens'
          AND s.status IN ({live}) AND c.period_start < %(month)s""", {"month": month, "now": now}))
    assert raw_rows == n, (raw_rows, n)

    restale()
    print("raw bare UPDATE (used = 0, period_start only, no join):")
    bare_rows, bare_s = timed("one statement", lambda: execute(
        f"UPDATE {counters} SET used = 0, period_start = %(month)s WHERE period_start < %(month)s",
        {"month": month}))
    assert bare_rows == n

    rate = n / command_s
    raw_rate = n / raw_s
    bare_rate = n / bare_s
    print()
    print(f"N = {n:,} counters, batch size {args.batch_size:,}")
    print(f"reset_quotas        : {command_s:8.2f} s  {rate:12,.0f} rows/s")
    print(f"raw UPDATE (same)   : {raw_s:8.2f} s  {raw_rate:12,.0f} rows/s")
    print(f"raw UPDATE (bare)   : {bare_s:8.2f} s  {bare_rate:12,.0f} rows/s")
    print(f"ratio reset_quotas / raw same-work UPDATE: {rate / raw_rate:.2f}  "
          f"(vs bare: {rate / bare_rate:.2f})")
    print(f"second run (no-op scan): {noop_s:.2f} s  {n / noop_s:,.0f} rows/s")

    connection.close()
    if args.drop:
        drop_database(args.database_url)


if __name__ == "__main__":
    main()
