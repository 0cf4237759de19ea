"""Faults over real loopback sockets: the documented outcome, the promised attempts, the deadline, no duplicates.

Waits go through an injected clock and sleep (FakeTime), so the suite checks
the exact waits the headers and the backoff ask for without sleeping them.
"""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import (
    RateLimitedError,
    ServerError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
)
from datadog_case_actions.runtime.ratelimit import MAX_JITTER
from datadog_case_actions.sandbox import Faults, Sandbox, start_server_in_thread

from .scripted import ScriptedServer

CREATE = {"title": "Disk full", "type_id": "00000000-0000-0000-0000-000000000001",
          "project_id": "00000000-0000-0000-0000-000000000002"}
GET = {"case_id": "OPS-1"}
OK = ("json", 200, {"data": {"id": "ok", "type": "case"}}, {})


class FakeTime:
    def __init__(self) -> None:
        self.now = 0.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(round(seconds, 3))
        self.now += seconds


def runner(url: str, fake: FakeTime, retry: RetryPolicy | None = None, timeout: float = 5.0) -> Runner:
    conn = Connection(api_key="k", app_key="a", base_url=url, timeout=timeout,
                      retry=retry or RetryPolicy(backoff_base=0.5))
    return Runner(conn, clock=fake.clock, sleep=fake.sleep, random=lambda: 1.0)


def test_a_burst_of_429_waits_what_each_answer_says() -> None:
    script = [("json", 429, {"errors": ["Too many requests"]}, {"X-RateLimit-Limit": "10", "X-RateLimit-Period": "60",
                                                                 "X-RateLimit-Remaining": "0", "X-RateLimit-Reset": r})
              for r in ("2", "1", "3")]
    fake = FakeTime()
    with ScriptedServer([*script, OK]) as server, runner(server.url, fake) as r:
        assert r.run("create_case", CREATE)["data"]["id"] == "ok"
    assert fake.waits == [2.0, 1.0, 3.0] and len(server.requests) == 4


def test_429_beyond_the_attempts_is_raised_with_its_retry_after() -> None:
    limited = ("json", 429, {"errors": ["Too many requests"]}, {"X-RateLimit-Reset": "1"})
    fake = FakeTime()
    with ScriptedServer([], default=limited) as server, runner(server.url, fake) as r:
        with pytest.raises(RateLimitedError, match="after 4 attempts") as info:
            r.run("get_case", GET)
    assert len(server.requests) == 4 and fake.waits == [1.0, 1.0, 1.0] and info.value.retry_after == 1.0


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_retried_with_backoff_for_reads(status: int) -> None:
    failure = ("json", status, {"errors": [{"status": str(status), "title": "Server Error"}]}, {})
    fake = FakeTime()
    with ScriptedServer([failure, failure, failure, OK]) as server, runner(server.url, fake) as r:
        assert r.run("get_case", GET)["data"]["id"] == "ok"
    assert len(server.requests) == 4 and fake.waits == [0.5, 1.0, 2.0]


@pytest.mark.parametrize("status", [500, 502, 503, 504])
def test_5xx_never_retried_for_a_create(status: int) -> None:
    failure = ("json", status, {"errors": ["boom"]}, {})
    fake = FakeTime()
    with ScriptedServer([failure, OK]) as server, runner(server.url, fake) as r:
        with pytest.raises(ServerError) as info:
            r.run("create_case", CREATE)
    assert len(server.requests) == 1 and info.value.status == status and fake.waits == []


def test_an_html_502_page_is_a_server_error_with_its_text() -> None:
    page = b"<html><body><h1>502 Bad Gateway</h1></body></html>"
    html = ("raw", b"HTTP/1.1 502 Bad Gateway\r\nContent-Type: text/html\r\nConnection: close\r\n"
                   b"Content-Length: %d\r\n\r\n%s"
            % (len(page), page))
    fake = FakeTime()
    with ScriptedServer([html], default=html) as server, runner(server.url, fake, RetryPolicy(max_attempts=2)) as r:
        with pytest.raises(ServerError, match="502 Bad Gateway") as info:
            r.run("get_case", GET)
    assert info.value.status == 502 and len(server.requests) == 2


def test_read_timeout_retried_for_a_read_not_for_a_create() -> None:
    fake = FakeTime()
    with ScriptedServer([("stall",), OK]) as server, runner(server.url, fake, timeout=0.3) as r:
        assert r.run("get_case", GET)["data"]["id"] == "ok"
    assert len(server.requests) == 2
    with ScriptedServer([("stall",), OK]) as server, runner(server.url, fake, timeout=0.3) as r:
        with pytest.raises(TimeoutError, match="may have been applied"):
            r.run("create_case", CREATE)
    assert len(server.requests) == 1


