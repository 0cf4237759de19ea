"""A loopback HTTP server that misbehaves on cue: one scripted behaviour per request.

Real sockets, so the client's real network stack meets real resets, stalls and
truncated bodies.  Behaviours:

    ("json", status, body, headers)   a well-formed answer
    ("raw", bytes)                    exactly these bytes, then close
    ("reset_mid_body",)               headers promising 1000 bytes, 10 sent, then RST
    ("stall",)                        read the request, never answer (the client's read timeout fires)
    ("close",)                        close without a byte
"""

from __future__ import annotations

import json
import socket
import struct
import threading
from typing import Any


class ScriptedServer:
    def __init__(self, script: list[tuple[Any, ...]], default: tuple[Any, ...] | None = None) -> None:
        self.script = list(script)
        self.default = default or ("json", 200, {"data": {"id": "ok", "type": "case"}}, {})
        self.requests: list[tuple[str, str, bytes]] = []
        self._sock = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        self._sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._sock.bind(("127.0.0.1", 0))
        self._sock.listen(64)
        self._sock.settimeout(0.2)
        self.url = f"http://127.0.0.1:{self._sock.getsockname()[1]}"
        self._stop = threading.Event()
        self._open: list[socket.socket] = []
        self._lock = threading.Lock()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self._thread.start()

    def __enter__(self) -> "ScriptedServer":
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def stop(self) -> None:
        self._stop.set()
        self._thread.join(5)
        with self._lock:
            for conn in self._open:
                try:
                    conn.close()
                except OSError:
                    pass
        self._sock.close()

    def _next(self) -> tuple[Any, ...]:
        with self._lock:
            return self.script.pop(0) if self.script else self.default

    def _serve(self) -> None:
        while not self._stop.is_set():
            try:
                conn, _ = self._sock.accept()
            except (socket.timeout, OSError):
                continue
            with self._lock:
                self._open.append(conn)
            threading.Thread(target=self._handle, args=(conn,), daemon=True).start()

    def _read_request(self, conn: socket.socket, buffer: bytes) -> tuple[tuple[str, str, bytes] | None, bytes]:
        while b"\r\n\r\n" not in buffer:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            buffer += chunk
        head, _, rest = buffer.partition(b"\r\n\r\n")
        lines = head.decode("latin-1").split("\r\n")
        method, path, _ = lines[0].split(" ", 2)
        length = 0
        for line in lines[1:]:
            name, _, value = line.partition(":")
            if name.strip().lower() == "content-length":
                length = int(value)
        while len(rest) < length:
            chunk = conn.recv(65536)
            if not chunk:
                return None, b""
            rest += chunk
        return (method, path, rest[:length]), rest[length:]

    def _handle(self, conn: socket.socket) -> None:
        conn.settimeout(10)
        buffer = b""
        try:
            while not self._stop.is_set():
                request, buffer = self._read_request(conn, buffer)
                if request is None:
                    return
                with self._lock:
                    self.requests.append(request)
                step = self._next()
                kind = step[0]
                if kind == "json":
                    _, status, body, headers = step
                    payload = body if isinstance(body, bytes) else json.dumps(body).encode()
                    extra = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                    conn.sendall(f"HTTP/1.1 {status} X\r\nContent-Type: application/json\r\n"
                                 f"Content-Length: {len(payload)}\r\n{extra}\r\n".encode() + payload)
                elif kind == "raw":
                    conn.sendall(step[1])
                    return
                elif kind == "reset_mid_body":
                    conn.sendall(b"HTTP/1.1 200 OK\r\nContent-Type: application/json\r\nContent-Length: 1000\r\n\r\n"
                                 b'{"data": {')
                    conn.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))  # RST on close
                    return
                elif kind == "stall":
                    self._stop.wait(30)
                    return
                elif kind == "close":
                    return
        except OSError:
            return
        finally:
            try:
                conn.close()
            except OSError:
                pass
