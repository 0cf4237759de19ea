"""Many workers, one rate limit: the shared budget, bounded concurrency, jitter, fail-fast and the deadline.

Behaviour over real loopback sockets against ``WindowedServer`` (a Datadog-style
fixed window that counts every request); the budget's arithmetic on its own
with a fake clock.
"""

from __future__ import annotations

import asyncio
import os
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from typing import Any

import pytest

from datadog_case_actions import CaseManagement, Connection, RetryPolicy, Runner
from datadog_case_actions.client import AsyncCaseManagement
from datadog_case_actions.runtime import ratelimit
from datadog_case_actions.runtime.errors import ConfigurationError, RateLimitedError, TimeoutError
from datadog_case_actions.runtime.runner import DEFAULT_ASYNC_CONCURRENCY

from .scripted import ScriptedServer
from .windowed import WindowedServer

GET = {"case_id": "OPS-1"}
CREATE = {"type_id": "00000000-0000-0000-0000-000000000001", "project_id": "00000000-0000-0000-0000-000000000002"}


@pytest.fixture(autouse=True)
def _fresh_budgets() -> Any:
    ratelimit.reset()
    yield
    ratelimit.reset()


def conn(url: str, key: str = "key-one", **retry: Any) -> Connection:
    return Connection(api_key=key, app_key="app", base_url=url, retry=RetryPolicy(**retry) if retry else None)


def spent(remaining: int = 0, reset: str = "10", period: str = "10") -> dict[str, str]:
    return {"x-ratelimit-limit": "10", "x-ratelimit-period": period, "x-ratelimit-remaining": str(remaining),
            "x-ratelimit-reset": reset, "x-ratelimit-name": "cases"}


# -- one budget per server, credentials and limit name, shared by the whole process ---------------------


def test_runners_with_the_same_credentials_share_one_budget_and_other_credentials_do_not() -> None:
    url = "http://127.0.0.1:9"
    a, b = Runner(conn(url)), Runner(conn(url))
    other_key, other_server = Runner(conn(url, key="key-two")), Runner(conn("http://127.0.0.1:10"))
    assert a.transport.rate_scope is b.transport.rate_scope
    assert other_key.transport.rate_scope is not a.transport.rate_scope
    assert other_server.transport.rate_scope is not a.transport.rate_scope
    identity = ratelimit.identity(a.connection.auth_headers())
    assert "key-one" not in identity and len(identity) == 32  # a digest, never the key


def test_many_threads_over_several_runners_stay_within_the_window_without_a_429() -> None:
    """12 threads over 3 runners, 36 calls against 10 per second: the budget of the first answers holds them back."""
    with WindowedServer(limit=10, period=1.0) as server:
        runners = [Runner(conn(server.url)) for _ in range(3)]

        def call(i: int) -> Any:
            return runners[i % 3].run("get_case", GET)

        with ThreadPoolExecutor(12) as pool:
            results = list(pool.map(call, range(36)))
        for runner in runners:
            runner.close()
    assert len(results) == 36 and server.requests == 36
    assert server.limited == 0, server.limited_at


def test_a_budget_spent_by_one_key_does_not_hold_back_another() -> None:
    with WindowedServer(limit=2, period=5.0) as server:
        with Runner(conn(server.url, key="key-one")) as one, Runner(conn(server.url, key="key-two")) as two:
            one.run("get_case", GET)
            one.run("get_case", GET)  # key-one's window is spent now
            started = time.monotonic()
            two.run("get_case", GET)
            assert time.monotonic() - started < 1.0  # key-two has its own window: no wait for key-one's reset
    assert server.limited == 0


def test_the_first_request_of_an_operation_goes_alone() -> None:
    """Before the first answer the budget is unknown: one request probes it, the others wait for its answer."""
    with WindowedServer(limit=100, period=10.0, latency=0.05) as server, Runner(conn(server.url)) as runner:
        with ThreadPoolExecutor(6) as pool:
            list(pool.map(lambda _: runner.run("get_case", GET), range(6)))
    spans = sorted(server.spans)
    first_answered = spans[0][1]
    assert all(arrived >= first_answered for arrived, _ in spans[1:])


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_forked_child_does_not_wait_for_the_parents_requests_in_flight() -> None:
    scope = ratelimit.scope_for("http://127.0.0.1:9", {"DD-API-KEY": "k"}, time.monotonic)
    assert scope.reserve("get_case", time.monotonic(), lambda: 0.0)[0] == 0.0  # the parent's probe, in flight
    pid = os.fork()
    if pid == 0:  # the child: its own first request probes at once, no wait for the parent's answer
        wait = scope.reserve("get_case", time.monotonic(), lambda: 0.0)[0]
        os._exit(0 if wait == 0.0 else 1)
    _, status = os.waitpid(pid, 0)
    assert os.WEXITSTATUS(status) == 0
    assert scope.reserve("get_case", time.monotonic(), lambda: 0.0)[0] == ratelimit.POLL  # the parent still waits


