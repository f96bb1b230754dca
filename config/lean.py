"""A lean path for the hottest POST endpoint (the bot's deduction, issue 16's P1).

DRF's machinery around a view (its Request wrapper, content negotiation, the Response and its
renderer, finalize_response) costs about as much CPU as the deduction's own code and statement:
in-process the deduction took a median 602 µs of CPU through the full view and 401 µs through
this path, against 235 µs for an empty DRF view (interleaved rounds; README "Benchmarks").
`LeanPostMixin` answers the plain request without it, and hands everything else to the full DRF
view:

- the plain request: POST, no query string, `Content-Type: application/json` (UTF-8), an Accept
  that takes JSON without a question, a small body that the API's own parser accepts, the view's
  authenticators and permissions all saying yes, and the view's `lean_post` taking the body;
- anything else, or any exception before the work starts, goes to the full view, which has done
  nothing yet and answers as it always does (every error is still worded there);
- once the work has started it is never run twice: an exception from it is answered by the
  view's own exception handling (`APIView.handle_exception`, the same envelope and status).

Both paths call the same code for the work; only the framework around it differs. The view keeps
its class, so URL reversal, OpenAPI (drf-spectacular) and CSRF exemption see the same view.
"""

import functools

from django.http import HttpResponse

from config.parsers import json_loads_bounded
from config.renderers import JSONRenderer

JSON_CONTENT_TYPES = frozenset({"application/json", "application/json; charset=utf-8",
                                "application/json;charset=utf-8"})
# Accept values DRF's negotiation answers with the JSON renderer and no parameters.
JSON_ACCEPTS = frozenset({"", "*/*", "application/json"})

_renderer = JSONRenderer()


def plain_json_body(request, *, max_bytes: int):
    """The body as the API's parser reads it when the request is the plain kind (see the module),
    else None. Never raises."""
    meta = request.META
    if (meta.get("CONTENT_TYPE") not in JSON_CONTENT_TYPES or meta.get("HTTP_ACCEPT", "") not in JSON_ACCEPTS
            or meta.get("QUERY_STRING")):
        return None
    length = meta.get("CONTENT_LENGTH") or ""
    if not (length.isdigit() and 0 < int(length) <= max_bytes):
        return None
    try:
        return json_loads_bounded(request.body.decode("utf-8"))
    except (ValueError, OSError):  # malformed (the full view words it) or the client went away
        return None


def json_response(body, *, allow: str) -> HttpResponse:
    """A 200 with the bytes, content type and Allow header the DRF view's Response would carry."""
    response = HttpResponse(_renderer.render(body), content_type=_renderer.media_type)
    response["Allow"] = allow
    return response


def answer_exception(view_class, initkwargs, request, exc) -> HttpResponse:
    """`exc` answered as the DRF view answers an exception from its handler."""
    view = view_class(**initkwargs)
    view.args, view.kwargs, view.format_kwarg = (), {}, None
    drf_request = view.initialize_request(request)
    drf_request.user, drf_request.auth = request.user, request.auth  # already authenticated
    view.request = drf_request
    view.headers = view.default_response_headers
    return view.finalize_response(drf_request, view.handle_exception(exc))


class LeanPostMixin:
    """For an APIView whose authenticators and permissions read only `request.META` and
    `request.auth` (ApiKeyAuthentication, HasApiKey; permissions get the class as their view)
    and that has no throttles (with throttles, as_view gives the full view alone).

    `lean_post(request, body)` gets the parsed body with `request.user`/`request.auth` set; it
    returns None to hand the request to the full view (it must not have changed anything), or a
    function that does the work and returns the response's body."""

    lean_max_body = 1024

    @classmethod
    def lean_post(cls, request, body):
        raise NotImplementedError

    @classmethod
    def _lean_work(cls, request):
        """The work for a plain request, with the caller set on `request`, or None."""
        body = plain_json_body(request, max_bytes=cls.lean_max_body)
        if body is None:
            return None
        try:
            for authenticator_class in cls.authentication_classes:
                found = authenticator_class().authenticate(request)
                if found is not None:
                    request.user, request.auth = found
                    break
            else:
                return None  # unauthenticated: the full view answers 401
            if not all(permission().has_permission(request, cls) for permission in cls.permission_classes):
                return None
            return cls.lean_post(request, body)
        except Exception:  # refused or malformed: the full view redoes it and words the answer
            return None

    @classmethod
    def as_view(cls, **initkwargs):
        full_view = super().as_view(**initkwargs)
        if cls.throttle_classes:
            return full_view
        allow = ", ".join(cls(**initkwargs).allowed_methods)

        def view(request, *args, **kwargs):
            work = cls._lean_work(request) if request.method == "POST" and not args and not kwargs else None
            if work is None:
                return full_view(request, *args, **kwargs)
            try:
                body = work()
            except Exception as exc:
                return answer_exception(cls, initkwargs, request, exc)
            return json_response(body, allow=allow)

        # cls, initkwargs, csrf_exempt: the same view to URL reversal, the schema and CSRF.
        return functools.update_wrapper(view, full_view)
