"""Reads of users that other apps share (one published read per concept, DESIGN §2)."""

from django.contrib.auth import get_user_model


def user_by_phone(*, tenant, phone: str):
    """The tenant's user with this phone number, or None.

    `phone` is already E.164 (`accounts.phones.phone_normalize`); `tenant` is a Tenant, its id, or
    None for users without a tenant. (tenant, phone) is unique, so there is at most one: no ORDER
    BY, which could steer the planner away from the (tenant, phone) index.
    """
    return next(iter(get_user_model().objects.filter(tenant=tenant, phone=phone)[:1]), None)


def tenant_people_stats(*, tenant, since) -> dict:
    """For `tenants.stats`: the tenant's end users and its staff."""
    from config import policy

    people = get_user_model().objects.filter(tenant=tenant)
    return {"users": people.filter(role="").count(),
            "staff": people.filter(role__in=policy.TENANT_ROLES).count()}
