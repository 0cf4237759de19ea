"""The sandbox over HTTP: a threaded HTTP/1.1 server on the loopback interface.

``serve()`` runs until interrupted (``dd-cases serve`` calls ``serve_cli``);
``start_server_in_thread()`` starts one in the background for tests.  Point any
client at it with ``DD_BASE_URL=http://127.0.0.1:8126`` and any non-blank keys.
"""

from __future__ import annotations

import argparse
import ipaddress
import os
import socket
import sys
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any, Sequence

from .app import Sandbox
from .faults import ConnectionDropped, Faults
from .store import default_db_path

__all__ = ["SandboxServer", "serve", "start_server_in_thread", "serve_cli", "DEFAULT_PORT"]

DEFAULT_PORT = 8126
_MAX_BODY = 16 * 1024 * 1024


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "DatadogCaseSandbox/1"
    timeout = 120  # idle keep-alive connections are closed after this many seconds
    server: "SandboxServer"

    def _read_body(self) -> bytes | None:
        if "chunked" in (self.headers.get("Transfer-Encoding") or "").lower():
            chunks: list[bytes] = []
            while True:
                line = self.rfile.readline(65537)
                size = int(line.split(b";", 1)[0].strip() or b"0", 16)
                if size == 0:
                    while self.rfile.readline(65537) not in (b"\r\n", b"\n", b""):
                        pass
                    return b"".join(chunks)
                chunks.append(self.rfile.read(size))
                self.rfile.readline(65537)
        length = self.headers.get("Content-Length")
        if not length:
            return b""
        size = int(length)
        if size < 0 or size > _MAX_BODY:
            return None
        return self.rfile.read(size)

    def _serve(self) -> None:
        try:
            body = self._read_body()
        except ValueError:
            body = None
        if body is None:
            self.send_error(400, "Bad request body")
            return
        try:
            status, headers, content = self.server.sandbox.handle(
                self.command, self.path, None, dict(self.headers.items()), body)
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
    # socketserver's default backlog of 5 made a burst of fresh connections (many workers at once, on a loaded
    # machine) meet "connection reset by peer"; a worker pool connects all at once.
    request_queue_size = 128

    def __init__(self, sandbox: Sandbox, host: str = "127.0.0.1", port: int = DEFAULT_PORT, *,
                 quiet: bool = True, allow_remote: bool = False) -> None:
        if not allow_remote and not _is_loopback(host):
            raise ValueError(f"refusing to serve the sandbox on {host!r}: it accepts any key; "
                             "use a loopback address or allow_remote=True")
        self.sandbox = sandbox
        self.quiet = quiet
        self._open: set[socket.socket] = set()
        self._open_lock = threading.Lock()
        self._thread: threading.Thread | None = None
        #: connections accepted so far (keep-alive clients reuse one)
        self.accepted = 0
        if ":" in host:
            self.address_family = socket.AF_INET6
        super().__init__((host.strip("[]"), port), _Handler)

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
    sandbox = Sandbox(args.db, faults=faults)
    try:
        if args.reset:
            sandbox.reset()
        serve(args.host, args.port, sandbox=sandbox, quiet=args.quiet, allow_remote=args.allow_remote)
    except (OSError, ValueError) as exc:
        print(f"dd-cases serve: {exc}", file=sys.stderr)
        return 2
    finally:
        sandbox.close()
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(serve_cli())
