"""One DRF exception handler for the whole API, rendering in the envelope the view declares."""

import logging

from django.core.exceptions import PermissionDenied as DjangoPermissionDenied
from django.core.exceptions import RequestDataTooBig, SuspiciousOperation
from django.http import Http404
from rest_framework import exceptions as drf
from rest_framework.response import Response

from config import envelopes
from config.errors import ServiceError

logger = logging.getLogger(__name__)

class PayloadTooLarge(drf.APIException):
    status_code = 413
    default_detail = "Request body too large."
    default_code = "body_too_large"


class BadRequest(drf.APIException):
    status_code = 400
    default_detail = "Bad request."
    default_code = "bad_request"


_DRF_CODES = {
    drf.ParseError: ("invalid_body", "Malformed request body."),
    drf.NotAuthenticated: ("not_authenticated", "Authentication credentials were not provided."),
    drf.AuthenticationFailed: ("authentication_failed", "Invalid or expired credentials."),
    drf.PermissionDenied: ("forbidden", "You do not have permission to perform this action."),
    drf.NotFound: ("not_found", "Not found."),
    drf.MethodNotAllowed: ("method_not_allowed", "Method not allowed."),
    drf.UnsupportedMediaType: ("unsupported_media_type", "Send the body as application/json."),
    drf.Throttled: ("throttled", "Too many requests."),
    PayloadTooLarge: ("body_too_large", "Request body too large."),
    BadRequest: ("bad_request", "Bad request."),
}


def _validation_message(fields) -> str:
    if isinstance(fields, dict):
        for name, errors in fields.items():
            first = errors[0] if isinstance(errors, list) and errors else errors
            if isinstance(first, dict):
                return _validation_message(first)
            if name == "non_field_errors":
                return str(first)
            return f"{name}: {first}"
    if isinstance(fields, list) and fields:
        return str(fields[0])
    return "Invalid input."


def _view_envelope(context) -> str:
    view = context.get("view") if context else None
    return getattr(view, "envelope", envelopes.SUCCESS)


def api_exception_handler(exc, context):
    envelope = _view_envelope(context)
    headers = {}

    if isinstance(exc, Http404):
        exc = drf.NotFound()
    elif isinstance(exc, DjangoPermissionDenied):
        exc = drf.PermissionDenied()
    elif isinstance(exc, RequestDataTooBig):
        # Django refuses a body over DATA_UPLOAD_MAX_MEMORY_SIZE when it is first read; answer in
        # the view's envelope rather than with Django's HTML "Bad Request (400)" page.
        exc = PayloadTooLarge()
    elif isinstance(exc, SuspiciousOperation):
        logger.warning("suspicious request refused: %s", exc)
        exc = BadRequest()

    if isinstance(exc, ServiceError):
        status = exc.status_code
        code, message, fields, extra = exc.code, exc.message, exc.fields, exc.extra
        status_text = exc.status_text
    elif isinstance(exc, drf.APIException):
        status = exc.status_code
        status_text = None
        extra = {}
        if isinstance(exc, drf.ValidationError):
            code = "invalid"
            fields = exc.detail if isinstance(exc.detail, dict) else {"non_field_errors": exc.detail}
            message = _validation_message(fields)
        else:
            code, message = _DRF_CODES.get(type(exc), (exc.default_code, str(exc.detail)))
            if type(exc) not in _DRF_CODES:
                for klass, pair in _DRF_CODES.items():
                    if isinstance(exc, klass):
                        code, message = pair
                        break
            if isinstance(exc.detail, str) and str(exc.detail) != str(exc.default_detail):
                message = str(exc.detail)  # a specific reason, e.g. "Tenant is suspended."
            fields = None
        if getattr(exc, "auth_header", None):
            headers["WWW-Authenticate"] = exc.auth_header
        if getattr(exc, "wait", None):
            headers["Retry-After"] = f"{int(exc.wait)}"
    else:
        return None  # a real bug: let Django log it and answer 500

    if envelope == envelopes.FLAT and not isinstance(exc, ServiceError):
        message = envelopes.FLAT_MESSAGES.get(status, message)

    body = envelopes.error_body(
        envelope, status=status, code=code, message=message, fields=fields, extra=extra,
        status_text=status_text,
    )
    return Response(body, status=status, headers=headers)