# -- bounded concurrency -----------------------------------------------------------------------------------


def test_an_async_gather_of_200_creates_is_bounded_and_every_case_lands_once() -> None:
    with WindowedServer(limit=10_000, period=60.0, latency=0.01) as server:
        async def go() -> list[Any]:
            async with Runner(conn(server.url), max_concurrency=5) as runner:
                return await asyncio.gather(*(runner.arun("create_case", {**CREATE, "title": f"case-{i:03d}"})
                                              for i in range(200)))

        results = asyncio.run(go())
    assert len(results) == 200 and 2 <= server.most_in_flight <= 5
    assert sorted(server.titles) == [f"case-{i:03d}" for i in range(200)]  # none lost, none duplicated


def test_async_calls_are_bounded_by_default() -> None:
    # each answer takes 0.2 s, long enough for the bound to fill even on a loaded machine
    with WindowedServer(limit=10_000, period=60.0, latency=0.2) as server:
        async def go() -> None:
            async with Runner(conn(server.url)) as runner:
                await asyncio.gather(*(runner.arun("get_case", GET) for _ in range(80)))

        asyncio.run(go())
    assert DEFAULT_ASYNC_CONCURRENCY // 2 < server.most_in_flight <= DEFAULT_ASYNC_CONCURRENCY


