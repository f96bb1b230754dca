"""Schemathesis against Kosh's own OpenAPI, as each kind of caller, expecting no 5xx.

    .venv/bin/python scripts/fuzz_api.py [--max-time 40] [--seed 14]

1. (re)creates its own PostgreSQL database on 127.0.0.1 (default kosh_fuzz), migrates it and
   loads the demo data (a superuser, the demo tenant);
2. starts gunicorn on a free port (sandbox gateway, rate limits and login lockout raised so
   they do not hide the endpoints behind 429s), registers a user, logs the user and the
   superuser in, and makes an API key with every scope;
3. runs `st run …/api/schema --checks not_a_server_error` once per caller — anonymous, user
   (Bearer), staff (Bearer) and API key (X-Bot-Secret) — each bounded by --max-time seconds;
4. fails if any run found a 5xx (the server's log is printed for the tracebacks).
"""

import argparse
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
BIN = ROOT / ".venv" / "bin"
DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kosh_fuzz"
ADMIN = ("admin@kosh.local", "fuzz-admin-password-0123456789")
USER = ("fuzz-user@example.com", "fuzz-user-password-0123456789")
SERVER_ENV = {
    "DJANGO_SETTINGS_MODULE": "config.settings",
    "KOSH_ENV_FILE": "",
    "SECRET_KEY": "kosh-fuzz-only-secret-key-0123456789abcdefghijklmnopqrstuv",
    "JWT_SECRET": "kosh-fuzz-only-jwt-secret-0123456789abcdefghijklmnopqrstuv",
    "DEBUG": "false",
    "SECURE_SSL_REDIRECT": "false",
    "ALLOWED_HOSTS": "127.0.0.1,localhost",
    "PAYMENT_GATEWAY": "sandbox",
    "AUTH_THROTTLE_RATE": "100000/min",
    "PAYMENTS_THROTTLE_RATE": "100000/min",
    "LOGIN_FAILURE_LIMIT": "1000000",
    "JWT_ACCESS_LIFETIME": "3600",
    "DEMO_ADMIN_EMAIL": ADMIN[0],
    "DEMO_ADMIN_PASSWORD": ADMIN[1],
    "LOG_LEVEL": "ERROR",
}


def recreate_database(database_url: str):
    import psycopg

    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    with psycopg.connect(urlunsplit(parts._replace(path="/postgres")), autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}"')
        connection.execute(f'CREATE DATABASE "{name}"')


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def post_json(url: str, body: dict) -> dict:
    request = urllib.request.Request(url, data=json.dumps(body).encode(), method="POST",
                                     headers={"Content-Type": "application/json"})
    with urllib.request.urlopen(request, timeout=30) as answer:
        return json.load(answer)


def wait_for(url: str, process: subprocess.Popen, log: Path):
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server stopped:\n{log.read_text()[-5000:]}")
        try:
            with urllib.request.urlopen(url, timeout=5):
                return
        except OSError:
            time.sleep(0.3)
    raise SystemExit("the server did not start in time")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("FUZZ_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--max-time", type=int, default=40, help="seconds of fuzzing per caller")
    parser.add_argument("--seed", type=int, default=14, help="same seed, same requests")
    parser.add_argument("--callers", default="anonymous,user,staff,api_key")
    opts = parser.parse_args()
    if urlsplit(opts.database_url).hostname not in {"127.0.0.1", "localhost", "::1"}:
        raise SystemExit("the fuzzer only runs against a database on the loopback interface")
    if not 0 < opts.max_time <= 600:
        raise SystemExit("out-of-range --max-time")
    started = time.monotonic()

    env = {**os.environ, **SERVER_ENV, "DATABASE_URL": opts.database_url}
    recreate_database(opts.database_url)
    for command in (["migrate", "--noinput", "-v", "0"], ["seed_demo"]):
        subprocess.run([str(BIN / "python"), "manage.py", *command], cwd=ROOT, env=env, check=True,
                       stdout=subprocess.DEVNULL)
    key = subprocess.run(
        [str(BIN / "python"), "manage.py", "create_api_key", "--tenant", "demo", "--name", "fuzz",
         "--scope", "bot", "--scope", "tokens", "--scope", "payments", "--scope", "usage"],
        cwd=ROOT, env=env, check=True, capture_output=True, text=True).stdout.strip().splitlines()[-1]

    port = free_port()
    base = f"http://127.0.0.1:{port}"
    log = ROOT / ".fuzz-server.log"
    server = subprocess.Popen(
        [str(BIN / "gunicorn"), "config.wsgi:application", "--bind", f"127.0.0.1:{port}", "--workers", "2",
         "--threads", "4", "--worker-class", "gthread", "--timeout", "60"],
        cwd=ROOT, env=env, stdout=log.open("w"), stderr=subprocess.STDOUT)
    failed = []
    try:
        wait_for(f"{base}/api/health", server, log)
        post_json(f"{base}/api/auth/register", {"email": USER[0], "password": USER[1]})
        user_access = post_json(f"{base}/api/auth/login", {"email": USER[0], "password": USER[1]})["data"]["access"]
        staff_access = post_json(f"{base}/api/v1/auth/admin/login",
                                 {"email": ADMIN[0], "password": ADMIN[1]})["data"]["access"]
        headers = {"anonymous": [], "user": ["-H", f"Authorization: Bearer {user_access}"],
                   "staff": ["-H", f"Authorization: Bearer {staff_access}"],
                   "api_key": ["-H", f"X-Bot-Secret: {key}"]}
        for caller in opts.callers.split(","):
            print(f"--- schemathesis as {caller}, {opts.max_time} s", flush=True)
            result = subprocess.run(
                [str(BIN / "st"), "run", f"{base}/api/schema", "--checks", "not_a_server_error",
                 "--max-time", str(opts.max_time), "--seed", str(opts.seed), "--workers", "1",
                 # One worker: hypothesis's lambda descriptions call ast.parse, which CPython 3.11
                 # can break when threads parse at once ("AST constructor recursion depth mismatch").
                 "--phases", "examples,coverage,fuzzing", "--request-timeout", "30",
                 "--suppress-health-check", "all", "--no-color", *headers[caller]],
                cwd=ROOT, env={**os.environ, "SCHEMATHESIS_HOOKS": ""}, timeout=opts.max_time * 4 + 120)
            if result.returncode != 0:
                failed.append(caller)
    finally:
        server.terminate()
        server.wait(timeout=30)
    if failed:
        print(f"5xx (or errors) as: {', '.join(failed)}; server log {log}:\n{log.read_text()[-20000:]}",
              file=sys.stderr)
    else:
        log.unlink(missing_ok=True)
    print(f"fuzz: {'FAILED' if failed else 'no 5xx'} in {time.monotonic() - started:.0f} s")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
