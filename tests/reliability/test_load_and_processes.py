"""Load, forks and threads: nothing lost, nothing duplicated, nothing shared by accident."""

from __future__ import annotations

import asyncio
import multiprocessing
import os
import threading
import tracemalloc
from typing import Any

import pytest

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.sandbox import AsyncSandboxTransport, Faults, Sandbox, start_server_in_thread

CASE_TYPE = "00000000-0000-0000-0000-000000000001"


def _project(sandbox: Sandbox) -> str:
    runner = sandbox.runner()
    try:
        return str(runner.run("create_project", {"key": "LOAD", "name": "Load"})["data"]["id"])
    finally:
        runner.close()


def _all_titles(sandbox: Sandbox) -> list[str]:
    runner = sandbox.runner()
    try:
        return [c["attributes"]["title"] for c in runner.iterate("search_cases", {"filter": "project:LOAD"})]
    finally:
        runner.close()


def test_a_thousand_concurrent_creates_under_a_rate_limit_all_land_exactly_once(tmp_path: Any, caplog: Any) -> None:
    import logging

    caplog.set_level(logging.INFO, logger="datadog_case_actions")
    sandbox = Sandbox(":memory:")
    project = _project(sandbox)
    # In-process (AsyncSandboxTransport): fast enough that 250 requests per second is a real limit.
    sandbox.faults = Faults(rate_limit=250, rate_period=1)

    async def go() -> list[Any]:
        retry = RetryPolicy(max_attempts=20, deadline=120)
        conn = Connection(api_key="k", app_key="a", base_url="http://sandbox.local", retry=retry)
        async with Runner(conn, async_httpx_transport=AsyncSandboxTransport(sandbox)) as runner:
            gate = asyncio.Semaphore(100)

            async def create(i: int) -> Any:
                async with gate:
                    return await runner.arun("create_case", {"title": f"load-{i:04d}", "type_id": CASE_TYPE,
                                                             "project_id": project})

            return await asyncio.gather(*(create(i) for i in range(1000)))

    tracemalloc.start()
    try:
        results = asyncio.run(go())
        _, peak = tracemalloc.get_traced_memory()
    finally:
        tracemalloc.stop()
    sandbox.clear_faults()
    titles = _all_titles(sandbox)
    sandbox.close()
    assert len(results) == 1000
    assert sorted(titles) == [f"load-{i:04d}" for i in range(1000)]  # none lost, none duplicated
    assert len({r["data"]["id"] for r in results}) == 1000
    assert peak < 100 * 2**20, f"peak traced memory {peak / 2**20:.1f} MB"
    # The limit was reached and waited out: from its headers, before the 429 (none at all in one process).
    assert caplog.text.count("rate limit spent") >= 10 and "HTTP 429" not in caplog.text


def _child_run(runner: Runner, conn: Any, parent_client_id: int) -> None:
    try:
        result = runner.run("get_projects")
        fresh = id(runner.transport._client) != parent_client_id
        conn.send(("ok", len(result["data"]), fresh, os.getpid()))
    except Exception as exc:  # report, never hang the parent
        conn.send(("error", repr(exc), False, os.getpid()))
    finally:
        conn.close()


@pytest.mark.skipif(not hasattr(os, "fork"), reason="fork is POSIX only")
def test_a_runner_keeps_working_in_a_forked_child_with_its_own_connections() -> None:
    with Sandbox(":memory:") as sandbox:
        _project(sandbox)
        server, url = start_server_in_thread(sandbox)
        try:
            with Runner(Connection(api_key="k", app_key="a", base_url=url)) as runner:
                assert len(runner.run("get_projects")["data"]) == 1  # the parent's pool is open now
                parent_client = runner.transport._client
                ctx = multiprocessing.get_context("fork")
                receive, send = ctx.Pipe(duplex=False)
                child = ctx.Process(target=_child_run, args=(runner, send, id(parent_client)))
                child.start()
                status, count, fresh, pid = receive.recv()
                child.join(30)
                assert status == "ok" and count == 1 and fresh and pid != os.getpid()
                # the parent's pool is untouched and still works
                assert runner.transport._client is parent_client
                assert len(runner.run("get_projects")["data"]) == 1
        finally:
            server.stop()


def test_many_threads_share_one_runner_and_get_their_own_answers() -> None:
    with Sandbox(":memory:") as sandbox:
        project = _project(sandbox)
        server, url = start_server_in_thread(sandbox)
        try:
            with Runner(Connection(api_key="k", app_key="a", base_url=url)) as runner:
                ids = [runner.run("create_case", {"title": f"t{i}", "type_id": CASE_TYPE, "project_id": project})
                       ["data"]["id"] for i in range(20)]
                mismatches: list[Any] = []

                def worker(n: int) -> None:
                    for k in range(10):
                        case_id = ids[(n + k) % len(ids)]
                        got = runner.run("get_case", {"case_id": case_id})["data"]
                        if got["id"] != case_id or got["attributes"]["title"] != f"t{ids.index(case_id)}":
                            mismatches.append((case_id, got["id"]))

                threads = [threading.Thread(target=worker, args=(n,)) for n in range(16)]
                for t in threads:
                    t.start()
                for t in threads:
                    t.join(60)
        finally:
            server.stop()
    assert mismatches == []
