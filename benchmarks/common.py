"""What the HTTP benchmarks share: their own PostgreSQL database, a gunicorn server, a load
generator (wrk when installed, else Python processes), and the closing lines that print the
ratios and decide the exit code. Benchmarks are scripts, not part of the suite (DESIGN §8)."""

import http.client
import os
import re
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

ROOT = Path(__file__).resolve().parent.parent
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
LOOPBACK = {"127.0.0.1", "localhost", "::1"}


def check_loopback(database_url: str) -> None:
    if urlsplit(database_url).hostname not in LOOPBACK:
        raise SystemExit("the benchmarks only run against a database on the loopback interface")


def _admin_dsn(database_url: str) -> tuple[str, str]:
    parts = urlsplit(database_url)
    name = parts.path.lstrip("/")
    if not name.replace("_", "").isalnum():
        raise SystemExit(f"refusing odd database name {name!r}")
    return urlunsplit(parts._replace(path="/postgres")), name


def recreate_database(database_url: str) -> None:
    import psycopg

    admin_dsn, name = _admin_dsn(database_url)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        connection.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        connection.execute(f'CREATE DATABASE "{name}"')


def database_exists(database_url: str) -> bool:
    import psycopg

    admin_dsn, name = _admin_dsn(database_url)
    with psycopg.connect(admin_dsn, autocommit=True) as connection:
        return connection.execute("SELECT 1 FROM pg_database WHERE datname = %s", [name]).fetchone() is not None


def bench_env(database_url: str, **extra: str) -> dict:
    """The environment of the benchmark's server and its manage.py calls; also applied to this
    process so `django.setup()` here sees the same settings."""
    env = {**os.environ, **BENCH_ENV, "DATABASE_URL": database_url, **extra}
    os.environ.update(env)
    if str(ROOT) not in sys.path:
        sys.path.insert(0, str(ROOT))
    return env


def migrate(env: dict) -> None:
    subprocess.run([sys.executable, "manage.py", "migrate", "--noinput", "-v", "0"], cwd=ROOT, env=env,
                   check=True)


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_healthy(server: subprocess.Popen, port: int, path: str = "/api/health", seconds: int = 60) -> None:
    deadline = time.time() + seconds
    while time.time() < deadline:
        if server.poll() is not None:
            raise SystemExit("the server exited during startup")
        try:
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=2)
            connection.request("GET", path)
            if connection.getresponse().status == 200:
                return
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit(f"the server did not become healthy within {seconds} s")


def start_gunicorn(app: str, port: int, env: dict, *, workers: int, threads: int) -> subprocess.Popen:
    """gunicorn with SO_REUSEPORT: each worker listens on its own socket and the kernel spreads
    new connections over them. Without it the workers race to accept from one socket, and a
    benchmark that opens all its keep-alive connections at once often finds every one of them
    on a single worker (one core serving, half the throughput, in about 4 runs out of 10)."""
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", app, "--bind", f"127.0.0.1:{port}", "--workers", str(workers),
         "--worker-class", "gthread", "--threads", str(threads), "--keep-alive", "30",
         "--backlog", "2048", "--reuse-port", "--log-level", "warning"],
        cwd=ROOT, env=env, start_new_session=True,
    )
    wait_healthy(server, port)
    return server


def stop(server: subprocess.Popen) -> None:
    """Stop a server started in its own session, with every worker process it forked."""
    import signal

    try:
        os.killpg(server.pid, signal.SIGTERM)
        server.wait(timeout=30)
    except subprocess.TimeoutExpired:
        os.killpg(server.pid, signal.SIGKILL)
        server.wait(timeout=30)
    except ProcessLookupError:
        pass


# --- where the CPU goes -----------------------------------------------------------------------

def cpu_ticks() -> dict[int, tuple[str, int]]:
    """Clock ticks (user + system) each process has used so far, with its command line (Linux
    /proc; empty elsewhere). Two snapshots around a phase say which process spent what."""
    ticks: dict[int, tuple[str, int]] = {}
    for entry in os.listdir("/proc") if os.path.isdir("/proc") else ():
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat") as stat, open(f"/proc/{entry}/cmdline", "rb") as cmdline:
                fields = stat.read().rsplit(")", 1)[1].split()
                command = cmdline.read().replace(b"\0", b" ").decode(errors="replace")
        except OSError:  # the process ended meanwhile
            continue
        ticks[int(entry)] = (command, int(fields[11]) + int(fields[12]))
    return ticks


