"""The one place requests are sent: pooling, retries, rate limits, deadlines, error mapping.

Every adapter (Python API, CLI, Airflow, Prefect, chat, MCP) goes through
``Transport.send``/``asend``, so retry and error behaviour is the same
everywhere.  The retry decision itself (``_Attempts``) is written once and
shared by the sync and async paths; only the waiting differs.

Rules:
* 2xx: the JSON object; 204 or an empty body is ``{}``.  A body that is not
  strict JSON (a proxy's HTML page, ``NaN``), nests deeper than ``MAX_DEPTH``,
  or is JSON but not an object is an ``UnexpectedResponseError`` saying which.
  Unknown fields are kept: reading is tolerant, parsing is not.
* Bodies are read as a stream, gzip/deflate decoded in bounded steps, and
  refused past ``Connection.max_response_bytes`` decoded bytes.
* Before each attempt: the shared rate-limit budget (``ratelimit.py``) may
  ask to wait, paced from the ``X-RateLimit-*`` headers of every earlier
  answer in the process.  A wait longer than ``max_rate_limit_wait`` is not
  waited: a ``RateLimitedError`` with ``retry_after`` is raised, nothing sent.
* 429: wait what ``X-RateLimit-Reset`` (seconds until the window resets) or
  ``Retry-After`` asks, then retry, for any request: a rate-limited request
  was not processed (it goes first in the new window; the calls the budget
  held back follow it with a jitter).  A 429 with the budget headers
  (``-Remaining`` and ``-Reset``) does not use up ``max_attempts`` while a
  deadline bounds the waits; a bare ``Retry-After`` counts.  A wait longer than
  ``max_rate_limit_wait`` is not waited; the ``RateLimitedError`` carries
  ``retry_after`` instead.  A value that is not a finite number counts as
  missing (the backoff applies).
* 5xx, read timeouts, dropped connections: retried only for idempotent
  requests, since a POST may have been applied already.
* Connect errors and pool timeouts: retried for every request, because the
  request surely never left.
* ``deadline`` bounds the whole call, waits and bodies included.
* Nothing below retries on its own: requests on the wire never exceed the policy.

Errors are the package's own, raised without the library exception chained
(its frames hold the request headers), and every text that comes from a
library or a server passes through ``Connection.scrub``.  Logging (logger
``datadog_case_actions``) carries method, path, status, attempt and timing,
never headers.
"""

from __future__ import annotations

import builtins
import json
import logging
import math
import os
import random
import threading
import time
import zlib
from typing import Any, Callable, Mapping, NamedTuple, TypeVar

import httpx

from .. import __version__
from . import ratelimit
from .connection import SANDBOX_SITE, Connection
from .errors import (
    ActionError,
    ApiError,
    RateLimitedError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
    error_for_status,
)
from .request import PreparedRequest

__all__ = ["Transport", "Response", "user_agent"]

log = logging.getLogger("datadog_case_actions")

# Failures where the request surely never reached the server: safe to retry anything.
# (The async network transport raises ConnectError only before a byte of the request is written.)
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)
ApiErrorT = TypeVar("ApiErrorT", bound=ApiError)
#: What the client accepts: the encodings ``_Body`` decodes with a bounded output.
ACCEPT_ENCODING = "gzip, deflate"


def user_agent() -> str:
    return f"datadog-case-actions/{__version__} httpx/{httpx.__version__}"


class Response(NamedTuple):
    """A successful answer: status, headers (case-insensitive mapping), the JSON document, and how it went."""

    status: int
    headers: Mapping[str, str]
    data: Any
    attempts: int
    elapsed: float


def _header_seconds(headers: httpx.Headers, now: float) -> float | None:
    """The wait a 429 asks for: ``X-RateLimit-Reset`` (seconds), else ``Retry-After`` (seconds or a date).

    A value that is not a finite number (``nan``, ``inf``) counts as missing.
    """
    for name in ("x-ratelimit-reset", "retry-after"):
        raw = headers.get(name)
        if raw is None:
            continue
        raw = raw.strip()
        try:
            seconds = float(raw)
        except ValueError:
            pass
        else:
            if math.isfinite(seconds):
                return max(seconds, 0.0)
            continue
        import email.utils  # HTTP dates are rare; the import costs a cold start ~6 ms

        try:
            moment = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError, OverflowError):
            continue
        if moment is not None:
            return max(moment.timestamp() - now, 0.0)
    return None


