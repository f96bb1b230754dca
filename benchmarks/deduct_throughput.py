"""Throughput of POST /api/bot/deduct under gunicorn on PostgreSQL, against two baselines
measured in the same run (DESIGN §8): an empty DRF view on the same server, and the raw SQL of
the same deduction sent through psycopg.

    .venv/bin/python benchmarks/deduct_throughput.py                  # 5 s per phase
    .venv/bin/python benchmarks/deduct_throughput.py --duration 20 --concurrency 32

What it does, all on 127.0.0.1:
1. (re)creates its own database (default postgres://postgres@127.0.0.1:5432/kosh_bench) and
   migrates it; creates a tenant, a bot API key and --users phone users with credits;
2. starts gunicorn (gthread; 2 workers x 8 threads by default, README's production setting)
   serving Kosh plus two benchmark-only views, which live in this module's URL conf and are
   never part of the product: an empty view, and the same view running the deduction's
   statement (Django + one statement, none of the API's own code);
3. drives each phase from separate load processes (keep-alive http.client connections, or
   psycopg connections for the raw SQL), each phase bounded by --duration and --max-requests:
   empty view · deduct over many wallets · deduct on one hot wallet · raw SQL many · raw SQL hot
   · the statement view over many wallets and on the hot wallet · the deduction over many
   wallets through the full DRF view instead of its lean path (config.lean; the last three are
   diagnostics, no target). The phases run --rounds times, interleaved, and each phase's req/s is its total over the rounds
   (each round's own ratios print as it ends, to show how far they move within one run);
   around each measured window it reads the CPU every process used (/proc: the gunicorn server,
   PostgreSQL's backends, the load processes, the rest) and PostgreSQL's WAL flushes
   (pg_stat_wal), and prints them per request: where the floor's sum holds and where it does not;
4. stops the server, checks the ledger (debit rows = successful deductions, `audit_ledger`), and
   prints last the targets of issue 16 as ratios of this run: P1 API ÷ floor >= 0.8 for many
   wallets and for one hot wallet, where floor = 1 / (1/empty-view req/s + 1/raw-SQL req/s) (what
   the API would do if it added nothing to the framework's and the statement's own costs); P3 hot
   wallet ÷ many wallets >= 0.8. Exits 1 when a target is missed or the ledger check fails.

The raw SQL goes through psycopg's default cursor, which binds parameters on the server and
prepares a statement after five runs (the floor includes that); the server prepares the same
statement once per connection too (config.db.prepared_fetchone). DB_SERVER_SIDE_BINDING,
DB_POOL_SIZE and DB_PREPARED_STATEMENTS in the environment reach the server, to compare them.

The load generator is Python on the same machine (the raw SQL phases must be, so the HTTP
phases are too), so absolute numbers are a floor; the ratios are the point.
"""

import argparse
import http.client
import json
import multiprocessing
import os
import random
import socket
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench"
EMPTY_PATH = "/bench/empty"
STATEMENT_PATH = "/bench/statement"
TENANT_FLAG = "KOSH_BENCH_TENANT_ID"
EMPTY_PHASE = "empty DRF view"
STATEMENT_MANY = "Django view + statement, many"
STATEMENT_HOT = "Django view + statement, hot"
FULL_VIEW_MANY = "API via the full DRF view, many"
DEDUCT_PATH = "/api/bot/deduct"
# A query string (ignored by the endpoint) sends the call past the lean path (config.lean) to the
# full DRF view: what the lean path buys, measured in the same run.
FULL_VIEW_PATH = DEDUCT_PATH + "?via=full-view"
SERVER_FLAG = "KOSH_BENCH_SERVER"
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "SECRET_KEY": "kosh-benchmark-only-secret-key-0123456789abcdefghijklmnop",
    "JWT_SECRET": "kosh-benchmark-only-jwt-secret-0123456789abcdefghijklmnop",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "LOG_LEVEL": "WARNING",
    "DB_CONN_MAX_AGE": "600",
}


# The deduction's parameters but the wallet's (tenant, phone) and the time, as the bot's deduct sends them.
_STATEMENT_PARAMS = {"action": "debit", "credits": 1, "source": "usage", "reference_id": None,
                     "idempotency_key": None, "transfer_id": None, "actor_id": None,
                     "reason": "Bot deduction", "metadata": "{}"}


# --- the server side: Kosh's URLs plus the two bench views, only when gunicorn imports this module