def cpu_spent(before: dict, after: dict, roles: dict[str, set[int] | str]) -> dict[str, float]:
    """Microseconds of CPU each role spent between two `cpu_ticks` snapshots. A role is a set of
    pids or a word its processes' command lines contain; the rest is "other"."""
    spent: dict[str, float] = {}
    per_tick = 1e6 / os.sysconf("SC_CLK_TCK")
    for pid, (command, total) in after.items():
        used = total - before.get(pid, (command, 0))[1]
        if used <= 0:
            continue
        role = next((name for name, match in roles.items()
                     if (pid in match if isinstance(match, set) else match in command)), "other")
        spent[role] = spent.get(role, 0.0) + used * per_tick
    return spent


def wal_flushes(database_url: str) -> int | None:
    """WAL flushes (fsyncs) the PostgreSQL server has done so far (pg_stat_wal, PostgreSQL 14+):
    one per commit unless concurrent commits share one (group commit)."""
    import psycopg

    try:
        with psycopg.connect(database_url, autocommit=True) as connection:
            return connection.execute("SELECT wal_sync FROM pg_stat_wal").fetchone()[0]
    except psycopg.Error:
        return None


# --- load generation ------------------------------------------------------------------------

def load_generator(prefer: str = "auto") -> str:
    """"wrk" (a C load generator: leaves the CPU to the server) when installed, else "python"."""
    if prefer == "python":
        return "python"
    if shutil.which("wrk"):
        return "wrk"
    if prefer == "wrk":
        raise SystemExit("wrk is not installed (apt-get install wrk), use --load python")
    return "python"


_WRK_LUA = """
local bodies = {BODIES}
local headers = {HEADERS}
local method = "{METHOD}"
local counter = 0
request = function()
  counter = counter + 1
  local body = nil
  if #bodies > 0 then body = bodies[math.random(#bodies)] end
  return wrk.format(method, nil, headers, body)
end
"""


def _lua_string(value: str) -> str:
    return '"' + value.replace("\\", "\\\\").replace('"', '\\"') + '"'


