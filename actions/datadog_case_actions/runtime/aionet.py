"""The async network transport: a small HTTP/1.1 client on asyncio's socket functions.

It replaces aiohttp (through httpx-aiohttp), which re-sent idempotent requests
on its own behind the retry policy, reused keep-alive connections the server
had already closed, tied its pool to one event loop, and closed its
connections through the event loop's epoll, which a forked child shares with
its parent.  Here:

* an idle connection is a plain non-blocking socket registered with no event
  loop, so any loop in any thread can take it, and a forked child only ever
  closes its own copies of the descriptors (never ``shutdown``, never epoll);
* one request is one attempt: nothing is re-sent here (retries belong to
  ``transport.py``, which counts them against the policy);
* a pooled socket is checked before reuse: one the server has closed reads as
  EOF and is dropped, so a create never goes out on a dead connection;
* the body is handed over raw, chunk by chunk, so the caller can count decoded
  bytes and watch its deadline;
* failures are httpx's own exception classes, raised fresh from a frame that
  holds no request headers (no chained library frames, no keys in locals).
"""

from __future__ import annotations

import asyncio
import ipaddress
import os
import socket
import ssl
import threading
import time
from typing import Any, AsyncIterator

import httpx

from .errors import reduce_exception

__all__ = ["AsyncNetworkTransport"]

_RECV = 65536
_MAX_HEAD = 64 * 1024
_MAX_LINE = 8 * 1024
_HEX = frozenset(b"0123456789abcdefABCDEF")


class _Failure(Exception):
    """Internal: what went wrong, as an httpx class and a message free of request data."""

    def __init__(self, cls: type[httpx.TransportError], message: str) -> None:
        super().__init__(message)
        self.cls = cls

    __reduce__ = reduce_exception  # like every error of the package: picklable with its fields


def _timed_out(cls: type[httpx.TransportError], what: str) -> _Failure:
    return _Failure(cls, f"timed out {what}")