def _bench_urlpatterns():
    from django.urls import path
    from django.utils import timezone
    from rest_framework.permissions import AllowAny
    from rest_framework.response import Response
    from rest_framework.views import APIView

    from config.db import prepared_fetchone
    from config.urls import urlpatterns as product_urls
    from credits.services import ledger_move_sql

    class EmptyView(APIView):
        """Parses the JSON body and answers a tiny JSON object: Django + DRF + gunicorn, no DB."""

        authentication_classes: list = []
        permission_classes = [AllowAny]

        def post(self, request):
            request.data  # noqa: B018 - parse the body like the real endpoint does
            return Response({"status": "SUCCESS"})

    # Built once, as the product builds its statement once.
    statement_sql = ledger_move_sql(action="debit", keyed=False, by_phone=True)
    statement_params = {**_STATEMENT_PARAMS, "tenant_id": int(os.environ[TENANT_FLAG])}

    class StatementView(APIView):
        """The empty view plus the deduction's statement, run as the product runs it (prepared, on
        Django's connection): Django + one statement, with none of the API's own code (no key,
        no validation, no service). The API's distance from it is what the API itself adds."""

        authentication_classes: list = []
        permission_classes = [AllowAny]

        def post(self, request):
            row = prepared_fetchone(statement_sql, {**statement_params, "phone": request.data["phone_number"],
                                                    "now": timezone.now()})
            return Response({"remaining_credits": row[2]})

    return [path(EMPTY_PATH.lstrip("/"), EmptyView.as_view()),
            path(STATEMENT_PATH.lstrip("/"), StatementView.as_view()), *product_urls]


def __getattr__(name):
    if name == "urlpatterns":  # read by Django's URL resolver in the benchmark server
        return _bench_urlpatterns()
    raise AttributeError(name)


if os.environ.get(SERVER_FLAG) == "1":
    sys.path.insert(0, str(ROOT))
    from django.conf import settings as _settings

    _settings.ROOT_URLCONF = __name__
    from django.core.wsgi import get_wsgi_application

    application = get_wsgi_application()


# --- load generators (run in separate processes) ----------------------------------------------

def _http_worker(port, path, headers, bodies, start_at, stop_at, max_requests, counter, result):
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    rng = random.Random()
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < start_at:
        time.sleep(0.001)
    while time.time() < stop_at:
        with counter.get_lock():
            if counter.value >= max_requests:
                break
            counter.value += 1
        body = bodies[rng.randrange(len(bodies))]
        began = time.perf_counter()
        try:
            connection.request("POST", path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
            if response.getheader("Connection", "").lower() == "close":
                connection.close()
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - began)
        statuses[status] = statuses.get(status, 0) + 1
    connection.close()
    result.append((statuses, latencies, time.time()))


def _sql_worker(dsn, sql, tenant_id, phones, start_at, stop_at, max_requests, counter, result):
    import datetime

    import psycopg

    statuses: dict[int, int] = {}
    latencies: list[float] = []
    rng = random.Random()
    params = {**_STATEMENT_PARAMS, "tenant_id": tenant_id}
    with psycopg.connect(dsn, autocommit=True) as connection:
        while time.time() < start_at:
            time.sleep(0.001)
        while time.time() < stop_at:
            with counter.get_lock():
                if counter.value >= max_requests:
                    break
                counter.value += 1
            params["phone"] = phones[rng.randrange(len(phones))]
            params["now"] = datetime.datetime.now(datetime.UTC)
            began = time.perf_counter()
            row = connection.execute(sql, params).fetchone()
            latencies.append(time.perf_counter() - began)
            status = 200 if row else 402
            statuses[status] = statuses.get(status, 0) + 1
    result.append((statuses, latencies, time.time()))


