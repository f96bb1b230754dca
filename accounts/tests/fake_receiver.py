"""A fake code receiver on 127.0.0.1: plays the tenant's WhatsApp bot (OTP_SENDER=webhook) or
MSG91's SendOTP API (OTP_SENDER=msg91) for the real senders, and records what they sent.

`mode`: "ok" (200 with `answer`), "error500" (JSON 500), "sleep" (answers after `delay` seconds).
`stop()` closes the socket, so later calls are refused.
"""

import json
import threading
import time
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import parse_qs, urlsplit

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


class FakeReceiver:
    def __init__(self):
        self.requests: list[Received] = []
        self.mode = "ok"
        self.delay = 0.0
        self.answer: dict = {"ok": True}
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_POST(self):
                fake._handle(self)

        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._running = False

    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}"

    def start(self):
        self._thread.start()
        self._running = True
        return self

    def stop(self):
        if self._running:
            self._running = False
            self._server.shutdown()
            self._server.server_close()

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

    def _handle(self, handler):
        length = int(handler.headers.get("Content-Length") or 0)
        body = handler.rfile.read(length)
        parts = urlsplit(handler.path)
        received = Received(path=parts.path, query={k: v[-1] for k, v in parse_qs(parts.query).items()},
                            headers={k.lower(): v for k, v in handler.headers.items()}, body=body)
        with self.lock:
            self.requests.append(received)
            mode, delay, answer = self.mode, self.delay, self.answer
        if mode == "sleep":
            time.sleep(delay)
        status, payload = (500, {"error": "boom"}) if mode == "error500" else (200, answer)
        data = json.dumps(payload).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", "application/json")
            handler.send_header("Content-Length", str(len(data)))
            handler.end_headers()
            handler.wfile.write(data)
        except (BrokenPipeError, ConnectionResetError):  # the client gave up (timeout)
            pass
