"""The Prefect door at scale: rate limits, retries after a 429, global limits, one block load per flow run, async bounds."""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prefect")

from prefect import flow, unmapped  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate  # noqa: E402

from datadog_case_actions import Connection, RateLimitedError, Runner  # noqa: E402
from datadog_case_actions.adapters.prefect import DatadogCasesCredentials, atasks, case_task, tasks  # noqa: E402
from datadog_case_actions.runtime import runner as runtime  # noqa: E402
# The suite's fixtures and sentinel keys (pytest imports test_prefect as a top-level module: the same one).
from test_prefect import (  # noqa: E402,F401
    API_KEY,
    APP_KEY,
    CASE_TYPE,
    _assert_no_secret,
    _task_run,
    credentials,
    runner,
    sandbox,
)
from tests.rate_limited_server import REPORT, rate_limited_server  # noqa: E402


@pytest.fixture
def spy_run(monkeypatch: pytest.MonkeyPatch) -> list[tuple[float, str, float | None]]:
    """Every ``Runner.run`` the tasks make: (monotonic start, "ok" or the error class, its retry_after)."""
    calls: list[tuple[float, str, float | None]] = []
    real = runtime.Runner.run

    def run(self: Any, action: Any, inputs: Any = None, **kw: Any) -> Any:
        started = time.monotonic()
        try:
            result = real(self, action, inputs, **kw)
        except RateLimitedError as error:
            calls.append((started, "RateLimitedError", error.retry_after))
            raise
        calls.append((started, "ok", None))
        return result

    monkeypatch.setattr(runtime.Runner, "run", run)
    return calls


def _project(runner: Any, key: str) -> str:
    return str(runner.run("create_project", {"key": key, "name": key})["data"]["id"])


def _titles(runner: Any, key: str) -> list[str]:
    return [c["attributes"]["title"] for c in runner.iterate("search_cases", {"filter": f"project:{key}"})]


@pytest.mark.parametrize("made_by", ["case_task", "with_options"])
def test_a_retry_after_a_429_waits_at_least_retry_after(made_by: str, sandbox: Any, credentials: Any, runner: Any,
                                                        spy_run: list[Any]) -> None:
    """max_rate_limit_wait=0 hands every 429 to Prefect; with retry_delay_seconds=0 the retry still waits.

    Through ``case_task`` Prefect itself schedules the retry for then (``RetryDelays``);
    delays set later with ``with_options`` are plain numbers, and the retried run waits.
    """
    sb, _ = sandbox
    project = _project(runner, f"RA{made_by[0].upper()}")
    impatient = credentials.model_copy(update={"max_attempts": 1, "max_rate_limit_wait": 0})
    if made_by == "case_task":
        create = case_task("create_case", retries=3, retry_delay_seconds=0)
    else:
        create = tasks.create_case.with_options(retries=3, retry_delay_seconds=0)
    states: list[Any] = []

    @flow
    def one() -> None:
        runner.run("get_projects")  # spends the window's one request
        spy_run.clear()
        states.append(create(credentials=impatient, title="once", type_id=CASE_TYPE, project_id=project,
                             return_state=True))

    sb.set_faults(rate_limit=1, rate_period=3)
    one()
    sb.clear_faults()
    assert states[0].is_completed() and _task_run(states[0]).run_count == 2, spy_run
    (first, outcome, retry_after), (second, again, _) = spy_run
    assert outcome == "RateLimitedError" and again == "ok" and retry_after is not None and retry_after >= 1
    assert second - first >= retry_after
    assert _titles(runner, f"RA{made_by[0].upper()}") == ["once"]
    with get_client(sync_client=True) as client:
        history = client.read_task_run_states(states[0].state_details.task_run_id)
    waiting = [state for state in history if state.name == "AwaitingRetry"]
    if made_by == "case_task":  # Prefect's own schedule (the 0.1: its timestamp is taken a moment later)
        assert len(waiting) == 1
        scheduled = (waiting[0].state_details.scheduled_time - waiting[0].timestamp).total_seconds()
        assert scheduled >= retry_after - 0.1
    else:
        assert waiting == []  # a delay of 0: Prefect retried at once, and the run waited by itself


@pytest.mark.parametrize("attempts", [1, 4])
def test_a_short_429_is_waited_in_the_run_not_retried(attempts: int, sandbox: Any, credentials: Any, runner: Any,
                                                      spy_run: list[Any]) -> None:
    """No Prefect retries, any max_attempts: a 429 within max_rate_limit_wait is waited out by the door
    (with its spread, outside the transport's attempts and deadline) and loses nothing."""
    sb, _ = sandbox
    project = _project(runner, f"SH{attempts}")
    once = credentials.model_copy(update={"max_attempts": attempts})
    create = tasks.create_case.with_options(retries=0)
    states: list[Any] = []

    @flow
    def two() -> None:
        for title in ("a", "b"):
            states.append(create(credentials=once, title=title, type_id=CASE_TYPE, project_id=project,
                                 return_state=True))

    sb.set_faults(rate_limit=1, rate_period=3)  # the second task run starts well within 3 s of the first
    spy_run.clear()
    two()
    sb.clear_faults()
    assert all(s.is_completed() and _task_run(s).run_count == 1 for s in states)
    assert [outcome for _, outcome, _ in spy_run] == ["ok", "RateLimitedError", "ok"]
    assert sorted(_titles(runner, f"SH{attempts}")) == ["a", "b"]


