"""The transport: what is retried, how long it waits, what is raised, and what never leaks.

Waits are observed through injected ``sleep``/``clock`` functions, so these
tests run in milliseconds; one test uses a real loopback server to show the
429 wait happens for real.
"""

from __future__ import annotations

import asyncio
import email.utils
import json
import logging
import time
from typing import Any

import httpx
import pytest

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime import transport as transport_module
from datadog_case_actions.runtime.errors import (
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TimeoutError,
    TransportError,
    UnexpectedResponseError,
)
from datadog_case_actions.runtime.runner import prepare
from datadog_case_actions.runtime.transport import Transport

KEY = "SENTINEL-API-KEY-TRANSPORT-1"
APP = "SENTINEL-APP-KEY-TRANSPORT-2"
GET_CASE = prepare("get_case", {"case_id": "OPS-1"})  # idempotent
CREATE_CASE = prepare("create_case", {"title": "Disk full", "type_id": "00000000-0000-0000-0000-000000000001",
                                      "project_id": "00000000-0000-0000-0000-000000000002"})  # not idempotent


class Script:
    """Answers requests from a list: httpx.Response objects or exceptions to raise."""

    def __init__(self, *answers: Any) -> None:
        self.answers = list(answers)
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        answer = self.answers.pop(0) if len(self.answers) > 1 else self.answers[0]
        if isinstance(answer, Exception):
            raise answer
        return answer


class FakeTime:
    """A clock that only moves when slept on."""

    def __init__(self) -> None:
        self.now = 1000.0
        self.waits: list[float] = []

    def clock(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.waits.append(seconds)
        self.now += seconds

    async def async_sleep(self, seconds: float) -> None:
        self.sleep(seconds)


def make(script: Script, retry: RetryPolicy | None = None, **connection: Any) -> tuple[Transport, FakeTime]:
    fake = FakeTime()
    conn = Connection(api_key=KEY, app_key=APP, retry=retry or RetryPolicy(), **connection)
    mock = httpx.MockTransport(script)
    return Transport(conn, httpx_transport=mock, async_httpx_transport=mock, clock=fake.clock, sleep=fake.sleep,
                     async_sleep=fake.async_sleep, random=lambda: 1.0), fake


def ok(body: Any = None, status: int = 200, **kw: Any) -> httpx.Response:
    return httpx.Response(status, json={"data": {"id": "x"}} if body is None else body, **kw)


def test_request_shape_headers_and_body() -> None:
    script = Script(ok(status=201))
    transport, _ = make(script)
    response = transport.send(CREATE_CASE)
    sent = script.requests[0]
    assert response.status == 201 and response.attempts == 1 and response.data == {"data": {"id": "x"}}
    assert sent.method == "POST" and str(sent.url) == "https://api.datadoghq.com/api/v2/cases"
    assert sent.headers["DD-API-KEY"] == KEY and sent.headers["DD-APPLICATION-KEY"] == APP
    assert sent.headers["Content-Type"] == "application/json" and sent.headers["Accept"] == "application/json"
    assert sent.headers["User-Agent"].startswith("datadog-case-actions/")
    assert json.loads(sent.content)["data"]["relationships"]["project"]["data"]["type"] == "project"


def test_429_waits_what_x_ratelimit_reset_asks_then_succeeds_even_for_a_post() -> None:
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": "3", "Retry-After": "9"},
                                   json={"errors": ["Too many requests"]}), ok())
    transport, fake = make(script)
    response = transport.send(CREATE_CASE)
    assert fake.waits == [3.0] and response.attempts == 2 and len(script.requests) == 2


def test_429_falls_back_to_retry_after_seconds_or_date() -> None:
    script = Script(httpx.Response(429, headers={"Retry-After": "2"}), ok())
    transport, fake = make(script)
    transport.send(GET_CASE)
    assert fake.waits == [2.0]

    moment = email.utils.formatdate(time.time() + 5, usegmt=True)
    script = Script(httpx.Response(429, headers={"Retry-After": moment}), ok())
    transport, fake = make(script)
    transport.send(GET_CASE)
    assert 3.5 <= fake.waits[0] <= 5.0


