"""A hostile HTTP/1.1 server on loopback that counts what reaches it.

Each request is answered by the next step of a script (then by ``default``); a
step is a function ``step(conn, request)`` that writes to the raw socket and
returns True to keep the connection open for another request.  Requests,
connections and connections still open are counted on the server side, so a
test can hold the client to exact numbers on the wire.
"""

from __future__ import annotations

import json
import socket
import ssl
import struct
import threading
import time
from typing import Any, Callable

Step = Callable[[socket.socket, "Request"], bool]


class Request:
    def __init__(self, method: str, path: str, headers: dict[str, str], body: bytes) -> None:
        self.method, self.path, self.headers, self.body = method, path, headers, body

    def __repr__(self) -> str:
        return f"Request({self.method} {self.path})"


def respond(status: int = 200, body: Any = None, headers: dict[str, str] | None = None,
            close_idle_after: float | None = None) -> Step:
    """A complete answer; the connection stays open (closed by the server after *close_idle_after* idle seconds)."""
    payload = body if isinstance(body, bytes) else json.dumps(
        {"data": {"id": "ok", "type": "case"}} if body is None else body).encode()

    def step(conn: socket.socket, request: Request) -> bool:
        extra = "".join(f"{k}: {v}\r\n" for k, v in (headers or {}).items())
        conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\nContent-Length: {len(payload)}\r\n"
                     f"{extra}\r\n".encode() + payload)
        if close_idle_after is not None:
            conn.settimeout(close_idle_after)
        return True

    return step


def raw(data: bytes, keep: bool = False) -> Step:
    """Exactly these bytes (then close, unless *keep*)."""

    def step(conn: socket.socket, request: Request) -> bool:
        conn.sendall(data)
        return keep

    return step


def reset(conn: socket.socket, request: Request) -> bool:
    """Read the request, answer nothing, and reset the connection (RST)."""
    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    return False


def drip(length: int, every: float) -> Step:
    """Headers promising *length* bytes, then one byte every *every* seconds."""

    def step(conn: socket.socket, request: Request) -> bool:
        conn.sendall(f"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: {length}\r\n\r\n".encode())
        for _ in range(length):
            time.sleep(every)
            conn.sendall(b" ")
        return False

    return step


def stall(conn: socket.socket, request: Request) -> bool:
    """Read the request and answer nothing until the client gives up (or the server stops)."""
    conn.settimeout(30)
    conn.recv(1)
    return False


class HostileServer:
    def __init__(self, script: list[Step] | None = None, default: Step | None = None,
                 tls: ssl.SSLContext | None = None) -> None:
        self.tls = tls
        self.script = list(script or [])
        self.default = default or respond()
        self.requests: list[Request] = []
        self.connections = 0
        self.open = 0
        self._lock = threading.Lock()
        self._sock = socket.socket()
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(128)
        self._sock.settimeout(0.5)
        self.port = self._sock.getsockname()[1]
        self.url = f"{'https' if tls else 'http'}://127.0.0.1:{self.port}"
        self._stop = threading.Event()
        self._threads: list[threading.Thread] = []
        self._conns: list[socket.socket] = []
        self._accept = threading.Thread(target=self._serve, daemon=True)
        self._accept.start()

    def __enter__(self) -> "HostileServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        try:  # wake the accept loop now rather than at its next poll
            socket.create_connection(("127.0.0.1", self.port), timeout=1).close()
        except OSError:
            pass
        self._accept.join(5)
        with self._lock:
            conns = list(self._conns)
        for conn in conns:
            try:
                conn.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
        for thread in self._threads:
            thread.join(5)
        self._sock.close()

    def count(self, method: str | None = None) -> int:
        with self._lock:
            return sum(1 for r in self.requests if method is None or r.method == method)

    def wait_all_closed(self, seconds: float = 3.0) -> int:
        """Connections the client still holds open after up to *seconds*."""
        end = time.monotonic() + seconds
        while time.monotonic() < end and self.open:
            time.sleep(0.02)
        return self.open

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except OSError:
                continue
            if self._stop.is_set():
                conn.close()
                return
            with self._lock:
                self.connections += 1
                self.open += 1
                self._conns.append(conn)
            thread = threading.Thread(target=self._handle, args=(conn,), daemon=True)
            self._threads.append(thread)
            thread.start()

    def _read(self, conn: socket.socket, buffer: bytes) -> tuple[Request | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        headers = {}
        for line in lines[1:]:
            name, _, value = line.partition(":")
            headers[name.strip().lower()] = value.strip()
        length = int(headers.get("content-length", 0))
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return Request(method, path, headers, rest[:length]), rest[length:]

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        buffer = b""
        try:
            if self.tls is not None:
                conn = self.tls.wrap_socket(conn, server_side=True)
            while not self._stop.is_set():
                request, buffer = self._read(conn, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                    step = self.script.pop(0) if self.script else self.default
                if not step(conn, request):
                    return
        except OSError:  # includes the idle timeout of close_idle_after
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass
            with self._lock:
                self.open -= 1
