"""A loopback server with a Datadog-style FIXED-window rate limit, counting what it sees: ``WindowedServer``.

Windows of *period* seconds from the server's start, *limit* requests each per
API key (``DD-API-KEY``), 429 beyond; every answer carries ``X-RateLimit-Limit``,
``-Period``, ``-Remaining``, ``-Reset`` (whole seconds, rounded up, as the API
sends it) and ``-Name``.  A POST is a create: its title is recorded when it is
allowed (lost and duplicated cases are counted from these); any other request
gets *document*.  It also records the most requests in flight at once, and when
each request arrived and was answered.  Used by the reliability tests and by
``benchmarks/ratelimit.py``.
"""

from __future__ import annotations

import json
import math
import threading
import time
import uuid
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any

CASE = {"data": {"id": "ok", "type": "case", "attributes": {"title": "t"}}}


class WindowedServer:
    def __init__(self, limit: int, period: float, *, latency: float = 0.0, name: str = "cases",
                 document: dict[str, Any] | None = None) -> None:
        self.limit, self.period, self.latency, self.name = limit, period, latency, name
        self.document = document or CASE
        self.lock = threading.Lock()
        self.windows: dict[str, tuple[int, int]] = {}  # api key -> (window, count)
        self.requests = 0
        self.limited = 0
        self.limited_at: list[tuple[int, float]] = []  # (window, seconds into it) of each 429
        self.titles: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0
        self.spans: list[tuple[float, float]] = []  # (arrived, answered), monotonic
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), self._handler())
        self._server.daemon_threads = True
        self.url = f"http://127.0.0.1:{self._server.server_address[1]}"
        self.started = time.monotonic()
        self._thread = threading.Thread(target=self._server.serve_forever, kwargs={"poll_interval": 0.05},
                                        daemon=True)
        self._thread.start()

    def __enter__(self) -> "WindowedServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._server.shutdown()
        self._server.server_close()

    def admit(self, key: str) -> tuple[bool, dict[str, str]]:
        """Count one request of *key* in the current window; ``(allowed, headers)``."""
        with self.lock:
            now = time.monotonic() - self.started
            window = int(now // self.period)
            seen, count = self.windows.get(key, (window, 0))
            count = count + 1 if seen == window else 1
            self.windows[key] = (window, count)
            self.requests += 1
            allowed = count <= self.limit
            if not allowed:
                self.limited += 1
                self.limited_at.append((window, round(now - window * self.period, 2)))
            reset = max(1, math.ceil((window + 1) * self.period - now))
            return allowed, {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Period": f"{self.period:g}",
                             "X-RateLimit-Remaining": str(max(0, self.limit - count)),
                             "X-RateLimit-Reset": str(reset), "X-RateLimit-Name": self.name}

    def _handler(self) -> type[BaseHTTPRequestHandler]:
        state = self

        class Handler(BaseHTTPRequestHandler):
            protocol_version = "HTTP/1.1"

            def log_message(self, *args: Any) -> None:
                pass

            def do_GET(self) -> None:
                self._serve(None)

            def do_POST(self) -> None:
                self._serve(self.rfile.read(int(self.headers.get("Content-Length") or 0)))

            def _serve(self, body: bytes | None) -> None:
                arrived = time.monotonic()
                with state.lock:
                    state.in_flight += 1
                    state.most_in_flight = max(state.most_in_flight, state.in_flight)
                try:
                    if state.latency:
                        time.sleep(state.latency)
                    allowed, headers = state.admit(self.headers.get("DD-API-KEY", ""))
                    if not allowed:
                        self._answer(429, {"errors": ["Too many requests"]}, headers)
                    elif body is None:
                        self._answer(200, state.document, headers)
                    else:
                        title = json.loads(body)["data"]["attributes"]["title"]
                        with state.lock:
                            state.titles.append(title)
                        document = json.loads(json.dumps(state.document))
                        document["data"]["id"] = str(uuid.uuid4())
                        document["data"].setdefault("attributes", {})["title"] = title
                        self._answer(201, document, headers)
                finally:
                    with state.lock:
                        state.in_flight -= 1
                        state.spans.append((arrived, time.monotonic()))

            def _answer(self, status: int, document: Any, headers: dict[str, str]) -> None:
                payload = json.dumps(document).encode()
                self.send_response(status)
                for name, value in headers.items():
                    self.send_header(name, value)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(payload)))
                self.end_headers()
                self.wfile.write(payload)

        return Handler
