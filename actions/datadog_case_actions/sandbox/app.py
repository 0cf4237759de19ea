"""``Sandbox``: the stateful emulator behind the transports and the HTTP server."""

from __future__ import annotations

import datetime as _dt
import json
import logging
import os
import threading
import time
import uuid
from typing import Any, Callable, Iterable, Mapping
from urllib.parse import parse_qsl

from . import cases as _cases  # noqa: F401  (registers the handlers)
from . import casetypes as _casetypes  # noqa: F401
from . import config as _config  # noqa: F401
from . import integrations as _integrations  # noqa: F401
from .context import HANDLERS, SANDBOX_NAMESPACE, Ctx
from .errors import CASES_PREFIX, ApiFailure, error_document, plain_error
from .faults import DROP, ConnectionDropped, Faults, FaultState
from .routes import decode_inputs, match
from .store import Store, default_db_path

__all__ = ["Sandbox", "Response"]

log = logging.getLogger("datadog_case_actions.sandbox")

#: (status, headers, body)
Response = tuple[int, dict[str, str], bytes]

_JSON = "application/json"
#: what the live Case Management service labels every JSON answer with (live-api-notes.md section 0)
_JSONAPI = "application/vnd.api+json"
_EPOCH = _dt.datetime(1970, 1, 1, tzinfo=_dt.timezone.utc)


def _nanoseconds(moment: _dt.datetime) -> int:
    """*moment* as integer nanoseconds since the epoch (exact: no float rounding)."""
    delta = moment.astimezone(_dt.timezone.utc) - _EPOCH
    return (delta.days * 86400 + delta.seconds) * 1_000_000_000 + delta.microseconds * 1000


