#!/usr/bin/env python
"""Benchmark `manage.py process_subscriptions`: N subscriptions whose periods all end at the same
moment, closed while the API answers requests, against the raw SQL that advances the same
periods (DESIGN §8).

Builds N telephony subscriptions (STARTER monthly, half of them over their included minutes; one
in 50 cancelling at the period end, one in 50 with auto-renew off) with their usage counters, in a
PostgreSQL database of its own, then:

1. starts gunicorn and samples `GET /api/subscriptions/:id/usage` (owners' JWTs, subscriptions
   being closed) with a few keep-alive connections for the whole run;
2. idle: the API alone for --idle seconds (p50/p99 of the API);
3. times `process_subscriptions` as of the common period end (in this process, `call_command`),
   the API still sampled (p50/p99 during the run), then checks one renewal order per renewed
   subscription and times a second run (must change nothing);
4. restores the subscriptions and times ONE raw ``UPDATE`` advancing the same periods (start =
   end, end + 1 month, unpaid since the end) — the floor; then, restored again, the raw SQL of
   the same writes (advance, counters reset, renewal orders and events inserted by
   ``INSERT ... SELECT``) in one transaction.

Every timed phase starts from the same physical state (restored, VACUUM ANALYZE, CHECKPOINT).

    .venv/bin/python benchmarks/process_subscriptions.py                # N = 100,000
    .venv/bin/python benchmarks/process_subscriptions.py --n 20000 --batch-size 1000

The database URL defaults to postgres://postgres@127.0.0.1:5432/kosh_bench_renewals (created and
migrated if missing; its tables are rebuilt on every run). `--drop` removes it afterwards.
"""

import argparse
import http.client
import multiprocessing
import os
import statistics
import sys
import time
from datetime import UTC, datetime
from io import StringIO
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from benchmarks import common  # noqa: E402

DEFAULT_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_renewals"
PERIOD_END = datetime(2026, 6, 1, 0, 0, tzinfo=UTC)
PERIOD_START = datetime(2026, 5, 1, 0, 0, tzinfo=UTC)


def parse_args():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--n", type=int, default=100_000, help="subscriptions closing at once (default 100,000)")
    parser.add_argument("--batch-size", type=int, default=1000, help="process_subscriptions --batch-size")
    parser.add_argument("--connections", type=int, default=2, help="API connections sampled during the run")
    parser.add_argument("--idle", type=float, default=10, help="seconds of API-only sampling before the run")
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_URL))
    parser.add_argument("--drop", action="store_true", help="drop the benchmark database at the end")
    return parser.parse_args()


# --- the API sampler (own processes: time-stamped latencies of every request) -----------------

