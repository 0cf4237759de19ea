"""Run actions: validate, build the request, send it through the one transport.

``Runner`` holds one connection and one pooled transport; ``run``/``arun`` at
module level reuse a runner per connection, so a workflow that calls many
actions shares keep-alive connections.  The transport rebuilds its pool in a
forked child, so a runner created before a fork (Airflow, Celery) keeps working.

``max_concurrency`` bounds the calls of one runner in flight at once, across
its threads and the tasks of any event loop (one bound for all).  Unset, sync
calls are not bounded (the caller's thread pool is) and async calls are
bounded by ``DEFAULT_ASYNC_CONCURRENCY``, so that a ``gather`` over thousands
of cases cannot stampede; the rate limit itself is paced in the transport
(``ratelimit.py``), whatever the bound.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections import OrderedDict
from typing import Any, AsyncIterator, Iterator, Mapping

from .connection import Connection
from .errors import ConfigurationError
from .limiter import Limiter
from .request import PreparedRequest, build, validate
from .transport import Transport

__all__ = ["Runner", "run", "arun", "iterate", "aiterate", "prepare", "dry_run_request", "DEFAULT_ASYNC_CONCURRENCY"]

#: The bound on async calls in flight per runner when ``max_concurrency`` is not set.
DEFAULT_ASYNC_CONCURRENCY = 16


_MANIFESTS: dict[str, Mapping[str, Any]] = {}


def _manifest_of(action: Any) -> Mapping[str, Any]:
    """The manifest of an action id (any accepted spelling) or action object, cached by name.

    This package's own actions are read straight from their manifest files, so
    running one imports neither the entry-point machinery nor the declarations;
    other distributions' actions are loaded through the registry.
    """
    if not isinstance(action, str):
        return action.manifest  # type: ignore[no-any-return]
    found = _MANIFESTS.get(action)
    if found is None:
        from ..manifest import load_index, load_manifest

        own = load_index()["actions"]
        candidate = action if action in own else f"datadog.{action}"
        if candidate in own:
            found = load_manifest(candidate)
        else:
            from ..registry import load

            found = load(action).manifest
        _MANIFESTS[action] = found
    return found


def prepare(action: Any, inputs: Mapping[str, Any] | None = None) -> PreparedRequest:
    """Validate *inputs* for *action* (an id or an action object) and build its request."""
    manifest = _manifest_of(action)
    if inputs is None:
        inputs = {}
    elif hasattr(inputs, "to_inputs"):  # a typed model from datadog_case_actions.typed
        inputs = inputs.to_inputs()
    validate(manifest, inputs)
    return build(manifest, inputs)


def dry_run_request(request: PreparedRequest, connection: Connection) -> dict[str, Any]:
    """What would be sent, as JSON: method, URL, headers (credentials redacted), query and body."""
    from urllib.parse import urlencode

    headers = {name: "****" for name in connection.auth_headers()}
    headers["Accept"] = "application/json"
    if request.body is not None:
        headers["Content-Type"] = "application/json"
    url = connection.url.rstrip("/") + request.path
    if request.params:
        url += "?" + urlencode(request.params)
    return {
        "dry_run": True,
        "action_id": request.action_id,
        "method": request.method,
        "url": url,
        "headers": headers,
        "body": request.body,
    }


class Runner:
    """Runs actions over one connection.  Use as a context manager, or call ``close()``.

    *max_concurrency* bounds its calls in flight (threads and tasks together); None: sync calls
    unbounded, async calls at most ``DEFAULT_ASYNC_CONCURRENCY``.
    """

    def __init__(self, connection: Connection | None = None, *, transport: Transport | None = None,
                 max_concurrency: int | None = None, **transport_options: Any) -> None:
        self.connection = connection if connection is not None else Connection.from_env()
        try:
            limiter = None if max_concurrency is None else Limiter(max_concurrency)
        except ValueError as exc:
            raise ConfigurationError(str(exc)) from None
        self.max_concurrency = max_concurrency
        self._limiter = limiter
        self._alimiter = limiter if limiter is not None else Limiter(DEFAULT_ASYNC_CONCURRENCY)
        self.transport = transport if transport is not None else Transport(self.connection, **transport_options)
        self._checked = False

    def _check(self) -> None:
        # The connection is immutable: one check per runner is enough.
        if not self._checked:
            self.connection.check()
            self._checked = True

    def __repr__(self) -> str:
        return f"Runner({self.connection!r})"

    def run(self, action: Any, inputs: Mapping[str, Any] | None = None, *, dry_run: bool = False) -> Any:
        """Run *action* with *inputs*; returns the API's response document ({} for 204)."""
        request = prepare(action, inputs)
        if dry_run:
            return dry_run_request(request, self.connection)
        self._check()
        if self._limiter is None:
            return self.transport.send(request).data
        with self._limiter:
            return self.transport.send(request).data

    async def arun(self, action: Any, inputs: Mapping[str, Any] | None = None, *, dry_run: bool = False) -> Any:
        """The async twin of ``run``."""
        request = prepare(action, inputs)
        if dry_run:
            return dry_run_request(request, self.connection)
        self._check()
        async with self._alimiter:
            return (await self.transport.asend(request)).data

    def iterate(self, action: Any, inputs: Mapping[str, Any] | None = None, *,
                max_items: int | None = None, max_pages: int | None = None) -> Iterator[Any]:
        """Every item of every page of a paginated action, fetched lazily, stopping at the caps."""
        manifest = _manifest_of(action)
        for page_inputs in _pages(manifest, inputs, max_pages):
            items = self.run(action, page_inputs)
            yield from (batch := _take(manifest, items, max_items))
            if max_items is not None:
                max_items -= len(batch)
            if _last_page(manifest, page_inputs, items, max_items):
                return

    async def aiterate(self, action: Any, inputs: Mapping[str, Any] | None = None, *,
                       max_items: int | None = None, max_pages: int | None = None) -> AsyncIterator[Any]:
        """The async twin of ``iterate``."""
        manifest = _manifest_of(action)
        for page_inputs in _pages(manifest, inputs, max_pages):
            items = await self.arun(action, page_inputs)
            batch = _take(manifest, items, max_items)
            for item in batch:
                yield item
            if max_items is not None:
                max_items -= len(batch)
            if _last_page(manifest, page_inputs, items, max_items):
                return

    def close(self) -> None:
        self.transport.close()

    async def aclose(self) -> None:
        await self.transport.aclose()

    def __enter__(self) -> "Runner":
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    async def __aenter__(self) -> "Runner":
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()


