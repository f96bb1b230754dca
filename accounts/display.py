"""How the admin names a person: a phone number alone is ambiguous (the same number is a
different user in each tenant, DESIGN §4.4), so the tenant goes next to it."""


def user_with_tenant(user) -> str:
    """`+919876543210 · Demo Library (demo)`, `ravi@example.com · no tenant`, or `—`."""
    if user is None:
        return "—"
    who = user.phone or user.email or f"user {user.pk}"
    tenant = user.tenant if user.tenant_id else None
    return f"{who} · {tenant.name} ({tenant.slug})" if tenant else f"{who} · no tenant"