def test_connection_reset_mid_body() -> None:
    fake = FakeTime()
    with ScriptedServer([("reset_mid_body",), OK]) as server, runner(server.url, fake) as r:
        assert r.run("get_case", GET)["data"]["id"] == "ok"
    assert len(server.requests) == 2
    with ScriptedServer([("reset_mid_body",), OK]) as server, runner(server.url, fake) as r:
        with pytest.raises(TransportError):
            r.run("create_case", CREATE)
    assert len(server.requests) == 1


def test_malformed_json_with_a_200_is_an_unexpected_response_not_a_crash() -> None:
    fake = FakeTime()
    with ScriptedServer([("json", 200, b'{"data": {"id": ', {})]) as server, runner(server.url, fake) as r:
        with pytest.raises(UnexpectedResponseError, match="not JSON"):
            r.run("get_case", GET)
    assert len(server.requests) == 1


def test_an_empty_200_is_an_empty_result() -> None:
    fake = FakeTime()
    with ScriptedServer([("json", 200, b"", {})]) as server, runner(server.url, fake) as r:
        assert r.run("get_case", GET) == {}


def test_a_huge_body_is_read_whole() -> None:
    items = [{"id": f"c{i}", "type": "case", "attributes": {"title": "x" * 200}} for i in range(50_000)]
    fake = FakeTime()
    with ScriptedServer([("json", 200, {"data": items}, {})]) as server, runner(server.url, fake) as r:
        result = r.run("search_cases", {})
    assert len(result["data"]) == 50_000 and result["data"][-1]["id"] == "c49999"


def test_the_deadline_bounds_the_whole_call() -> None:
    limited = ("json", 429, {"errors": ["slow down"]}, {"X-RateLimit-Reset": "50"})
    fake = FakeTime()
    retry = RetryPolicy(max_attempts=10, deadline=120)
    with ScriptedServer([], default=limited) as server, runner(server.url, fake, retry) as r:
        with pytest.raises(TimeoutError, match="120s deadline"):
            r.run("get_case", GET)
    assert fake.waits == [50.0, 50.0] and fake.now <= 120 and len(server.requests) == 3


# -- a create is applied exactly once ----------------------------------------------------------------


def _sandbox_with_project(faults: Faults | None = None) -> tuple[Sandbox, str]:
    sandbox = Sandbox(":memory:", faults=faults)
    project = sandbox.runner().run("create_project", {"key": "OPS", "name": "Ops"})["data"]["id"]
    return sandbox, project


def _case_count(sandbox: Sandbox) -> int:
    return len(sandbox.runner().run("search_cases", {"page_size": 100})["data"])


def test_a_create_whose_answer_is_lost_is_not_retried_and_exists_once() -> None:
    sandbox, project = _sandbox_with_project()
    sandbox.set_faults(drop_next=1, fail_after_apply=True, operations=["CreateCase"])
    server, url = start_server_in_thread(sandbox)
    fake = FakeTime()
    try:
        with runner(url, fake) as r, pytest.raises(TransportError, match="may have been applied"):
            r.run("create_case", {**CREATE, "project_id": project})
    finally:
        server.stop()
    sandbox.clear_faults()
    assert _case_count(sandbox) == 1
    sandbox.close()


class RefuseFirst(httpx.BaseTransport):
    """The first connection attempt is refused (nothing sent); later ones reach the real server."""

    def __init__(self) -> None:
        self.inner = httpx.HTTPTransport()
        self.refused = 0

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        if not self.refused:
            self.refused += 1
            raise httpx.ConnectError("[Errno 111] Connection refused", request=request)
        return self.inner.handle_request(request)

    def close(self) -> None:
        self.inner.close()


def test_a_create_that_never_left_is_retried_and_exists_once() -> None:
    sandbox, project = _sandbox_with_project()
    server, url = start_server_in_thread(sandbox)
    fake = FakeTime()
    refuse = RefuseFirst()
    try:
        conn = Connection(api_key="k", app_key="a", base_url=url)
        with Runner(conn, httpx_transport=refuse, clock=fake.clock, sleep=fake.sleep) as r:
            r.run("create_case", {**CREATE, "project_id": project})
    finally:
        server.stop()
    assert refuse.refused == 1 and len(fake.waits) == 1
    assert _case_count(sandbox) == 1
    sandbox.close()


def test_a_create_refused_with_503_is_not_applied_nor_retried() -> None:
    sandbox, project = _sandbox_with_project()
    sandbox.set_faults(fail_next=1, error_status=503)
    server, url = start_server_in_thread(sandbox)
    fake = FakeTime()
    try:
        with runner(url, fake) as r, pytest.raises(ServerError):
            r.run("create_case", {**CREATE, "project_id": project})
    finally:
        server.stop()
    assert _case_count(sandbox) == 0 and fake.waits == []
    sandbox.close()