def _pagination(manifest: Mapping[str, Any]) -> Mapping[str, Any]:
    spec = manifest.get("pagination")
    if not spec:
        from .errors import InputError, Violation

        raise InputError([Violation(field="", message="this action has no pages to iterate", validator="pagination")],
                         action_id=manifest["id"])
    return spec  # type: ignore[no-any-return]


def _pages(manifest: Mapping[str, Any], inputs: Mapping[str, Any] | None, max_pages: int | None) -> Iterator[dict[str, Any]]:
    spec = _pagination(manifest)
    page_inputs = dict(inputs or {})
    page_inputs.setdefault(spec["size"], spec.get("max_size", 100))
    page = page_inputs.get(spec["page"], spec.get("first_page", 0))
    count = 0
    while max_pages is None or count < max_pages:
        yield {**page_inputs, spec["page"]: page}
        page += 1
        count += 1


def _items(manifest: Mapping[str, Any], document: Any) -> list[Any]:
    items = document.get(_pagination(manifest)["items"]) if isinstance(document, dict) else None
    return items if isinstance(items, list) else []


def _take(manifest: Mapping[str, Any], document: Any, max_items: int | None) -> list[Any]:
    items = _items(manifest, document)
    return items if max_items is None else items[: max(max_items, 0)]


def _last_page(manifest: Mapping[str, Any], page_inputs: Mapping[str, Any], document: Any, left: int | None) -> bool:
    size = page_inputs[_pagination(manifest)["size"]]
    return (left is not None and left <= 0) or len(_items(manifest, document)) < size


