"""P5: the JWT read paths against GET /api/health on the same gunicorn server, and Kosh's token
usage against seed 001's own FastAPI code, all measured in this run (DESIGN §8, issue 16).

    .venv/bin/python benchmarks/api_read_throughput.py                 # 5 s per phase, 3 rounds
    .venv/bin/python benchmarks/api_read_throughput.py --duration 3 --rounds 1 --no-seed001

What it does, all on 127.0.0.1:
1. (re)creates its own database (default postgres://postgres@127.0.0.1:5432/kosh_bench_read),
   migrates it, and makes a user with a token plan; the usage calls carry an external HS256 token
   with `sub` only (seed 000's frontend tokens), /api/auth/me carries our own access token;
2. starts gunicorn (gthread, --workers x --threads, default 2 x 8) serving Kosh;
3. seed 001 reference (unless --no-seed001): its FastAPI app (benchmarks/seed001_fastapi.py) in a
   separate virtualenv (benchmarks/.venv-seed001, created and filled from the package index on
   first use), on its own database, served by gunicorn with uvicorn's UvicornWorker (the seed
   pins uvicorn 0.24, whose documented multi-process setup that is) and as many worker processes,
   started afresh after each of its phases (past ~15 connections per worker it stalls on its
   connection pool for 30 s, which would spill into the next phases);
4. drives every endpoint at each --connections count with wrk when installed (else Python load
   processes; the script says which), interleaving the endpoints round by round so a change in
   the machine's load hits them alike; each endpoint's req/s is its total over the rounds;
5. prints the table, then the ratios and targets last; exits 1 if a target is missed.

Targets: usage, public plans and me each >= 0.7 x health at every connection count; usage >=
seed 001's FastAPI usage at every connection count.
"""

import argparse
import os
import subprocess
import sys
import time
import venv
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))

from benchmarks import common  # noqa: E402

DEFAULT_DATABASE_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_read"
DEFAULT_SEED001_URL = "postgres://postgres@127.0.0.1:5432/kosh_bench_seed001"
SEED001_VENV = common.ROOT / "benchmarks" / ".venv-seed001"
# The seed's requirements.txt, with psycopg for PostgreSQL instead of pymysql, and gunicorn to run
# uvicorn's worker in several processes.
SEED001_REQUIREMENTS = ["fastapi==0.104.1", "uvicorn==0.24.0", "sqlalchemy==2.0.23", "python-jose==3.3.0",
                        "pydantic==2.5.0", "psycopg[binary]==3.3.9", "gunicorn==21.2.0"]
HEALTH_TARGET = 0.7
SEED001_TARGET = 1.0


def prepare_data() -> dict:
    import django

    django.setup()
    import jwt
    from django.conf import settings
    from django.contrib.auth import get_user_model
    from django.db import connection

    from accounts.services import auth_tokens_issue
    from subscriptions.services import token_usage_get

    user = get_user_model().objects.create_user(email="bench@example.com", password="a-long-passphrase-42")
    token_usage_get(user=user)  # provisions basic
    # Within JWT_MAX_TOKEN_LIFETIME (a day by default): a longer-lived token is refused.
    external = jwt.encode({"sub": str(user.pk), "exp": int(time.time()) + 3600},
                          settings.JWT_SECRET, algorithm="HS256")
    access = auth_tokens_issue(user=user)["access"]
    with connection.cursor() as cursor:
        cursor.execute("ANALYZE")
    connection.close()
    return {"external": external, "access": access, "user_id": user.pk}


def _seed001_python() -> Path:
    python = SEED001_VENV / "bin" / "python"
    marker = SEED001_VENV / ".installed"
    if not marker.exists() or marker.read_text() != "\n".join(SEED001_REQUIREMENTS):
        print(f"installing seed 001's FastAPI stack into {SEED001_VENV} ...", flush=True)
        venv.create(SEED001_VENV, with_pip=True, clear=True)
        subprocess.run([str(python), "-m", "pip", "install", "--quiet", *SEED001_REQUIREMENTS], check=True)
        marker.write_text("\n".join(SEED001_REQUIREMENTS))
    return python


