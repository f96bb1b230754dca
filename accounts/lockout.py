"""Login lockout with django-axes: per account and per client address, for the admin's login
form and for the API's password logins alike (one counter, so an attacker locked out of
/admin/login/ cannot carry on through /api/v1/auth/admin/login).

The admin goes through `django.contrib.auth.authenticate`, where axes' backend and signals do
the work. The API logins check passwords in `accounts.services.auth_login`, so their views ask
`login_allowed` first and report each failure with `login_failed` (the signal axes listens to).
"""

from django.conf import settings
from django.contrib.auth.signals import user_login_failed
from django.http import HttpResponse, JsonResponse

from config import audit, envelopes
from config.error_pages import is_api_request
from config.errors import ServiceError

LOCKED_MESSAGE = "Too many failed login attempts. Try again later or ask an administrator to unlock."


class LoginLockedOut(ServiceError):
    status_code = 429
    code = "locked_out"
    default_message = LOCKED_MESSAGE


def client_ip(request) -> str | None:
    """The client's address as config.audit reads it (REMOTE_ADDR, or behind
    `TRUSTED_PROXY_COUNT` proxies the address the outermost of them saw)."""
    return audit.client_ip(request)


def lockout_username(request, credentials) -> str | None:
    """One counter per account however the email is written (emails are stored lower-case)."""
    username = (credentials or {}).get("username")
    if username is None and request is not None:
        username = request.POST.get("username")
    return username.strip().lower() if isinstance(username, str) else None


def lockout_response(request, original_response=None, credentials=None) -> HttpResponse:
    """What a locked-out login gets: the API's JSON envelope under /api/, plain text elsewhere."""
    status = settings.AXES_HTTP_RESPONSE_CODE
    if is_api_request(request):
        body = envelopes.error_body(envelopes.SUCCESS, status=status, code=LoginLockedOut.code,
                                    message=LOCKED_MESSAGE)
        return JsonResponse(body, status=status)
    return HttpResponse(LOCKED_MESSAGE, status=status, content_type="text/plain; charset=utf-8")


def login_allowed(request, email: str) -> bool:
    """`request` is Django's HttpRequest (axes marks it for its middleware)."""
    if not settings.AXES_ENABLED:
        return True
    from axes.handlers.proxy import AxesProxyHandler

    return AxesProxyHandler.is_allowed(request, {"username": email})


def login_failed(request, email: str) -> None:
    user_login_failed.send(sender=__name__, credentials={"username": email}, request=request)