def test_the_block_is_loaded_once_per_flow_run(credentials: Any, runner: Any,
                                               monkeypatch: pytest.MonkeyPatch) -> None:
    name = f"once-{uuid.uuid4().hex[:8]}"
    credentials.save(name)
    case_id = runner.run("create_case", {"title": "x", "type_id": CASE_TYPE,
                                         "project_id": _project(runner, "BLK")})["data"]["id"]
    loads: list[str] = []
    real_load, real_aload = DatadogCasesCredentials.load, DatadogCasesCredentials.aload

    def load(cls: Any, block_name: str, *a: Any, **kw: Any) -> Any:
        loads.append(block_name)
        return real_load(block_name, *a, **kw)

    async def aload(cls: Any, block_name: str, *a: Any, **kw: Any) -> Any:
        loads.append(block_name)
        return await real_aload(block_name, *a, **kw)

    monkeypatch.setattr(DatadogCasesCredentials, "load", classmethod(load))
    monkeypatch.setattr(DatadogCasesCredentials, "aload", classmethod(aload))

    @flow
    def many() -> None:
        tasks.get_case.map(credentials=unmapped(name), case_id=[case_id] * 20).result()

    @flow
    async def amany() -> None:
        await asyncio.gather(*(atasks.get_case(credentials=name, case_id=case_id) for _ in range(20)))

    many()
    assert loads == [name]  # 20 task runs on threads, one load
    many()
    assert loads == [name, name]  # a new flow run reads the block again (rotated keys take effect)
    asyncio.run(amany())
    assert loads == [name] * 3


@pytest.mark.parametrize(("limit", "expected"), [(None, 8), (3, 3)], ids=["default", "block-max_concurrency"])
def test_async_tasks_are_bounded_per_event_loop(limit: int | None, expected: int, sandbox: Any, credentials: Any,
                                                runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    sb, _ = sandbox
    case_id = runner.run("create_case", {"title": "x", "type_id": CASE_TYPE,
                                         "project_id": _project(runner, "ASB")})["data"]["id"]
    block = credentials.model_copy(update={"max_concurrency": limit})
    in_flight, peak = [0], [0]
    real = runtime.Runner.arun

    async def arun(self: Any, action: Any, inputs: Any = None, **kw: Any) -> Any:
        in_flight[0] += 1
        peak[0] = max(peak[0], in_flight[0])
        try:
            return await real(self, action, inputs, **kw)
        finally:
            in_flight[0] -= 1

    monkeypatch.setattr(runtime.Runner, "arun", arun)

    @flow
    async def gathered() -> list[Any]:
        return await asyncio.gather(*(atasks.get_case(credentials=block, case_id=case_id) for _ in range(24)))

    sb.set_faults(latency=0.15)
    results = asyncio.run(gathered())
    sb.clear_faults()
    assert len(results) == 24 and peak[0] == expected


def _global_limit(name: str, limit: int, per_second: float) -> None:
    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=limit, slot_decay_per_second=per_second))


def test_a_global_rate_limit_slot_is_taken_before_each_call(credentials: Any, runner: Any) -> None:
    """A task option naming a Prefect rate limit paces the calls; a misspelt name fails instead of pacing nothing."""
    case_id = runner.run("create_case", {"title": "x", "type_id": CASE_TYPE,
                                         "project_id": _project(runner, "GCL")})["data"]["id"]
    name = f"dd-{uuid.uuid4().hex[:8]}"
    _global_limit(name, limit=2, per_second=2.0)
    paced = case_task("get_case", rate_limit=name)
    # The limit variant is its own function; the shared task keeps none.
    assert paced.fn is not tasks.get_case.fn and tasks.get_case.fn is case_task("get_case").fn

    @flow
    def six() -> float:
        started = time.monotonic()
        for _ in range(6):
            paced(credentials=credentials, case_id=case_id)
        return time.monotonic() - started

    assert six() >= 1.5  # 2 slots at once, then 2 a second: 6 calls need at least 2 s of decay minus a margin

    states: list[Any] = []

    @flow
    def misspelt() -> None:
        states.append(case_task("get_case", rate_limit="no-such-limit", retries=0)(
            credentials=credentials, case_id=case_id, return_state=True))

    misspelt(return_state=True)
    assert states[0].is_failed() and "no-such-limit" in str(states[0].message)


def _mapped_creates(credentials: Any, project: str, titles: list[str]) -> Any:
    @flow
    def rate_limited_triage() -> list[Any]:
        return tasks.create_case.map(credentials=unmapped(credentials), title=titles, type_id=CASE_TYPE,
                                     project_id=project).result()

    return rate_limited_triage


