"""Rate limits in the orchestrator doors: a 429 is a wait, not a failure, while the bounds allow it.

A rate-limited request was not processed, so calling again is safe for every
action, creates included.  The doors (Airflow, Prefect) call an action through
``call_through_rate_limits`` (or its async twin): a ``RateLimitedError`` whose
wait is at most ``max_wait`` is waited out in place and the call is made again,
for as long as the total stays within ``deadline``; a longer wait, or one past
the deadline, is raised so the engine decides (Airflow defers, Prefect retries
after at least ``retry_after``).  These waits never count against the
transport's ``max_attempts`` or the engine's retries: with any setting of those,
a rate-limited case is delayed, never lost.

Waiters add a spread to the API's wait, so workers that were refused in the same
window do not all return at the same instant of the next one.

The doors run calls on ``door_connection(connection)``: its transport hands every
429 that names a wait straight to the door instead of waiting itself, so a 429
never uses one of the transport's attempts and many 429 waits never run out the
transport's per-call deadline (which would turn a rate-limited create into a
timeout that is not safe to retry).
"""

from __future__ import annotations

import asyncio
import logging
import random
import time
from collections.abc import Awaitable, Callable, Mapping
from typing import Any, TypeVar

from ..runtime.connection import Connection
from ..runtime.errors import RateLimitedError

__all__ = [
    "DEFAULT_MAX_RATE_LIMIT_WAIT",
    "DEFAULT_RATE_LIMIT_DEADLINE",
    "pause",
    "path_target",
    "door_connection",
    "call_through_rate_limits",
    "acall_through_rate_limits",
]

#: The longest single rate-limit wait a worker sits out in place (the runtime's own default).
DEFAULT_MAX_RATE_LIMIT_WAIT = 60.0
#: The longest total a call may spend waiting for rate limits before it is given up to the engine.
DEFAULT_RATE_LIMIT_DEADLINE = 3600.0
#: Cap of the spread added to a wait (seconds).
_MAX_SPREAD = 2.0

T = TypeVar("T")
log = logging.getLogger("datadog_case_actions")


def pause(error: RateLimitedError, rng: Callable[[], float] = random.random) -> float:
    """Seconds to wait after *error*: what the API asked (1 s if it did not say), plus a spread.

    The spread is at most a quarter of the limit's period (``X-RateLimit-Period``,
    else of the wait itself) and at most 2 s: never less than the API asked.
    """
    asked = error.retry_after if error.retry_after is not None and error.retry_after >= 0 else 1.0
    period = _period(error.headers) or asked
    return float(asked + rng() * min(_MAX_SPREAD, 0.25 * period))


def _period(headers: Mapping[str, str] | None) -> float | None:
    for name, value in (headers or {}).items():
        if name.lower() == "x-ratelimit-period":
            try:
                return max(float(value), 0.0)
            except ValueError:
                return None
    return None


def door_connection(connection: Connection) -> Connection:
    """*connection* with a transport that raises every 429 naming a wait, for the door to wait out."""
    return connection.with_options(retry=connection.retry.with_options(max_rate_limit_wait=0)) \
        if connection.retry.max_rate_limit_wait else connection


def path_target(manifest: Mapping[str, Any], inputs: Mapping[str, Any] | None) -> str:
    """The path parameters of a call as a log suffix: ``" [case_id=OPS-12]"`` (empty when it has none)."""
    names = [name for name in manifest.get("request", {}).get("path", []) if name in (inputs or {})]
    if not names:
        return ""
    return " [" + ", ".join(f"{name}={(inputs or {})[name]}" for name in names) + "]"


def _next_wait(error: RateLimitedError, waited: float, max_wait: float, deadline: float,
               rng: Callable[[], float]) -> float | None:
    # The threshold is held against what the API asked, not against the spread added to it.
    if (error.retry_after or 0.0) > max_wait:
        return None
    wait = pause(error, rng)
    return None if waited + wait > deadline else wait


def call_through_rate_limits(call: Callable[[], T], *, what: str, max_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
                             deadline: float = DEFAULT_RATE_LIMIT_DEADLINE, logger: Any = None,
                             sleep: Callable[[float], None] = time.sleep,
                             rng: Callable[[], float] = random.random) -> T:
    """``call()``, waiting out rate limits in place (see the module doc); raises what it cannot wait out."""
    waited = 0.0
    while True:
        try:
            return call()
        except RateLimitedError as error:
            wait = _next_wait(error, waited, max_wait, deadline, rng)
            if wait is None:
                raise
            _log_wait(logger, what, error, wait)
            sleep(wait)
            waited += wait


async def acall_through_rate_limits(call: Callable[[], Awaitable[T]], *, what: str,
                                    max_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT,
                                    deadline: float = DEFAULT_RATE_LIMIT_DEADLINE, logger: Any = None,
                                    sleep: Callable[[float], Awaitable[None]] = asyncio.sleep,
                                    rng: Callable[[], float] = random.random) -> T:
    """The async twin of ``call_through_rate_limits``."""
    waited = 0.0
    while True:
        try:
            return await call()
        except RateLimitedError as error:
            wait = _next_wait(error, waited, max_wait, deadline, rng)
            if wait is None:
                raise
            _log_wait(logger, what, error, wait)
            await sleep(wait)
            waited += wait


def _log_wait(logger: Any, what: str, error: RateLimitedError, wait: float) -> None:
    (logger or log).warning("%s rate limited (HTTP 429, the API asks for %ss); waiting %.1fs, then calling again "
                            "(not counted as a retry)", what, _seconds(error.retry_after), wait)


def _seconds(value: float | None) -> str:
    return "?" if value is None else f"{value:g}"
