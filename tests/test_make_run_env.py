"""Issue 14, items 15 and 16: `make run` leaves a .env that later manage.py commands read, and
seed_demo prints the address the server really listens on."""

import subprocess
from pathlib import Path

import pytest
from django.core.management import call_command

from config.tests.settings_probe import probe_env

ROOT = Path(__file__).resolve().parent.parent


def _make_env_file(path: Path) -> subprocess.CompletedProcess:
    return subprocess.run(["make", "-s", str(path), f"ENV_FILE={path}"], cwd=ROOT,
                          capture_output=True, text=True)


def test_make_run_writes_an_env_file_that_manage_py_reads(tmp_path):
    env_file = tmp_path / ".env"
    result = _make_env_file(env_file)
    assert result.returncode == 0, result.stderr
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines())
    assert values["DEBUG"] == "true"
    assert len(values["SECRET_KEY"]) >= 50 and len(values["JWT_SECRET"]) >= 48
    assert values["SECRET_KEY"] != values["JWT_SECRET"]

    # A README command in a fresh shell: no SECRET_KEY, JWT_SECRET or DEBUG in the environment.
    check = subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "check"], cwd=ROOT,
                           env=probe_env(KOSH_ENV_FILE=str(env_file)), capture_output=True, text=True)
    assert check.returncode == 0, check.stderr
    without = subprocess.run([str(ROOT / ".venv/bin/python"), "manage.py", "check"], cwd=ROOT,
                             env=probe_env(), capture_output=True, text=True)
    assert without.returncode != 0 and "SECRET_KEY is not set" in without.stderr


def test_an_existing_env_file_is_kept(tmp_path):
    env_file = tmp_path / ".env"
    env_file.write_text("DEBUG=true\nSECRET_KEY=mine\n")
    assert _make_env_file(env_file).returncode == 0
    assert env_file.read_text() == "DEBUG=true\nSECRET_KEY=mine\n"


def test_env_file_is_gitignored():
    result = subprocess.run(["git", "check-ignore", "-q", ".env"], cwd=ROOT)
    assert result.returncode == 0


@pytest.mark.django_db
def test_seed_demo_prints_the_servers_real_address(capsys):
    call_command("seed_demo", "--base-url", "http://127.0.0.1:8042")
    out = capsys.readouterr().out
    assert "http://127.0.0.1:8042/api/bot/credits/9876543210" in out
    assert ":8000" not in out
