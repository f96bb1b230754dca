"""Who may see and change which subscription: every such decision of the API goes through here,
and here through `config.policy` ("subscription.*" rules, DESIGN §4.6).

Platform staff see every subscription (support only reads); tenant staff see (list, read) their
tenant's users' subscriptions; an API key with scope "usage" reads and records usage of its
tenant's; the owner reads and manages their own. Out of reach (someone else's, another tenant's)
is 404; in reach but not allowed (support cancelling, tenant staff suspending) is 403.
"""

from rest_framework.permissions import BasePermission

from config import policy
from config.errors import NotFound
from config.policy import Principal, policy_allows, principal_of

USAGE_SCOPE = "usage"
ALL_TENANTS = policy.ALL_TENANTS

# Kept under its old name: the principal of a request.
Caller = Principal


def caller_of(request) -> Principal:
    return principal_of(request)


def not_found() -> NotFound:
    return NotFound("Subscription not found.", code="subscription_not_found")


def require(principal: Principal, action: str, subscription) -> None:
    """Another user's (or tenant's) subscription is "not found", never "forbidden" (DESIGN §4.3)."""
    policy.policy_require(principal, action, subscription, not_found=not_found())


def list_scope(principal: Principal):
    """ALL_TENANTS, a tenant id, or None (may not list)."""
    return policy.tenant_scope(principal, "subscription.list")


class IsSubscriptionStaff(BasePermission):
    """The staff list (GET /api/subscriptions): platform staff, and tenant staff for their tenant."""

    def has_permission(self, request, view):
        return policy_allows(principal_of(request), "subscription.list")


class IsPersonOrUsageKey(BasePermission):
    """A person with a JWT, or an API key with scope "usage"."""

    def has_permission(self, request, view):
        return policy_allows(principal_of(request), "subscription.read")
