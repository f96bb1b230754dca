"""Scale: POST /api/bot/deduct and `manage.py audit_ledger` on a big ledger, against the same
work measured in this run (issue 16).

    .venv/bin/python benchmarks/scale.py                                   # 1,000,000 wallets, 10 rows each
    .venv/bin/python benchmarks/scale.py --wallets 100000 --rows-per-wallet 5 --duration 5   # quick

What it does, all on 127.0.0.1:
1. builds two databases with SQL (generate_series; triggers and foreign keys are skipped while
   loading, the ledger's secondary indexes dropped and rebuilt after): a small one with
   --small-wallets (1,000) wallets and a big one with --wallets (1,000,000) wallets, each wallet
   holding --rows-per-wallet (10) ledger rows whose chain and balance are consistent, written in
   time order (rows of different wallets interleave, as in production); then VACUUM ANALYZE.
   A database already holding the requested sizes is kept (--rebuild forces a new one);
2. serves each database with its own gunicorn (same --workers x --threads) and drives POST
   /api/bot/deduct with phone numbers drawn at random over all its wallets (wrk when installed,
   else Python load processes), the two databases interleaved round by round;
3. times `manage.py audit_ledger` on the big database (in this process: Django's start-up is
   not part of it; its progress lines show), then one raw
   ``SELECT wallet_id, SUM(...) FROM ledger GROUP BY wallet_id`` over the same table;
4. prints the targets last: deduct req/s big ÷ small >= 0.9; audit_ledger time ÷ GROUP BY time
   <= 2 (printed as GROUP BY ÷ audit >= 0.5). Exits 1 when one is missed or the audit fails.
"""

import argparse
import os
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402

DEFAULT_BIG_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_scale"
DEFAULT_SMALL_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_scale_small"
TENANT_SLUG = "scale"
PHONE_BASE = 919_000_000_000  # +91 90000 00001, +91 90000 00002, ...
INITIAL_CREDITS = 1_000_000
DEDUCT_TARGET = 0.9
AUDIT_TARGET = 2.0

WRK_LUA = """
local n = {WALLETS}
request = function()
  local body = string.format('{"phone_number":"+%d"}', {PHONE_BASE} + math.random(n))
  return wrk.format("POST", nil, {["Content-Type"]="application/json", ["X-Bot-Secret"]="{KEY}"}, body)
end
"""