def _sample(port, targets, stop, queue):
    import random

    rng = random.Random()
    samples = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while not stop.is_set():
        path, headers = targets[rng.randrange(len(targets))]
        began = time.time()
        try:
            connection.request("GET", path, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        samples.append((began, time.time() - began, status))
    connection.close()
    queue.put(samples)


def latency(samples, start, end) -> dict:
    window = [(lat, status) for at, lat, status in samples if start <= at < end]
    ok = [lat for lat, status in window if 200 <= status < 300]
    bad = len(window) - len(ok)
    if len(ok) < 2:
        return {"n": len(ok), "bad": bad, "p50": float("nan"), "p99": float("nan"), "rps": 0.0}
    q = statistics.quantiles(sorted(ok), n=100)
    return {"n": len(ok), "bad": bad, "p50": q[49] * 1000, "p99": q[98] * 1000, "rps": len(ok) / (end - start)}


# --- main ------------------------------------------------------------------------------------

def main():
    args = parse_args()
    common.check_loopback(args.database_url)
    if not common.database_exists(args.database_url):
        common.recreate_database(args.database_url)
    env = common.bench_env(args.database_url, SUBSCRIPTION_RENEWAL_NOTICE_DAYS="0")
    common.migrate(env)
    import django

    django.setup()
    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.db import connection

    from accounts.services import auth_tokens_issue
    from payments.models import PaymentOrder
    from plans.models import RatePlan
    from subscriptions.models import Subscription, SubscriptionEvent, UsageCounter

    User = get_user_model()
    users, subs, counters = User._meta.db_table, Subscription._meta.db_table, UsageCounter._meta.db_table
    orders, events = PaymentOrder._meta.db_table, SubscriptionEvent._meta.db_table
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
        for table in (subs, counters, orders, events):
            execute(f"VACUUM ANALYZE {table}")
        execute("CHECKPOINT")

    # --- build -----------------------------------------------------------------------------
    print(f"Building {n:,} subscriptions ending {PERIOD_END:%Y-%m-%d %H:%M} UTC in "
          f"{connection.settings_dict['NAME']} ({common.machine_note()}) ...")
    began = time.perf_counter()
    execute(f"TRUNCATE {orders}, {events}, {counters}, {subs} RESTART IDENTITY CASCADE")
    from rest_framework_simplejwt.token_blacklist.models import OutstandingToken

    execute(f"TRUNCATE {OutstandingToken._meta.db_table} CASCADE")  # the sampler's tokens of a previous run
    execute(f"DELETE FROM {users} WHERE email LIKE %s", ["bench-renewal-%@example.com"])
    now = datetime.now(UTC)
    columns, expressions, params = [], [], []
    for field in User._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.name == "email":
            expressions.append("'bench-renewal-' || g || '@example.com'")
        elif field.name == "password":
            expressions.append("'!'")
        elif field.name == "name":
            expressions.append("'Customer ' || g")
        else:
            expressions.append("%s")
            auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            params.append(field.get_db_prep_save(now if auto else field.get_default(), connection))
    execute(f"INSERT INTO {users} ({', '.join(columns)}) "
            f"SELECT {', '.join(expressions)} FROM generate_series(1, %s) AS g", [*params, n])
    starter = RatePlan.objects.get(product="telephony", code="STARTER")
    execute(f"""
        INSERT INTO {subs} (user_id, plan_id, product, status, billing_cycle, current_period_start,
                            current_period_end, started_at, billing_anchor_at, auto_renew, cancel_at_period_end,
                            addons, pricing, period_price_paise, scheduled_billing_cycle, created_at, updated_at)
        SELECT u.id, %(plan)s, 'telephony', 'active', 'monthly', %(start)s, %(end)s, %(start)s, %(start)s,
               u.id %% 50 NOT IN (1, 2), u.id %% 50 = 1, '{{}}'::jsonb, '{{}}'::jsonb, 34900, '', %(now)s, %(now)s
        FROM {users} AS u WHERE u.email LIKE 'bench-renewal-%%@example.com' ORDER BY u.id""",
            {"plan": starter.pk, "start": PERIOD_START, "end": PERIOD_END, "now": now})
    for metric, quota, used in (("minutes", 100, "(s.id * 7919) %% 200"), ("tollFreeNumbers", 1, "1"),
                                ("extensions", 2, "(s.id %% 3)")):
        execute(f"""
            INSERT INTO {counters} (subscription_id, metric, quota, used, period_start, updated_at)
            SELECT s.id, %(metric)s, %(quota)s, {used}, %(day)s, %(now)s FROM {subs} AS s ORDER BY s.id""",
                {"metric": metric, "quota": quota, "day": PERIOD_START.date(), "now": now})
    execute("DROP TABLE IF EXISTS bench_subs_before")
    execute(f"CREATE TABLE bench_subs_before AS SELECT * FROM {subs}")
    execute("DROP TABLE IF EXISTS bench_counters_before")
    execute(f"CREATE TABLE bench_counters_before AS SELECT id, used, period_start FROM {counters}")
    execute(f"VACUUM ANALYZE {users}")
    settle()
    renewing = scalar(f"SELECT count(*) FROM {subs} WHERE auto_renew AND NOT cancel_at_period_end")
    print(f"  built in {time.perf_counter() - began:.1f} s: {renewing:,} renew, {n - renewing:,} end")

    def restore():
        execute(f"TRUNCATE {orders}, {events} RESTART IDENTITY CASCADE")
        execute(f"""UPDATE {subs} AS s SET status = b.status, plan_id = b.plan_id, billing_cycle = b.billing_cycle,
                        current_period_start = b.current_period_start, current_period_end = b.current_period_end,
                        billing_anchor_at = b.billing_anchor_at, auto_renew = b.auto_renew,
                        cancel_at_period_end = b.cancel_at_period_end, ended_at = NULL, unpaid_since = NULL,
                        period_price_paise = b.period_price_paise, pricing = b.pricing, addons = b.addons
                    FROM bench_subs_before AS b WHERE b.id = s.id""")
        execute(f"""UPDATE {counters} AS c SET used = b.used, period_start = b.period_start
                    FROM bench_counters_before AS b WHERE b.id = c.id""")
        settle()

    # --- the API and its sampler -----------------------------------------------------------
    sample_users = list(User.objects.filter(email__startswith="bench-renewal-").order_by("pk")[:200])
    sub_of = dict(Subscription.objects.filter(user__in=sample_users).values_list("user_id", "pk"))
    targets = [(f"/api/subscriptions/{sub_of[u.pk]}/usage",
                {"Authorization": f"Bearer {auth_tokens_issue(user=u)['access']}"}) for u in sample_users]
    connection.close()  # no connection shared with forked processes
    port = common.free_port()
    server = common.start_gunicorn("config.wsgi:application", port, env, workers=2, threads=4)
    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    try:
        # warm up, then sample for the whole run
        common.drive("python", port, targets[0][0], headers=targets[0][1], connections=2, duration=2,
                     load_threads=1)
        stop = ctx.Event()
        samplers = [ctx.Process(target=_sample, args=(port, targets, stop, queue))
                    for _ in range(args.connections)]
        for process in samplers:
            process.start()
        idle_start = time.time()
        time.sleep(args.idle)
        idle_end = time.time()

        print(f"process_subscriptions --batch-size {args.batch_size} (the API sampled meanwhile):")
        out = StringIO()
        run_start = time.time()
        began = time.perf_counter()
        call_command("process_subscriptions", as_of=PERIOD_END.isoformat(), batch_size=args.batch_size, stdout=out)
        command_s = time.perf_counter() - began
        run_end = time.time()
        print("  " + "\n  ".join(line for line in out.getvalue().strip().splitlines() if ":" in line))
        print(f"  first run: {command_s:.2f} s")
        # stop the sampler now: it must not measure the checks and raw SQL phases
        stop.set()
        samples = []
        for _ in samplers:
            samples += queue.get(timeout=120)
        for process in samplers:
            process.join(10)
    finally:
        common.stop(server)
    idle, during = latency(samples, idle_start, idle_end), latency(samples, run_start, run_end)

    opened = scalar(f"SELECT count(*) FROM {orders} WHERE purpose = 'renewal'")
    distinct = scalar(f"SELECT count(DISTINCT (subscription_id, period_start)) FROM {orders} WHERE purpose = 'renewal'")
    advanced = scalar(f"SELECT count(*) FROM {subs} WHERE current_period_start = %s", [PERIOD_END])
    assert opened == distinct == advanced == renewing, (opened, distinct, advanced, renewing)
    settle()
    began = time.perf_counter()
    second = StringIO()
    call_command("process_subscriptions", as_of=PERIOD_END.isoformat(), batch_size=args.batch_size, stdout=second)
    noop_s = time.perf_counter() - began
    assert scalar(f"SELECT count(*) FROM {orders}") == opened
    print(f"  second run, same moment: {noop_s:.2f} s (nothing to do)")

    # --- raw SQL baselines -----------------------------------------------------------------
    due = ("status IN ('active', 'past_due', 'suspended') AND unpaid_since IS NULL "
           "AND current_period_end <= %(end)s AND auto_renew AND NOT cancel_at_period_end")
    restore()
    print("raw SQL: one UPDATE advancing the same periods:")
    began = time.perf_counter()
    raw_rows = execute(f"""
        UPDATE {subs} SET current_period_start = current_period_end,
               current_period_end = current_period_end + interval '1 month',
               unpaid_since = current_period_end, updated_at = %(now)s
        WHERE {due}""", {"end": PERIOD_END, "now": now})
    raw_s = time.perf_counter() - began
    assert raw_rows == renewing, (raw_rows, renewing)
    print(f"  {raw_s:.2f} s")

    restore()
    print("raw SQL: the same writes (advance, end, counters, orders, events) in one transaction:")
    from django.db import transaction

    began = time.perf_counter()
    with transaction.atomic():
        execute(f"""
            INSERT INTO {orders} (user_id, kind, plan_id, subscription_id, purpose, lines, tax_paise, amount_paise,
                                  currency, gateway, checkout, checkout_session, gateway_fee_paise, receipt, status,
                                  amount_refunded_paise, fulfilled_via, fulfilment_action, failure_reason,
                                  phone_number, period_start, period_end, created_at, updated_at)
            SELECT s.user_id, 'subscription', s.plan_id, s.id, 'renewal', '[]'::jsonb, t.tax, 34900 + t.over + t.tax,
                   'INR', 'sandbox', 'razorpay', '', 0, 'raw_' || s.id, 'created', 0, '', '', '', '',
                   s.current_period_end, s.current_period_end + interval '1 month', %(now)s, %(now)s
            FROM {subs} AS s JOIN {counters} AS c ON c.subscription_id = s.id AND c.metric = 'minutes'
            CROSS JOIN LATERAL (SELECT greatest(c.used - 100, 0) * 199 AS over) AS o
            CROSS JOIN LATERAL (SELECT o.over,
                                       round((34900 + o.over) * 0.18)::bigint AS tax) AS t
            WHERE {due.replace('status', 's.status').replace('unpaid_since', 's.unpaid_since')
                   .replace('current_period_end', 's.current_period_end').replace('auto_renew', 's.auto_renew')
                   .replace('cancel_at_period_end', 's.cancel_at_period_end')}""",
                {"end": PERIOD_END, "now": now})
        execute(f"""
            INSERT INTO {events} (subscription_id, kind, from_plan_code, to_plan_code, from_status, to_status,
                                  reason, data, created_at)
            SELECT id, CASE WHEN cancel_at_period_end THEN 'cancelled' WHEN NOT auto_renew THEN 'expired'
                            ELSE 'period_renewed' END, 'STARTER', 'STARTER', status,
                   CASE WHEN cancel_at_period_end THEN 'cancelled' WHEN NOT auto_renew THEN 'expired'
                        ELSE status END, 'raw', '{{}}'::jsonb, %(now)s
            FROM {subs} WHERE current_period_end <= %(end)s AND status = 'active'""",
                {"end": PERIOD_END, "now": now})
        execute(f"""
            UPDATE {counters} AS c SET used = 0, period_start = %(day)s, updated_at = %(now)s
            FROM {subs} AS s WHERE c.subscription_id = s.id AND c.metric = 'minutes' AND {
                due.replace('status', 's.status').replace('unpaid_since', 's.unpaid_since')
                .replace('current_period_end', 's.current_period_end').replace('auto_renew', 's.auto_renew')
                .replace('cancel_at_period_end', 's.cancel_at_period_end')}""",
                {"end": PERIOD_END, "now": now, "day": PERIOD_END.date()})
        execute(f"""
            UPDATE {subs} SET status = CASE WHEN cancel_at_period_end THEN 'cancelled' ELSE 'expired' END,
                   ended_at = current_period_end, auto_renew = false, updated_at = %(now)s
            WHERE status = 'active' AND current_period_end <= %(end)s
              AND (cancel_at_period_end OR NOT auto_renew)""", {"end": PERIOD_END, "now": now})
        same_rows = execute(f"""
            UPDATE {subs} SET current_period_start = current_period_end,
                   current_period_end = current_period_end + interval '1 month',
                   unpaid_since = current_period_end, updated_at = %(now)s
            WHERE {due}""", {"end": PERIOD_END, "now": now})
    same_s = time.perf_counter() - began
    assert same_rows == renewing
    print(f"  {same_s:.2f} s")
    execute("DROP TABLE bench_subs_before")
    execute("DROP TABLE bench_counters_before")
    connection.close()

    rate, raw_rate, same_rate = n / command_s, n / raw_s, n / same_s
    print()
    print(f"N = {n:,} subscriptions closing at once ({renewing:,} renewed with an order), batch size "
          f"{args.batch_size:,}; {common.machine_note()}")
    print(f"process_subscriptions      : {command_s:8.2f} s  {rate:10,.0f} rows/s")
    print(f"raw SQL, same writes       : {same_s:8.2f} s  {same_rate:10,.0f} rows/s")
    print(f"raw SQL, one UPDATE advance: {raw_s:8.2f} s  {raw_rate:10,.0f} rows/s")
    print(f"second run (no-op)         : {noop_s:8.2f} s")
    print(f"API GET /api/subscriptions/:id/usage, {args.connections} connections:")
    print(f"  idle            : p50 {idle['p50']:7.1f} ms  p99 {idle['p99']:7.1f} ms  {idle['rps']:6.1f} req/s  "
          f"({idle['n']} ok, {idle['bad']} not 2xx)")
    print(f"  during the run  : p50 {during['p50']:7.1f} ms  p99 {during['p99']:7.1f} ms  "
          f"{during['rps']:6.1f} req/s  ({during['n']} ok, {during['bad']} not 2xx)")
    print(f"  p99 during ÷ idle: {during['p99'] / idle['p99']:.2f}")
    print(f"ratio process_subscriptions / raw same writes: {rate / same_rate:.3f}")
    print(f"ratio process_subscriptions / raw UPDATE advancing the same periods: {rate / raw_rate:.3f}")
    if args.drop:
        import psycopg

        admin, name = common._admin_dsn(args.database_url)
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    return 0 if during["bad"] == 0 else 1


if __name__ == "__main__":
    sys.exit(main())
