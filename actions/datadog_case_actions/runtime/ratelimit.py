"""Rate-limit budgets learnt from the API's own headers, shared by every runner, thread and task of a process.

Datadog answers every request with ``X-RateLimit-Limit``, ``-Period``,
``-Remaining``, ``-Reset`` (seconds until the window resets) and ``-Name`` (the
limit the operation counts against).  The limit belongs to the organisation,
so the headers any worker sees are the shared state; this module keeps one
``_Budget`` per (base URL, credentials identity, limit name) and lets a call go
only when that budget has room:

* An operation not yet answered has no known budget: its first request goes
  alone (a *probe*) and the others wait for its answer, a few milliseconds,
  instead of stampeding blind.
* A process that sees only its own requests counted (``Limit - Remaining``
  no more than it sent in the window) sends freely until the budget is
  spent.  Once it sees others' requests counted too, it estimates how many
  share the window (what the window counted over what it sent) and paces:
  its share of the remaining budget, bar the window's last request, spread
  over the time left.  The first answer of a window keeps the last window's
  estimate (who probed first says little).  Every process pacing this way
  reads the others' requests in ``Remaining`` and slows down, so together
  they spend the window without running past it.
* A spent budget waits for the reset, plus a random jitter of up to
  ``JITTER`` of the period (at most ``MAX_JITTER`` seconds), so that N
  processes do not all probe the new window at the same instant.  After the
  reset the window is unknown again: the next request probes it.

The credentials identity is a digest of the auth headers, never a key.  A
transport with an injected network (a mock, the embedded sandbox) gets a
budget scope of its own: it does not talk to the organisation's API.
Waiting is the caller's (``Transport``): ``reserve`` only says how long.
"""

from __future__ import annotations

import hashlib
import math
import os
import threading
from collections import OrderedDict
from typing import Any, Callable, Hashable, Mapping

__all__ = ["Scope", "scope_for", "identity", "parse", "reset", "JITTER", "MAX_JITTER", "POLL", "PROBE_HOLD"]

#: The share of a window's period its start is spread over, per process.
JITTER = 0.1
#: ... but never more than this many seconds.
MAX_JITTER = 1.0
#: How often a call waiting for a probe's answer looks again.
POLL = 0.02
#: How long the others wait for a probe's answer before going anyway (a probe may hang).
PROBE_HOLD = 5.0
#: The most scopes kept (least recently used dropped): one per server and credentials in practice.
MAX_SCOPES = 256

_UNLIMITED = ""  # the limit name of an operation whose answers carry no rate-limit headers


class _Budget:
    """One limit's window, as this process knows it."""

    __slots__ = ("remaining", "reset_at", "period", "in_flight", "next_slot", "probe_since", "sent", "sharers",
                 "sharers_before")

    def __init__(self) -> None:
        self.remaining = 0
        self.reset_at: float | None = None  # None: the current window is unknown (probe it)
        self.period = 0.0
        self.in_flight = 0  # reserved and not yet answered
        self.next_slot = 0.0
        self.probe_since: float | None = None
        self.sent = 0  # requests of this process answered in the current window
        # How many consumers share the window, as seen from here: what the window counted
        # over what this process sent (1.0: alone).  The previous window's estimate paces the
        # start of the next, before its own answers tell.
        self.sharers = 1.0
        self.sharers_before = 1.0

    def reserve(self, now: float, random: Callable[[], float]) -> float:
        """0.0 when a request may go now (counted as reserved), else the seconds to wait before asking again."""
        if self.reset_at is not None and now >= self.reset_at:
            self.reset_at = None  # the window is over: the next answer tells the new one
            self.probe_since = None
        if self.reset_at is None:
            if self.probe_since is not None and now - self.probe_since < PROBE_HOLD:
                return POLL
            self.probe_since = now
            self.in_flight += 1
            return 0.0
        if self.remaining <= 0 or self.next_slot >= self.reset_at:
            # Spent, or this process's share of it is: wait for the next window (never sleep past it).
            return self.reset_at - now + _spread(self.period, random)
        if self.sharers > 1.0:
            # This process's share of what is left, spread over the time left; the last request of
            # the window is left to whoever sees it first (the others' answers are not seen at once).
            if self.remaining <= 1:
                return self.reset_at - now + _spread(self.period, random)
            if now < self.next_slot:
                return self.next_slot - now
            self.next_slot = now + (self.reset_at - now) * self.sharers / (self.remaining - 1)
        self.remaining -= 1
        self.in_flight += 1
        return 0.0

    def observe(self, now: float, limits: "_Headers") -> None:
        """Fold one answer's headers in: a new window is adopted, the current one only ever shrinks."""
        self.probe_since = None
        self.period = limits.period
        seen = limits.remaining - self.in_flight  # requests still in flight may not be counted in it yet
        reset_at = now + limits.reset
        if self.reset_at is None or now >= self.reset_at:
            self.reset_at, self.remaining, self.next_slot = reset_at, seen, now
            self.sharers_before, self.sent = self.sharers, 0
        else:
            # Each answer's reset is an upper bound (whole seconds, rounded up): the earliest is the best.
            self.reset_at = min(self.reset_at, reset_at)
            self.remaining = min(self.remaining, seen)
        self.sent += 1
        mine = self.sent + self.in_flight  # an upper bound of this process's requests the window counted
        counted = mine + 1 if limits.limit is None else limits.limit - limits.remaining
        if limits.remaining <= 0:
            return  # a spent window (a 429) counts no further: it says nothing of who else sends
        # More counted than this process ever sent in the window: others share it.  The first answer
        # of a window says little (who probed first), so the last window's estimate holds for it.
        estimate = max(counted / mine, 1.0)
        self.sharers = max(estimate, self.sharers_before) if self.sent <= 1 else estimate


