"""Errors raised by services and views; the exception handler renders them in the view's envelope."""

from rest_framework import status as http


class ServiceError(Exception):
    """A rule said no. `code` is machine-readable, `message` is for people.

    `extra` carries additional top-level keys for flat envelopes (e.g. ``remaining``) and the
    ``data`` object for status envelopes; `status_text` overrides ``"ERROR"`` in status envelopes.
    """

    status_code = http.HTTP_400_BAD_REQUEST
    code = "invalid"
    default_message = "invalid request"

    def __init__(
        self,
        message: str | None = None,
        *,
        code: str | None = None,
        status_code: int | None = None,
        fields: dict | None = None,
        extra: dict | None = None,
        status_text: str | None = None,
    ):
        self.message = message or self.default_message
        if code:
            self.code = code
        if status_code:
            self.status_code = status_code
        self.fields = fields or {}
        self.extra = extra or {}
        self.status_text = status_text
        super().__init__(self.message)


class InvalidInput(ServiceError):
    status_code = http.HTTP_400_BAD_REQUEST
    code = "invalid"


class NotFound(ServiceError):
    status_code = http.HTTP_404_NOT_FOUND
    code = "not_found"
    default_message = "not found"


class Forbidden(ServiceError):
    status_code = http.HTTP_403_FORBIDDEN
    code = "forbidden"
    default_message = "forbidden"


class PaymentRequired(ServiceError):
    status_code = http.HTTP_402_PAYMENT_REQUIRED
    code = "payment_required"
    default_message = "payment required"


class Conflict(ServiceError):
    status_code = http.HTTP_409_CONFLICT
    code = "conflict"
    default_message = "conflict"


class BadGateway(ServiceError):
    status_code = http.HTTP_502_BAD_GATEWAY
    code = "gateway_error"
    default_message = "payment gateway unavailable"
