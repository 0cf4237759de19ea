"""The sandbox over HTTP: a threaded HTTP/1.1 server on the loopback interface.

``serve()`` runs until interrupted (``dd-cases serve`` calls ``serve_cli``);
``start_server_in_thread()`` starts one in the background for tests.  Point any
client at it with ``DD_BASE_URL=http://127.0.0.1:8126`` and any non-blank keys.

It accepts any key, so it guards the door a browser could open: a request
whose ``Host`` is not a loopback name or the address it is bound to (a DNS
rebinding page) gets 421; bodies over 16 MB get 413, chunked or not; a
malformed chunked body gets 400.  Refusals are JSON:API error documents and
close the connection.
"""

from __future__ import annotations

import argparse
import ipaddress
import json
import os
import re
import socket
import sys
import threading
import time
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Sequence

from ..runtime.errors import ConfigurationError, reduce_exception
from .app import Sandbox
from .faults import ConnectionDropped, Faults
from .store import default_db_path

__all__ = ["SandboxServer", "serve", "start_server_in_thread", "serve_cli", "DEFAULT_PORT"]

DEFAULT_PORT = 8126
_MAX_BODY = 16 * 1024 * 1024
_MAX_LINE = 65536  # a chunk-size or trailer line
_MAX_TRAILERS = 100
_CHUNK_SIZE = re.compile(rb"[0-9A-Fa-f]{1,16}")
#: names a loopback server answers to besides its own address
_LOOPBACK_NAMES = frozenset({"localhost", "127.0.0.1", "::1"})
#: after refusing a body, read what the client is still sending for this long, so that it
#: sees the refusal instead of a reset (bounded: the sandbox owes a flood nothing more)
_DRAIN_SECONDS = 2.0
_DRAIN_BYTES = 4 * _MAX_BODY


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Refused(Exception):
    """A request refused before the sandbox sees it: answered with *status*, then the connection closes."""

    def __init__(self, status: int, detail: str) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail

    __reduce__ = reduce_exception  # like every error of the package: picklable with its fields


def _host_name(host: str) -> str:
    """The name part of a ``Host`` header value, lower case: ``[::1]:8126`` -> ``::1``."""
    host = host.strip().lower()
    if host.startswith("["):
        name, bracket, rest = host[1:].partition("]")
        return name if bracket and (not rest or re.fullmatch(r":\d{1,5}", rest)) else ""
    name, colon, port = host.partition(":")
    if colon and not re.fullmatch(r"\d{1,5}", port):
        return ""  # a bare IPv6 address or garbage: never a name we answer to
    return name.rstrip(".") if name != "." else ""


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DatadogCaseSandbox/1"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: "SandboxServer"

    def _check_host(self) -> None:
        hosts = self.headers.get_all("Host") or []
        if len(hosts) != 1:
            raise _Refused(400, "a request needs exactly one Host header")
        if not self.server.answers_to(_host_name(hosts[0])):
            raise _Refused(421, f"this sandbox answers only to {', '.join(sorted(self.server.host_names))}: "
                                "not to another name that resolves here")

    def _read_line(self, what: str) -> bytes:
        line = self.rfile.readline(_MAX_LINE + 1)
        if len(line) > _MAX_LINE or not line.endswith(b"\n"):
            raise _Refused(400, f"malformed chunked body: {what} line too long or cut short")
        return line

    def _read_chunked(self) -> bytes:
        chunks: list[bytes] = []
        total = 0
        while True:
            size_text = self._read_line("chunk-size").split(b";", 1)[0].strip()
            if not _CHUNK_SIZE.fullmatch(size_text):
                raise _Refused(400, f"malformed chunked body: chunk size {size_text[:40]!r} "
                                    "is not 1 to 16 hexadecimal digits")
            size = int(size_text, 16)
            if size == 0:
                break
            total += size
            if total > _MAX_BODY:
                raise _Refused(413, f"request body over {_MAX_BODY} bytes")
            chunk = self.rfile.read(size)
            if len(chunk) != size or self._read_line("chunk end").strip():
                raise _Refused(400, "malformed chunked body: a chunk is shorter or longer than its size")
            chunks.append(chunk)
        for _ in range(_MAX_TRAILERS):
            if not self._read_line("trailer").strip():
                return b"".join(chunks)
        raise _Refused(400, "malformed chunked body: too many trailer lines")

    def _read_body(self) -> bytes:
        coding = self.headers.get("Transfer-Encoding")
        if coding is not None:
            if coding.strip().lower() != "chunked":
                raise _Refused(400, f"unsupported Transfer-Encoding {coding!r} (only chunked)")
            return self._read_chunked()
        lengths = self.headers.get_all("Content-Length") or []
        if not lengths:
            return b""
        if len(set(lengths)) != 1 or not re.fullmatch(r"[0-9]{1,20}", lengths[0].strip()):
            raise _Refused(400, f"malformed Content-Length {lengths[0][:40]!r}")
        size = int(lengths[0])
        if size > _MAX_BODY:
            raise _Refused(413, f"request body over {_MAX_BODY} bytes")
        body = self.rfile.read(size)
        if len(body) != size:
            raise _Refused(400, "request body shorter than its Content-Length")
        return body

    def _refuse(self, refused: _Refused) -> None:
        """Answer a JSON:API error document and close the connection, letting the client finish sending."""
        title = HTTPStatus(refused.status).phrase
        content = json.dumps({"errors": [{"status": str(refused.status), "title": title,
                                          "detail": refused.detail}]}).encode("utf-8")
        self.close_connection = True
        self.send_response(refused.status)
        self.send_header("Content-Type", "application/vnd.api+json")
        self.send_header("Content-Length", str(len(content)))
        self.send_header("Connection", "close")
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(content)
        self.wfile.flush()
        self._drain()

    def _drain(self) -> None:
        # Closing with unread bytes makes the kernel send a reset, which can destroy the answer
        # before the client reads it: a client still writing its body would report a broken
        # connection (and may retry) instead of the refusal.
        try:
            self.connection.shutdown(socket.SHUT_WR)
            deadline = time.monotonic() + _DRAIN_SECONDS
            drained = 0
            while drained < _DRAIN_BYTES and (left := deadline - time.monotonic()) > 0:
                self.connection.settimeout(left)
                data = self.connection.recv(65536)
                if not data:
                    return
                drained += len(data)
        except OSError:
            pass

    def _serve(self) -> None:
        try:
            self._check_host()
            body = self._read_body()
        except _Refused as refused:
            self._refuse(refused)
            return
        try:
            status, headers, content = self.server.sandbox.handle(
                self.command, self.path, None, dict(self.headers.items()), body)
        except ConfigurationError as exc:  # its database file is damaged: say so, keep serving
            self._refuse(_Refused(500, str(exc)))
            return
        except ConnectionDropped:
            # hang up without a byte of answer
            self.close_connection = True
            try:
                self.connection.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass
            return
        self.send_response(status)
        for name, value in headers.items():
            self.send_header(name, value)
        self.send_header("Content-Length", str(len(content)))
        self.end_headers()
        if content and self.command != "HEAD":
            self.wfile.write(content)

    do_GET = do_POST = do_PUT = do_PATCH = do_DELETE = do_HEAD = _serve

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        if not self.server.quiet:
            sys.stderr.write(f"sandbox: {self.address_string()} {format % args}\n")