def test_429_longer_than_max_rate_limit_wait_is_raised_with_retry_after() -> None:
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": "600"}, json={"errors": ["slow down"]}))
    transport, fake = make(script, RetryPolicy(max_rate_limit_wait=60))
    with pytest.raises(RateLimitedError) as info:
        transport.send(GET_CASE)
    assert fake.waits == [] and info.value.retry_after == 600.0 and info.value.retryable
    assert info.value.messages == ["slow down"] and "max_rate_limit_wait" in str(info.value)


def test_429_until_attempts_run_out() -> None:
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": "1"}))
    transport, fake = make(script, RetryPolicy(max_attempts=3))
    with pytest.raises(RateLimitedError, match="after 3 attempts"):
        transport.send(GET_CASE)
    assert fake.waits == [1.0, 1.0] and len(script.requests) == 3


def test_5xx_is_retried_with_growing_backoff_for_idempotent_requests() -> None:
    script = Script(httpx.Response(503), httpx.Response(502, text="Bad Gateway"), ok())
    transport, fake = make(script, RetryPolicy(backoff_base=0.5))
    assert transport.send(GET_CASE).attempts == 3
    assert fake.waits == [0.5, 1.0]  # random() == 1.0: the top of the jitter range


def test_5xx_is_not_retried_for_a_post_that_may_have_been_applied() -> None:
    script = Script(httpx.Response(500, json={"errors": [{"status": "500", "title": "Internal Server Error"}]}))
    transport, fake = make(script)
    with pytest.raises(ServerError) as info:
        transport.send(CREATE_CASE)
    assert len(script.requests) == 1 and fake.waits == []
    assert info.value.status == 500 and info.value.messages == ["Internal Server Error"]


def test_connect_errors_are_retried_for_any_request_because_nothing_was_sent() -> None:
    script = Script(httpx.ConnectError("refused"), ok())
    transport, fake = make(script)
    assert transport.send(CREATE_CASE).attempts == 2 and len(fake.waits) == 1


def test_read_timeout_on_a_post_is_not_retried() -> None:
    script = Script(httpx.ReadTimeout("slow"))
    transport, _ = make(script)
    with pytest.raises(TimeoutError, match="may have been applied") as info:
        transport.send(CREATE_CASE)
    assert len(script.requests) == 1 and info.value.sent is None and info.value.retryable


def test_dropped_connection_on_a_get_is_retried_then_reported() -> None:
    script = Script(httpx.RemoteProtocolError("Server disconnected"))
    transport, _ = make(script, RetryPolicy(max_attempts=2))
    with pytest.raises(TransportError, match="after 2 attempts"):
        transport.send(GET_CASE)
    assert len(script.requests) == 2


def test_the_deadline_bounds_the_whole_call() -> None:
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": "8"}))
    transport, fake = make(script, RetryPolicy(max_attempts=10, deadline=20))
    with pytest.raises(TimeoutError, match="20s deadline") as info:
        transport.send(GET_CASE)
    assert fake.waits == [8.0, 8.0] and len(script.requests) == 3
    assert isinstance(info.value.__cause__, RateLimitedError)


def test_each_attempt_timeout_is_cut_to_what_the_deadline_leaves() -> None:
    seen: list[dict[str, Any]] = []

    def answer(request: httpx.Request) -> httpx.Response:
        seen.append(request.extensions["timeout"])
        return httpx.Response(503) if len(seen) == 1 else ok()

    transport, _ = make(Script(ok()), RetryPolicy(deadline=10, backoff_base=4), timeout=30)
    transport._httpx_transport = httpx.MockTransport(answer)
    transport.send(GET_CASE)
    assert seen[0]["read"] == 10 and seen[1]["read"] == 6