class _Conn:
    """One connection: a non-blocking socket, optionally TLS through memory BIOs, and unread bytes."""

    __slots__ = ("sock", "origin", "tls", "incoming", "outgoing", "buffer", "idle_since")

    def __init__(self, sock: socket.socket, origin: tuple[str, str, int]) -> None:
        self.sock = sock
        self.origin = origin
        self.tls: ssl.SSLObject | None = None
        self.incoming: ssl.MemoryBIO | None = None
        self.outgoing: ssl.MemoryBIO | None = None
        self.buffer = b""
        self.idle_since = 0.0

    def close(self) -> None:
        # close(), never shutdown(): in a forked child this drops the child's descriptor only.
        try:
            self.sock.close()
        except OSError:
            pass

    def alive(self) -> bool:
        """False when the server has closed the idle connection (EOF) or sent something unasked."""
        if self.buffer:
            return False
        try:
            self.sock.recv(1, socket.MSG_PEEK)
        except (BlockingIOError, InterruptedError):
            return True
        except OSError:
            return False
        return False

    async def _raw_recv(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> bytes:
        try:
            if timeout is None:
                return await loop.sock_recv(self.sock, _RECV)
            async with asyncio.timeout(timeout):
                return await loop.sock_recv(self.sock, _RECV)
        except TimeoutError:
            raise _timed_out(httpx.ReadTimeout, "reading the response") from None
        except OSError as exc:
            raise _Failure(httpx.ReadError, _os_text(exc)) from None

    async def _flush(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        assert self.outgoing is not None
        data = self.outgoing.read()
        if data:
            await self.send(loop, data, timeout, raw=True)

    async def send(self, loop: asyncio.AbstractEventLoop, data: bytes, timeout: float | None,
                   raw: bool = False) -> None:
        if self.tls is not None and not raw:
            self.tls.write(data)
            await self._flush(loop, timeout)
            return
        try:
            if timeout is None:
                await loop.sock_sendall(self.sock, data)
            else:
                async with asyncio.timeout(timeout):
                    await loop.sock_sendall(self.sock, data)
        except TimeoutError:
            raise _timed_out(httpx.WriteTimeout, "sending the request") from None
        except OSError as exc:
            raise _Failure(httpx.WriteError, _os_text(exc)) from None

    async def recv(self, loop: asyncio.AbstractEventLoop, timeout: float | None) -> bytes:
        """The next bytes from the server; b"" at the end of the stream."""
        if self.buffer:
            data, self.buffer = self.buffer, b""
            return data
        if self.tls is None:
            return await self._raw_recv(loop, timeout)
        assert self.incoming is not None
        while True:
            try:
                return self.tls.read(_RECV)
            except ssl.SSLWantReadError:
                await self._flush(loop, timeout)
                data = await self._raw_recv(loop, timeout)
                if data:
                    self.incoming.write(data)
                else:
                    self.incoming.write_eof()
            except (ssl.SSLZeroReturnError, ssl.SSLEOFError):
                return b""
            except ssl.SSLError as exc:
                raise _Failure(httpx.ReadError, f"TLS error: {exc.reason or type(exc).__name__}") from None

    async def start_tls(self, loop: asyncio.AbstractEventLoop, context: ssl.SSLContext, host: str,
                        timeout: float | None) -> None:
        self.incoming, self.outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        self.tls = context.wrap_bio(self.incoming, self.outgoing, server_hostname=host)
        while True:
            try:
                self.tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                await self._flush(loop, timeout)
                data = await self._raw_recv(loop, timeout)
                if not data:
                    raise _Failure(httpx.ConnectError,
                                   "the server closed the connection during the TLS handshake") from None
                self.incoming.write(data)
            except ssl.SSLError as exc:
                raise _Failure(httpx.ConnectError, f"TLS handshake failed: {exc.reason or type(exc).__name__}") \
                    from None
        await self._flush(loop, timeout)


def _os_text(exc: OSError) -> str:
    return f"{type(exc).__name__}: {exc.strerror or exc}"


class _Reader:
    """Buffered reads over one connection with the read timeout of the request."""

    __slots__ = ("conn", "loop", "timeout", "buffer", "received")

    def __init__(self, conn: _Conn, loop: asyncio.AbstractEventLoop, timeout: float | None) -> None:
        self.conn, self.loop, self.timeout = conn, loop, timeout
        self.buffer = b""
        self.received = False

    async def more(self) -> bool:
        data = await self.conn.recv(self.loop, self.timeout)
        if not data:
            return False
        self.received = True
        self.buffer += data
        return True

    async def until(self, marker: bytes, limit: int) -> bytes:
        """Everything up to *marker* (consumed, not returned)."""
        while True:
            index = self.buffer.find(marker)
            if index >= 0:
                found, self.buffer = self.buffer[:index], self.buffer[index + len(marker):]
                return found
            if len(self.buffer) > limit:
                raise _Failure(httpx.RemoteProtocolError, "the response head or a chunk line is too long")
            if not await self.more():
                if not self.received:
                    raise _Failure(httpx.RemoteProtocolError, "the server closed the connection without a response")
                raise _Failure(httpx.RemoteProtocolError, "the server closed the connection mid-response")

    async def some(self, most: int) -> bytes:
        """Up to *most* bytes; b"" only at the end of the stream."""
        if not self.buffer and not await self.more():
            return b""
        data, self.buffer = self.buffer[:most], self.buffer[most:]
        return data


def _head(raw: bytes) -> tuple[bytes, int, bytes, list[tuple[bytes, bytes]]]:
    lines = raw.split(b"\r\n")
    parts = lines[0].split(b" ", 2)
    if len(parts) < 2 or not parts[0].startswith(b"HTTP/1.") or len(parts[1]) != 3 or not parts[1].isdigit():
        raise _Failure(httpx.RemoteProtocolError, "the response does not start with an HTTP/1.x status line")
    headers = []
    for line in lines[1:]:
        name, colon, value = line.partition(b":")
        if not colon or not name or name != name.strip() or line[:1] in (b" ", b"\t"):
            raise _Failure(httpx.RemoteProtocolError, "the response has a malformed header line")
        headers.append((name, value.strip()))
    return parts[0], int(parts[1]), parts[2] if len(parts) > 2 else b"", headers


def _tokens(headers: list[tuple[bytes, bytes]], name: bytes) -> list[bytes]:
    return [t.strip().lower() for n, v in headers if n.lower() == name for t in v.split(b",")]


class _Body(httpx.AsyncByteStream):
    """The raw body of one response; closing it returns the connection to the pool when that is safe."""

    def __init__(self, pool: "AsyncNetworkTransport", reader: _Reader, length: int | None, chunked: bool,
                 reusable: bool, release: Any) -> None:
        self.pool, self.reader, self.length, self.chunked = pool, reader, length, chunked
        self.reusable, self.release = reusable, release
        self.complete = False
        self.closed = False

    async def __aiter__(self) -> AsyncIterator[bytes]:
        failure: _Failure | None = None
        iterator = self._chunks() if self.chunked else self._plain()
        while True:
            try:
                chunk = await iterator.__anext__()
            except StopAsyncIteration:
                break
            except _Failure as exc:
                failure = exc.with_traceback(None)
                break
            yield chunk
        if failure is not None:
            await self.aclose()
            raise failure.cls(str(failure))
        self.complete = True

    async def _plain(self) -> AsyncIterator[bytes]:
        left = self.length
        while left is None or left > 0:
            data = await self.reader.some(_RECV if left is None else min(left, _RECV))
            if not data:
                if left is None:
                    return  # delimited by the end of the connection
                raise _Failure(httpx.RemoteProtocolError, "the server closed the connection mid-body")
            if left is not None:
                left -= len(data)
            yield data

    async def _chunks(self) -> AsyncIterator[bytes]:
        reader = self.reader
        while True:
            line = (await reader.until(b"\r\n", _MAX_LINE)).split(b";", 1)[0].strip()
            if not line or len(line) > 16 or not _HEX.issuperset(line):
                raise _Failure(httpx.RemoteProtocolError, "the response has a malformed chunk size")
            size = int(line, 16)
            if size == 0:
                while await reader.until(b"\r\n", _MAX_LINE):  # trailers, up to the empty line
                    pass
                return
            while size > 0:
                data = await reader.some(min(size, _RECV))
                if not data:
                    raise _Failure(httpx.RemoteProtocolError, "the server closed the connection mid-body")
                size -= len(data)
                yield data
            if await reader.until(b"\r\n", 2):
                raise _Failure(httpx.RemoteProtocolError, "the response has a malformed chunk")

    async def aclose(self) -> None:
        if self.closed:
            return
        self.closed = True
        conn = self.reader.conn
        if self.complete and self.reusable and not self.reader.buffer:
            self.pool._put(conn)
        else:
            conn.close()
        self.release()


class AsyncNetworkTransport(httpx.AsyncBaseTransport):
    """HTTP/1.1 over TCP (and TLS) with a keep-alive pool usable from any event loop; no retries."""

    def __init__(self, *, verify: bool = True, max_connections: int = 50, max_keepalive: int = 20,
                 keepalive_expiry: float = 5.0) -> None:
        self._verify = verify
        self._context: ssl.SSLContext | None = None
        self._max_connections = max_connections
        self._max_keepalive = max_keepalive
        self._expiry = keepalive_expiry
        self._lock = threading.Lock()
        self._idle: dict[tuple[str, str, int], list[_Conn]] = {}
        # A connection limit per event loop: an asyncio semaphore belongs to one loop.  Closed
        # loops are dropped whenever a new loop comes (not a weak mapping: not every loop
        # implementation can be weakly referenced).
        self._gates: dict[asyncio.AbstractEventLoop, asyncio.Semaphore] = {}
        self._pid = os.getpid()
        self._closed = False

    # -- the pool ---------------------------------------------------------------------------------

    def _check_fork(self) -> None:
        if self._pid != os.getpid():  # a forked child: the parent's sockets are not ours to use
            with self._lock:
                if self._pid != os.getpid():
                    inherited, self._idle = self._idle, {}
                    self._gates = {}
                    self._pid = os.getpid()
                    for conns in inherited.values():
                        for conn in conns:
                            conn.close()  # the child's copy of the descriptor; the parent's stays open

    def _take(self, origin: tuple[str, str, int]) -> _Conn | None:
        now = time.monotonic()
        stale: list[_Conn] = []
        found = None
        with self._lock:
            conns = self._idle.get(origin)
            while conns:
                conn = conns.pop()
                if now - conn.idle_since < self._expiry and conn.alive():
                    found = conn
                    break
                stale.append(conn)
        for conn in stale:
            conn.close()
        return found

    def _put(self, conn: _Conn) -> None:
        if self._pid != os.getpid():
            conn.close()
            return
        conn.idle_since = time.monotonic()
        with self._lock:
            if not self._closed:
                conns = self._idle.setdefault(conn.origin, [])
                if len(conns) < self._max_keepalive:
                    conns.append(conn)
                    return
        conn.close()

    def _gate(self, loop: asyncio.AbstractEventLoop) -> asyncio.Semaphore:
        gate = self._gates.get(loop)
        if gate is None:
            with self._lock:
                gate = self._gates.get(loop)
                if gate is None:
                    self._gates = {other: g for other, g in self._gates.items() if not other.is_closed()}
                    gate = self._gates[loop] = asyncio.Semaphore(self._max_connections)
        return gate

    def _ssl_context(self) -> ssl.SSLContext:
        if self._context is None:
            self._context = httpx.create_ssl_context(verify=self._verify)
        return self._context

    async def _connect(self, loop: asyncio.AbstractEventLoop, scheme: str, host: str, port: int,
                       timeout: float | None) -> _Conn:
        addresses: list[tuple[int, Any]]
        try:
            ipaddress.ip_address(host)
            addresses = [(socket.AF_INET6 if ":" in host else socket.AF_INET, (host, port))]
        except ValueError:
            try:
                infos = await loop.getaddrinfo(host, port, type=socket.SOCK_STREAM)
            except OSError as exc:
                raise _Failure(httpx.ConnectError, _os_text(exc)) from None
            addresses = [(family, address) for family, _, _, _, address in infos]
        last: _Failure | None = None
        for family, address in addresses:
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.setblocking(False)
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                if timeout is None:
                    await loop.sock_connect(sock, address)
                else:
                    async with asyncio.timeout(timeout):
                        await loop.sock_connect(sock, address)
            except TimeoutError:
                sock.close()
                last = _timed_out(httpx.ConnectTimeout, "connecting")
                continue
            except OSError as exc:
                sock.close()
                last = _Failure(httpx.ConnectError, _os_text(exc))
                continue
            except BaseException:
                sock.close()
                raise
            conn = _Conn(sock, (scheme, host, port))
            if scheme == "https":
                try:
                    await conn.start_tls(loop, self._ssl_context(), host, timeout)
                except BaseException:
                    conn.close()
                    raise
            return conn
        assert last is not None
        raise last

    # -- one exchange -----------------------------------------------------------------------------

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        failure: _Failure | None = None
        try:
            return await self._exchange(request)
        except _Failure as exc:
            failure = exc.with_traceback(None)
        # Raised here, outside the except block: no chained frames, and this frame holds no headers.
        raise failure.cls(str(failure), request=request)

    async def _exchange(self, request: httpx.Request) -> httpx.Response:
        if self._closed:
            raise _Failure(httpx.ConnectError, "the transport is closed")
        self._check_fork()
        loop = asyncio.get_running_loop()
        timeouts = request.extensions.get("timeout", {})
        url = request.url
        scheme = url.scheme
        origin = (scheme, url.host, url.port or (443 if scheme == "https" else 80))
        gate = self._gate(loop)
        try:
            if not gate.locked() or timeouts.get("pool") is None:
                await gate.acquire()  # immediate when a connection is free
            else:
                async with asyncio.timeout(timeouts["pool"]):
                    await gate.acquire()
        except TimeoutError:
            raise _timed_out(httpx.PoolTimeout, "waiting for a free connection") from None
        conn: _Conn | None = None
        try:
            conn = self._take(origin)
            if conn is None:
                conn = await self._connect(loop, scheme, origin[1], origin[2], timeouts.get("connect"))
            await conn.send(loop, _request_head(request) + await request.aread(), timeouts.get("write"))
            reader = _Reader(conn, loop, timeouts.get("read"))
            for _ in range(10):  # interim 1xx answers come before the real one
                version, status, reason, headers = _head(await reader.until(b"\r\n\r\n", _MAX_HEAD))
                if not 100 <= status < 200:
                    break
            else:
                raise _Failure(httpx.RemoteProtocolError, "too many interim responses")
            body = self._body(request, reader, version, status, headers, gate.release)
        except BaseException:
            if conn is not None:
                conn.close()
            gate.release()
            raise
        return httpx.Response(status, headers=headers, stream=body,
                              extensions={"http_version": version, "reason_phrase": reason})

    def _body(self, request: httpx.Request, reader: _Reader, version: bytes, status: int,
              headers: list[tuple[bytes, bytes]], release: Any) -> _Body:
        connection = _tokens(headers, b"connection")
        reusable = b"close" not in connection and (version == b"HTTP/1.1" or b"keep-alive" in connection)
        length: int | None = None
        chunked = False
        if request.method == "HEAD" or status in (204, 304):
            length = 0
        elif _tokens(headers, b"transfer-encoding"):
            if _tokens(headers, b"transfer-encoding")[-1] != b"chunked":
                raise _Failure(httpx.RemoteProtocolError, "unsupported transfer encoding")
            chunked = True
        else:
            lengths = {v.strip() for n, v in headers if n.lower() == b"content-length"}
            if len(lengths) > 1 or any(not v.isdigit() for v in lengths):
                raise _Failure(httpx.RemoteProtocolError, "the response has an invalid Content-Length")
            if lengths:
                length = int(lengths.pop())
            else:
                reusable = False  # the body ends when the server closes the connection
        return _Body(self, reader, length, chunked, reusable, release)

    async def aclose(self) -> None:
        self.close()

    def close(self) -> None:
        """Close the idle connections (no event loop needed: idle sockets belong to none)."""
        with self._lock:
            self._closed = True
            idle, self._idle = self._idle, {}
        for conns in idle.values():
            for conn in conns:
                conn.close()


def _request_head(request: httpx.Request) -> bytes:
    lines = [request.method.encode("ascii") + b" " + request.url.raw_path + b" HTTP/1.1"]
    lines += [name + b": " + value for name, value in request.headers.raw]
    head = b"\r\n".join(lines)
    # Header values reach the wire as given: a CR or LF would split the request.  The connection
    # refuses keys with them; this guards every other header too, without echoing any of them.
    if head.count(b"\n") != len(lines) - 1 or head.count(b"\r") != len(lines) - 1:
        raise _Failure(httpx.LocalProtocolError, "a request header contains a line break")
    return head + b"\r\n\r\n"