@pytest.mark.parametrize("paced", [False, True], ids=["waits-only", "prefect-rate-limit"])
def test_a_rate_limited_mapped_flow_loses_no_case(paced: bool, tmp_path: Path,
                                                  capfd: pytest.CaptureFixture[str],
                                                  caplog: pytest.LogCaptureFixture) -> None:
    """40 mapped creates on threads (all at once) against ``dd-cases serve --rate-limit 10 --rate-period 2``.

    max_attempts=1: every 429 is the door's to wait out.

    Without pacing the workers meet 429s and wait them out; with a Prefect rate
    limit (4 slots, 4 a second: under 10 per 2 s) they mostly never meet one.
    Either way: 40 cases, each once.
    """
    caplog.set_level(logging.INFO, logger="datadog_case_actions")
    titles = [f"limited {i:02d}" for i in range(40)]
    key = "PRL" if paced else "WRL"
    with rate_limited_server(tmp_path, limit=10, period=2) as server:
        block = DatadogCasesCredentials(api_key=API_KEY, app_key=APP_KEY, base_url=server.url, max_attempts=1)
        if paced:
            limit = f"dd-cases-{uuid.uuid4().hex[:8]}"
            _global_limit(limit, limit=4, per_second=4.0)
            block = block.model_copy(update={"rate_limit_name": limit})
        name = f"limited-{uuid.uuid4().hex[:8]}"
        block.save(name)
        with Runner(Connection(api_key="checker", app_key="checker", base_url=server.url)) as checker:
            project = _project(checker, key)
            started = time.monotonic()
            state = _mapped_creates(name, project, titles)(return_state=True)
            elapsed = time.monotonic() - started
            time.sleep(2.1)  # a fresh window for the check
            made = _titles(checker, key)
    assert state.is_completed(), state
    lost, duplicated = len(set(titles) - set(made)), len(made) - len(set(made))
    REPORT.append(f"prefect, 40 mapped creates on threads, limit 10/2 s, max_attempts=1, "
                  f"{'Prefect rate_limit 4 + 4/s' if paced else 'no Prefect limit'}: {len(set(made))} created, "
                  f"{lost} lost, {duplicated} duplicated; {server.summary()}; {elapsed:.1f} s")
    assert lost == 0 and duplicated == 0
    out, err = capfd.readouterr()
    if not paced:  # the limit was met: as 429s, or as the runtime's waits before sending (it paces by the headers)
        logs = out + err + caplog.text
        assert server.statuses[429] > 0 or "rate limit spent" in logs or "not counted as a retry" in logs, \
            "the run met the rate limit"
    _assert_no_secret(out, err, "".join(server.lines))


def test_async_gather_under_a_rate_limit_loses_nothing(tmp_path: Path) -> None:
    """60 async creates gathered at once (the stampede of the report) against the rate-limited server."""
    titles = [f"gathered {i:02d}" for i in range(60)]
    with rate_limited_server(tmp_path, limit=10, period=2) as server:
        block = DatadogCasesCredentials(api_key=API_KEY, app_key=APP_KEY, base_url=server.url, max_attempts=1)
        with Runner(Connection(api_key="checker", app_key="checker", base_url=server.url)) as checker:
            project = _project(checker, "AGR")

            @flow
            async def gathered() -> list[Any]:
                return await asyncio.gather(*(atasks.create_case(credentials=block, title=t, type_id=CASE_TYPE,
                                                                 project_id=project) for t in titles))

            started = time.monotonic()
            asyncio.run(gathered())
            elapsed = time.monotonic() - started
            time.sleep(2.1)
            made = _titles(checker, "AGR")
    lost, duplicated = len(set(titles) - set(made)), len(made) - len(set(made))
    REPORT.append(f"prefect, 60 async creates in one gather, limit 10/2 s, max_attempts=1: {len(set(made))} created, "
                  f"{lost} lost, {duplicated} duplicated; {server.summary()}; {elapsed:.1f} s")
    assert lost == 0 and duplicated == 0


def test_a_task_with_limits_travels_to_worker_processes_with_them() -> None:
    """A limit variant is not importable by name, so cloudpickle sends it by value, limits included (Dask)."""
    import pickle
    import subprocess
    import sys

    import cloudpickle

    paced = case_task("get_case", rate_limit="dd-rate", concurrency_limit="dd-slots")
    payload = cloudpickle.dumps(paced)
    script = (
        "import pickle, sys\n"
        "task = pickle.loads(sys.stdin.buffer.read())\n"
        "call = next(c.cell_contents for c in task.fn.__closure__ if type(c.cell_contents).__name__ == '_Call')\n"
        "print(call.action_id, *call.limits)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=payload, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().split() == ["datadog.get_case", "dd-rate", "dd-slots"]
    assert pickle.loads(cloudpickle.dumps(tasks.get_case)).fn is tasks.get_case.fn  # the plain task: by reference