def test_rate_limited_creates_all_land_exactly_once() -> None:
    """The sandbox's own rate limiter (real X-RateLimit-* headers): every create lands once."""
    sandbox, project = _sandbox_with_project()
    sandbox.faults = Faults(rate_limit=3, rate_period=60)
    server, url = start_server_in_thread(sandbox)
    fake = FakeTime()
    created: list[Any] = []
    try:
        with runner(url, fake, RetryPolicy(max_attempts=3, max_rate_limit_wait=120, deadline=None)) as r:
            for i in range(3):
                created.append(r.run("create_case", {**CREATE, "project_id": project, "title": f"t{i}"}))
            with pytest.raises(RateLimitedError) as info:  # the fourth waits, but the fake clock never resets it
                r.run("create_case", {**CREATE, "project_id": project, "title": "t3"})
    finally:
        server.stop()
    assert info.value.headers["x-ratelimit-limit"] == "3" and 0 < info.value.retry_after <= 60
    # The fourth first waits for the spent budget's reset (plus at most the jitter) without sending,
    # then is sent and answered 429 until its attempts run out (deadline=None: 429s count).
    assert len(fake.waits) == 3 and 0 < fake.waits[0] <= 60 + MAX_JITTER
    assert all(0 < w <= 60 for w in fake.waits[1:])
    sandbox.clear_faults()
    assert _case_count(sandbox) == 3 and json.dumps(created).count('"title"') >= 3
    sandbox.close()


# -- the same promises on the async path (runtime/aionet.py) -------------------------------------------


def _arun(url: str, fake: FakeTime, action: str, inputs: dict[str, Any], timeout: float = 5.0) -> Any:
    import asyncio

    async def sleep(seconds: float) -> None:
        fake.sleep(seconds)

    async def go() -> Any:
        conn = Connection(api_key="k", app_key="a", base_url=url, timeout=timeout, retry=RetryPolicy(backoff_base=0.5))
        async with Runner(conn, clock=fake.clock, async_sleep=sleep, random=lambda: 1.0) as r:
            return await r.arun(action, inputs)

    return asyncio.run(go())


def test_async_reset_mid_body_retried_for_a_read_never_for_a_create() -> None:
    fake = FakeTime()
    with ScriptedServer([("reset_mid_body",), OK]) as server:
        assert _arun(server.url, fake, "get_case", GET)["data"]["id"] == "ok"
    assert len(server.requests) == 2
    with ScriptedServer([("reset_mid_body",), OK]) as server:
        with pytest.raises(TransportError) as info:
            _arun(server.url, fake, "create_case", CREATE)
    assert len(server.requests) == 1 and info.value.sent is not False


def test_async_server_hanging_up_is_not_mistaken_for_a_connect_failure() -> None:
    fake = FakeTime()
    with ScriptedServer([("close",), OK]) as server:
        with pytest.raises(TransportError, match="may have been applied"):
            _arun(server.url, fake, "create_case", CREATE)
    assert len(server.requests) == 1


def test_async_read_timeout_on_a_create_is_not_retried() -> None:
    fake = FakeTime()
    with ScriptedServer([("stall",), OK]) as server:
        with pytest.raises(TransportError):
            _arun(server.url, fake, "create_case", CREATE, timeout=0.3)
    assert len(server.requests) == 1


def test_async_connection_refused_is_retried_even_for_a_create() -> None:
    import socket

    with socket.socket() as probe:  # a port nobody listens on
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    fake = FakeTime()
    with pytest.raises(TransportError) as info:
        _arun(f"http://127.0.0.1:{port}", fake, "create_case", CREATE)
    assert info.value.sent is False and "after 4 attempts" in str(info.value) and len(fake.waits) == 3


def test_the_orchestrators_retry_rule() -> None:
    """Airflow and Prefect retry a whole task only when that cannot make a second case."""
    from datadog_case_actions.runtime.errors import InputError, NotFoundError, safe_to_retry

    server = ServerError("HTTP 503", status=503)
    limited = RateLimitedError("HTTP 429", status=429)
    never_left = TransportError("refused", sent=False)
    maybe_left = TimeoutError("read timeout", sent=None)
    assert all(safe_to_retry(e, idempotent=True) for e in (server, limited, never_left, maybe_left))
    assert [safe_to_retry(e, idempotent=False) for e in (server, limited, never_left, maybe_left)] == [
        False, True, True, False]
    assert not safe_to_retry(InputError([]), idempotent=True)
    assert not safe_to_retry(NotFoundError("HTTP 404", status=404), idempotent=True)
    assert not safe_to_retry(ValueError("not ours"), idempotent=True)
