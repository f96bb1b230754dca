"""Throw-away views that exercise each envelope and the idempotency helper."""

import time

from django.db import connection
from django.urls import path
from rest_framework import serializers
from rest_framework.permissions import AllowAny

from config.api import FlatAPIView, StatusAPIView, StrictIntegerField, StrictSerializer, SuccessAPIView
from config.envelopes import flat_response, status_response, success_response
from config.errors import PaymentRequired
from config.idempotency import idempotent
from config.models import IdempotencyRecord


class Body(StrictSerializer):
    n = StrictIntegerField(min_value=1, max_value=10**9)


def _handle(request, answer):
    body = Body(data=request.data)
    body.is_valid(raise_exception=True)
    if body.validated_data["n"] == 402:
        raise PaymentRequired("quota exceeded", extra={"remaining": 7})
    return answer(body.validated_data["n"])


class Flat(FlatAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        return _handle(request, lambda n: flat_response({"n": n}))


class Status(StatusAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        return _handle(request, lambda n: status_response("ok", {"n": n}))


class Success(SuccessAPIView):
    authentication_classes: list = []
    permission_classes = [AllowAny]

    def post(self, request):
        return _handle(request, lambda n: success_response({"n": n}))


class Counter(SuccessAPIView):
    """Each effective call adds a row; replays must not."""

    permission_classes = [AllowAny]

    def post(self, request):
        def effect():
            body = Body(data=request.data)
            body.is_valid(raise_exception=True)
            IdempotencyRecord.objects.create(scope="effect", key=f"{IdempotencyRecord.objects.count()}",
                                             request_hash="x")
            return success_response({"n": body.validated_data["n"]}, status=201)

        return idempotent(request, effect)


class CallsOut(SuccessAPIView):
    """An idempotent handler that "calls out": it records what it saw (open transactions, its own
    key's record) in `seen`; n=500 dies, n=402 refuses, n=7 takes its time; else it adds a row."""

    permission_classes = [AllowAny]
    seen: list = []

    def post(self, request):
        def call_out():
            body = Body(data=request.data)
            body.is_valid(raise_exception=True)
            n = body.validated_data["n"]
            CallsOut.seen.append({
                "open_transactions": [block for block in connection.atomic_blocks
                                      if not getattr(block, "_from_testcase", False)],
                "record": IdempotencyRecord.objects.filter(key=request.headers.get("Idempotency-Key"))
                .values("status_code").first(),
            })
            if n == 500:
                raise RuntimeError("the handler died")
            if n == 402:
                raise PaymentRequired("quota exceeded")
            if n == 7:
                time.sleep(0.3)
            IdempotencyRecord.objects.create(scope="effect", key=f"{IdempotencyRecord.objects.count()}",
                                             request_hash="x")
            return success_response({"n": n}, status=201)

        return idempotent(request, call_out, calls_out=True)


urlpatterns = [
    path("flat", Flat.as_view()),
    path("status", Status.as_view()),
    path("success", Success.as_view()),
    path("counter", Counter.as_view()),
    path("calls-out", CallsOut.as_view()),
]

__all__ = ["urlpatterns", "serializers"]
