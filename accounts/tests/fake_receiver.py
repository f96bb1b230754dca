"""A fake code receiver on 127.0.0.1: plays the tenant's WhatsApp bot (OTP_SENDER=webhook) or
MSG91's SendOTP API (OTP_SENDER=msg91) for the real senders, and records what they sent.

`mode`: "ok" (200 with `answer`), "error500" (JSON 500), "sleep" (answers after `delay` seconds);
`stop()` closes the socket, so later calls are refused (config.tests.fake_server).
"""

import json
from dataclasses import dataclass
from urllib.parse import parse_qs, urlsplit

from config.tests.fake_server import FakeServer

WEBHOOK_SECRET = "otp-webhook-test-secret-0123456789"


@dataclass
class Received:
    path: str
    query: dict
    headers: dict
    body: bytes

    @property
    def json(self):
        return json.loads(self.body)


class FakeReceiver(FakeServer):
    methods = ("POST",)

    def __init__(self):
        super().__init__()
        self.requests: list[Received] = []
        self.answer: dict = {"ok": True}

    @property
    def last(self) -> Received:
        return self.requests[-1]

    def code_for(self, phone: str) -> str:
        """The code most recently sent to `phone` (E.164), whichever sender sent it."""
        for received in reversed(self.requests):
            if received.path.endswith("/api/v5/otp"):
                if received.query.get("mobile") == phone.lstrip("+"):
                    return received.query["otp"]
            elif received.json.get("phone_number") == phone:
                return received.json["code"]
        raise AssertionError(f"no code was sent to {phone}")

    def _handle(self, handler, method):
        body = self._read(handler)
        parts = urlsplit(handler.path)
        received = Received(path=parts.path, query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                            headers={k.lower(): v for k, v in handler.headers.items()}, body=body)
        with self.lock:
            self.requests.append(received)
            answer = self.answer
        if not self._misbehave(handler):
            self._send(handler, 200, answer)
