"""What CONN_HEALTH_CHECKS costs per request (issue 14, item 13), measured in the same run.

    .venv/bin/python benchmarks/conn_health_checks.py [--requests 2000 --batch 100]

On its own PostgreSQL database (default postgres://postgres@127.0.0.1:5432/kosh_bench_health,
recreated and migrated), it sends --requests requests per endpoint through Django's test client
with a persistent connection, each wrapped in the request_started/request_finished signals as a
WSGI server sends them (the test client leaves those out, and the health check lives there).
Health checks off and on alternate in batches of --batch requests, so drift on the machine weighs
on both; it prints the median time per request of each mode and the overhead, and the time of
the check itself (`connection.is_usable()`, one `SELECT 1` round trip) timed on its own.
"""

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_health"
BENCH_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "KOSH_ENV_FILE": "",
    "SECRET_KEY": "kosh-benchmark-only-secret-key-0123456789abcdefghijklmnop",
    "JWT_SECRET": "kosh-benchmark-only-jwt-secret-0123456789abcdefghijklmnop",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost,testserver",
    "LOG_LEVEL": "WARNING",
    "DB_CONN_MAX_AGE": "600",
}


def recreate_database(database_url: str):
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    admin_dsn = urlunsplit(parts._replace(path="/postgres"))
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def measure(client, path, headers, n) -> tuple[float, float]:
    """(mean seconds per request, queries per request) for n requests of `path`."""
    from django.core import signals
    from django.db import connection, reset_queries

    queries = 0
    started = time.perf_counter()
    for _ in range(n):
        signals.request_started.send(sender=None)  # close_old_connections: arms the health check
        connection.force_debug_cursor = True
        reset_queries()
        response = client.get(path, **headers)
        queries += len(connection.queries)
        connection.force_debug_cursor = False
        signals.request_finished.send(sender=None)
        if response.status_code != 200:
            raise SystemExit(f"{path} answered {response.status_code}: {response.content[:200]!r}")
    elapsed = time.perf_counter() - started
    return elapsed / n, queries / n


def set_health_checks(enabled: bool):
    from django.db import connection

    connection.settings_dict["CONN_HEALTH_CHECKS"] = enabled
    connection.close()  # the flag is read when the connection opens
    connection.ensure_connection()
    assert connection.health_check_enabled is enabled


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--requests", type=int, default=2000, help="requests per endpoint, mode and round")
    parser.add_argument("--batch", type=int, default=100, help="requests per mode before switching")
    opts = parser.parse_args()
    if not (0 < opts.requests <= 100_000 and 0 < opts.batch <= opts.requests):
        raise SystemExit("out-of-range option")
    if urlsplit(opts.database_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the benchmark only runs against a database on the loopback interface")

    env = {**os.environ, **BENCH_ENV, "DATABASE_URL": opts.database_url}
    os.environ.update(env)
    sys.path.insert(0, str(ROOT))
    recreate_database(opts.database_url)
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)

    import django

    django.setup()
    from django.core import signals
    from django.db import close_old_connections
    from django.test import Client

    from accounts.models import User
    from accounts.services import auth_tokens_issue

    # The test client disconnects close_old_connections; this run sends the signals itself.
    signals.request_started.connect(close_old_connections)
    signals.request_finished.connect(close_old_connections)

    user = User.objects.create_user(email="bench@example.com", password="bench-password-0123")
    bearer = {"HTTP_AUTHORIZATION": f"Bearer {auth_tokens_issue(user=user)['access']}"}
    endpoints = [("/api/health", {}), ("/api/tokens/usage", bearer)]
    client = Client()
    for path, headers in endpoints:  # warm-up: imports, URL resolution, the first quota row
        measure(client, path, headers, 50)

    results = {(path, mode): [] for path, _ in endpoints for mode in (False, True)}
    queries = {}
    batches = max(1, opts.requests // opts.batch)
    for _ in range(batches):
        for mode in (False, True):
            set_health_checks(mode)
            for path, headers in endpoints:
                mean, per_request = measure(client, path, headers, opts.batch)
                results[(path, mode)].append(mean)
                queries[(path, mode)] = per_request

    from django.db import connection

    checks = []
    for _ in range(opts.requests):
        started = time.perf_counter()
        connection.is_usable()
        checks.append(time.perf_counter() - started)
    check_us = statistics.median(checks) * 1e6

    print(f"{batches * opts.batch} requests per endpoint and mode in batches of {opts.batch}, "
          f"{os.cpu_count()} CPUs, load average {os.getloadavg()[0]:.1f}, PostgreSQL at "
          f"{urlsplit(opts.database_url).hostname}")
    print(f"{'endpoint':24} {'off µs':>8} {'on µs':>8} {'app queries':>12} {'overhead':>9} {'check/off':>10}")
    for path, _ in endpoints:
        off = statistics.median(results[(path, False)]) * 1e6
        on = statistics.median(results[(path, True)]) * 1e6
        print(f"{path:24} {off:8.0f} {on:8.0f} {queries[(path, False)]:12.1f} "
              f"{100 * (on - off) / off:+8.1f}% {100 * check_us / off:9.1f}%")
    print(f"the check alone (SELECT 1 round trip): median {check_us:.0f} µs")

if __name__ == "__main__":
    main()