def _spread(period: float, random: Callable[[], float]) -> float:
    """A random delay past a window's reset, so that workers waiting for it do not all go at once."""
    return random() * min(MAX_JITTER, JITTER * period)


class _Headers:
    __slots__ = ("name", "limit", "period", "remaining", "reset")

    def __init__(self, name: str, limit: int | None, period: float, remaining: int, reset: float) -> None:
        self.name, self.limit, self.period, self.remaining, self.reset = name, limit, period, remaining, reset


def _number(headers: Mapping[str, str], name: str) -> float | None:
    raw = headers.get(name)
    if raw is None:
        return None
    try:
        value = float(raw.strip())
    except ValueError:
        return None
    return value if math.isfinite(value) and value >= 0 else None


def parse(headers: Mapping[str, str]) -> _Headers | None:
    """The rate-limit headers of an answer, or None when ``-Remaining`` or ``-Reset`` is missing or not a number."""
    remaining = _number(headers, "x-ratelimit-remaining")
    reset = _number(headers, "x-ratelimit-reset")
    if remaining is None or reset is None:
        return None
    period = _number(headers, "x-ratelimit-period") or reset
    limit = _number(headers, "x-ratelimit-limit")
    name = (headers.get("x-ratelimit-name") or "default").strip()[:200] or "default"
    return _Headers(name, None if limit is None else int(limit), period, int(remaining), reset)


class Scope:
    """The budgets of one server and one set of credentials: which limit each operation counts against, and each limit's window."""

    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.names: dict[str, str] = {}  # action id -> limit name
        self.probes: dict[str, float] = {}  # action id -> since when its first request is in flight
        self.budgets: dict[str, _Budget] = {}

    def reserve(self, action: str, now: float, random: Callable[[], float]) -> tuple[float, str | None, bool]:
        """``(0.0, limit, False)`` when a request for *action* may go now, else ``(seconds to wait, None, spent)``.

        *limit* is what the reservation was counted against (None: nothing), to hand back to
        ``observe``/``release``; *spent* says the wait is for a spent budget's reset (not pacing).
        """
        with self.lock:
            name = self.names.get(action)
            if name == _UNLIMITED:
                return 0.0, None, False
            if name is None:
                since = self.probes.get(action)
                if since is not None and now - since < PROBE_HOLD:
                    return POLL, None, False
                self.probes[action] = now
                return 0.0, None, False
            budget = self.budgets[name]
            wait = budget.reserve(now, random)
            return (wait, None, budget.reset_at is not None and budget.remaining <= 0) if wait > 0 else (0.0, name, False)

    def observe(self, action: str, reserved: str | None, headers: Mapping[str, str], now: float) -> None:
        """Fold the answer to a request reserved as *reserved* into the budgets."""
        limits = parse(headers)
        with self.lock:
            self._release(action, reserved)
            if limits is None:
                self.names.setdefault(action, _UNLIMITED)  # a header-less error never hides a known limit
                return
            self.names[action] = limits.name
            budget = self.budgets.get(limits.name)
            if budget is None:
                budget = self.budgets[limits.name] = _Budget()
            budget.observe(now, limits)

    def release(self, action: str, reserved: str | None) -> None:
        """Hand back a reservation whose request got no answer (a network failure)."""
        with self.lock:
            self._release(action, reserved)

    def _release(self, action: str, reserved: str | None) -> None:
        self.probes.pop(action, None)
        budget = self.budgets.get(reserved) if reserved is not None else None
        if budget is not None:
            budget.in_flight = max(budget.in_flight - 1, 0)
            budget.probe_since = None


def identity(auth_headers: Mapping[str, str]) -> str:
    """A digest of the credential headers: tells credentials apart without holding them."""
    digest = hashlib.sha256()
    for name, value in sorted(auth_headers.items()):
        digest.update(f"{name.lower()}\0{value}\0".encode("utf-8"))
    return digest.hexdigest()[:32]


_SCOPES: "OrderedDict[tuple[Hashable, ...], Scope]" = OrderedDict()
_LOCK = threading.Lock()


def scope_for(url: str, auth_headers: Mapping[str, str], clock: Any) -> Scope:
    """The process-wide scope of *url* and the credentials in *auth_headers* (per clock: times on two clocks don't mix)."""
    key = (url.rstrip("/").lower(), identity(auth_headers), clock)
    with _LOCK:
        scope = _SCOPES.get(key)
        if scope is None:
            scope = _SCOPES[key] = Scope()
            while len(_SCOPES) > MAX_SCOPES:
                _SCOPES.popitem(last=False)
        else:
            _SCOPES.move_to_end(key)
        return scope


def reset() -> None:
    """Forget every budget (tests)."""
    with _LOCK:
        _SCOPES.clear()


def _after_fork() -> None:
    # A thread of the parent may have held a lock at the fork: the child starts with fresh ones.
    # The windows stay (they are the organisation's, still true in the child); the parent's
    # requests in flight are not the child's: none of their answers will come here.
    global _LOCK
    _LOCK = threading.Lock()
    for scope in _SCOPES.values():
        scope.lock = threading.Lock()
        scope.probes.clear()
        for budget in scope.budgets.values():
            budget.in_flight, budget.probe_since = 0, None


if hasattr(os, "register_at_fork"):
    os.register_at_fork(after_in_child=_after_fork)
