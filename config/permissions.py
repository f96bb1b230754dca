from rest_framework.permissions import BasePermission


def is_api_key_request(request) -> bool:
    """True when an API key authenticated the request. The key (tenants.ApiKey) says so itself:
    config sits below every app and must not import one to check the class."""
    return getattr(request.auth, "is_api_key", False) is True


# Staff-only endpoints declare a `policy_action` and use `config.policy.PolicyPermission`:
# there is no "is staff" permission (is_staff alone never grants anything, DESIGN §4.6).


class IsUser(BasePermission):
    """A logged-in person (JWT), not an API key."""

    def has_permission(self, request, view):
        return bool(request.user and request.user.is_authenticated and not is_api_key_request(request))


class HasApiKey(BasePermission):
    """An API key, optionally with a scope listed on the view as `api_key_scope`."""

    def has_permission(self, request, view):
        if not is_api_key_request(request):
            return False
        scope = getattr(view, "api_key_scope", None)
        return scope is None or request.auth.has_scope(scope)