class SandboxServer(ThreadingHTTPServer):
    """A ``ThreadingHTTPServer`` answering from a ``Sandbox``; ``stop()`` shuts it down cleanly."""

    daemon_threads = True
    allow_reuse_address = True
    request_queue_size = 128  # a busy worker pool opens dozens of connections at once (the default is 5)

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                 quiet: bool = True, allow_remote: bool = False) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(f"refusing to serve the sandbox on {host!r}: it accepts any key; "
                             "use a loopback address or allow_remote=True")
        self.sandbox = sandbox
        self.quiet = quiet
        self.allow_remote = allow_remote
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: connections accepted so far (keep-alive clients reuse one)
        self.accepted = 0
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host.strip("[]"), port), _Handler)

    @property
    def host_names(self) -> frozenset[str]:
        """The ``Host`` names (without port) this server answers to: loopback names and its own address."""
        return _LOOPBACK_NAMES | {str(self.server_address[0]).lower()}

    def answers_to(self, name: str) -> bool:
        """Whether a request for host *name* is for this server (a DNS rebinding page's is not)."""
        if name in self.host_names:
            return True
        # A remote server bound to every interface cannot know its names; it was asked for.
        return self.allow_remote and ipaddress.ip_address(str(self.server_address[0])).is_unspecified

    @property
    def base_url(self) -> str:
        host, port = (str(part) for part in self.server_address[:2])
        host = f"[{host}]" if ":" in host else host
        return f"http://{host}:{port}"

    def process_request(self, request: Any, client_address: Any) -> None:
        with self._open_lock:
            self._open.add(request)
            self.accepted += 1
        super().process_request(request, client_address)

    def shutdown_request(self, request: Any) -> None:
        with self._open_lock:
            self._open.discard(request)
        super().shutdown_request(request)

    def handle_error(self, request: Any, client_address: Any) -> None:
        if isinstance(sys.exc_info()[1], (ConnectionError, TimeoutError, OSError)):
            return  # a client that went away
        super().handle_error(request, client_address)

    def server_close(self) -> None:
        super().server_close()
        with self._open_lock:
            sockets, self._open = list(self._open), set()
        for sock in sockets:  # wake handler threads idling on keep-alive connections
            try:
                sock.shutdown(socket.SHUT_RDWR)
            except OSError:
                pass

    def stop(self, timeout: float = 5.0) -> None:
        """Stop serving, close the listening socket and every open connection."""
        if self._thread is not None:
            self.shutdown()
            self._thread.join(timeout)
            self._thread = None
        self.server_close()


