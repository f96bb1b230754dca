"""Deploy checks: HS256 secrets short enough to guess offline."""

from django.conf import settings
from django.core import checks

# RFC 7518 §3.2: an HS256 key must be at least as long as the hash output (256 bits).
MIN_JWT_SECRET_BYTES = 32


@checks.register(checks.Tags.security, deploy=True)
def jwt_secret_check(app_configs, **kwargs):
    if len(settings.JWT_SECRET.encode()) >= MIN_JWT_SECRET_BYTES:
        return []
    return [checks.Warning(
        f"JWT_SECRET is shorter than {MIN_JWT_SECRET_BYTES} bytes: tokens signed with it can be "
        "brute-forced offline from any one of them.",
        hint="Set JWT_SECRET to a random value, e.g. python -c 'import secrets; "
             "print(secrets.token_urlsafe(48))'.",
        id="accounts.W001")]
