"""The plumbing the fake outside services in tests share (payments' fake gateways, accounts' fake
OTP receiver): a threaded HTTP server on 127.0.0.1 (an ephemeral port), reading a request's body,
JSON answers, start/stop and the failure modes.

A fake subclasses `FakeServer`, names the HTTP `methods` it answers and implements
`_handle(handler, method)`. `mode` makes it misbehave (see `_misbehave`): "error500" (JSON 500 with
`server_error`), "html502" (non-JSON 502), "sleep" (answers after `delay` seconds). `stop()` closes
the socket, so later calls are refused.
"""

import json
import threading
import time
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class FakeServer:
    methods: tuple[str, ...] = ("GET", "POST")  # the others answer 501, as BaseHTTPRequestHandler does
    path_prefix = ""  # the base path `url` ends with
    server_error: dict = {"error": "boom"}  # the body of the JSON 500 in mode "error500"

    def __init__(self):
        self.mode = "ok"
        self.delay = 0.0
        self.lock = threading.Lock()
        fake = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

        for method in self.methods:
            setattr(Handler, f"do_{method}", lambda handler, method=method: fake._handle(handler, method))
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self._server.daemon_threads = True
        self._server.block_on_close = False
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.02},
                                        daemon=True)
        self._running = False

    # --- lifecycle ---------------------------------------------------------------------------
    @property
    def url(self) -> str:
        host, port = self._server.server_address[:2]
        return f"http://{host}:{port}{self.path_prefix}"

    def start(self):
        self._thread.start()
        self._running = True
        return self

    def stop(self):
        if self._running:
            self._running = False
            self._server.shutdown()
            self._server.server_close()

    # --- HTTP -----------------------------------------------------------------------------------
    def _handle(self, handler: BaseHTTPRequestHandler, method: str):
        raise NotImplementedError

    @staticmethod
    def _read(handler) -> bytes:
        length = int(handler.headers.get("Content-Length") or 0)
        return handler.rfile.read(length) if length else b""

    @classmethod
    def _read_json(cls, handler, **loads_options):
        """The request's JSON body; None when it has none or it is not JSON."""
        raw = cls._read(handler)
        try:
            return json.loads(raw, **loads_options) if raw else None
        except ValueError:
            return None

    @staticmethod
    def dumps(body) -> str:
        return json.dumps(body)

    def _send(self, handler, status: int, body, *, content_type="application/json"):
        """Answer `body` (a str as it is, anything else as JSON); a client that went away is let go."""
        raw = body.encode() if isinstance(body, str) else self.dumps(body).encode()
        try:
            handler.send_response(status)
            handler.send_header("Content-Type", content_type)
            handler.send_header("Content-Length", str(len(raw)))
            handler.end_headers()
            handler.wfile.write(raw)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the client timed out and went away

    def _misbehave(self, handler) -> bool:
        """Play `mode`: sleep `delay` seconds and carry on, or answer a failure. True when it answered."""
        if self.mode == "sleep":
            time.sleep(self.delay)
        elif self.mode == "error500":
            self._send(handler, 500, self.server_error)
            return True
        elif self.mode == "html502":
            self._send(handler, 502, "<html><body>Bad Gateway</body></html>", content_type="text/html")
            return True
        return False
