"""A create that met only 429s until the deadline ran out was never applied: the TimeoutError says so,
so an orchestrator may run it again (``safe_to_retry``) and no case is lost."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import TimeoutError, safe_to_retry

CREATE = {"title": "DB is down", "type_id": "00000000-0000-0000-0000-000000000001",
          "project_id": "d4bbe1af-f36e-42f1-87c1-493ca35c320e"}


def _always_429(request: httpx.Request) -> httpx.Response:
    return httpx.Response(429, headers={"Retry-After": "0.4"}, json={"errors": ["Too many requests"]})


def _always_502(request: httpx.Request) -> httpx.Response:
    return httpx.Response(502, json={"errors": ["Bad gateway"]})


def _runner(handler: object) -> Runner:
    policy = RetryPolicy(max_attempts=50, backoff_base=0.2, backoff_max=0.2, deadline=1.0)
    connection = Connection(api_key="k" * 32, app_key="a" * 40, base_url="http://127.0.0.1:9", retry=policy)
    mock = httpx.MockTransport(handler)  # type: ignore[arg-type]
    return Runner(connection, httpx_transport=mock, async_httpx_transport=mock)


@pytest.mark.parametrize("path", ["sync", "async"])
def test_a_create_refused_by_429s_until_the_deadline_is_safe_to_run_again(path: str) -> None:
    with _runner(_always_429) as runner, pytest.raises(TimeoutError) as info:
        if path == "sync":
            runner.run("create_case", CREATE)
        else:
            asyncio.run(runner.arun("create_case", CREATE))
    assert info.value.sent is False
    assert safe_to_retry(info.value, idempotent=False)


def test_an_idempotent_call_cut_by_the_deadline_after_5xx_may_have_been_applied() -> None:
    with _runner(_always_502) as runner, pytest.raises(TimeoutError) as info:
        runner.run("update_priority", {"case_id": "OPS-1", "priority": "P1"})
    assert info.value.sent is not False  # a 502 may have been applied: only an idempotent call is run again
    assert not safe_to_retry(info.value, idempotent=False) and safe_to_retry(info.value, idempotent=True)
