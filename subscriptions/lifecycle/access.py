"""Who may see and change which subscription: every such decision of the API goes through here.

Staff today is `config.permissions`' notion (a logged-in ``is_staff`` user; one that belongs to a
tenant acts only on that tenant's users). When platform-staff roles replace it (DESIGN §4.6),
`staff_scope` is the one function to change.
"""

from dataclasses import dataclass

from rest_framework.permissions import BasePermission

from config.errors import NotFound
from config.permissions import is_api_key_request

USAGE_SCOPE = "usage"
ALL_TENANTS = object()


@dataclass(frozen=True)
class Caller:
    """The principal of a request: a person (JWT), possibly staff, or a tenant's API key."""

    user: object | None  # the person; None for an API key
    api_key: object | None
    # ALL_TENANTS for platform staff, a tenant id for staff of one tenant, None for non-staff.
    staff_tenant: object | None

    @property
    def is_staff(self) -> bool:
        return self.staff_tenant is not None


def staff_scope(user):
    """ALL_TENANTS, a tenant id, or None (not staff)."""
    if user is None or not getattr(user, "is_authenticated", False) or not getattr(user, "pk", None):
        return None
    if not user.is_staff:
        return None
    return user.tenant_id if user.tenant_id is not None else ALL_TENANTS


def caller_of(request) -> Caller:
    if is_api_key_request(request):
        return Caller(user=None, api_key=request.auth, staff_tenant=None)
    return Caller(user=request.user, api_key=None, staff_tenant=staff_scope(request.user))


def _tenant_allows(scope, subscription) -> bool:
    return scope is ALL_TENANTS or subscription.user.tenant_id == scope


def may_view(caller: Caller, subscription) -> bool:
    """The owner, staff (of the subscriber's tenant), or a usage key of the subscriber's tenant."""
    if caller.api_key is not None:
        return (caller.api_key.has_scope(USAGE_SCOPE)
                and subscription.user.tenant_id == caller.api_key.tenant_id)
    if caller.user is not None and subscription.user_id == caller.user.pk:
        return True
    return caller.is_staff and _tenant_allows(caller.staff_tenant, subscription)


def may_manage(caller: Caller, subscription) -> bool:
    """Owner actions (update, cancel): the owner or staff."""
    if caller.api_key is not None:
        return False
    return subscription.user_id == caller.user.pk or (
        caller.is_staff and _tenant_allows(caller.staff_tenant, subscription))


def may_change_plan(caller: Caller, subscription) -> bool:
    """change-plan (it may open an order for the subscriber to pay): as the owner actions."""
    return may_manage(caller, subscription)


def may_act_as_staff(caller: Caller, subscription) -> bool:
    """suspend, activate, renew."""
    return caller.api_key is None and caller.is_staff and _tenant_allows(caller.staff_tenant, subscription)


def may_record_usage(caller: Caller, subscription) -> bool:
    """Staff, or an API key with scope "usage" of the subscriber's tenant."""
    if caller.api_key is not None:
        return (caller.api_key.has_scope(USAGE_SCOPE)
                and subscription.user.tenant_id == caller.api_key.tenant_id)
    return may_act_as_staff(caller, subscription)


def user_in_staff_scope(caller: Caller, user) -> bool:
    return caller.is_staff and (caller.staff_tenant is ALL_TENANTS or user.tenant_id == caller.staff_tenant)


def require(allowed: bool) -> None:
    """Another user's subscription is "not found", never "forbidden" (DESIGN §4.3)."""
    if not allowed:
        raise NotFound("Subscription not found.", code="subscription_not_found")


class IsSubscriptionStaff(BasePermission):
    """DRF permission for the staff-only endpoints (403 for others)."""

    def has_permission(self, request, view):
        return not is_api_key_request(request) and staff_scope(request.user) is not None


class IsPersonOrUsageKey(BasePermission):
    """A person with a JWT, or an API key with scope "usage"."""

    def has_permission(self, request, view):
        if is_api_key_request(request):
            return request.auth.has_scope(USAGE_SCOPE)
        return bool(request.user and request.user.is_authenticated)
