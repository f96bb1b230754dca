"""Error answers outside DRF's exception handler: under /api/ they are JSON, always.

Django answers some errors before or around a view — an unknown URL, a body over
DATA_UPLOAD_MAX_MEMORY_SIZE read outside DRF, a bad Host header, an uncaught exception — with
its HTML pages (in DEBUG, the technical 404/500 pages). An API client must get the envelope
instead: the view's own envelope when the URL resolved to one of our views, else success.
"""

from django.http import JsonResponse
from django.views import defaults

from config import envelopes

API_PREFIX = "/api/"

_ERRORS = {
    400: ("bad_request", "Bad request."),
    401: ("not_authenticated", "Authentication credentials were not provided."),
    403: ("forbidden", "You do not have permission to perform this action."),
    404: ("not_found", "Not found."),
    405: ("method_not_allowed", "Method not allowed."),
    413: ("body_too_large", "Request body too large."),
    500: ("server_error", "Internal server error."),
}
# Headers of the original answer a client may still need.
_KEPT_HEADERS = ("Allow", "Retry-After", "WWW-Authenticate")


def is_api_request(request) -> bool:
    return request.path.startswith(API_PREFIX)


def _view_envelope(request) -> str:
    match = getattr(request, "resolver_match", None)
    view_class = getattr(getattr(match, "func", None), "view_class", None)
    return getattr(view_class, "envelope", envelopes.SUCCESS)


def api_error_response(request, status: int) -> JsonResponse:
    envelope = _view_envelope(request)
    code, message = _ERRORS.get(status, ("error" if status < 500 else "server_error",
                                         "Request failed."))
    if envelope == envelopes.FLAT:
        message = envelopes.FLAT_MESSAGES.get(status, message)
    body = envelopes.error_body(envelope, status=status, code=code, message=message)
    return JsonResponse(body, status=status)


def _is_json(response) -> bool:
    return response.get("Content-Type", "").split(";")[0].strip().endswith("json")


class ApiJSONErrorsMiddleware:
    """Replace any non-JSON error answer under /api/ (Django's HTML pages, DEBUG's technical
    pages, an empty 405) with the JSON envelope. Sits inside CorsMiddleware so the replacement
    still carries CORS headers."""

    def __init__(self, get_response):
        self.get_response = get_response

    def __call__(self, request):
        response = self.get_response(request)
        if response.status_code < 400 or not is_api_request(request) or _is_json(response):
            return response
        replacement = api_error_response(request, response.status_code)
        for header in _KEPT_HEADERS:
            if header in response:
                replacement[header] = response[header]
        return replacement


# URLconf handlers (config.urls): JSON under /api/, Django's own pages elsewhere (the admin).

def bad_request(request, exception=None):
    if is_api_request(request):
        return api_error_response(request, 400)
    return defaults.bad_request(request, exception)


def permission_denied(request, exception=None):
    if is_api_request(request):
        return api_error_response(request, 403)
    return defaults.permission_denied(request, exception)


def page_not_found(request, exception=None):
    if is_api_request(request):
        return api_error_response(request, 404)
    return defaults.page_not_found(request, exception)


def server_error(request):
    if is_api_request(request):
        return api_error_response(request, 500)
    return defaults.server_error(request)
