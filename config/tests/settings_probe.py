"""Import the settings in a fresh interpreter with a given environment and report values."""

import json
import os
import subprocess
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
# Variables a developer's shell or `make test` may set that would mask what a test checks.
_CLEARED = {"SECRET_KEY", "JWT_SECRET", "DEBUG", "CORS_ALLOWED_ORIGINS", "JWT_ISSUER", "JWT_AUDIENCE",
            "DB_CONN_HEALTH_CHECKS", "SECURE_SSL_REDIRECT", "PAYMENT_GATEWAY"}


def probe_env(**overrides) -> dict:
    env = {k: v for k, v in os.environ.items() if k not in _CLEARED}
    env.update({"KOSH_ENV_FILE": "", "DJANGO_SETTINGS_MODULE": "config.settings"})
    env.update(overrides)
    return {k: v for k, v in env.items() if v is not None}


def settings_values(names: list[str], **env) -> dict:
    code = ("import json, django; from django.conf import settings; "
            f"print(json.dumps({{n: getattr(settings, n) for n in {names!r}}}, default=str))")
    result = subprocess.run([sys.executable, "-c", code], cwd=ROOT, env=probe_env(**env),
                            capture_output=True, text=True)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout.strip().splitlines()[-1])


def run_manage(*args: str, **env) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, "manage.py", *args], cwd=ROOT, env=probe_env(**env),
                          capture_output=True, text=True)
