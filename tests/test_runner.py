"""The runner: run/arun end to end over a mock transport, pagination, dry runs, 204s, tolerance."""

from __future__ import annotations

import asyncio
import json
import logging
from typing import Any

import httpx
import pytest

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import InputError, NotFoundError

API_KEY = "SENTINEL-API-KEY-RUNNER-1"
APP_KEY = "SENTINEL-APP-KEY-RUNNER-2"


def connection() -> Connection:
    return Connection(api_key=API_KEY, app_key=APP_KEY, site="datadoghq.com", retry=RetryPolicy.none())


class Recorder:
    """An httpx MockTransport handler that records requests and answers from a script."""

    def __init__(self, answer: Any) -> None:
        self.answer = answer
        self.requests: list[httpx.Request] = []

    def __call__(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        return self.answer(request) if callable(self.answer) else self.answer


def runner(handler: Recorder) -> Runner:
    return Runner(connection(), httpx_transport=httpx.MockTransport(handler),
                  async_httpx_transport=httpx.MockTransport(handler))


def test_run_sends_the_request_and_returns_the_document_with_unknown_fields_intact() -> None:
    body = {"data": {"id": "c1", "type": "case", "attributes": {"status": "BRAND_NEW_STATUS", "shiny": 1}}}
    rec = Recorder(httpx.Response(200, json=body))
    with runner(rec) as r:
        result = r.run("update_priority", {"case_id": "OPS-1", "priority": "P2"})
    assert result == body
    sent = rec.requests[0]
    assert sent.method == "POST" and sent.url.path == "/api/v2/cases/OPS-1/priority"
    assert json.loads(sent.content) == {"data": {"type": "case", "attributes": {"priority": "P2"}}}
    assert sent.headers["DD-API-KEY"] == API_KEY and sent.headers["DD-APPLICATION-KEY"] == APP_KEY


def test_204_returns_an_empty_object() -> None:
    rec = Recorder(httpx.Response(204))
    with runner(rec) as r:
        assert r.run("delete_case_comment", {"case_id": "OPS-1", "cell_id": "x"}) == {}


def test_invalid_input_sends_nothing() -> None:
    rec = Recorder(httpx.Response(200, json={}))
    with runner(rec) as r, pytest.raises(InputError):
        r.run("update_priority", {"case_id": "OPS-1", "priority": "URGENT"})
    assert rec.requests == []


def test_arun_is_the_async_twin() -> None:
    rec = Recorder(httpx.Response(404, json={"errors": [{"status": "404", "title": "Not Found", "detail": "no case OPS-9"}]}))

    async def go() -> None:
        async with runner(rec) as r:
            with pytest.raises(NotFoundError) as info:
                await r.arun("get_case", {"case_id": "OPS-9"})
            assert info.value.messages == ["no case OPS-9"] and info.value.status == 404

    asyncio.run(go())
    assert rec.requests[0].url.path == "/api/v2/cases/OPS-9"


def _pages(total: int) -> Recorder:
    def answer(request: httpx.Request) -> httpx.Response:
        size = int(request.url.params["page[size]"])
        number = int(request.url.params["page[number]"])
        start = (number - 1) * size
        items = [{"id": f"c{i}", "type": "case"} for i in range(start, min(start + size, total))]
        return httpx.Response(200, json={"data": items, "meta": {"page": {"current": number, "size": size, "total": total}}})

    return Recorder(answer)


def test_iterate_walks_every_page_lazily_and_stops_at_the_cap() -> None:
    rec = _pages(250)
    with runner(rec) as r:
        items = r.iterate("search_cases", {"filter": "status:open"})
        first = next(items)
        assert first["id"] == "c0" and len(rec.requests) == 1  # lazy: one page fetched so far
        assert len(list(items)) == 249
    assert [int(q.url.params["page[number]"]) for q in rec.requests] == [1, 2, 3]
    assert all(q.url.params["page[size]"] == "100" and q.url.params["filter"] == "status:open" for q in rec.requests)

    rec = _pages(250)
    with runner(rec) as r:
        assert len(list(r.iterate("search_cases", max_items=120))) == 120
    assert len(rec.requests) == 2


def test_aiterate_is_the_async_twin() -> None:
    rec = _pages(130)

    async def go() -> list[Any]:
        async with runner(rec) as r:
            return [item async for item in r.aiterate("search_cases", {"page_size": 50})]

    assert len(asyncio.run(go())) == 130 and len(rec.requests) == 3


def test_iterate_refuses_an_action_without_pages() -> None:
    with runner(Recorder(httpx.Response(200, json={}))) as r, pytest.raises(InputError, match="no pages"):
        list(r.iterate("get_case", {"case_id": "x"}))


def test_dry_run_shows_the_request_without_keys_and_sends_nothing() -> None:
    rec = Recorder(httpx.Response(200, json={}))
    with runner(rec) as r:
        shown = r.run("comment_case", {"case_id": "OPS-1", "comment": "on it"}, dry_run=True)
    assert rec.requests == []
    assert shown["url"] == "https://api.datadoghq.com/api/v2/cases/OPS-1/comment"
    assert shown["headers"]["DD-API-KEY"] == "****"
    assert API_KEY not in json.dumps(shown) and APP_KEY not in json.dumps(shown)


def test_no_key_in_reprs_errors_or_debug_logs(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    rec = Recorder(httpx.Response(403, json={"errors": ["Forbidden"]}))
    r = runner(rec)
    with pytest.raises(Exception) as info:
        r.run("get_case", {"case_id": "OPS-1"})
    texts = [repr(r), str(r), repr(r.connection), repr(r.transport), str(info.value), repr(info.value),
             json.dumps(info.value.to_dict(), default=str), caplog.text]
    for text in texts:
        assert API_KEY not in text and APP_KEY not in text
    r.close()
