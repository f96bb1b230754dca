"""Run the README's checked shell blocks, in order, against a live `make run`, so the README
cannot drift from what Kosh does.

    .venv/bin/python scripts/readme_check.py [--show]

What it does:
1. starts `make run` on a free port with SQLite and the `.env` in a temporary directory, from an
   environment without SECRET_KEY, JWT_SECRET or DEBUG (a fresh shell: what `make run` leaves
   must be enough for every later `manage.py` command);
2. takes every fenced block that follows a `<!-- readme-check -->` line, joins them into one
   bash script (variables carry over from block to block, as in a terminal), with
   `localhost:8000` pointed at the live port; a line `NAME=…` is a value the reader copies from
   `make run`'s output: KEY and ADMIN_PASSWORD, printed at start, are filled in before the run,
   CODE (the console sender's latest one-time code) is read from the server's log when the
   line is reached;
   `<!-- readme-check: cron -->` blocks are crontab lines: each runs once, without its schedule,
   in this repository instead of /srv/kosh;
3. runs it with `set -eo pipefail`: a failing command fails the check; every `# → …` line under
   a command that starts with `{` (optionally after a status code) must match that command's
   output, `…` standing for anything; an error envelope nobody announced fails the check too;
4. stops the server and removes the temporary directory.
"""

import argparse
import os
import re
import shlex
import signal
import socket
import subprocess
import sys
import tempfile
import time
import urllib.request
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
MARKER = re.compile(r"^<!--\s*readme-check(?::\s*(\w+))?\s*-->\s*$")
PLACEHOLDER = re.compile(r"^([A-Z_]+)=…(\s+#.*)?$")
EXPECT = re.compile(r"^#\s*→\s?(.*)$")
CONTINUATION = re.compile(r"^#\s{2,}(.*)$")
CMD_MARK = "@@README-CHECK-COMMAND"
# Settings a developer's shell may carry that would make this run differ from a fresh clone's.
CLEARED_ENV = ("SECRET_KEY", "JWT_SECRET", "DEBUG", "DATABASE_URL", "KOSH_ENV_FILE", "PAYMENT_GATEWAY",
               "RAZORPAY_KEY_ID", "RAZORPAY_KEY_SECRET", "RAZORPAY_WEBHOOK_SECRET", "DEMO_ADMIN_PASSWORD",
               "DEMO_ADMIN_EMAIL", "DEMO_USER_PASSWORD", "DEMO_USER_EMAIL", "PORT", "HOST", "ENV_FILE",
               "TOKENS_SELF_SERVICE_UPGRADE", "REDIS_URL", "CORS_ALLOWED_ORIGINS")
# Placeholders the server prints while the walkthrough runs: a shell command reading the value
# from make run's log ({log}) at that moment, failing when it is not there.
RUNTIME_VALUES = {
    "CODE": "grep -o 'One-time code for [^ ]* (tenant [^)]*): [0-9]\\{6\\}' {log} | tail -n 1 | grep -o '[0-9]*$'",
}
ERROR_ENVELOPE = re.compile(r'"success":\s*false|"status":\s*"ERROR"|^\{"error":')


@dataclass
class Command:
    line: int  # README line number of its first line
    text: str
    expect: list[str] = field(default_factory=list)

    @property
    def expectation(self) -> str:
        return " ".join(self.expect).strip()  # several `# →` lines: one expectation


def parse_blocks(readme: str) -> list[tuple[str, int, list[str]]]:
    """[(kind, first line number, lines)] of the checked fenced blocks."""
    lines = readme.splitlines()
    blocks, index = [], 0
    while index < len(lines):
        match = MARKER.match(lines[index])
        if match and index + 1 < len(lines) and lines[index + 1].startswith("```"):
            start = index + 2
            end = start
            while not lines[end].startswith("```"):
                end += 1
            blocks.append((match.group(1) or "shell", start + 1, lines[start:end]))
            index = end
        index += 1
    return blocks