def _load_process(kind, args, threads, queue):
    results: list = []
    target = _http_worker if kind == "http" else _sql_worker
    workers = [threading.Thread(target=target, args=(*args, results)) for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    for part_statuses, part_latencies, _ in results:
        for status, count in part_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        latencies.extend(part_latencies)
    queue.put((statuses, latencies, max(finished for _, _, finished in results)))


def run_phase(name, kind, args_for_window, *, processes, concurrency, warmup, duration, max_requests,
              database_url):
    """Warm up, then measure for `duration` seconds (or until `max_requests`), over `concurrency`
    connections spread across `processes` load processes. Around the measured window it reads
    the CPU each process used and the server's WAL flushes."""
    from benchmarks.common import cpu_spent, cpu_ticks, wal_flushes

    ctx = multiprocessing.get_context("spawn")
    totals = {"warmup": None, "measured": None}
    usage = {}
    for window, seconds, cap in (("warmup", warmup, max_requests), ("measured", duration, max_requests)):
        if seconds <= 0:
            continue
        counter = ctx.Value("q", 0)
        queue = ctx.Queue()
        start_at = time.time() + 1.5  # let the spawned processes import and connect first
        stop_at = start_at + seconds
        per_process = [concurrency // processes + (1 if i < concurrency % processes else 0)
                       for i in range(processes)]
        procs = [ctx.Process(target=_load_process,
                             args=(kind, (*args_for_window, start_at, stop_at, cap, counter), n, queue))
                 for n in per_process if n]
        for proc in procs:
            proc.start()
        if window == "measured":  # from the start of the window to its end, while the load runs
            time.sleep(max(0.0, start_at - time.time()))
            usage.update(ticks=cpu_ticks(), flushes=wal_flushes(database_url))
            time.sleep(max(0.0, stop_at - time.time()))
            usage.update(ticks_after=cpu_ticks(), flushes_after=wal_flushes(database_url),
                         loaders={proc.pid for proc in procs})
        parts = [queue.get(timeout=seconds + 120) for _ in procs]
        for proc in procs:
            proc.join(timeout=30)
        ended = max(finished for _, _, finished in parts)  # the cap may end a window early
        statuses: dict[int, int] = {}
        latencies: list[float] = []
        for part_statuses, part_latencies, _ in parts:
            for status, count in part_statuses.items():
                statuses[status] = statuses.get(status, 0) + count
            latencies.extend(part_latencies)
        totals[window] = {"statuses": statuses, "latencies": latencies,
                          "elapsed": max(ended - start_at, 1e-9)}
    measured = totals["measured"]
    ok = measured["statuses"].get(200, 0)
    cpu = cpu_spent(usage["ticks"], usage["ticks_after"],
                    {"load": usage["loaders"], "server": "gunicorn", "postgres": "postgres"})
    flushes = (None if None in (usage["flushes"], usage["flushes_after"])
               else usage["flushes_after"] - usage["flushes"])
    latencies = sorted(measured["latencies"])
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0] * 99
    return {
        "name": name, "ok": ok, "all": sum(measured["statuses"].values()),
        "statuses": measured["statuses"], "rps": ok / measured["elapsed"], "elapsed": measured["elapsed"],
        "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000,
        "warmup_ok": (totals["warmup"] or {"statuses": {}})["statuses"].get(200, 0),
        "cpu_us": cpu, "flushes": flushes,
    }


# --- the targets -------------------------------------------------------------------------------

def floor(empty: float, raw: float) -> float:
    # The API's cost per request can be no less than the framework's plus the statement's.
    return 1 / (1 / empty + 1 / raw) if empty and raw else 0.0


def targets_of(empty, api_many, api_hot, sql_many, sql_hot) -> list[tuple[str, float, float]]:
    """Issue 16's P1 and P3 from the req/s of the five phases, in the phases' order."""
    many, hot = floor(empty, sql_many), floor(empty, sql_hot)
    return [
        ("P1 deduct many wallets / floor", api_many / many if many else 0.0, 0.8),
        ("P1 deduct one hot wallet / floor", api_hot / hot if hot else 0.0, 0.8),
        ("P3 deduct one hot wallet / many wallets", api_hot / api_many if api_many else 0.0, 0.8),
    ]


# --- setup ------------------------------------------------------------------------------------