def stamp(ns: int, digits: int) -> str:
    """RFC 3339 in UTC with *digits* fractional digits, rounded, trailing zeros trimmed (like Go's RFC3339Nano)."""
    unit = 10 ** (9 - digits)
    ns = (ns + unit // 2) // unit * unit
    seconds, fraction = divmod(ns, 1_000_000_000)
    text = (_EPOCH + _dt.timedelta(seconds=seconds)).strftime("%Y-%m-%dT%H:%M:%S")
    digits_text = f"{fraction:09d}"[:digits].rstrip("0")
    return f"{text}.{digits_text}Z" if digits_text else f"{text}Z"


class Sandbox:
    """A local, stateful emulator of the 75 Case Management operations, persisted in SQLite.

    ``Sandbox()`` uses the per-user database file (see ``default_db_path``);
    ``Sandbox(":memory:")`` keeps everything in memory; any other path is a file
    that later processes can open again.  *clock* (tests) returns an aware
    ``datetime`` or integer nanoseconds since the epoch.  ``handle`` is the single, thread-safe
    entry point; ``SandboxTransport``/``AsyncSandboxTransport`` and the HTTP server
    are thin adapters around it.
    """

    def __init__(self, path: str | os.PathLike[str] | None = None, *, faults: Faults | None = None,
                 clock: Callable[[], _dt.datetime | int] | None = None) -> None:
        self.path = str(default_db_path() if path is None else path)
        self._lock = threading.RLock()
        self._store = Store(self.path)
        self._clock = clock or (lambda: _dt.datetime.now(_dt.timezone.utc))
        self._real_clock = clock is None
        self._last_ns = 0
        self._fault_state = FaultState(faults or Faults())
        self.closed = False

    def __repr__(self) -> str:
        return f"Sandbox({self.path!r})"

    # -- configuration --------------------------------------------------------------------------

    @property
    def faults(self) -> Faults:
        """The current fault configuration (assign a new ``Faults`` to change it)."""
        return self._fault_state.faults

    @faults.setter
    def faults(self, value: Faults | None) -> None:
        with self._lock:
            self._fault_state = FaultState(value or Faults())

    def set_faults(self, **changes: Any) -> Faults:
        """Change some fault settings, keeping the others: ``sb.set_faults(fail_next=2)``."""
        with self._lock:
            self.faults = self.faults.replace(**changes)
            return self.faults

    def clear_faults(self) -> None:
        self.faults = Faults()

    def reset(self) -> None:
        """Forget every case, project, rule... (the faults are kept)."""
        with self._lock:
            self._store.reset()

    def close(self) -> None:
        with self._lock:
            if not self.closed:
                self.closed = True
                self._store.close()

    def __enter__(self) -> "Sandbox":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def runner(self, **options: Any) -> Any:
        """A ``Runner`` wired to this sandbox in-process (dummy keys, base URL ``http://sandbox.local``)."""
        from ..runtime.connection import Connection
        from ..runtime.runner import Runner
        from .transport import AsyncSandboxTransport, SandboxTransport

        connection = options.pop("connection", None) or Connection(
            api_key="sandbox", app_key="sandbox", base_url="http://sandbox.local")
        options.setdefault("httpx_transport", SandboxTransport(self))
        options.setdefault("async_httpx_transport", AsyncSandboxTransport(self))
        return Runner(connection, **options)

    # -- the entry point ------------------------------------------------------------------------

    def handle(self, method: str, path: str, query: Mapping[str, Any] | Iterable[tuple[str, Any]] | None = None,
               headers: Mapping[str, str] | None = None, body: bytes | str | None = b"", *,
               apply_latency: bool = True) -> Response:
        """Answer one request: ``(status, headers, body bytes)``.

        *path* may carry a query string; *query* adds parameters (a dict or a list
        of pairs; the first value of a repeated name wins).  Raises
        ``ConnectionDropped`` when a fault drops the connection.
        """
        latency = self.faults.latency
        if apply_latency and latency > 0:
            time.sleep(latency)
        raw_path, _, query_string = path.partition("?")
        pairs: list[tuple[str, Any]] = parse_qsl(query_string, keep_blank_values=True)
        if isinstance(query, Mapping):
            pairs.extend(query.items())
        elif query is not None:
            pairs.extend(query)
        params: dict[str, str] = {}
        for name, value in pairs:
            params.setdefault(str(name), value if isinstance(value, str) else
                              ("true" if value is True else "false" if value is False else str(value)))
        lowered = {str(k).lower(): str(v) for k, v in (headers or {}).items()}
        data = body.encode("utf-8") if isinstance(body, str) else (body or b"")
        with self._lock:
            if self.closed:
                raise RuntimeError("this sandbox is closed")
            return self._handle(method.upper(), raw_path, params, lowered, data)

    # -- internals --------------------------------------------------------------------------------

    def _now(self) -> int:
        """This request's instant in nanoseconds."""
        if self._real_clock:
            ns = time.time_ns()
            # keep timestamps strictly increasing within the process (to the microsecond), for stable ordering
            ns = max(ns, self._last_ns + 1000)
        else:
            moment = self._clock()
            ns = moment if isinstance(moment, int) else _nanoseconds(moment)
        self._last_ns = max(ns, self._last_ns)
        return ns

    def _user(self, headers: Mapping[str, str]) -> tuple[int, str | None]:
        """``(0, user id)`` when authenticated, else ``(401|403, None)``."""
        api_key = headers.get("dd-api-key")
        app_key = headers.get("dd-application-key")
        authorization = headers.get("authorization")
        if api_key is None and app_key is None and authorization is None:
            return 401, None
        if authorization is not None:
            scheme, _, token = authorization.strip().partition(" ")
            if scheme.lower() == "bearer" and token.strip():
                return 0, str(uuid.uuid5(SANDBOX_NAMESPACE, "token:" + token.strip()))
        if api_key and api_key.strip() and app_key and app_key.strip():
            return 0, str(uuid.uuid5(SANDBOX_NAMESPACE, "app-key:" + app_key.strip()))
        return 403, None

    @staticmethod
    def _answer(status: int, body: Any, extra: Mapping[str, str] | None = None, *, jsonapi: bool = False) -> Response:
        headers = dict(extra or {})
        if body is None:
            return status, headers, b""
        headers["Content-Type"] = _JSONAPI if jsonapi else _JSON
        return status, headers, json.dumps(body, separators=(",", ":")).encode("utf-8")

    def _handle(self, method: str, raw_path: str, params: dict[str, str], headers: dict[str, str],
                body: bytes) -> Response:
        state = self._fault_state
        limited, rate_headers = state.rate_check()
        if limited:
            return self._answer(429, plain_error(429, "Too many requests"), rate_headers)
        status, user = self._user(headers)
        if status == 401:
            return self._answer(401, plain_error(401, "Unauthorized"), rate_headers)
        if status == 403:
            return self._answer(403, plain_error(403, "Forbidden"), rate_headers)
        route, path_params, path_known = match(method, raw_path)
        if route is None:
            if path_known:
                return self._answer(405, plain_error(405, "Method Not Allowed"), rate_headers)
            return self._answer(404, plain_error(404, "Not Found"), rate_headers)
        fault = state.draw(route.operation_id, route.action_id)
        after = state.faults.fail_after_apply
        if fault is not None and not after:
            return self._inject(fault, rate_headers, applied=False)
        answer = self._dispatch(route, path_params, params, body, user, rate_headers)  # type: ignore[arg-type]
        if fault is not None:
            return self._inject(fault, rate_headers, applied=answer[0] < 400)
        return answer

    def _inject(self, fault: str, rate_headers: dict[str, str], *, applied: bool) -> Response:
        if fault == DROP:
            raise ConnectionDropped(applied=applied)
        status, body = self._fault_state.error_body()
        return self._answer(status, body, rate_headers)

    def _dispatch(self, route: Any, path_params: dict[str, str], params: dict[str, str], body: bytes, user: str,
                  rate_headers: dict[str, str]) -> Response:
        operation = route.operation_id
        jsonapi = route.template.startswith(CASES_PREFIX)
        try:
            inputs = decode_inputs(route, path_params, params, body)
            fn = HANDLERS[operation]
            with self._store.transaction():
                ns = self._now()
                ctx = Ctx(store=self._store, operation=operation, inputs=inputs, user=user, now=stamp(ns, 6),
                          query=params, now_precise=stamp(ns, 9))
                status, document = fn(ctx)
        except ApiFailure as failure:
            return self._answer(failure.status, error_document(failure, operation, route.template),
                                {**rate_headers, **failure.headers}, jsonapi=jsonapi)
        except Exception:  # a sandbox bug: answer like a server would, keep serving
            log.exception("sandbox handler for %s failed", operation)
            return self._answer(500, plain_error(500, "Internal Server Error"), rate_headers)
        return self._answer(status, document, rate_headers, jsonapi=jsonapi)