def _wrk(port: int, path: str, *, method: str, headers: dict, bodies: list[str], connections: int,
         duration: float, threads: int) -> dict:
    lua = (_WRK_LUA.replace("{BODIES}", "{" + ",".join(_lua_string(b) for b in bodies) + "}")
           .replace("{HEADERS}", "{" + ",".join(f"[{_lua_string(k)}]={_lua_string(v)}"
                                                for k, v in headers.items()) + "}")
           .replace("{METHOD}", method))
    with tempfile.NamedTemporaryFile("w", suffix=".lua", delete=False) as script:
        script.write(lua)
    try:
        output = subprocess.run(
            ["wrk", "-t", str(min(threads, connections)), "-c", str(connections), "-d", f"{duration:g}s",
             "--latency", "-s", script.name, f"http://127.0.0.1:{port}{path}"],
            capture_output=True, text=True, timeout=duration + 60, check=True,
        ).stdout
    finally:
        os.unlink(script.name)
    total = int(re.search(r"(\d+) requests in", output).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", output)
    elapsed = float(re.search(r"requests in ([\d.]+)(m?s)", output).group(1))
    unit = re.search(r"requests in [\d.]+(m?s)", output).group(1)
    elapsed = elapsed / 1000 if unit == "ms" else elapsed
    ok = total - (int(bad.group(1)) if bad else 0)
    p50 = _wrk_latency(output, "50%")
    p99 = _wrk_latency(output, "99%")
    return {"ok": ok, "all": total, "errors": sum(map(int, errors.groups())) if errors else 0,
            "rps": ok / elapsed, "p50_ms": p50, "p99_ms": p99}


def _wrk_latency(output: str, label: str) -> float:
    match = re.search(rf"^\s+{re.escape(label)}\s+([\d.]+)(us|ms|s)\s*$", output, re.MULTILINE)
    if not match:
        return 0.0
    value, unit = float(match.group(1)), match.group(2)
    return value / 1000 if unit == "us" else value * 1000 if unit == "s" else value


def _python_worker(port, path, method, headers, bodies, stop_at, result):
    import random

    rng = random.Random()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
    while time.time() < stop_at:
        body = bodies[rng.randrange(len(bodies))] if bodies else None
        began = time.perf_counter()
        try:
            connection.request(method, path, body=body, headers=headers)
            response = connection.getresponse()
            response.read()
            status = response.status
        except (OSError, http.client.HTTPException):
            status = 0
            connection.close()
            connection = http.client.HTTPConnection("127.0.0.1", port, timeout=30)
        latencies.append(time.perf_counter() - began)
        statuses[status] = statuses.get(status, 0) + 1
    connection.close()
    result.put((statuses, latencies))


def _python_process(port, path, method, headers, bodies, stop_at, threads, queue):
    import queue as queue_module
    import threading

    results: queue_module.Queue = queue_module.Queue()
    workers = [threading.Thread(target=_python_worker,
                                args=(port, path, method, headers, bodies, stop_at, results))
               for _ in range(threads)]
    for worker in workers:
        worker.start()
    for worker in workers:
        worker.join()
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    while not results.empty():
        part_statuses, part_latencies = results.get()
        for status, count in part_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        latencies.extend(part_latencies)
    queue.put((statuses, latencies))


def _python(port: int, path: str, *, method: str, headers: dict, bodies: list[str], connections: int,
            duration: float, processes: int) -> dict:
    import multiprocessing

    ctx = multiprocessing.get_context("fork")
    queue = ctx.Queue()
    started = time.time()
    stop_at = started + duration
    shares = [connections // processes + (1 if i < connections % processes else 0) for i in range(processes)]
    procs = [ctx.Process(target=_python_process,
                         args=(port, path, method, headers, bodies, stop_at, n, queue))
             for n in shares if n]
    for proc in procs:
        proc.start()
    parts = [queue.get(timeout=duration + 120) for _ in procs]
    for proc in procs:
        proc.join(timeout=30)
    elapsed = max(time.time() - started, 1e-9)
    statuses: dict[int, int] = {}
    latencies: list[float] = []
    for part_statuses, part_latencies in parts:
        for status, count in part_statuses.items():
            statuses[status] = statuses.get(status, 0) + count
        latencies.extend(part_latencies)
    ok = sum(count for status, count in statuses.items() if 200 <= status < 300)
    latencies.sort()
    quantiles = statistics.quantiles(latencies, n=100) if len(latencies) >= 2 else [0.0] * 99
    return {"ok": ok, "all": sum(statuses.values()), "errors": statuses.get(0, 0), "rps": ok / elapsed,
            "p50_ms": quantiles[49] * 1000, "p99_ms": quantiles[98] * 1000}


def drive(generator: str, port: int, path: str, *, method: str = "GET", headers: dict | None = None,
          bodies: list[str] | None = None, connections: int, duration: float, load_threads: int = 2) -> dict:
    """Keep `connections` keep-alive connections busy on `path` for `duration` seconds."""
    headers = headers or {}
    bodies = bodies or []
    if generator == "wrk":
        return _wrk(port, path, method=method, headers=headers, bodies=bodies, connections=connections,
                    duration=duration, threads=load_threads)
    return _python(port, path, method=method, headers=headers, bodies=bodies, connections=connections,
                   duration=duration, processes=load_threads)


# --- closing lines ---------------------------------------------------------------------------

def print_targets(targets: list[tuple[str, float, float]]) -> int:
    """Print each `(name, measured ratio, target)` last, as the issue asks; the exit code is 1 if
    any ratio is below its target."""
    print("\ntargets (ratios measured in this run):")
    failed = 0
    for name, ratio, target in targets:
        met = ratio >= target
        failed += not met
        print(f"  {'met ' if met else 'MISS'} {name}: {ratio:.2f} (target >= {target:g})")
    print(f"{len(targets) - failed} of {len(targets)} targets met")
    return 1 if failed else 0


def machine_note() -> str:
    load = os.getloadavg()[0] if hasattr(os, "getloadavg") else float("nan")
    return f"{os.cpu_count()} CPUs, load average {load:.1f} at start"