def prepare_seed001(database_url: str, user_id: int) -> tuple[Path, dict]:
    """Seed 001's database with one user and a user_plans row; its python and environment."""
    import psycopg

    python = _seed001_python()
    common.recreate_database(database_url)
    sa_url = database_url.replace("postgres://", "postgresql+psycopg://", 1)
    env = {**os.environ, "SEED001_DATABASE_URL": sa_url, "JWT_SECRET": common.BENCH_ENV["JWT_SECRET"],
           "PYTHONPATH": str(common.ROOT / "benchmarks")}
    # Create the tables once (the seed does it on import), before workers race to do the same.
    subprocess.run([str(python), "-c", "import seed001_fastapi"], env=env, check=True)
    with psycopg.connect(database_url, autocommit=True) as connection:
        connection.execute("INSERT INTO users (id, name, email, created_at, updated_at) "
                           "VALUES (%s, 'Bench', 'bench@example.com', now(), now())", [user_id])
        connection.execute("INSERT INTO user_plans (user_id, plan, token_quota, token_used, last_reset_month,"
                           " created_at, updated_at) VALUES (%s, 'basic', 1000, 0, %s, now(), now())",
                           [user_id, time.gmtime().tm_mon])
    return python, env


def start_seed001(python: Path, env: dict, workers: int, port: int) -> subprocess.Popen:
    # uvicorn's own --workers binds a socket asyncio does not recognise as TCP (protocol 0), so it
    # never sets TCP_NODELAY: every keep-alive response then waits ~40 ms for a delayed ACK
    # (22 req/s on one connection, measured). gunicorn's listener sets TCP_NODELAY, so uvicorn's
    # documented production setup, gunicorn with its UvicornWorker, serves the seed's code
    # without that stall (same code: 467 req/s on one connection).
    server = subprocess.Popen(
        [str(python), "-m", "gunicorn", "seed001_fastapi:app", "--worker-class", "uvicorn.workers.UvicornWorker",
         "--workers", str(workers), "--bind", f"127.0.0.1:{port}", "--reuse-port",
         "--graceful-timeout", "1", "--log-level", "warning"],
        env=env, cwd=common.ROOT / "benchmarks", start_new_session=True,
    )
    common.wait_healthy(server, port)
    return server


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database-url", default=os.environ.get("BENCH_DATABASE_URL", DEFAULT_DATABASE_URL))
    parser.add_argument("--seed001-database-url", default=DEFAULT_SEED001_URL)
    parser.add_argument("--duration", type=float, default=5.0, help="seconds per endpoint per round")
    parser.add_argument("--rounds", type=int, default=3)
    parser.add_argument("--connections", default="8,32", help="comma-separated connection counts")
    parser.add_argument("--workers", type=int, default=2, help="gunicorn (and uvicorn) worker processes")
    parser.add_argument("--threads", type=int, default=8, help="gunicorn threads per worker")
    parser.add_argument("--load", choices=["auto", "wrk", "python"], default="auto")
    parser.add_argument("--load-threads", type=int, default=2, help="wrk threads / Python load processes")
    parser.add_argument("--no-seed001", action="store_true", help="skip the FastAPI reference")
    opts = parser.parse_args()
    connection_counts = [int(c) for c in opts.connections.split(",")]
    if not (0 < opts.duration <= 600 and 0 < opts.rounds <= 20 and all(0 < c <= 512 for c in connection_counts)):
        raise SystemExit("out-of-range option")
    common.check_loopback(opts.database_url)
    common.check_loopback(opts.seed001_database_url)
    generator = common.load_generator(opts.load)

    env = common.bench_env(opts.database_url)
    print(f"database {opts.database_url} (recreated); gunicorn {opts.workers}x{opts.threads} gthread; "
          f"load generator: {generator}; connections {connection_counts}; {opts.rounds} round(s) of "
          f"{opts.duration:g} s per endpoint; {common.machine_note()}", flush=True)
    common.recreate_database(opts.database_url)
    common.migrate(env)
    data = prepare_data()

    endpoints = {
        "health": ("/api/health", {}),
        "usage": ("/api/tokens/usage", {"Authorization": f"Bearer {data['external']}"}),
        "public plans": ("/api/rate-plans/public", {}),
        "me": ("/api/auth/me", {"Authorization": f"Bearer {data['access']}"}),
    }
    port = common.free_port()
    server = common.start_gunicorn("config.wsgi:application", port, env, workers=opts.workers,
                                   threads=opts.threads)
    seed_port = seed = None
    if not opts.no_seed001:
        seed_port = common.free_port()
        seed_python, seed_env = prepare_seed001(opts.seed001_database_url, data["user_id"])
        seed = start_seed001(seed_python, seed_env, opts.workers, seed_port)

    def fresh_seed001():
        # Past ~15 connections per worker the seed's code stalls: its synchronous session runs on
        # the event loop, the pool (5 + 10 overflow) runs dry, and the loop blocks in a checkout
        # that waits 30 s, so requests still hang after the phase and would finish during the
        # next ones. A new server after each seed phase keeps them from weighing on Kosh's.
        nonlocal seed
        common.stop(seed)
        seed = start_seed001(seed_python, seed_env, opts.workers, seed_port)
    phases = [(name, port, path, headers) for name, (path, headers) in endpoints.items()]
    if seed_port:
        phases.append(("seed 001 FastAPI usage", seed_port, "/api/tokens/usage",
                       {"Authorization": f"Bearer {data['external']}"}))
    totals: dict[tuple[str, int], dict] = {}
    try:
        for _name, phase_port, path, headers in phases:  # warm every worker and cache
            common.drive(generator, phase_port, path, headers=headers, connections=max(connection_counts),
                         duration=1, load_threads=opts.load_threads)
        if seed:
            fresh_seed001()
        for round_no in range(1, opts.rounds + 1):
            for connections in connection_counts:
                for name, phase_port, path, headers in phases:
                    result = common.drive(generator, phase_port, path, headers=headers, connections=connections,
                                          duration=opts.duration, load_threads=opts.load_threads)
                    total = totals.setdefault((name, connections), {"ok": 0, "all": 0, "errors": 0,
                                                                   "seconds": 0.0, "p50": [], "p99": []})
                    total["ok"] += result["ok"]
                    total["all"] += result["all"]
                    total["errors"] += result["errors"]
                    total["seconds"] += result["ok"] / result["rps"] if result["rps"] else opts.duration
                    total["p50"].append(result["p50_ms"])
                    total["p99"].append(result["p99_ms"])
                    print(f"  round {round_no} c={connections:<3} {name:24} {result['rps']:8.0f} req/s "
                          f"({result['all'] - result['ok']} not 2xx)", flush=True)
                    if phase_port == seed_port:
                        fresh_seed001()
    finally:
        for running in (server, seed):
            if running is not None:
                common.stop(running)

    def rps(name, connections):
        total = totals[(name, connections)]
        return total["ok"] / total["seconds"] if total["seconds"] else 0.0

    print(f"\n{'endpoint':26} {'conn':>4} {'req/s':>8} {'p50 ms':>7} {'p99 ms':>7} {'not 2xx':>7}")
    for (name, connections), total in totals.items():
        print(f"{name:26} {connections:>4} {rps(name, connections):>8.0f} {max(total['p50']):>7.1f} "
              f"{max(total['p99']):>7.1f} {total['all'] - total['ok']:>7}")
    targets = []
    for connections in connection_counts:
        health = rps("health", connections)
        for name in ("usage", "public plans", "me"):
            targets.append((f"P5 {name} / health, {connections} connections",
                            rps(name, connections) / health if health else 0.0, HEALTH_TARGET))
        if seed_port:
            reference = rps("seed 001 FastAPI usage", connections)
            targets.append((f"P5 usage / seed 001 FastAPI usage, {connections} connections",
                            rps("usage", connections) / reference if reference else 0.0, SEED001_TARGET))
    errors = sum(total["all"] - total["ok"] for total in totals.values())
    if errors:
        print(f"\n{errors} responses were not 2xx: the figures above count only the 2xx ones")
    print(f"load generator: {generator}")
    return common.print_targets(targets)


if __name__ == "__main__":
    sys.exit(main())
