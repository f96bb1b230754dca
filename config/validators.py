"""Model-field validators shared by every app (run by `full_clean()`, model forms and services)."""

from django.core.exceptions import ValidationError


def _has_nul(value) -> bool:
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(_has_nul(key) or _has_nul(item) for key, item in value.items())
    if isinstance(value, list | tuple):
        return any(_has_nul(item) for item in value)
    return False


def no_nul_characters(value) -> None:
    """PostgreSQL text and jsonb cannot hold NUL characters: refuse them as bad input, not a 500."""
    if _has_nul(value):
        raise ValidationError("NUL characters are not allowed.", code="nul_character")