def _complete(text: str) -> bool:
    """Whether bash can parse `text` on its own (no open quote, parenthesis or continuation)."""
    if text.endswith("\\"):
        return False
    return subprocess.run(["bash", "-n", "-c", text], capture_output=True).returncode == 0


def shell_commands(first_line: int, lines: list[str]) -> list[Command]:
    commands: list[Command] = []
    current: Command | None = None
    open_command = False
    for offset, line in enumerate(lines):
        number = first_line + offset
        if open_command and current is not None:
            current.text += "\n" + line
            open_command = not _complete(current.text)
            continue
        expect = EXPECT.match(line)
        if expect and current is not None:
            current.expect.append(expect.group(1))
            continue
        more = CONTINUATION.match(line)
        if more and current is not None and current.expect:
            current.expect[-1] += more.group(1)  # a long answer wrapped over comment lines
            continue
        if not line.strip() or line.lstrip().startswith("#"):
            continue
        current = Command(number, line)
        commands.append(current)
        open_command = not _complete(line)
    if open_command and current is not None:
        raise SystemExit(f"README line {current.line}: the command never ends")
    return commands


def cron_commands(first_line: int, lines: list[str]) -> list[Command]:
    commands = []
    for offset, line in enumerate(lines):
        if not line.strip() or line.startswith("#"):
            continue
        parts = line.split(None, 5)
        commands.append(Command(first_line + offset, parts[5].replace("/srv/kosh", shlex.quote(str(ROOT)))))
    return commands


def matches(expectation: str, output: str) -> bool:
    expectation = re.sub(r"^\d{3}\s+", "", expectation.strip())
    pattern = ".*?".join(re.escape(part) for part in expectation.split("…"))
    return re.fullmatch(pattern, output.strip(), flags=re.S) is not None


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def start_server(tmp: Path, env: dict) -> tuple[subprocess.Popen, int, Path]:
    port = free_port()
    log = tmp / "make-run.log"
    process = subprocess.Popen(
        ["make", "run", f"PORT={port}", "HOST=127.0.0.1", f"ENV_FILE={tmp / '.env'}"], cwd=ROOT, env=env,
        stdout=log.open("w"), stderr=subprocess.STDOUT, start_new_session=True)
    deadline = time.monotonic() + 120
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"make run stopped:\n{log.read_text()}")
        try:
            with urllib.request.urlopen(f"http://127.0.0.1:{port}/api/health", timeout=2) as answer:
                if answer.status == 200:
                    return process, port, log
        except OSError:
            time.sleep(0.3)
    raise SystemExit(f"make run did not serve /api/health in time:\n{log.read_text()}")


def values_from_make_run(log: str) -> dict:
    """What the README tells the reader to copy from `make run`'s output."""
    values = {}
    key = re.search(r"Bot API key \(shown once[^)]*\): (\S+)", log)
    admin = re.search(r"Superuser created: \S+\n\s+password \(shown once\): (\S+)", log)
    if key:
        values["KEY"] = key.group(1)
    if admin:
        values["ADMIN_PASSWORD"] = admin.group(1)
    return values


def build_script(commands: list[Command], port: int, provided: dict, env_lines: list[str], log: Path) -> str:
    lines = ["set -eo pipefail", f"cd {shlex.quote(str(ROOT))}", *env_lines,
             'alert() { echo "ALERT: $*" >&2; return 1; }']
    for name, value in provided.items():
        lines.append(f"{name}={shlex.quote(value)}")
    for index, command in enumerate(commands):
        placeholder = PLACEHOLDER.match(command.text)
        if placeholder and placeholder.group(1) in RUNTIME_VALUES:
            name = placeholder.group(1)
            lines.append(f"printf '\\n{CMD_MARK} {index}\\n'")
            reader = RUNTIME_VALUES[name].replace("{log}", shlex.quote(str(log)))
            lines.append(f"{name}=$({reader})")
            continue
        if placeholder:
            if placeholder.group(1) not in provided:
                raise SystemExit(f"README line {command.line}: nothing provides {placeholder.group(1)}")
            continue
        text = re.sub(r"\b(localhost|127\.0\.0\.1):8000\b", f"127.0.0.1:{port}", command.text)
        lines.append(f"printf '\\n{CMD_MARK} {index}\\n'")
        lines.append(text)
    return "\n".join(lines) + "\n"


