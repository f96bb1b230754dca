"""API key format: `kosh_<prefix>_<secret>`; the prefix finds the row, the hash proves the key."""

import hashlib
import secrets

KEY_PREFIX = "kosh"


def key_generate() -> tuple[str, str]:
    prefix = secrets.token_hex(6)  # 12 hex characters
    secret = secrets.token_urlsafe(32)
    return prefix, f"{KEY_PREFIX}_{prefix}_{secret}"


def key_hash(raw_key: str) -> str:
    # Keys carry 256 random bits, so a fast hash is safe (like GitHub tokens); no salt needed.
    return hashlib.sha256(raw_key.encode()).hexdigest()


def key_prefix(raw_key: str) -> str | None:
    parts = raw_key.split("_", 2)
    if len(parts) != 3 or parts[0] != KEY_PREFIX or not parts[1] or not parts[2]:
        return None
    return parts[1]
