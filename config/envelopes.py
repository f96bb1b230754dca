"""The three response envelopes of DESIGN §5 and the helpers views use to answer in them.

- flat (seeds 000/001): the body itself; errors ``{"error": "..."}``.
- status (seed 003): ``{"status": "SUCCESS", "message": ..., "data": ...}``; errors
  ``{"status": "ERROR", "message": ...}``.
- success (seed 002 and everything new): ``{"success": true, "data": ...}``; errors
  ``{"success": false, "error": {"code", "message", "fields"}}``.
"""

from rest_framework.response import Response

FLAT = "flat"
STATUS = "status"
SUCCESS = "success"

# Flat views (seeds 000/001) answer with these fixed messages; the frontend matches on them.
FLAT_MESSAGES = {
    400: "invalid body",
    401: "unauthorized",
    402: "payment required",
    403: "forbidden",
    404: "not found",
    405: "method not allowed",
    409: "conflict",
    413: "request body too large",
    415: "invalid body",
    429: "too many requests",
    500: "internal server error",
    502: "payment gateway unavailable",
    503: "service unavailable",
}


def success_response(data, *, status=200, message=None, headers=None) -> Response:
    body = {"success": True, "data": data}
    if message:
        body["message"] = message
    return Response(body, status=status, headers=headers)


def status_body(message: str, data=None, *, status_text="SUCCESS") -> dict:
    body = {"status": status_text, "message": message}
    if data is not None:
        body["data"] = data
    return body


def status_response(message: str, data=None, *, status=200, status_text="SUCCESS") -> Response:
    return Response(status_body(message, data, status_text=status_text), status=status)


def flat_response(data, *, status=200) -> Response:
    return Response(data, status=status)


def error_body(envelope: str, *, status: int, code: str, message: str, fields=None, extra=None,
               status_text=None) -> dict:
    if envelope == FLAT:
        body = {"error": message}
        body.update(extra or {})
        return body
    if envelope == STATUS:
        body = {"status": status_text or "ERROR", "message": message}
        if extra:
            body["data"] = extra
        return body
    error = {"code": code, "message": message}
    if fields:
        error["fields"] = fields
    body = {"success": False, "error": error}
    return body