def test_success_bodies_204_empty_unknown_fields_and_non_json() -> None:
    for response, expected in [(httpx.Response(204), {}), (httpx.Response(200, content=b""), {}),
                               (ok({"data": {"type": "case", "new_field": [1], "status": "UNDOCUMENTED"}}),
                                {"data": {"type": "case", "new_field": [1], "status": "UNDOCUMENTED"}})]:
        transport, _ = make(Script(response))
        assert transport.send(GET_CASE).data == expected
    transport, _ = make(Script(httpx.Response(200, text="<html>proxy login</html>",
                                              headers={"Content-Type": "text/html"})), RetryPolicy.none())
    with pytest.raises(UnexpectedResponseError, match="not JSON"):
        transport.send(GET_CASE)


@pytest.mark.parametrize(
    ("response", "error", "messages"),
    [
        (httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found", "detail": "no case OPS-1"}]}),
         NotFoundError, ["no case OPS-1"]),
        (httpx.Response(400, json={"errors": ["priority is invalid"]}), ConflictError, ["priority is invalid"]),
        (httpx.Response(409, text="conflict: case locked"), ConflictError, ["conflict: case locked"]),
        (httpx.Response(422, json={"message": "bad"}), ConflictError, ["bad"]),
    ],
)
def test_error_bodies_in_every_shape(response: httpx.Response, error: type, messages: list[str]) -> None:
    transport, _ = make(Script(response))
    with pytest.raises(error) as info:
        transport.send(GET_CASE)
    assert info.value.messages == messages and info.value.status == response.status_code


def test_async_send_retries_with_the_async_sleep() -> None:
    script = Script(httpx.Response(429, headers={"X-RateLimit-Reset": "1"}), ok())
    transport, fake = make(script)

    async def go() -> Any:
        try:
            return await transport.asend(GET_CASE)
        finally:
            await transport.aclose()

    assert asyncio.run(go()).attempts == 2 and fake.waits == [1.0]


def test_async_client_survives_successive_event_loops() -> None:
    script = Script(ok())
    transport, _ = make(script)
    for _ in range(2):
        asyncio.run(transport.asend(GET_CASE))
    transport.close()
    assert len(script.requests) == 2


def test_a_forked_child_gets_a_fresh_pool(monkeypatch: pytest.MonkeyPatch) -> None:
    transport, _ = make(Script(ok()))
    parent = transport.client
    child_pid = transport._pid + 1
    monkeypatch.setattr(transport_module.os, "getpid", lambda: child_pid)
    child = transport.client
    assert child is not parent and transport.client is child
    transport.close()
    parent.close()


def test_logs_name_the_call_but_never_the_keys(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    script = Script(httpx.Response(503), ok())
    transport, _ = make(script)
    transport.send(GET_CASE)
    assert "GET /api/v2/cases/OPS-1 -> 503" in caplog.text and "retrying" in caplog.text
    assert KEY not in caplog.text and APP not in caplog.text


def test_a_real_429_from_a_loopback_server_is_waited_out() -> None:
    """The sandbox server allows 1 request per second; the second call waits about a second."""
    from datadog_case_actions.sandbox import Faults, Sandbox, start_server_in_thread

    with Sandbox(":memory:", faults=Faults(rate_limit=1, rate_period=1)) as sandbox:
        server, url = start_server_in_thread(sandbox)
        try:
            conn = Connection(api_key=KEY, app_key=APP, base_url=url)
            with Runner(conn) as runner:
                runner.run("get_projects")
                started = time.monotonic()
                runner.run("get_projects")
                waited = time.monotonic() - started
        finally:
            server.stop()
    assert 0.3 <= waited <= 5.0


def test_sync_close_is_safe_inside_a_running_loop() -> None:
    transport, _ = make(Script(ok()))

    async def go() -> None:
        await transport.asend(GET_CASE)
        transport.close()  # schedules the async pool's close instead of deadlocking
        await asyncio.sleep(0)

    asyncio.run(go())
    assert transport._aclient is None
