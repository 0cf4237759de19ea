"""Faults on demand: rate limiting, injected 5xx, latency and dropped connections.

``Faults`` is plain configuration; the sandbox keeps the moving parts (the rate
window, the seeded random generator, the "next K requests" counters) in a
``FaultState`` built from it, under the sandbox's lock.  Everything can be made
deterministic: ``fail_next`` / ``drop_next`` count requests exactly, and
``seed`` fixes the random draws of ``error_rate`` / ``drop_rate``.
"""

from __future__ import annotations

import math
import random
import time
from dataclasses import dataclass, field, replace
from http import HTTPStatus
from typing import Any, Callable, Iterable

from ..runtime.errors import reduce_exception

__all__ = ["Faults", "FaultState", "ConnectionDropped", "DROP", "ERROR"]

DROP = "drop"
ERROR = "error"


class ConnectionDropped(Exception):
    """Raised by ``Sandbox.handle`` when a fault drops the connection: there is no answer.

    The in-process transports turn it into ``httpx.RemoteProtocolError``; the HTTP
    server closes the socket without writing a byte.
    """

    def __init__(self, applied: bool = False) -> None:
        super().__init__("connection dropped by an injected fault" + (" (after applying)" if applied else ""))
        #: whether the request's side effect was applied before the drop (``fail_after_apply``)
        self.applied = applied

    __reduce__ = reduce_exception  # picklable with its fields (a worker pool re-raises it)


@dataclass
class Faults:
    """Which faults the sandbox injects.  All off by default.

    rate_limit / rate_period / rate_limit_name
        Allow ``rate_limit`` requests per window of ``rate_period`` seconds; beyond
        that answer 429 with ``X-RateLimit-Limit``, ``-Period``, ``-Remaining``,
        ``-Reset`` (whole seconds until the window resets, at least 1) and ``-Name``.
        The rate headers are sent on every response while a limit is set.
    error_rate / error_status / fail_next
        Answer ``error_status`` (500, 502, 503...) to a random share ``error_rate``
        of the requests, and to the next ``fail_next`` requests for certain.
    drop_rate / drop_next
        Drop the connection without answering, at random or for the next ``drop_next`` requests.
    latency
        Seconds to wait before answering every request.
    fail_after_apply
        Inject errors and drops *after* applying the request (the response is lost,
        the change is not); by default an injected fault changes nothing.
    operations
        Restrict injected errors and drops to these operations (``"CreateCase"``,
        ``"datadog.create_case"`` or ``"create_case"``); rate limiting and latency
        always apply to every request.
    seed
        Seed for the random draws (``None``: unpredictable).
    """

    rate_limit: int | None = None
    rate_period: float = 60.0
    rate_limit_name: str = "cases"
    error_rate: float = 0.0
    error_status: int = 500
    fail_next: int = 0
    drop_rate: float = 0.0
    drop_next: int = 0
    latency: float = 0.0
    fail_after_apply: bool = False
    operations: Iterable[str] | None = None
    seed: int | None = None

    def __post_init__(self) -> None:
        if self.rate_limit is not None and self.rate_limit < 0:
            raise ValueError("rate_limit must be >= 0")
        if self.rate_period <= 0:
            raise ValueError("rate_period must be > 0")
        for name in ("error_rate", "drop_rate"):
            value = getattr(self, name)
            if not 0.0 <= value <= 1.0:
                raise ValueError(f"{name} must be between 0 and 1")
        if not 500 <= int(self.error_status) <= 599:
            raise ValueError("error_status must be a 5xx status")
        if self.latency < 0 or self.fail_next < 0 or self.drop_next < 0:
            raise ValueError("latency, fail_next and drop_next must be >= 0")
        if self.operations is not None and not isinstance(self.operations, frozenset):
            self.operations = frozenset(self.operations)

    def replace(self, **changes: Any) -> "Faults":
        return replace(self, **changes)

    @property
    def active(self) -> bool:
        return bool(self.rate_limit is not None or self.error_rate or self.fail_next or self.drop_rate
                    or self.drop_next or self.latency)


def _number(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else f"{value:g}"


@dataclass
class FaultState:
    """The moving parts of a ``Faults`` configuration (guarded by the sandbox lock)."""

    faults: Faults
    clock: Callable[[], float] = time.monotonic
    rng: random.Random = field(init=False)
    window_start: float | None = field(default=None, init=False)
    window_count: int = field(default=0, init=False)

    def __post_init__(self) -> None:
        self.rng = random.Random(self.faults.seed)

    # -- rate limiting ------------------------------------------------------------------------

    def rate_check(self) -> tuple[bool, dict[str, str]]:
        """Count one request; ``(limited, headers)``."""
        f = self.faults
        if f.rate_limit is None:
            return False, {}
        now = self.clock()
        if self.window_start is None or now - self.window_start >= f.rate_period:
            self.window_start = now
            self.window_count = 0
        self.window_count += 1
        limited = self.window_count > f.rate_limit
        reset = max(1, math.ceil(self.window_start + f.rate_period - now))
        headers = {
            "X-RateLimit-Limit": str(f.rate_limit),
            "X-RateLimit-Period": _number(f.rate_period),
            "X-RateLimit-Remaining": str(max(0, f.rate_limit - self.window_count)),
            "X-RateLimit-Reset": str(reset),
            "X-RateLimit-Name": f.rate_limit_name,
        }
        return limited, headers

    # -- injected errors and drops -----------------------------------------------------------

    def applies_to(self, operation: str | None, action_id: str | None) -> bool:
        ops = self.faults.operations
        if ops is None:
            return True
        names = {operation, action_id, action_id.split(".", 1)[-1] if action_id else None} - {None}
        return bool(names & ops)  # type: ignore[operator]

    def draw(self, operation: str | None = None, action_id: str | None = None) -> str | None:
        """The fault for this request: ``DROP``, ``ERROR`` or ``None``."""
        f = self.faults
        if not (f.fail_next or f.drop_next or f.error_rate or f.drop_rate):
            return None
        if not self.applies_to(operation, action_id):
            return None
        if f.drop_next > 0:
            f.drop_next -= 1
            return DROP
        if f.fail_next > 0:
            f.fail_next -= 1
            return ERROR
        if f.drop_rate and self.rng.random() < f.drop_rate:
            return DROP
        if f.error_rate and self.rng.random() < f.error_rate:
            return ERROR
        return None

    def error_body(self) -> tuple[int, dict[str, Any]]:
        status = int(self.faults.error_status)
        try:
            phrase = HTTPStatus(status).phrase
        except ValueError:
            phrase = "Server Error"
        return status, {"errors": [phrase]}
