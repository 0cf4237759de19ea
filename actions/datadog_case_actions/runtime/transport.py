"""The one place requests are sent: pooling, retries, rate limits, deadlines, error mapping.

Every adapter (Python API, CLI, Airflow, Prefect, chat, MCP) goes through
``Transport.send``/``asend``, so retry and error behaviour is the same
everywhere.  The retry decision itself (``_Attempts``) is written once and
shared by the sync and async paths; only the waiting differs.

Rules:
* 2xx: the JSON document; 204 or an empty body is ``{}``; a non-JSON body is
  an ``UnexpectedResponseError`` (a proxy's HTML page is not a success).
* 429: wait what ``X-RateLimit-Reset`` (seconds until the window resets) or
  ``Retry-After`` asks, then retry, for any request: a rate-limited request
  was not processed.  A wait longer than ``max_rate_limit_wait`` is not
  waited; the ``RateLimitedError`` carries ``retry_after`` instead.
* 5xx, read timeouts, dropped connections: retried only for idempotent
  requests, since a POST may have been applied already.
* Connect errors and pool timeouts: retried for every request, because the
  request surely never left.
* ``deadline`` bounds the whole call, waits included.

Logging (logger ``datadog_case_actions``) carries method, path, status,
attempt and timing, never headers.
"""

from __future__ import annotations

import builtins
import json
import logging
import os
import random
import threading
import time
from typing import Any, Callable, Mapping, NamedTuple

import httpx

