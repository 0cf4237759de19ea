"""The doors' rate-limit waits (adapters/_pacing): a 429 is waited out within the bounds, never shorter than asked."""

from __future__ import annotations

import asyncio
from typing import Any

import pytest

from datadog_case_actions.adapters._pacing import (
    acall_through_rate_limits,
    call_through_rate_limits,
    door_connection,
    path_target,
    pause,
)
from datadog_case_actions.runtime.connection import Connection, RetryPolicy
from datadog_case_actions.runtime.errors import RateLimitedError, ServerError


def _limited(retry_after: float | None, period: str | None = None) -> RateLimitedError:
    headers = {"X-RateLimit-Period": period} if period is not None else {}
    return RateLimitedError("HTTP 429", retry_after=retry_after, headers=headers)


@pytest.mark.parametrize(("retry_after", "period", "spread"), [
    (3.0, "10", 2.0),     # a quarter of the period, capped at 2 s
    (3.0, "2", 0.5),      # a quarter of a short period
    (None, None, 0.25),   # the API did not say: 1 s, spread over a quarter of it
    (0.0, "bogus", 0.0),  # an unreadable period: a quarter of the wait itself
])
def test_pause_is_what_the_api_asked_plus_a_bounded_spread(retry_after: float | None, period: str | None,
                                                           spread: float) -> None:
    asked = 1.0 if retry_after is None else retry_after
    assert pause(_limited(retry_after, period), rng=lambda: 0.0) == asked
    assert pause(_limited(retry_after, period), rng=lambda: 1.0) == pytest.approx(asked + spread)


class _Script:
    """A call that raises the scripted errors in turn, then returns "done"; sleeps are recorded, not slept."""

    def __init__(self, *errors: BaseException) -> None:
        self.errors = list(errors)
        self.calls = 0
        self.slept: list[float] = []

    def __call__(self) -> str:
        self.calls += 1
        if self.errors:
            raise self.errors.pop(0)
        return "done"

    async def acall(self) -> str:
        return self()

    def sleep(self, seconds: float) -> None:
        self.slept.append(seconds)

    async def asleep(self, seconds: float) -> None:
        self.slept.append(seconds)


def _through(script: _Script, asynchronous: bool, **bounds: Any) -> str:
    if asynchronous:
        return asyncio.run(acall_through_rate_limits(script.acall, what="x", sleep=script.asleep, rng=lambda: 0.0,
                                                     **bounds))
    return call_through_rate_limits(script, what="x", sleep=script.sleep, rng=lambda: 0.0, **bounds)


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_waits_within_the_bounds_then_calls_again(asynchronous: bool) -> None:
    script = _Script(_limited(2.0), _limited(3.0))
    assert _through(script, asynchronous, max_wait=5, deadline=60) == "done"
    assert script.calls == 3 and script.slept == [2.0, 3.0]


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_a_wait_beyond_max_wait_or_the_deadline_is_raised(asynchronous: bool) -> None:
    script = _Script(_limited(6.0))
    with pytest.raises(RateLimitedError):
        _through(script, asynchronous, max_wait=5, deadline=60)
    assert script.calls == 1 and script.slept == []

    script = _Script(_limited(4.0), _limited(4.0), _limited(4.0))
    with pytest.raises(RateLimitedError):
        _through(script, asynchronous, max_wait=5, deadline=10)
    assert script.slept == [4.0, 4.0]  # a third wait would pass the 10 s deadline


@pytest.mark.parametrize("asynchronous", [False, True], ids=["sync", "async"])
def test_other_errors_are_not_waited_on(asynchronous: bool) -> None:
    script = _Script(ServerError("HTTP 503"))
    with pytest.raises(ServerError):
        _through(script, asynchronous, max_wait=5, deadline=60)
    assert script.calls == 1 and script.slept == []


def test_path_target_names_the_case() -> None:
    manifest = {"request": {"path": ["case_id"]}}
    assert path_target(manifest, {"case_id": "OPS-1", "comment": "hi"}) == " [case_id=OPS-1]"
    assert path_target({"request": {"path": []}}, {"title": "t"}) == ""


def test_the_door_connection_hands_every_429_to_the_door() -> None:
    connection = Connection(api_key="k", app_key="a", retry=RetryPolicy(max_attempts=3, deadline=50))
    door = door_connection(connection)
    assert door.retry.max_rate_limit_wait == 0
    assert (door.retry.max_attempts, door.retry.deadline, door.api_key) == (3, 50, connection.api_key)
    assert door_connection(door) is door
