"""The README checker (scripts/readme_check.py, run by `make readme-check` in CI): what it
reads from the README and how it compares answers. The run itself needs a live server."""

import importlib.util
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
spec = importlib.util.spec_from_file_location("readme_check", ROOT / "scripts" / "readme_check.py")
readme_check = importlib.util.module_from_spec(spec)
spec.loader.exec_module(readme_check)


def test_every_walkthrough_block_of_the_readme_is_checked():
    text = (ROOT / "README.md").read_text()
    checked = readme_check.parse_blocks(text)
    checked_lines = {first for _, first, _ in checked}
    lines = text.splitlines()
    for number, line in enumerate(lines, start=1):
        if line.startswith("```bash"):
            block = "\n".join(lines[number:number + 80]).split("```")[0]
            if "localhost:8000" in block or "manage.py" in block and "benchmarks" not in block:
                assert number + 1 in checked_lines or "pip install" in block, f"README line {number}"
    assert any(kind == "cron" for kind, _, _ in checked)


def test_commands_group_continuations_and_multiline_quotes():
    lines = [
        "f() { python3 -c 'import sys",
        "print(1)' \"$@\"; }",
        "curl -s localhost:8000/a \\",
        "  -d '{}'",
        "# → {\"a\":…,",
        "#    \"b\":2}",
        "KEY=…   # printed by make run",
    ]
    commands = readme_check.shell_commands(10, lines)
    assert [c.line for c in commands] == [10, 12, 16]
    assert commands[1].text.endswith("-d '{}'")
    assert commands[1].expectation == '{"a":…,"b":2}'


def test_expectations_match_with_ellipsis_wildcards():
    assert readme_check.matches('{"id":…,"ok":true}', '{"id":42,"ok":true}\n')
    assert readme_check.matches('409 {"success":false…}', '{"success":false,"error":{}}')
    assert not readme_check.matches('{"token_quota":11000}', '{"token_quota":10750}')
    assert not readme_check.matches('{"a":1}', '{"a":1,"b":2}')


def test_a_code_placeholder_reads_the_latest_one_time_code_from_the_server_log(tmp_path):
    log = tmp_path / "make-run.log"
    log.write_text(
        "One-time code for +919876543210 (tenant demo): 111111  [console sender, development only]\n"
        "[01/Dec/2026 10:00:00] \"POST /api/auth/phone/start HTTP/1.1\" 200 150\n"
        "One-time code for +919876543210 (tenant demo): 004413  [console sender, development only]\n")
    commands = readme_check.shell_commands(1, ["CODE=…   # the 6 digits make run printed", 'echo "got $CODE"'])
    script = readme_check.build_script(commands, 8000, {}, [], log)
    result = subprocess.run(["bash", "-c", script], capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().endswith("got 004413")

    log.write_text("no code sent yet\n")
    assert subprocess.run(["bash", "-c", script], capture_output=True, text=True).returncode != 0