from .. import __version__
from .connection import SANDBOX_SITE, Connection
from .errors import (
    ActionError,
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
_NOT_SENT = (httpx.ConnectError, httpx.ConnectTimeout, httpx.PoolTimeout)


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
    """The wait a 429 asks for: ``X-RateLimit-Reset`` (seconds), else ``Retry-After`` (seconds or a date)."""
    for name in ("x-ratelimit-reset", "retry-after"):
        raw = headers.get(name)
        if raw is None:
            continue
        raw = raw.strip()
        try:
            return max(float(raw), 0.0)
        except ValueError:
            pass
        import email.utils  # HTTP dates are rare; the import costs a cold start ~6 ms

        try:
            moment = email.utils.parsedate_to_datetime(raw)
        except (TypeError, ValueError):
            continue
        if moment is not None:
            return max(moment.timestamp() - now, 0.0)
    return None


def _plain(headers: httpx.Headers) -> dict[str, str]:
    return {k.lower(): v for k, v in headers.items()}


def _decode(response: httpx.Response) -> Any:
    """The body as JSON when it is JSON, else as text (error bodies come in every shape)."""
    content = response.content
    if not content or content.isspace():
        return None
    try:
        return json.loads(content)
    except ValueError:
        return response.text


class _Attempts:
    """The retry state machine of one call: decides, after each outcome, to return, raise or wait."""

    def __init__(self, transport: "Transport", request: PreparedRequest) -> None:
        self.transport = transport
        self.request = request
        self.policy = transport.connection.retry
        self.clock = transport.clock
        self.started = self.clock()
        self.attempt = 0

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

    def _deadline_error(self, last: ActionError | None) -> TimeoutError:
        detail = f"; last error: {last.message}" if last is not None else ""
        error = TimeoutError(
            f"gave up after {self.attempt} attempt(s): the {self.policy.deadline:g}s deadline ran out{detail}",
            action_id=self.request.action_id,
            sent=None if last is None else getattr(last, "sent", True),
        )
        return error

    def _backoff(self) -> float:
        base = self.policy.backoff_base * (2 ** max(self.attempt - 1, 0))
        # "Equal jitter": half fixed, half random, so synchronized clients spread out.
        return float(min(self.policy.backoff_max, base / 2 + self.transport.random() * base / 2))

    def _wait_or_raise(self, error: ActionError, wait: float) -> float:
        """*wait* seconds before the next attempt, or raise *error* if no attempt is left."""
        if self.attempt >= self.policy.attempts:
            if self.attempt > 1:
                error.message += f" (after {self.attempt} attempts)"
            raise error
        left = self.remaining()
        if left is not None and wait >= left:
            raise self._deadline_error(error) from error
        log.warning("%s %s: %s; retrying in %.2fs (attempt %d of %d)", self.request.method, self.request.path,
                    error.message, wait, self.attempt + 1, self.policy.attempts)
        return wait

    def on_response(self, response: httpx.Response) -> Response | float:
        """A ``Response`` to return, or the seconds to wait before retrying; raises for a final error."""
        elapsed = self.clock() - self.started
        status = response.status_code
        log.debug("%s %s -> %d (attempt %d, %.3fs)", self.request.method, self.request.path, status,
                  self.attempt, elapsed)
        body = _decode(response)
        if 200 <= status < 300:
            if body is None:
                body = {}
            elif isinstance(body, str):
                raise UnexpectedResponseError(
                    f"HTTP {status} with a body that is not JSON "
                    f"({response.headers.get('content-type', 'no content type')}): {body[:200]!r}",
                    action_id=self.request.action_id, status=status, body=body[:2000],
                    headers=_plain(response.headers),
                )
            return Response(status, response.headers, body, self.attempt, elapsed)
        retry_after = _header_seconds(response.headers, time.time()) if status == 429 else None
        error = error_for_status(status, body, action_id=self.request.action_id, headers=_plain(response.headers),
                                 retry_after=retry_after)
        if status == 429:
            if retry_after is not None and retry_after > self.policy.max_rate_limit_wait:
                error.message += f" (the API asks to wait {retry_after:g}s, more than max_rate_limit_wait)"
                raise error
            return self._wait_or_raise(error, self._backoff() if retry_after is None else retry_after)
        if error.retryable and self.request.idempotent:
            return self._wait_or_raise(error, self._backoff())
        raise error

    def on_exception(self, exc: httpx.HTTPError) -> float:
        """Seconds to wait before retrying after a transport failure; raises when it is final."""
        not_sent = _surely_not_sent(exc)
        origin = _aiohttp_cause(exc) or exc
        kind = type(origin).__name__
        detail = str(origin) or kind
        timed_out = isinstance(origin, (httpx.TimeoutException, builtins.TimeoutError)) or "Timeout" in kind
        cls = TimeoutError if timed_out else TransportError
        error = cls(f"{kind}: {detail}", action_id=self.request.action_id, sent=False if not_sent else None)
        log.debug("%s %s -> %s (attempt %d)", self.request.method, self.request.path, kind, self.attempt)
        if not_sent or self.request.idempotent:
            return self._wait_or_raise(error, self._backoff())
        error.message += " (not retried: the request may have been applied)"
        raise error


def _aiohttp_cause(exc: BaseException) -> BaseException | None:
    """The aiohttp error behind an httpx error raised by httpx-aiohttp, if any."""
    cause = exc.__cause__
    return cause if cause is not None and type(cause).__module__.startswith("aiohttp") else None


def _surely_not_sent(exc: httpx.HTTPError) -> bool:
    """True only when the request cannot have reached the server (so even a create may be retried)."""
    cause = _aiohttp_cause(exc)
    if cause is not None:
        # httpx-aiohttp maps every aiohttp connection error to ConnectTimeout, including a
        # server hanging up mid-request; only aiohttp's own connect failures are "not sent".
        import aiohttp

        connect_failures: tuple[type[BaseException], ...] = (aiohttp.ClientConnectorError,)
        if hasattr(aiohttp, "ConnectionTimeoutError"):
            connect_failures += (aiohttp.ConnectionTimeoutError,)
        return isinstance(cause, connect_failures)
    return isinstance(exc, _NOT_SENT)


def _async_network_transport(limits: httpx.Limits, verify: bool) -> httpx.AsyncBaseTransport | None:
    """aiohttp under httpx for async calls: about 3x httpx's own async pool in throughput (see README).

    Falls back to httpx's transport (None) when proxies are configured in the
    environment, which httpx honours and aiohttp's session would ignore.
    """
    import urllib.request

    if urllib.request.getproxies():
        return None
    try:
        from httpx_aiohttp import AiohttpTransport
    except ImportError:  # pragma: no cover - it is a dependency; tolerate a stripped install
        return None
    return AiohttpTransport(verify=verify, limits=limits)


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
        self._loop: Any = None
        self._sandbox: Any = None
        self.default_timeout = httpx.Timeout(connection.timeout)

    def __repr__(self) -> str:
        return f"Transport({self.connection!r})"

    @property
    def _verify(self) -> bool:
        # TLS settings only matter for https; building the default SSL context (loading the
        # CA bundle) costs ~35 ms, which a plain-http sandbox or proxy URL need not pay.
        # Requests only ever go to paths under the base URL, never to another scheme.
        return not self.connection.url.startswith("http://")

    def _headers(self) -> dict[str, str]:
        headers = {"Accept": "application/json", "User-Agent": self.connection.user_agent or user_agent()}
        headers.update(self.connection.auth_headers())
        return headers

    def _site_transports(self) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
        # Only when the connection names the sandbox: never a silent fallback.  The backend comes
        # through a seam (runtime/backends.py), so the runtime never imports the sandbox.
        if self._sandbox is None:
            from .backends import open_backend

            self._sandbox = open_backend(SANDBOX_SITE, self.connection)
        return self._sandbox.transports()

    def _forked(self) -> bool:
        """True in a forked child: the parent's pooled sockets must not be shared, so start afresh."""
        if os.getpid() != self._pid:
            self._pid = os.getpid()
            self._client = None  # not closed: its sockets belong to the parent
            self._aclient = None
            self._loop = None
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
        import asyncio  # imported here: synchronous callers never pay for it

        try:
            loop = asyncio.get_running_loop()
        except RuntimeError:
            loop = None
        aclient = self._aclient
        if aclient is not None and loop is self._loop and self._pid == os.getpid():
            return aclient  # the common case, without the lock
        with self._lock:
            self._forked()
            # An async pool belongs to one event loop; each asyncio.run() gets a fresh one.
            if self._aclient is not None and loop is not self._loop:
                self._aclient = None
            if self._aclient is None:
                transport = self._async_httpx_transport
                if transport is None and self.connection.is_sandbox:
                    transport = self._site_transports()[1]
                if transport is None:
                    transport = _async_network_transport(self._limits, self._verify)
                self._aclient = httpx.AsyncClient(base_url=self.connection.url, headers=self._headers(),
                                                  timeout=self.connection.timeout, transport=transport,
                                                  limits=self._limits, verify=self._verify)
                self._loop = loop
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

    def send(self, request: PreparedRequest) -> Response:
        """Send *request*, retrying per the connection's policy; the ``Response`` or an ``ActionError``."""
        attempts = _Attempts(self, request)
        client = self.client
        while True:
            attempts.attempt += 1
            built = self._build(client, request, attempts.timeout())
            try:
                answer = client.send(built)
            except httpx.HTTPError as exc:
                self.sleep(attempts.on_exception(exc))
                continue
            outcome = attempts.on_response(answer)
            if isinstance(outcome, Response):
                return outcome
            self.sleep(outcome)

    async def asend(self, request: PreparedRequest) -> Response:
        """The async twin of ``send``; waits never block the event loop."""
        attempts = _Attempts(self, request)
        client = self.async_client
        while True:
            attempts.attempt += 1
            built = self._build(client, request, attempts.timeout())
            try:
                answer = await client.send(built)
            except httpx.HTTPError as exc:
                await self._async_sleep(attempts.on_exception(exc))
                continue
            outcome = attempts.on_response(answer)
            if isinstance(outcome, Response):
                return outcome
            await self._async_sleep(outcome)

    async def _async_sleep(self, seconds: float) -> None:
        if self.async_sleep is not None:
            await self.async_sleep(seconds)
        else:
            import asyncio

            await asyncio.sleep(seconds)

    def close(self) -> None:
        """Close both pools (the async one only if its event loop is gone or not running)."""
        with self._lock:
            client, self._client = self._client, None
            aclient, self._aclient = self._aclient, None
            sandbox, self._sandbox = self._sandbox, None
        if client is not None:
            client.close()
        if aclient is not None:
            _close_async(aclient)
        if sandbox is not None:
            sandbox.close()

    async def aclose(self) -> None:
        with self._lock:
            client, self._client = self._client, None
            aclient, self._aclient = self._aclient, None
            sandbox, self._sandbox = self._sandbox, None
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