def _admin_dsn(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(database_url: str):
    import psycopg

    admin_dsn, name = _admin_dsn(database_url)
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def prepare_data(users: int) -> dict:
    """Tenant, bot key and phone users with credits, created through the services."""
    import django

    django.setup()
    from django.db import connection

    from credits import services
    from tenants.services import api_key_create, tenant_create

    tenant = tenant_create(name="Bench", slug="bench", settings={"free_signup_credits": 1_000_000})
    _, raw_key = api_key_create(tenant=tenant, name="bench", scopes=["bot"])
    phones = [f"+9198{n:08d}" for n in range(1, users + 1)]
    for phone in phones:
        services.user_get_or_create_by_phone(phone=phone, tenant=tenant)
    hot_phone = "+919799999999"
    hot_user, _ = services.user_get_or_create_by_phone(phone=hot_phone, tenant=tenant)
    hot_wallet = services.wallet_get_or_create_for_user(user=hot_user)
    services.wallet_grant(wallet=hot_wallet, credits=10**9, source="adjustment", reason="benchmark")
    # The statement POST /api/bot/deduct sends for a known number (services.wallet_deduct_for_phone).
    sql = services.ledger_move_sql(action="debit", keyed=False, by_phone=True)
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")  # fresh statistics, as autovacuum would give a live database
    connection.close()
    return {"key": raw_key, "phones": phones, "hot_phone": hot_phone, "tenant_id": tenant.pk, "sql": sql}


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(port: int, env: dict, workers: int, threads: int) -> subprocess.Popen:
    from benchmarks.common import start_gunicorn

    return start_gunicorn("benchmarks.deduct_throughput:application", port, {**env, SERVER_FLAG: "1"},
                          workers=workers, threads=threads)


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--duration", type=float, default=5.0, help="measured seconds per phase")
    parser.add_argument("--warmup", type=float, default=1.0, help="warm-up seconds per phase")
    parser.add_argument("--max-requests", type=int, default=500_000, help="cap per phase window")
    parser.add_argument("--concurrency", type=int, default=16, help="open connections during a phase")
    parser.add_argument("--processes", type=int, default=2, help="load-generating processes")
    parser.add_argument("--users", type=int, default=1000, help="phone users (wallets) for the spread load")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn workers")
    parser.add_argument("--threads", type=int, default=8,
                        help="gunicorn threads per worker (8: the production setting, README)")
    parser.add_argument("--rounds", type=int, default=2, help="times each phase runs, interleaved")
    opts = parser.parse_args()
    if not (0 < opts.duration <= 600 and 0 <= opts.warmup <= 60 and 0 < opts.concurrency <= 64
            and 0 < opts.processes <= 16 and 0 < opts.users <= 100_000 and 0 < opts.max_requests
            and 0 < opts.rounds <= 20):
        raise SystemExit("out-of-range option")
    if urlsplit(opts.database_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the benchmark only runs against a database on the loopback interface")

    env = {**os.environ, **BENCH_ENV, "DATABASE_URL": opts.database_url}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    print(f"database {opts.database_url} (recreated), {opts.users} users, gunicorn "
          f"{opts.workers}x{opts.threads} gthread, {opts.concurrency} connections from "
          f"{opts.processes} processes, {opts.duration:g} s per phase, {os.cpu_count()} CPUs", flush=True)
    recreate_database(opts.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)
    data = prepare_data(opts.users)

    port = free_port()
    server = start_server(port, {**env, TENANT_FLAG: str(data["tenant_id"])}, opts.workers, opts.threads)
    headers = {"Content-Type": "application/json", "X-Bot-Secret": data["key"], "Connection": "keep-alive"}
    spread_bodies = [json.dumps({"phone_number": p}) for p in data["phones"]]
    hot_bodies = [json.dumps({"phone_number": data["hot_phone"]})]
    phase = {"processes": opts.processes, "concurrency": opts.concurrency, "warmup": opts.warmup,
             "duration": opts.duration, "max_requests": opts.max_requests, "database_url": opts.database_url}
    dsn = opts.database_url
    phases = [
        (EMPTY_PHASE, "http", (port, EMPTY_PATH, headers, spread_bodies)),
        ("API deduct, many wallets", "http", (port, DEDUCT_PATH, headers, spread_bodies)),
        ("API deduct, one hot wallet", "http", (port, DEDUCT_PATH, headers, hot_bodies)),
        ("raw SQL deduct, many wallets", "sql", (dsn, data["sql"], data["tenant_id"], data["phones"])),
        ("raw SQL deduct, one hot wallet", "sql", (dsn, data["sql"], data["tenant_id"], [data["hot_phone"]])),
        # Diagnostic, no target: Django + the statement and nothing of the API's own.
        (STATEMENT_MANY, "http", (port, STATEMENT_PATH, headers, spread_bodies)),
        (STATEMENT_HOT, "http", (port, STATEMENT_PATH, headers, hot_bodies)),
        # Diagnostic, no target: the same calls through the full DRF view instead of the lean path.
        (FULL_VIEW_MANY, "http", (port, FULL_VIEW_PATH, headers, spread_bodies)),
    ]
    target_phases = [name for name, _, _ in phases[:5]]
    # Round by round, so a change in the machine's load hits every phase alike.
    results: dict[str, dict] = {}
    try:
        for round_no in range(1, opts.rounds + 1):
            round_rps = {}
            for name, kind, args in phases:
                r = run_phase(name, kind, args, **phase)
                round_rps[name] = r["rps"]
                total = results.setdefault(name, {"name": name, "ok": 0, "all": 0, "elapsed": 0.0,
                                                  "warmup_ok": 0, "statuses": {}, "p50_ms": 0.0, "p99_ms": 0.0,
                                                  "cpu_us": {}, "flushes": 0})
                for role, micros in r["cpu_us"].items():
                    total["cpu_us"][role] = total["cpu_us"].get(role, 0.0) + micros
                total["flushes"] = (None if None in (r["flushes"], total["flushes"])
                                    else total["flushes"] + r["flushes"])
                for key in ("ok", "all", "elapsed", "warmup_ok"):
                    total[key] += r[key]
                for status, count in r["statuses"].items():
                    total["statuses"][status] = total["statuses"].get(status, 0) + count
                total["p50_ms"] = max(total["p50_ms"], r["p50_ms"])
                total["p99_ms"] = max(total["p99_ms"], r["p99_ms"])
            # How much the ratios move within one run, next to the totals printed last.
            print(f"  round {round_no}: " + ", ".join(
                f"{label} {value:.2f}" for label, value, _ in targets_of(*map(round_rps.get, target_phases))),
                flush=True)
    finally:
        from benchmarks.common import stop

        stop(server)
    for total in results.values():
        total["rps"] = total["ok"] / total["elapsed"] if total["elapsed"] else 0.0

    print(f"\n{'phase':34} {'ok':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8}  statuses")
    for r in results.values():
        print(f"{r['name']:34} {r['ok']:>8} {r['rps']:>9.0f} {r['p50_ms']:>8.1f} {r['p99_ms']:>8.1f}  "
              f"{dict(sorted(r['statuses'].items()))}")
    # Where the floor's sum holds or not: CPU per request of each process group, and how many
    # commits shared a WAL flush (the raw phases keep 16 statements in flight, the API fewer).
    print(f"\n{'CPU µs per request (all processes)':34} {'server':>8} {'postgres':>9} {'load':>8} {'other':>8} "
          f"{'total':>8} {'WAL flushes/request':>20}")
    for r in results.values():
        handled = max(r["all"], 1)  # every answered request of the measured windows
        cpu = {role: micros / handled for role, micros in r["cpu_us"].items()}
        flushes = "n/a" if r["flushes"] is None else f"{r['flushes'] / handled:.2f}"
        print(f"{r['name']:34} {cpu.get('server', 0):>8.0f} {cpu.get('postgres', 0):>9.0f} {cpu.get('load', 0):>8.0f} "
              f"{cpu.get('other', 0):>8.0f} {sum(cpu.values()):>8.0f} {flushes:>20}")
    empty, api_many, api_hot, sql_many, sql_hot = (results[name]["rps"] for name in target_phases)
    for label, api, raw, statement in (("many wallets", api_many, sql_many, STATEMENT_MANY),
                                       ("one hot wallet", api_hot, sql_hot, STATEMENT_HOT)):
        measured = results[statement]["rps"]
        print(f"floor, {label}: 1 / (1/{empty:.0f} empty view + 1/{raw:.0f} raw SQL) = "
              f"{floor(empty, raw):.0f} req/s; API {api:.0f} req/s; Django view + the statement "
              f"{measured:.0f} req/s (API / that {api / measured if measured else 0:.2f}, that / floor "
              f"{measured / floor(empty, raw) if floor(empty, raw) else 0:.2f})")
    full_view = results[FULL_VIEW_MANY]["rps"]
    print(f"lean path, many wallets: API {api_many:.0f} req/s; through the full DRF view {full_view:.0f} "
          f"req/s (lean / full {api_many / full_view if full_view else 0:.2f}; full view / floor "
          f"{full_view / floor(empty, sql_many) if floor(empty, sql_many) else 0:.2f})")
    targets = targets_of(empty, api_many, api_hot, sql_many, sql_hot)
    results = list(results.values())

    expected_debits = sum(r["ok"] + r["warmup_ok"] for r in results if r["name"] != EMPTY_PHASE)
    import django
    from django.db import connection

    django.setup()
    with connection.cursor() as cursor:
        cursor.execute("SELECT COUNT(*) FROM credits_credittransaction WHERE action = 'debit'")
        debits = cursor.fetchone()[0]
    connection.close()
    print(f"\nledger debit rows {debits}, successful deductions counted by the load generators "
          f"{expected_debits}: {'match' if debits == expected_debits else 'MISMATCH'}")
    audit = subprocess.run([sys.executable, "manage.py", "audit_ledger"], cwd=ROOT, env=env,
                           capture_output=True, text=True)
    print((audit.stdout + audit.stderr).strip())
    sys.path.insert(0, str(ROOT))
    from benchmarks.common import print_targets

    status = print_targets(targets)
    return status if audit.returncode == 0 and debits == expected_debits else 1


if __name__ == "__main__":
    sys.exit(main())