def check_outputs(commands: list[Command], stdout: str, show: bool) -> list[str]:
    outputs: dict[int, str] = {}
    for chunk in stdout.split(f"\n{CMD_MARK} ")[1:]:
        number, _, rest = chunk.partition("\n")
        outputs[int(number)] = rest
    problems, compared = [], 0
    for index, command in enumerate(commands):
        if index not in outputs:
            continue
        output = outputs[index].strip()
        expectation = command.expectation
        if show:
            print(f"--- README line {command.line}: {command.text.splitlines()[0][:100]}\n{output[:2000]}")
        json_expectation = re.sub(r"^\d{3}\s+", "", expectation).startswith(("{", "…"))
        if expectation and json_expectation:
            compared += 1
            if not matches(expectation, output):
                problems.append(f"README line {command.line}: {command.text.splitlines()[0]}\n"
                                f"  expected: {expectation}\n  got:      {output[:1500]}")
                continue
        announced_error = re.match(r"^\d{3}\s", expectation) or "or 4" in expectation
        if not announced_error and ERROR_ENVELOPE.search(output):
            problems.append(f"README line {command.line}: an unannounced error answer\n"
                            f"  command: {command.text.splitlines()[0]}\n  got: {output[:1500]}")
    print(f"{len(outputs)} commands run, {compared} outputs compared with the README")
    return problems


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--readme", default=str(ROOT / "README.md"))
    parser.add_argument("--show", action="store_true", help="print every command's output")
    opts = parser.parse_args()
    started = time.monotonic()

    commands: list[Command] = []
    for kind, first_line, lines in parse_blocks(Path(opts.readme).read_text()):
        commands += cron_commands(first_line, lines) if kind == "cron" else shell_commands(first_line, lines)
    if not commands:
        raise SystemExit("no checked block in the README")

    with tempfile.TemporaryDirectory(prefix="kosh-readme-") as tmp_name:
        tmp = Path(tmp_name)
        env = {k: v for k, v in os.environ.items() if k not in CLEARED_ENV}
        env["DATABASE_URL"] = f"sqlite:///{tmp / 'kosh.sqlite3'}"
        env["LOG_LEVEL"] = "WARNING"
        server, port, log = start_server(tmp, env)
        print(f"make run served /api/health after {time.monotonic() - started:.0f} s")
        try:
            provided = values_from_make_run(log.read_text())
            env_lines = [f"export DATABASE_URL={shlex.quote(env['DATABASE_URL'])}",
                         f"export KOSH_ENV_FILE={shlex.quote(str(tmp / '.env'))}"]
            script = build_script(commands, port, provided, env_lines, log)
            (tmp / "readme.sh").write_text(script)
            result = subprocess.run(["bash", str(tmp / "readme.sh")], cwd=ROOT, env=env, capture_output=True,
                                    text=True, timeout=600)
        finally:
            os.killpg(server.pid, signal.SIGTERM)
            server.wait(timeout=20)
        problems = check_outputs(commands, result.stdout, opts.show)
        if result.returncode != 0:
            last = result.stdout.rsplit(f"\n{CMD_MARK} ", 1)[-1].partition("\n")[0]
            where = commands[int(last)] if last.isdigit() else None
            problems.insert(0, f"the README's commands stopped with exit status {result.returncode}"
                               + (f" at README line {where.line}: {where.text}" if where else "")
                               + f"\n{result.stderr[-3000:]}")
    for problem in problems:
        print(problem, file=sys.stderr)
    print(f"README check: {'FAILED' if problems else 'ok'} in {time.monotonic() - started:.0f} s")
    return 1 if problems else 0


if __name__ == "__main__":
    sys.exit(main())