def _plain(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _refuse_constant(name: str) -> Any:
    raise ValueError(f"{name} is not a JSON value")


# Strict JSON: NaN, Infinity and -Infinity are Python extensions, not JSON.
_STRICT = json.JSONDecoder(parse_constant=_refuse_constant)
#: Deeper documents are refused: no API answer nests this far, and every consumer stays clear of recursion limits.
MAX_DEPTH = 128


def _too_deep(document: Any, content: bytes) -> bool:
    """Whether *document* nests deeper than ``MAX_DEPTH`` (walked only when it has that many containers)."""
    if content.count(b"[") + content.count(b"{") <= MAX_DEPTH:
        return False
    stack = [(document, 1)]
    while stack:
        node, depth = stack.pop()
        if depth > MAX_DEPTH:
            return True
        children = node.values() if isinstance(node, dict) else node
        stack.extend((child, depth + 1) for child in children if isinstance(child, (dict, list)))
    return False


_NOT_A_DOCUMENT = object()


def _parse(content: bytes) -> Any:
    """The body as strict JSON (UTF-8, as RFC 8259 requires); ``_NOT_A_DOCUMENT`` with a reason when it is
    not JSON or nests too deep."""
    try:
        document = _STRICT.decode(content.decode("utf-8"))
    except ValueError:
        return _NOT_A_DOCUMENT, "not JSON"
    except RecursionError:
        return _NOT_A_DOCUMENT, f"JSON nested deeper than {MAX_DEPTH} levels"
    if isinstance(document, (dict, list)) and _too_deep(document, content):
        return _NOT_A_DOCUMENT, f"JSON nested deeper than {MAX_DEPTH} levels"
    return document, None


def _text(response: httpx.Response, content: bytes) -> str:
    """The body as text, in its declared charset when Python knows it."""
    try:
        return content.decode(response.charset_encoding or "utf-8", errors="replace")
    except LookupError:
        return content.decode("utf-8", errors="replace")


_KINDS = {str: "a JSON string", list: "a JSON array", bool: "a JSON boolean", int: "a JSON number",
          float: "a JSON number", type(None): "JSON null"}


class _BodyTooLarge(Exception):
    pass


class _Body:
    """Collects one response body, decoding gzip/deflate as it comes and counting the decoded bytes.

    Decompression is bounded per step (``max_length``), so a small compressed body
    that inflates past the cap fails without ever holding more than the cap.
    """

    __slots__ = ("chunks", "room", "decoder")

    def __init__(self, encoding: str | None, cap: int) -> None:
        self.chunks: list[bytes] = []
        self.room = cap
        self.decoder: Any = None
        if encoding is None:
            return
        coding = encoding.strip().lower()
        if coding in ("gzip", "x-gzip"):
            self.decoder = zlib.decompressobj(16 + zlib.MAX_WBITS)
        elif coding == "deflate":
            self.decoder = _Deflate()
        elif coding != "identity":
            raise _BodyTooLarge(f"an unsupported content encoding ({coding[:40]!r})")

    def _keep(self, data: bytes) -> None:
        self.room -= len(data)
        if self.room < 0:
            raise _BodyTooLarge("a body larger than max_response_bytes")
        self.chunks.append(data)

    def feed(self, raw: bytes) -> None:
        if self.decoder is None:
            self._keep(raw)
            return
        try:
            while raw:
                self._keep(self.decoder.decompress(raw, self.room + 1))
                raw = self.decoder.unconsumed_tail
        except zlib.error:
            raise _BodyTooLarge("a compressed body that does not decompress") from None

    def content(self) -> bytes:
        if self.decoder is not None:
            try:
                self._keep(self.decoder.flush())
            except zlib.error:
                raise _BodyTooLarge("a compressed body that does not decompress") from None
        return self.chunks[0] if len(self.chunks) == 1 else b"".join(self.chunks)


class _Deflate:
    """``deflate`` as servers send it: zlib-wrapped per the RFC, or raw deflate."""

    def __init__(self) -> None:
        self.inner: Any = None

    @property
    def unconsumed_tail(self) -> bytes:
        return self.inner.unconsumed_tail if self.inner is not None else b""

    def decompress(self, data: bytes, most: int) -> bytes:
        if self.inner is None:
            self.inner = zlib.decompressobj(zlib.MAX_WBITS)
            try:
                return bytes(self.inner.decompress(data, most))
            except zlib.error:
                self.inner = zlib.decompressobj(-zlib.MAX_WBITS)
        return bytes(self.inner.decompress(data, most))

    def flush(self) -> bytes:
        return bytes(self.inner.flush()) if self.inner is not None else b""


class _Failure(NamedTuple):
    """A transport failure as plain data: the library exception itself (and its frames) is not kept."""

    kind: str
    detail: str
    not_sent: bool
    timed_out: bool


def _failure(exc: httpx.HTTPError) -> _Failure:
    kind = type(exc).__name__
    return _Failure(kind, str(exc) or kind, isinstance(exc, _NOT_SENT), isinstance(exc, httpx.TimeoutException))


class _Attempts:
    """The retry state machine of one call: decides, after each outcome, to return, raise or wait."""

    def __init__(self, transport: "Transport", request: PreparedRequest) -> None:
        self.transport = transport
        self.request = request
        self.policy = transport.connection.retry
        self.clock = transport.clock
        self.started = self.clock()
        self.attempt = 0
        self.scope = transport.rate_scope
        self.reserved: str | None = None  # the budget the attempt in flight counts against
        self.pending = False  # an attempt is in flight: its reservation is to be handed back

    def pace(self) -> float:
        """0.0 when the next attempt may go (its budget reserved), else the seconds to wait first.

        Raises when that wait is longer than ``max_rate_limit_wait`` (``RateLimitedError``
        with ``retry_after``) or than what is left of the deadline: nothing is sent.
        """
        wait, self.reserved, spent = self.scope.reserve(self.request.action_id, self.clock(), self.transport.random)
        if wait <= 0:
            self.pending = True
            return 0.0
        if wait > self.policy.max_rate_limit_wait:
            raise RateLimitedError(
                f"the rate limit is spent for {wait:.0f}s more, longer than max_rate_limit_wait "
                f"({self.policy.max_rate_limit_wait:g}s); not sent", action_id=self.request.action_id,
                retry_after=math.ceil(wait))
        left = self.remaining()
        if left is not None and wait >= left:
            error = self._deadline_error(None)
            error.message += f" waiting {wait:.1f}s for the rate limit"
            error.sent = None if self.attempt else False
            raise error
        if spent:
            log.info("%s %s: rate limit spent; waiting %.2fs for its reset", self.request.method, self.request.path,
                     wait)
        return wait

    def answered(self, headers: httpx.Headers) -> None:
        """Fold an answer's rate-limit headers into the shared budget."""
        if self.pending:
            self.pending = False
            self.scope.observe(self.request.action_id, self.reserved, headers, self.clock())

    def unanswered(self) -> None:
        """Hand back the reservation of an attempt that got no answer."""
        if self.pending:
            self.pending = False
            self.scope.release(self.request.action_id, self.reserved)

    def remaining(self) -> float | None:
        if self.policy.deadline is None:
            return None
        return self.policy.deadline - (self.clock() - self.started)

    def timeout(self) -> httpx.Timeout:
        """This attempt's timeout: the connection's, cut short by the deadline."""
        seconds = self.transport.connection.timeout
        left = self.remaining()
        if left is None or left >= seconds:
            return self.transport.default_timeout
        if left <= 0:
            raise self._deadline_error(None)
        return httpx.Timeout(left)

    def check_deadline(self) -> None:
        """Raise when the deadline has run out (between the chunks of a body)."""
        left = self.remaining()
        if left is not None and left <= 0:
            raise self._deadline_error(None)

    def _deadline_error(self, last: ActionError | None) -> TimeoutError:
        detail = f"; last error: {last.message}" if last is not None else ""
        error = TimeoutError(
            f"gave up after {self.attempt} attempt(s): the {self.policy.deadline:g}s deadline ran out{detail}",
            action_id=self.request.action_id,
            # a 429 was refused, not applied: a create that only ever met 429s is safe to run again
            sent=None if last is None else False if isinstance(last, RateLimitedError) else getattr(last, "sent", True),
        )
        return error

    def deadline_ran_out(self) -> TimeoutError:
        """The error for an attempt the deadline cut short (its request may have been applied)."""
        return self._deadline_error(None)

    def _backoff(self) -> float:
        base = self.policy.backoff_base * (2 ** max(self.attempt - 1, 0))
        # "Equal jitter": half fixed, half random, so synchronized clients spread out.
        return float(min(self.policy.backoff_max, base / 2 + self.transport.random() * base / 2))

    def _wait_or_raise(self, error: ActionError, wait: float, counted: bool = True) -> float:
        """*wait* seconds before the next attempt, or raise *error* if no attempt is left
        (an attempt that is not *counted* is bounded by the deadline alone)."""
        if counted and self.attempt >= self.policy.attempts:
            if self.attempt > 1:
                error.message += f" (after {self.attempt} attempts)"
            raise error
        left = self.remaining()
        if left is not None and wait >= left:
            raise self._deadline_error(error) from error
        log.warning("%s %s: %s; retrying in %.2fs (attempt %d%s)", self.request.method, self.request.path,
                    error.message, wait, self.attempt + 1, f" of {self.policy.attempts}" if counted else "")
        return wait

    def read(self, response: httpx.Response) -> bytes:
        """The whole body of a streamed response, decoded and capped, within the deadline."""
        body = self._body(response)
        if response.is_stream_consumed:  # an in-process transport (mock, sandbox) answered in full
            body.feed(response.content)
            return body.content()
        # The transport's own stream, not iter_raw(): same bytes without httpx's re-chunking layer.
        for raw in response.stream:  # type: ignore[union-attr]
            body.feed(raw)
            self.check_deadline()
        return body.content()

    async def aread(self, response: httpx.Response) -> bytes:
        """The async twin of ``read`` (the deadline is enforced around the whole attempt)."""
        body = self._body(response)
        if response.is_stream_consumed:
            body.feed(response.content)
            return body.content()
        async for raw in response.stream:  # type: ignore[union-attr]
            body.feed(raw)
        return body.content()

    def _body(self, response: httpx.Response) -> _Body:
        encoding = None if response.is_stream_consumed else response.headers.get("content-encoding")
        return _Body(encoding, self.transport.connection.max_response_bytes)

    def _unexpected(self, response: httpx.Response, what: str, text: str | None = None) -> UnexpectedResponseError:
        status = response.status_code
        shown = f": {text[:200]!r}" if text else ""
        return self._scrubbed(UnexpectedResponseError(
            f"HTTP {status} with {what} ({response.headers.get('content-type', 'no content type')}){shown}",
            action_id=self.request.action_id, status=status, body=None if text is None else text[:2000],
            headers=_plain(response.headers)))

    def on_body_error(self, response: httpx.Response, what: str) -> UnexpectedResponseError:
        """The error for a body that could not be read whole (too large, undecodable)."""
        return self._unexpected(response, what)

    def on_response(self, response: httpx.Response, content: bytes) -> Response | float:
        """A ``Response`` to return, or the seconds to wait before retrying; raises for a final error."""
        elapsed = self.clock() - self.started
        status = response.status_code
        log.debug("%s %s -> %d (attempt %d, %.3fs)", self.request.method, self.request.path, status,
                  self.attempt, elapsed)
        body: Any = _NOT_A_DOCUMENT  # no body at all (204, or empty): {} for a success
        if content and not content.isspace():
            body, problem = _parse(content)
            if body is _NOT_A_DOCUMENT:
                text = _text(response, content)
                if 200 <= status < 300 or problem != "not JSON":
                    raise self._unexpected(response, f"a body that is {problem}", text)
                body = text  # error bodies come in every shape: keep the text
        if 200 <= status < 300:
            if body is _NOT_A_DOCUMENT:
                body = {}
            elif not isinstance(body, dict):
                raise self._unexpected(response, f"a body that is {_KINDS.get(type(body), 'JSON')}, not an object",
                                       content.decode("utf-8", errors="replace"))
            return Response(status, response.headers, body, self.attempt, elapsed)
        if body is _NOT_A_DOCUMENT:
            body = None
        retry_after = _header_seconds(response.headers, time.time()) if status == 429 else None
        error = self._scrubbed(error_for_status(status, body, action_id=self.request.action_id,
                                                headers=_plain(response.headers), retry_after=retry_after))
        if status == 429:
            if retry_after is not None and retry_after > self.policy.max_rate_limit_wait:
                error.message += f" (the API asks to wait {retry_after:g}s, more than max_rate_limit_wait)"
                raise error
            if not self.policy.retry:
                raise error
            if retry_after is None:
                return self._wait_or_raise(error, self._backoff())
            # A 429 was not processed, so waiting it out is always safe.  One that comes with the
            # window's budget headers says when room opens for the whole organisation: with a
            # deadline to bound them, such waits are pacing, not failures, and leave max_attempts
            # to the errors that are.  A bare Retry-After (a proxy's) counts as an attempt.
            budgeted = self.policy.deadline is not None and ratelimit.parse(response.headers) is not None
            return self._wait_or_raise(error, retry_after, counted=not budgeted)
        if error.retryable and self.request.idempotent:
            return self._wait_or_raise(error, self._backoff())
        raise error

    def on_failure(self, failure: _Failure) -> float:
        """Seconds to wait before retrying after a transport failure; raises when it is final."""
        cls = TimeoutError if failure.timed_out else TransportError
        message = self.transport.connection.scrub(f"{failure.kind}: {failure.detail}")
        error = cls(message, action_id=self.request.action_id, sent=False if failure.not_sent else None)
        log.debug("%s %s -> %s (attempt %d)", self.request.method, self.request.path, failure.kind, self.attempt)
        if failure.not_sent or self.request.idempotent:
            return self._wait_or_raise(error, self._backoff())
        error.message += " (not retried: the request may have been applied)"
        raise error

    def _scrubbed(self, error: ApiErrorT) -> ApiErrorT:
        """*error* with every credential of the connection taken out of its texts (a server may echo them)."""
        scrub = self.transport.connection.scrub
        error.message = scrub(error.message)
        error.messages = [scrub(m) for m in error.messages]
        error.body = _scrub_deep(error.body, scrub)
        error.headers = {k: scrub(v) for k, v in error.headers.items()}
        return error


def _scrub_deep(value: Any, scrub: Callable[[str], str]) -> Any:
    if isinstance(value, str):
        return scrub(value)
    if isinstance(value, dict):
        return {scrub(str(k)): _scrub_deep(v, scrub) for k, v in value.items()}
    if isinstance(value, list):
        return [_scrub_deep(v, scrub) for v in value]
    return value


def _async_network_transport(limits: httpx.Limits, verify: bool) -> tuple[httpx.AsyncBaseTransport | None, bool]:
    """The async network transport, and whether it is bound to one event loop.

    ``aionet.AsyncNetworkTransport`` (see its docstring for why), unless proxies
    are configured in the environment: then None, so that httpx builds its own
    transports, which honour them (the client gets no keep-alive then, so that
    no connection outlives the event loop it was opened on).
    """
    import urllib.request

    proxies = urllib.request.getproxies()  # NO_PROXY alone (common in CI) is no reason to leave
    if any(scheme in proxies for scheme in ("http", "https", "all")):
        return None, True
    from .aionet import AsyncNetworkTransport

    return AsyncNetworkTransport(verify=verify, max_connections=limits.max_connections or 50,
                                 max_keepalive=limits.max_keepalive_connections or 20), False


class Transport:
    """A pooled httpx client pair (sync and async) for one connection, with retries.

    *httpx_transport* / *async_httpx_transport* replace the network (a
    ``MockTransport``, the sandbox); *clock*, *sleep*, *async_sleep* and
    *random* make the retry timing testable.
    """

    def __init__(
        self,
        connection: Connection,
        *,
        httpx_transport: httpx.BaseTransport | None = None,
        async_httpx_transport: httpx.AsyncBaseTransport | None = None,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
        async_sleep: Callable[[float], Any] | None = None,
        random: Callable[[], float] = random.random,
        limits: httpx.Limits | None = None,
    ) -> None:
        self.connection = connection
        self.clock = clock
        self.sleep = sleep
        self.async_sleep = async_sleep
        self.random = random
        self._httpx_transport = httpx_transport
        self._async_httpx_transport = async_httpx_transport
        self._limits = limits or httpx.Limits(max_connections=50, max_keepalive_connections=20)
        self._lock = threading.Lock()
        self._client: httpx.Client | None = None
        self._aclient: httpx.AsyncClient | None = None
        self._pid = os.getpid()
        # Set only when the async pool is bound to one event loop (httpx's own, used behind proxies).
        self._loop: Any = None
        self._loop_bound = False
        self._network: Any = None  # the async network transport, when this Transport made one
        self._sandbox: Any = None
        self.default_timeout = httpx.Timeout(connection.timeout)
        # The shared budget of the organisation's API; an injected network or the embedded sandbox
        # is a world of its own and gets a scope no other transport sees.
        private = httpx_transport is not None or async_httpx_transport is not None or connection.is_sandbox
        self.rate_scope = (ratelimit.Scope() if private
                           else ratelimit.scope_for(connection.url, connection.auth_headers(), clock))

    def __repr__(self) -> str:
        return f"Transport({self.connection!r})"

    @property
    def _verify(self) -> bool:
        # TLS settings only matter for https; building the default SSL context (loading the
        # CA bundle) costs ~35 ms, which a plain-http sandbox or proxy URL need not pay.
        # Requests only ever go to paths under the base URL, never to another scheme.
        return not self.connection.url.startswith("http://")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "Accept-Encoding": ACCEPT_ENCODING,
                   "User-Agent": self.connection.user_agent or user_agent()}
        headers.update(self.connection.auth_headers())
        return headers

    def _site_transports(self) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
        # Only when the connection names the sandbox: never a silent fallback.  The backend comes
        # through a seam (runtime/backends.py), so the runtime never imports the sandbox.
        from .backends import SiteBackend, open_backend

        backend: SiteBackend | None = self._sandbox
        if backend is None:
            backend = self._sandbox = open_backend(SANDBOX_SITE, self.connection)
        return backend.transports()

    def _forked(self) -> bool:
        """True in a forked child: the parent's pools are left alone (never closed from here), start afresh."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            # Not closed: their sockets belong to the parent.  The async network transport
            # keeps idle sockets out of every event loop, so nothing of the parent's is touched
            # when these objects are collected.
            self._client = None
            self._aclient = None
            self._loop = None
            network, self._network = self._network, None
            if network is not None:
                network.close()  # the child's copies of the idle sockets only: no FIN, no event loop
            return True
        return False

    @property
    def client(self) -> httpx.Client:
        client = self._client
        if client is not None and self._pid == os.getpid():
            return client  # the common case, without the lock
        with self._lock:
            self._forked()
            if self._client is None:
                transport = self._httpx_transport
                if transport is None and self.connection.is_sandbox:
                    transport = self._site_transports()[0]
                self._client = httpx.Client(base_url=self.connection.url, headers=self._headers(),
                                            timeout=self.connection.timeout, transport=transport,
                                            limits=self._limits, verify=self._verify)
            return self._client

    @property
    def async_client(self) -> httpx.AsyncClient:
        aclient = self._aclient
        if aclient is not None and self._pid == os.getpid() and not self._loop_bound:
            return aclient  # the common case, without the lock: one pool for every event loop
        import asyncio

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        if aclient is not None and loop is self._loop and self._pid == os.getpid():
            return aclient
        with self._lock:
            self._forked()
            if self._aclient is not None and self._loop_bound and loop is not self._loop:
                # httpx's own pool belongs to one event loop; it keeps no idle connection
                # (see _async_network_transport), so dropping it leaks nothing.
                self._aclient = None
            if self._aclient is None:
                transport = self._async_httpx_transport
                if transport is None and self.connection.is_sandbox:
                    transport = self._site_transports()[1]
                bound = False
                if transport is None:
                    transport, bound = _async_network_transport(self._limits, self._verify)
                    self._network = None if bound else transport
                # Behind a proxy (httpx's own pools, one per event loop) no connection is kept
                # alive, so a pool left behind with its loop holds nothing open.
                limits = httpx.Limits(max_connections=self._limits.max_connections,
                                      max_keepalive_connections=0) if bound else self._limits
                self._aclient = httpx.AsyncClient(base_url=self.connection.url, headers=self._headers(),
                                                  timeout=self.connection.timeout, transport=transport,
                                                  limits=limits, verify=self._verify)
                self._loop_bound = bound
                self._loop = loop if bound else None
            return self._aclient

    @staticmethod
    def _build(client: httpx.Client | httpx.AsyncClient, request: PreparedRequest, timeout: httpx.Timeout) -> httpx.Request:
        content = None
        headers = {}
        if request.body is not None:
            content = json.dumps(request.body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode("utf-8")
            headers["Content-Type"] = "application/json"
        return client.build_request(request.method, request.path, params=request.params or None,
                                    content=content, headers=headers, timeout=timeout)

    # Both loops below keep library exceptions out of what they raise: a failure is turned into
    # plain data inside the ``except`` block and the package's own error is raised after it, so
    # no httpx/httpcore frame (whose locals hold the request headers) is chained to it.

    def send(self, request: PreparedRequest) -> Response:
        """Send *request*, retrying per the connection's policy; the ``Response`` or an ``ActionError``."""
        attempts = _Attempts(self, request)
        client = self.client
        while True:
            while (wait := attempts.pace()) > 0:
                self.sleep(wait)
            attempts.attempt += 1
            failure: _Failure | None = None
            refused: str | None = None
            try:
                built = self._build(client, request, attempts.timeout())
                response = client.send(built, stream=True)
                attempts.answered(response.headers)
                try:
                    content = attempts.read(response)
                except _BodyTooLarge as exc:
                    refused = str(exc)
                finally:
                    response.close()
            except httpx.HTTPError as exc:
                failure = _failure(exc)
            finally:
                attempts.unanswered()
            if failure is not None:
                self.sleep(attempts.on_failure(failure))
                continue
            if refused is not None:
                raise attempts.on_body_error(response, refused)
            outcome = attempts.on_response(response, content)
            if isinstance(outcome, Response):
                return outcome
            self.sleep(outcome)

    async def asend(self, request: PreparedRequest) -> Response:
        """The async twin of ``send``; waits never block the event loop, the deadline cuts any attempt short."""
        import asyncio

        attempts = _Attempts(self, request)
        client = self.async_client
        while True:
            while (wait := attempts.pace()) > 0:
                await self._async_sleep(wait)
            attempts.attempt += 1
            failure: _Failure | None = None
            refused: str | None = None
            cut_short = False
            try:
                built = self._build(client, request, attempts.timeout())
                async with asyncio.timeout(attempts.remaining()):
                    response = await client.send(built, stream=True)
                    attempts.answered(response.headers)
                    try:
                        content = await attempts.aread(response)
                    except _BodyTooLarge as exc:
                        refused = str(exc)
                    finally:
                        await response.aclose()
            except httpx.HTTPError as exc:
                failure = _failure(exc)
            except builtins.TimeoutError:
                cut_short = True
            finally:
                attempts.unanswered()
            if cut_short:
                raise attempts.deadline_ran_out()
            if failure is not None:
                await self._async_sleep(attempts.on_failure(failure))
                continue
            if refused is not None:
                raise attempts.on_body_error(response, refused)
            outcome = attempts.on_response(response, content)
            if isinstance(outcome, Response):
                return outcome
            await self._async_sleep(outcome)

    async def _async_sleep(self, seconds: float) -> None:
        if self.async_sleep is not None:
            await self.async_sleep(seconds)
        else:
            import asyncio

            await asyncio.sleep(seconds)

    def _take_all(self) -> tuple[httpx.Client | None, httpx.AsyncClient | None, Any, Any]:
        with self._lock:
            client, self._client = self._client, None
            aclient, self._aclient = self._aclient, None
            sandbox, self._sandbox = self._sandbox, None
            network, self._network = self._network, None
            self._loop = None
        if self._pid != os.getpid():  # pools inherited through a fork are the parent's: leave them be
            self._pid = os.getpid()
            return None, None, None, None
        return client, aclient, sandbox, network

    def close(self) -> None:
        """Close both pools (an async pool bound to an event loop only if that loop is not running)."""
        client, aclient, sandbox, network = self._take_all()
        if client is not None:
            client.close()
        if network is not None:
            network.close()  # no event loop needed: its idle sockets belong to none
        elif aclient is not None:
            _close_async(aclient)
        if sandbox is not None:
            sandbox.close()

    async def aclose(self) -> None:
        client, aclient, sandbox, _ = self._take_all()
        if aclient is not None:
            await aclient.aclose()
        if client is not None:
            client.close()
        if sandbox is not None:
            sandbox.close()


def _close_async(aclient: httpx.AsyncClient) -> None:
    """Close an async client from sync code: run its ``aclose`` on a private loop when none is running."""
    import asyncio

    try:
        asyncio.get_running_loop()
    except RuntimeError:
        try:
            asyncio.run(aclient.aclose())
        except RuntimeError:  # its pool is bound to a closed loop: nothing left to release
            pass
        return
    # Inside a running loop (sync close() called from async code): schedule it.
    asyncio.get_running_loop().create_task(aclient.aclose())