def test_sync_threads_and_tasks_of_two_loops_share_one_bound() -> None:
    # answers take 0.2 s, so the bound fills even on a loaded machine (it failed once at 0.02 s under load)
    with WindowedServer(limit=10_000, period=60.0, latency=0.2) as server, \
            Runner(conn(server.url), max_concurrency=3) as runner:
        def loop_of_tasks() -> None:
            async def go() -> None:
                await asyncio.gather(*(runner.arun("get_case", GET) for _ in range(10)))

            asyncio.run(go())

        threads = [threading.Thread(target=loop_of_tasks) for _ in range(2)]
        threads += [threading.Thread(target=lambda: [runner.run("get_case", GET) for _ in range(5)]) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(30)
    assert server.requests == 40 and server.most_in_flight == 3


def test_a_cancelled_waiter_does_not_lose_a_slot() -> None:
    with WindowedServer(limit=10_000, period=60.0, latency=0.05) as server:
        async def go() -> None:
            async with Runner(conn(server.url), max_concurrency=1) as runner:
                first = asyncio.create_task(runner.arun("get_case", GET))
                waiting = asyncio.create_task(runner.arun("get_case", GET))
                await asyncio.sleep(0.01)
                waiting.cancel()
                await first
                await asyncio.wait_for(runner.arun("get_case", GET), 5)  # the slot came back

        asyncio.run(go())
    assert server.requests == 2


def test_the_facade_passes_max_concurrency_to_its_runner() -> None:
    client = CaseManagement(conn("http://127.0.0.1:9"), max_concurrency=4)
    assert client.runner.max_concurrency == 4
    assert AsyncCaseManagement(conn("http://127.0.0.1:9"), max_concurrency=2).runner.max_concurrency == 2
    with pytest.raises(ConfigurationError, match="Runner passed in"):
        CaseManagement(Runner(conn("http://127.0.0.1:9")), max_concurrency=4)
    with pytest.raises(ConfigurationError, match="positive"):
        Runner(conn("http://127.0.0.1:9"), max_concurrency=0)


# -- the budget's arithmetic: jitter, pacing --------------------------------------------------------------


@pytest.mark.parametrize("period, most", [("10", 1.0), ("2", 0.2), ("60", ratelimit.MAX_JITTER)])
def test_the_wait_for_a_reset_is_jittered_within_its_bound(period: str, most: float) -> None:
    waits = []
    for draw in (0.0, 0.5, 1.0):
        scope = ratelimit.Scope()
        assert scope.reserve("get_case", 0.0, lambda: draw) == (0.0, None, False)  # the probe
        scope.observe("get_case", None, spent(reset="10", period=period), 0.0)
        wait, reserved, is_spent = scope.reserve("get_case", 0.0, lambda: draw)
        assert reserved is None and is_spent
        waits.append(wait)
    assert waits == [10.0, 10.0 + most * 0.5, 10.0 + most]


def test_a_lone_process_is_not_paced_but_a_shared_window_is() -> None:
    scope = ratelimit.Scope()
    scope.reserve("get_case", 0.0, lambda: 0.0)
    scope.observe("get_case", None, spent(remaining=9, reset="10"), 0.0)  # only this process's request counted
    assert [scope.reserve("get_case", 0.0, lambda: 0.0)[0] for _ in range(9)] == [0.0] * 9
    assert scope.reserve("get_case", 0.0, lambda: 0.0)[0] == 10.0  # spent: the reset

    shared = ratelimit.Scope()
    shared.reserve("get_case", 0.0, lambda: 0.0)
    shared.observe("get_case", None, spent(remaining=6, reset="10"), 0.0)  # 4 counted, 1 of them ours
    assert shared.reserve("get_case", 0.0, lambda: 0.0) == (0.0, "cases", False)
    wait = shared.reserve("get_case", 0.0, lambda: 0.0)[0]
    # This process's quarter of what is left (bar the window's last request), over the time left.
    assert wait == pytest.approx(10.0 * 4 / (6 - 1))


# -- fail fast, and the deadline ---------------------------------------------------------------------------


def test_a_429_beyond_max_rate_limit_wait_fails_fast_with_retry_after() -> None:
    with WindowedServer(limit=0, period=120.0) as server, Runner(conn(server.url, max_rate_limit_wait=60)) as r:
        started = time.monotonic()
        with pytest.raises(RateLimitedError) as info:
            r.run("create_case", {**CREATE, "title": "t"})
        assert info.value.retry_after == 120 and server.requests == 1
        with pytest.raises(RateLimitedError) as again:  # the budget knows now: not even sent
            r.run("create_case", {**CREATE, "title": "t"})
        assert again.value.retry_after is not None and 100 < again.value.retry_after <= 121
        assert server.requests == 1 and time.monotonic() - started < 2


@pytest.mark.parametrize("path", ["sync", "async"])
def test_the_deadline_bounds_the_wait_for_the_budget(path: str) -> None:
    with WindowedServer(limit=1, period=30.0) as server, \
            Runner(conn(server.url, deadline=1.0, max_rate_limit_wait=60)) as r:
        r.run("get_case", GET)  # spends the window: the next would wait about 30 s
        started = time.monotonic()
        with pytest.raises(TimeoutError, match="waiting .* for the rate limit") as info:
            if path == "sync":
                r.run("get_case", GET)
            else:
                asyncio.run(r.arun("get_case", GET))
        assert time.monotonic() - started < 0.5 and info.value.sent is False and server.requests == 1


def test_429s_with_the_budget_headers_wait_within_the_deadline_not_max_attempts() -> None:
    limited = ("json", 429, {"errors": ["Too many requests"]},
               {"X-RateLimit-Limit": "10", "X-RateLimit-Period": "1", "X-RateLimit-Remaining": "0",
                "X-RateLimit-Reset": "1", "X-RateLimit-Name": "cases"})
    waits: list[float] = []
    now = [0.0]

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        now[0] += seconds

    with ScriptedServer([limited] * 5) as server:
        with Runner(conn(server.url, max_attempts=2, deadline=60), clock=lambda: now[0], sleep=sleep,
                    random=lambda: 0.0) as r:
            assert r.run("create_case", {**CREATE, "title": "t"})["data"]["id"] == "ok"
        assert len(server.requests) == 6 and sum(waits) >= 5.0

    with ScriptedServer([limited] * 5) as server:  # no deadline to bound them: they count
        with Runner(conn(server.url, max_attempts=2, deadline=None), clock=lambda: now[0], sleep=sleep,
                    random=lambda: 0.0) as r:
            with pytest.raises(RateLimitedError, match="after 2 attempts"):
                r.run("create_case", {**CREATE, "title": "t"})
        assert len(server.requests) == 2