def _user_insert_sql() -> tuple[str, list]:
    """INSERT ... SELECT for phone users of the tenant, from the model's own columns and defaults."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.utils import timezone

    user_model = get_user_model()
    columns, expressions, params = [], [], []
    now = timezone.now()
    for field in user_model._meta.concrete_fields:
        if field.primary_key:
            continue
        columns.append(field.column)
        if field.name == "phone":
            expressions.append(f"'+' || ({PHONE_BASE} + g)")
        elif field.name == "email":
            expressions.append("NULL")
        elif field.name == "tenant":
            expressions.append("%(tenant_id)s")
        elif field.name == "password":
            expressions.append("'!'")
        else:
            expressions.append(f"%(p{len(params)})s")
            auto = getattr(field, "auto_now", False) or getattr(field, "auto_now_add", False)
            value = now if auto else field.get_default()
            params.append(field.get_db_prep_save(value, connection))
    sql = (f"INSERT INTO {user_model._meta.db_table} ({', '.join(columns)}) "
           f"SELECT {', '.join(expressions)} FROM generate_series(1, %(wallets)s) AS g ORDER BY g")
    return sql, params


def build(database_url: str, *, wallets: int, rows_per_wallet: int, env: dict, rebuild: bool) -> str:
    """Create (or keep) a database of this size; returns its bot API key."""
    import psycopg
    from django.contrib.auth import get_user_model

    from credits.models import CreditTransaction, Wallet
    from tenants.keys import key_generate, key_hash
    from tenants.models import ApiKey, Tenant

    ledger, wallet_table = CreditTransaction._meta.db_table, Wallet._meta.db_table
    user_table = get_user_model()._meta.db_table
    size_marker = f"{wallets}x{rows_per_wallet}"
    if not rebuild and common.database_exists(database_url):
        with psycopg.connect(database_url, autocommit=True) as connection:
            row = connection.execute(f"SELECT settings->>'size' FROM {Tenant._meta.db_table} WHERE slug = %s",
                                     [TENANT_SLUG]).fetchone()
            if row and row[0] == size_marker:
                prefix, raw = key_generate()
                tenant_id = connection.execute(f"SELECT id FROM {Tenant._meta.db_table} WHERE slug = %s",
                                               [TENANT_SLUG]).fetchone()[0]
                connection.execute(f"INSERT INTO {ApiKey._meta.db_table} (tenant_id, name, prefix, key_hash,"
                                   " scopes, created_at) VALUES (%s, 'scale', %s, %s, '[\"bot\"]', now())",
                                   [tenant_id, prefix, key_hash(raw)])
                print(f"  {database_url}: kept ({wallets:,} wallets x {rows_per_wallet} rows)", flush=True)
                return raw
    started = time.perf_counter()
    common.recreate_database(database_url)
    common.migrate({**env, "DATABASE_URL": database_url})
    user_sql, user_params = _user_insert_sql()
    prefix, raw = key_generate()
    with psycopg.connect(database_url, autocommit=True) as connection:
        def step(label, sql, params=None):
            began = time.perf_counter()
            connection.execute(sql, params)
            print(f"    {label}: {time.perf_counter() - began:.1f} s", flush=True)

        tenant_id = connection.execute(
            f"INSERT INTO {Tenant._meta.db_table} (name, slug, status, email, phone, suspended_reason, settings,"
            " created_at, updated_at) VALUES ('Scale', %s, 'active', '', '', '', %s, now(), now()) RETURNING id",
            [TENANT_SLUG, psycopg.types.json.Jsonb({"size": size_marker})]).fetchone()[0]
        connection.execute(f"INSERT INTO {ApiKey._meta.db_table} (tenant_id, name, prefix, key_hash, scopes,"
                           " created_at) VALUES (%s, 'scale', %s, %s, '[\"bot\"]', now())",
                           [tenant_id, prefix, key_hash(raw)])
        # Bulk load: no triggers or foreign-key checks, secondary ledger indexes rebuilt after.
        connection.execute("SET session_replication_role = replica")
        connection.execute("SET maintenance_work_mem = '256MB'")
        indexes = connection.execute(
            "SELECT indexname, indexdef FROM pg_indexes WHERE tablename = %s AND indexname NOT IN "
            "(SELECT conname FROM pg_constraint WHERE conrelid = %s::regclass AND contype = 'p')",
            [ledger, ledger]).fetchall()
        for name, _ in indexes:
            connection.execute(f'DROP INDEX "{name}"')
        print(f"  building {database_url}: {wallets:,} wallets, {wallets * rows_per_wallet:,} ledger rows",
              flush=True)
        params = {f"p{i}": value for i, value in enumerate(user_params)}
        step("users", user_sql, {**params, "tenant_id": tenant_id, "wallets": wallets})
        final = INITIAL_CREDITS - (rows_per_wallet - 1)
        step("wallets", f"INSERT INTO {wallet_table} (kind, user_id, balance, created_at, updated_at) "
                        f"SELECT 'user', id, %s, now(), now() FROM {user_table} WHERE tenant_id = %s ORDER BY id",
             [final, tenant_id])
        # Row k (1-based) of every wallet: a credit of INITIAL_CREDITS first, then debits of 1;
        # ordered by k then wallet, so ids interleave wallets as real traffic does.
        step("ledger", f"""
            INSERT INTO {ledger} (wallet_id, action, credits, balance_after, source, reference_id,
                                  idempotency_key, transfer_id, actor_id, reason, metadata, created_at)
            SELECT w.id, CASE WHEN k = 1 THEN 'credit' ELSE 'debit' END,
                   CASE WHEN k = 1 THEN {INITIAL_CREDITS} ELSE 1 END,
                   {INITIAL_CREDITS} - (k - 1), CASE WHEN k = 1 THEN 'signup_bonus' ELSE 'usage' END,
                   NULL, NULL, NULL, NULL, 'scale', '{{}}'::jsonb, now()
            FROM generate_series(1, %s) AS k CROSS JOIN {wallet_table} AS w
            ORDER BY k, w.id""", [rows_per_wallet])
        for name, definition in indexes:
            step(f"index {name}", definition)
        connection.execute("SET session_replication_role = DEFAULT")
        step("vacuum analyze", "VACUUM ANALYZE")
        step("checkpoint", "CHECKPOINT")
    print(f"  built in {time.perf_counter() - started:.0f} s", flush=True)
    return raw


def drive_deduct(generator: str, port: int, *, key: str, wallets: int, connections: int, duration: float,
                 load_threads: int) -> dict:
    if generator == "wrk":
        import re
        import tempfile

        lua = (WRK_LUA.replace("{WALLETS}", str(wallets)).replace("{PHONE_BASE}", str(PHONE_BASE))
               .replace("{KEY}", key))
        with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
            script.write(lua)
        try:
            output = subprocess.run(
                ["wrk", "-t", str(load_threads), "-c", str(connections), "-d", f"{duration:g}s", "-s",
                 script.name, f"http://127.0.0.1:{port}/api/bot/deduct"],
                capture_output=True, text=True, timeout=duration + 60, check=True).stdout
        finally:
            os.unlink(script.name)
        total = int(re.search(r"(\d+) requests in", output).group(1))
        bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
        seconds = float(re.search(r"requests in ([\d.]+)s", output).group(1))
        ok = total - (int(bad.group(1)) if bad else 0)
        return {"ok": ok, "all": total, "seconds": seconds}
    import json
    import random

    rng = random.Random(7)
    bodies = [json.dumps({"phone_number": f"+{PHONE_BASE + rng.randint(1, wallets)}"}) for _ in range(20_000)]
    result = common.drive(generator, port, "/api/bot/deduct", method="POST", bodies=bodies,
                          headers={"Content-Type": "application/json", "X-Bot-Secret": key},
                          connections=connections, duration=duration, load_threads=load_threads)
    return {"ok": result["ok"], "all": result["all"], "seconds": result["ok"] / result["rps"] if result["rps"] else duration}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--wallets", type=int, default=1_000_000)
    parser.add_argument("--small-wallets", type=int, default=1_000)
    parser.add_argument("--rows-per-wallet", type=int, default=10)
    parser.add_argument("--database-url", default=DEFAULT_BIG_URL)
    parser.add_argument("--small-database-url", default=DEFAULT_SMALL_URL)
    parser.add_argument("--rebuild", action="store_true", help="rebuild the databases even if their size matches")
    parser.add_argument("--duration", type=float, default=10.0, help="seconds per deduct phase per round")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--connections", type=int, default=16)
    parser.add_argument("--workers", type=int, default=2)
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker (the production setting, README)")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--load-threads", type=int, default=2)
    opts = parser.parse_args()
    if not (0 < opts.small_wallets <= opts.wallets <= 50_000_000 and 2 <= opts.rows_per_wallet <= 1000
            and 0 < opts.duration <= 600 and 0 < opts.rounds <= 20):
        raise SystemExit("out-of-range option")
    for url in (opts.database_url, opts.small_database_url):
        common.check_loopback(url)
    generator = common.load_generator(opts.load)
    env = common.bench_env(opts.database_url)
    print(f"scale: {opts.wallets:,} wallets x {opts.rows_per_wallet} ledger rows vs {opts.small_wallets:,} "
          f"wallets; gunicorn {opts.workers}x{opts.threads}; load generator: {generator}; "
          f"{common.machine_note()}", flush=True)
    import django

    django.setup()
    keys = {
        "small": build(opts.small_database_url, wallets=opts.small_wallets, rows_per_wallet=opts.rows_per_wallet,
                       env=env, rebuild=opts.rebuild),
        "big": build(opts.database_url, wallets=opts.wallets, rows_per_wallet=opts.rows_per_wallet, env=env,
                     rebuild=opts.rebuild),
    }
    from django.db import connection

    connection.close()
    sizes = {"small": opts.small_wallets, "big": opts.wallets}
    urls = {"small": opts.small_database_url, "big": opts.database_url}
    ports = {name: common.free_port() for name in urls}
    servers = {}
    totals = {name: {"ok": 0, "all": 0, "seconds": 0.0} for name in urls}
    try:
        for name, url in urls.items():
            servers[name] = common.start_gunicorn("config.wsgi:application", ports[name],
                                                  {**env, "DATABASE_URL": url}, workers=opts.workers,
                                                  threads=opts.threads)
        for name in urls:  # warm up
            drive_deduct(generator, ports[name], key=keys[name], wallets=sizes[name],
                         connections=opts.connections, duration=2, load_threads=opts.load_threads)
        for round_no in range(1, opts.rounds + 1):
            for name in urls:
                result = drive_deduct(generator, ports[name], key=keys[name], wallets=sizes[name],
                                      connections=opts.connections, duration=opts.duration,
                                      load_threads=opts.load_threads)
                for field in totals[name]:
                    totals[name][field] += result[field]
                print(f"  round {round_no} deduct, {sizes[name]:>10,} wallets: "
                      f"{result['ok'] / result['seconds']:8.0f} req/s ({result['all'] - result['ok']} not 2xx)",
                      flush=True)
    finally:
        for server in servers.values():
            common.stop(server)
    rps = {name: total["ok"] / total["seconds"] if total["seconds"] else 0.0 for name, total in totals.items()}

    print(f"\naudit_ledger on {opts.database_url} (in this process, so Django's start-up is not timed):",
          flush=True)
    from io import StringIO

    from django.core.management import CommandError, call_command

    out = StringIO()
    audit_ok = True
    began = time.perf_counter()
    try:
        call_command("audit_ledger", stdout=out)
    except CommandError as exc:
        audit_ok = False
        out.write(str(exc))
    audit_seconds = time.perf_counter() - began
    print(out.getvalue().strip().splitlines()[-1], flush=True)
    connection.close()
    import psycopg

    from credits.models import CreditTransaction

    ledger = CreditTransaction._meta.db_table
    with psycopg.connect(opts.database_url, autocommit=True) as raw:
        began = time.perf_counter()
        groups = len(raw.execute(f"SELECT wallet_id, SUM(CASE WHEN action = 'credit' THEN credits ELSE -credits END)"
                                 f" FROM {ledger} GROUP BY wallet_id").fetchall())
        group_by_seconds = time.perf_counter() - began
        rows = raw.execute(f"SELECT count(*) FROM {ledger}").fetchone()[0]

    print(f"\n{'':40} {'small':>12} {'big':>12}")
    print(f"{'wallets':40} {opts.small_wallets:>12,} {opts.wallets:>12,}")
    print(f"{'deduct req/s':40} {rps['small']:>12.0f} {rps['big']:>12.0f}")
    print(f"audit_ledger over {rows:,} rows: {audit_seconds:.1f} s ({'clean' if audit_ok else 'FAILED'}); "
          f"raw GROUP BY wallet_id ({groups:,} groups): {group_by_seconds:.1f} s")
    targets = [
        ("Scale deduct big / small", rps["big"] / rps["small"] if rps["small"] else 0.0, DEDUCT_TARGET),
        (f"Scale GROUP BY time / audit_ledger time (audit <= {AUDIT_TARGET:g} x GROUP BY)",
         group_by_seconds / audit_seconds if audit_seconds else 0.0, 1 / AUDIT_TARGET),
    ]
    print(f"load generator: {generator}")
    status = common.print_targets(targets)
    return status if audit_ok else 1


if __name__ == "__main__":
    sys.exit(main())