# One runner per connection for the module-level helpers: keep-alive across calls.  A runner
# is leased for each call (and for the life of an iterator); eviction, beyond _MAX_RUNNERS,
# only ever closes idle runners: one other threads are using stays until its last lease ends.
_RUNNERS: "OrderedDict[int, _Cached]" = OrderedDict()
_LOCK = threading.Lock()
_MAX_RUNNERS = 64


def _after_fork() -> None:
    # Another thread of the parent may have held the lock at the fork: it never releases it here.
    global _LOCK
    _LOCK = threading.Lock()


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)


class _Cached:
    """A cached runner, the connection it was made for and its leases.

    Holding the connection keeps it alive, so no other connection can have its
    ``id`` (the cache key) while the entry exists.
    """

    __slots__ = ("connection", "runner", "leases")

    def __init__(self, connection: Connection | None) -> None:
        self.connection = connection
        self.runner = Runner(connection)
        self.leases = 0


def _evict_idle() -> list[Runner]:
    """Drop the least recently used idle runners beyond the cap (call with ``_LOCK`` held); they are to be closed."""
    extra = len(_RUNNERS) - _MAX_RUNNERS
    idle = [key for key, cached in _RUNNERS.items() if not cached.leases][:max(extra, 0)]
    return [_RUNNERS.pop(key).runner for key in idle]


def _close(runners: list[Runner]) -> None:
    for runner in runners:  # outside the lock: closing may wait on the network
        runner.close()


def _lease(connection: Connection | None) -> _Cached:
    """The cached runner for *connection* (made on first use), leased until ``_release``."""
    key = id(connection) if connection is not None else 0
    with _LOCK:
        cached = _RUNNERS.get(key)
        if cached is None:
            cached = _RUNNERS[key] = _Cached(connection)
        _RUNNERS.move_to_end(key)
        cached.leases += 1
        evicted = _evict_idle()
    _close(evicted)
    return cached


def _release(cached: _Cached) -> None:
    with _LOCK:
        cached.leases -= 1
        evicted = _evict_idle()
    _close(evicted)


def _close_idle_runners() -> None:
    """Close every cached runner no call is using (at exit: their pools hold sockets)."""
    with _LOCK:
        idle = [key for key, cached in _RUNNERS.items() if not cached.leases]
        runners = [_RUNNERS.pop(key).runner for key in idle]
    _close(runners)


atexit.register(_close_idle_runners)


def run(action: Any, inputs: Mapping[str, Any] | None = None, *, connection: Connection | None = None,
        dry_run: bool = False) -> Any:
    """Run an action by id (``"create_case"``) or object; credentials from *connection* or the environment.

    >>> run("get_case", {"case_id": "CASEM-12"})  # doctest: +SKIP
    """
    if dry_run:
        return dry_run_request(prepare(action, inputs), connection or Connection.from_env())
    cached = _lease(connection)
    try:
        return cached.runner.run(action, inputs)
    finally:
        _release(cached)


async def arun(action: Any, inputs: Mapping[str, Any] | None = None, *, connection: Connection | None = None,
               dry_run: bool = False) -> Any:
    """The async twin of ``run``."""
    if dry_run:
        return dry_run_request(prepare(action, inputs), connection or Connection.from_env())
    cached = _lease(connection)
    try:
        return await cached.runner.arun(action, inputs)
    finally:
        _release(cached)


def iterate(action: Any, inputs: Mapping[str, Any] | None = None, *, connection: Connection | None = None,
            max_items: int | None = None, max_pages: int | None = None) -> Iterator[Any]:
    """Lazily every item of a paginated action (``search_cases``), up to the caps."""
    cached = _lease(connection)
    try:
        yield from cached.runner.iterate(action, inputs, max_items=max_items, max_pages=max_pages)
    finally:
        _release(cached)


async def aiterate(action: Any, inputs: Mapping[str, Any] | None = None, *, connection: Connection | None = None,
                   max_items: int | None = None, max_pages: int | None = None) -> AsyncIterator[Any]:
    """The async twin of ``iterate``."""
    cached = _lease(connection)
    try:
        async for item in cached.runner.aiterate(action, inputs, max_items=max_items, max_pages=max_pages):
            yield item
    finally:
        _release(cached)