def start_server_in_thread(sandbox: Sandbox, host: str = "127.0.0.1", port: int = 0, *,
                           quiet: bool = True) -> tuple[SandboxServer, str]:
    """Serve *sandbox* from a background thread; ``(server, base_url)``.  Call ``server.stop()`` when done."""
    server = SandboxServer(sandbox, host, port, quiet=quiet)
    thread = threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05},
                              name=f"sandbox-server-{server.server_address[1]}", daemon=True)
    server._thread = thread
    thread.start()
    return server, server.base_url


def serve(host: str = "127.0.0.1", port: int = DEFAULT_PORT, path: str | os.PathLike[str] | None = None, *,
          sandbox: Sandbox | None = None, faults: Faults | None = None, quiet: bool = False,
          allow_remote: bool = False) -> None:
    """Serve a sandbox (the database at *path*, default per-user file) until interrupted."""
    owned = sandbox is None
    sb = sandbox if sandbox is not None else Sandbox(path, faults=faults)
    if faults is not None and not owned:
        sb.faults = faults
    server = SandboxServer(sb, host, port, quiet=quiet, allow_remote=allow_remote)
    try:
        print(f"Datadog Case Management sandbox on {server.base_url} (database: {sb.path})", file=sys.stderr)
        print(f"  export DD_BASE_URL={server.base_url} DD_API_KEY=sandbox DD_APP_KEY=sandbox", file=sys.stderr)
        server.serve_forever(poll_interval=0.2)
    except KeyboardInterrupt:
        pass
    finally:
        server.server_close()
        if owned:
            sb.close()


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dd-cases serve",
        description="Run a local, stateful emulator of the Datadog Case Management API on loopback.")
    parser.add_argument("--host", default="127.0.0.1", help="address to listen on (default 127.0.0.1)")
    parser.add_argument("--port", type=int, default=DEFAULT_PORT, help=f"port (default {DEFAULT_PORT}; 0 picks one)")
    parser.add_argument("--db", default=None,
                        help=f"SQLite database file, or :memory: (default {default_db_path()})")
    parser.add_argument("--reset", action="store_true", help="start from an empty database")
    parser.add_argument("--rate-limit", type=int, default=None, metavar="N",
                        help="answer 429 beyond N requests per period")
    parser.add_argument("--rate-period", type=float, default=60.0, metavar="S",
                        help="rate-limit window in seconds (default 60)")
    parser.add_argument("--fail-rate", type=float, default=0.0, metavar="R",
                        help="share (0..1) of requests answered with an injected 5xx")
    parser.add_argument("--fail-status", type=int, default=500, metavar="STATUS",
                        help="status of injected failures (default 500)")
    parser.add_argument("--drop-rate", type=float, default=0.0, metavar="R",
                        help="share (0..1) of requests whose connection is dropped without an answer")
    parser.add_argument("--latency", type=float, default=0.0, metavar="S", help="seconds added to every answer")
    parser.add_argument("--seed", type=int, default=None, help="seed the random fault draws")
    parser.add_argument("--allow-remote", action="store_true",
                        help="allow a non-loopback --host (the sandbox accepts any key!)")
    parser.add_argument("-q", "--quiet", action="store_true", help="do not log requests")
    return parser


def serve_cli(argv: Sequence[str] | None = None) -> int:
    """``dd-cases serve [--host H] [--port P] [--db FILE|:memory:] [--rate-limit N] ...``; returns the exit code."""
    parser = _parser()
    args = parser.parse_args(list(sys.argv[1:] if argv is None else argv))
    try:
        faults = Faults(rate_limit=args.rate_limit, rate_period=args.rate_period, error_rate=args.fail_rate,
                        error_status=args.fail_status, drop_rate=args.drop_rate, latency=args.latency,
                        seed=args.seed)
    except ValueError as exc:
        print(f"dd-cases serve: {exc}", file=sys.stderr)
        return 2
    try:
        sandbox = Sandbox(args.db, faults=faults)
    except ConfigurationError as exc:
        print(f"dd-cases serve: {exc}", file=sys.stderr)
        return 2
    try:
        if args.reset:
            sandbox.reset()
        serve(args.host, args.port, sandbox=sandbox, quiet=args.quiet, allow_remote=args.allow_remote)
    except (OSError, ValueError, ConfigurationError) as exc:
        print(f"dd-cases serve: {exc}", file=sys.stderr)
        return 2
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(serve_cli())
