"""The Prefect door: real flow runs on Prefect's ephemeral API against a sandbox server."""

from __future__ import annotations

import asyncio
import importlib.util
import inspect
import json
import pickle
import subprocess
import sys
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("prefect")

from prefect import flow  # noqa: E402
from prefect.client.orchestration import get_client  # noqa: E402
from prefect.client.schemas.filters import LogFilter, LogFilterFlowRunId  # noqa: E402
from prefect.logging.handlers import APILogHandler  # noqa: E402
from prefect.utilities.callables import parameter_schema  # noqa: E402

from datadog_case_actions import (  # noqa: E402
    ConfigurationError,
    Connection,
    InputError,
    NotFoundError,
    RateLimitedError,
    ServerError,
    TransportError,
    list_actions,
)
from datadog_case_actions.adapters import prefect as door  # noqa: E402
from datadog_case_actions.adapters.prefect import (  # noqa: E402
    DatadogCasesCredentials,
    atasks,
    case_task,
    is_retryable,
    tasks,
)
from datadog_case_actions.manifest import load_index, load_manifest  # noqa: E402
from datadog_case_actions.typed import CreateCaseInputs, input_model  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
ACTIONS = [info.id for info in list_actions()]
CASE_TYPE = "00000000-0000-0000-0000-000000000001"
#: Sentinel keys: they must never show up in a log line, a stored parameter, an error or the console.
API_KEY = f"dd-api-SENTINEL-{uuid.uuid4().hex}"
APP_KEY = f"dd-app-SENTINEL-{uuid.uuid4().hex}"


@pytest.fixture
def sandbox(tmp_path: Path) -> Iterator[tuple[Any, str]]:
    """A sandbox server on loopback, in a thread, with a throwaway database file: ``(sandbox, base_url)``."""
    from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

    sb = Sandbox(str(tmp_path / "sandbox.sqlite3"))
    server, url = start_server_in_thread(sb)
    try:
        yield sb, url
    finally:
        server.stop()
        sb.close()


@pytest.fixture
def credentials(sandbox: tuple[Any, str]) -> DatadogCasesCredentials:
    """A credentials block pointing at the sandbox server, with the sentinel keys."""
    return DatadogCasesCredentials(api_key=API_KEY, app_key=APP_KEY, base_url=sandbox[1])


@pytest.fixture
def runner(sandbox: tuple[Any, str]) -> Iterator[Any]:
    """A Runner on the same sandbox, to check the state the flows leave behind."""
    from datadog_case_actions import Runner

    with Runner(Connection(api_key="checker", app_key="checker", base_url=sandbox[1])) as r:
        yield r


def _example() -> Any:
    """docs/examples/prefect_flow.py, imported as a module (it is the example the docs show)."""
    path = ROOT / "docs" / "examples" / "prefect_flow.py"
    spec = importlib.util.spec_from_file_location("prefect_flow_example", path)
    assert spec is not None and spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def _task_run(state: Any) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_task_run(state.state_details.task_run_id)


def _flow_run(flow_run_id: Any) -> Any:
    with get_client(sync_client=True) as client:
        return client.read_flow_run(flow_run_id)


def _logs(flow_run_id: Any) -> list[str]:
    APILogHandler().flush()
    with get_client(sync_client=True) as client:
        logs = client.read_logs(LogFilter(flow_run_id=LogFilterFlowRunId(any_=[flow_run_id])), limit=200, offset=0)
    return [log.message for log in logs]


def _assert_no_secret(*texts: str) -> None:
    for text in texts:
        assert API_KEY not in text and APP_KEY not in text
        assert API_KEY[-12:] not in text and APP_KEY[-12:] not in text


def _assert_clean_run(flow_run_id: Any, capfd: pytest.CaptureFixture[str]) -> list[str]:
    """No key in the run's logs (Prefect's and the runtime's), its stored parameters, or the console."""
    messages = _logs(flow_run_id)
    assert messages, "the flow run has logs"
    run = _flow_run(flow_run_id)
    out, err = capfd.readouterr()
    _assert_no_secret(*messages, json.dumps(run.parameters, default=str), out, err)
    return messages


# -- the example flows -----------------------------------------------------------------------------------------


def _check_triage(summary: dict[str, Any], runner: Any, alerts: list[Any]) -> None:
    """The state the triage flow must leave in the sandbox, read back with a plain Runner."""
    assert len(summary["case_ids"]) == len(alerts)
    cases = {cid: runner.run("get_case", {"case_id": cid})["data"]["attributes"] for cid in summary["case_ids"]}
    first = cases[summary["escalated"]]
    assert first["priority"] == "P1" and first["status"] == "IN_PROGRESS"
    noise = {cid for cid, alert in zip(summary["case_ids"], alerts, strict=True) if alert.priority in ("P4", "P5")}
    assert set(summary["closed"]) == noise and noise
    for cid, attributes in cases.items():
        if cid in noise:
            assert attributes["status"] == "CLOSED"
        elif cid != summary["escalated"]:
            assert attributes["status"] == "OPEN"
    key = summary["project_key"]
    still_open = list(runner.iterate("search_cases", {"filter": f"project:{key} status:open"}))
    assert {c["id"] for c in still_open} == set(summary["case_ids"]) - noise - {summary["escalated"]}
    closed = list(runner.iterate("search_cases", {"filter": f"project:{key} status:closed"}))
    assert {c["id"] for c in closed} == noise
    timeline = runner.run("list_case_timeline", {"case_id": summary["escalated"]})
    assert "Escalated by the triage flow." in json.dumps(timeline)


def test_example_flow_runs_the_triage_with_a_saved_block(credentials: Any, runner: Any,
                                                          capfd: pytest.CaptureFixture[str]) -> None:
    example = _example()
    name = f"sandbox-{uuid.uuid4().hex[:8]}"
    credentials.save(name)
    state = example.incident_triage(credentials=name, project_key="TRI", return_state=True)
    assert state.is_completed(), state
    summary = state.result()
    _check_triage(summary, runner, example.ALERTS)
    messages = _assert_clean_run(state.state_details.flow_run_id, capfd)
    assert any("datadog.create_case succeeded" in m for m in messages)

    with get_client(sync_client=True) as client:
        from prefect.client.schemas.filters import FlowRunFilter, FlowRunFilterId
        from prefect.client.schemas.sorting import TaskRunSort

        runs = client.read_task_runs(
            flow_run_filter=FlowRunFilter(id=FlowRunFilterId(any_=[state.state_details.flow_run_id])),
            sort=TaskRunSort.EXPECTED_START_TIME_ASC, limit=200, offset=0)
    names = sorted(run.name for run in runs)
    assert "datadog.create_project" in names and "datadog.search_cases" in names
    assert sum(n == "datadog.create_case" for n in names) == len(example.ALERTS)
    assert f"datadog.update_priority[{summary['escalated']}]" in names
    assert all(run.state.is_completed() and run.run_count == 1 for run in runs)


def test_example_async_flow_with_the_block_itself(credentials: Any, runner: Any,
                                                   capfd: pytest.CaptureFixture[str]) -> None:
    example = _example()
    state = asyncio.run(example.incident_triage_async(credentials=credentials, project_key="ASY", return_state=True))
    assert state.is_completed(), state
    summary = state.result()
    _check_triage(summary, runner, example.ALERTS)
    # The block went in as a flow parameter: what Prefect stored shows no key.
    _assert_clean_run(state.state_details.flow_run_id, capfd)


# -- retries -------------------------------------------------------------------------------------------------------


def _case(runner: Any, key: str = "RTY") -> str:
    project = runner.run("create_project", {"key": key, "name": "Retries"})["data"]["id"]
    return str(runner.run("create_case", {"title": "flaky", "type_id": CASE_TYPE, "project_id": project})["data"]["id"])


def test_a_retryable_failure_is_retried_by_prefect_and_succeeds(sandbox: Any, credentials: Any, runner: Any,
                                                                capfd: pytest.CaptureFixture[str]) -> None:
    sb, _ = sandbox
    case_id = _case(runner)
    once = credentials.model_copy(update={"max_attempts": 1})  # no transport retry: Prefect's turn
    update = tasks.update_priority.with_options(retry_delay_seconds=0)

    states: list[Any] = []

    @flow
    def escalate() -> None:
        states.append(update(credentials=once, case_id=case_id, priority="P1", return_state=True))

    sb.set_faults(fail_next=1, error_status=503)
    state = escalate(return_state=True)
    task_state = states[0]
    assert task_state.is_completed()
    assert _task_run(task_state).run_count == 2  # a 503, then the retry
    assert runner.run("get_case", {"case_id": case_id})["data"]["attributes"]["priority"] == "P1"
    messages = _assert_clean_run(state.state_details.flow_run_id, capfd)
    assert any("ServerError, may be retried" in m for m in messages)


def test_the_transport_retries_first_and_its_log_reaches_prefect(sandbox: Any, credentials: Any, runner: Any,
                                                                 capfd: pytest.CaptureFixture[str]) -> None:
    sb, _ = sandbox
    case_id = _case(runner, "TRN")

    states: list[Any] = []

    @flow
    def read() -> None:
        states.append(tasks.get_case(credentials=credentials, case_id=case_id, return_state=True))

    sb.set_faults(fail_next=1)
    state = read(return_state=True)
    task_state = states[0]
    assert task_state.is_completed() and _task_run(task_state).run_count == 1  # absorbed inside the task run
    messages = _assert_clean_run(state.state_details.flow_run_id, capfd)
    assert any("retrying in" in m for m in messages)  # the runtime's own log line, forwarded


def test_an_input_error_is_not_retried(credentials: Any, runner: Any, capfd: pytest.CaptureFixture[str]) -> None:
    case_id = _case(runner, "INP")

    states: list[Any] = []

    @flow
    def bad() -> None:
        states.append(tasks.update_priority(credentials=credentials, case_id=case_id, priority="P9",
                                            return_state=True))

    state = bad(return_state=True)
    task_state = states[0]
    assert task_state.is_failed()
    assert _task_run(task_state).run_count == 1
    with pytest.raises(InputError) as info:
        task_state.result()
    assert info.value.violations[0]["field"] == "priority"
    messages = _assert_clean_run(state.state_details.flow_run_id, capfd)
    assert any("InputError, not retried" in m for m in messages)


def test_a_404_is_not_retried(credentials: Any, capfd: pytest.CaptureFixture[str]) -> None:
    states: list[Any] = []

    @flow
    def missing() -> None:
        states.append(tasks.get_case(credentials=credentials, case_id="NOPE-1", return_state=True))

    missing()
    task_state = states[0]
    assert task_state.is_failed() and _task_run(task_state).run_count == 1
    with pytest.raises(NotFoundError):
        task_state.result()


def test_a_create_that_may_have_been_applied_is_not_retried(sandbox: Any, credentials: Any, runner: Any) -> None:
    sb, _ = sandbox
    project = runner.run("create_project", {"key": "ONC", "name": "Once"})["data"]["id"]
    once = credentials.model_copy(update={"max_attempts": 1})

    states: list[Any] = []

    @flow
    def create() -> None:
        states.append(tasks.create_case.with_options(retry_delay_seconds=0)(
            credentials=once, title="exactly once", type_id=CASE_TYPE, project_id=project, return_state=True))

    sb.set_faults(fail_next=1, fail_after_apply=True, operations=["create_case"])
    create()
    sb.clear_faults()
    task_state = states[0]
    assert task_state.is_failed() and _task_run(task_state).run_count == 1
    with pytest.raises(ServerError):
        task_state.result()
    # The request was applied before the 500: a retry would have made a second case.
    assert len(list(runner.iterate("search_cases", {"filter": "project:ONC"}))) == 1


def test_is_retryable_follows_the_error_classes_and_idempotency() -> None:
    assert is_retryable(ServerError("HTTP 503"), idempotent=True)
    assert not is_retryable(ServerError("HTTP 503"), idempotent=False)
    assert is_retryable(RateLimitedError("HTTP 429"), idempotent=False)
    assert is_retryable(TransportError("refused", sent=False), idempotent=False)
    assert not is_retryable(TransportError("reset", sent=None), idempotent=False)
    assert not is_retryable(InputError([]), idempotent=True)
    assert not is_retryable(ConfigurationError("no keys"), idempotent=True)
    assert not is_retryable(NotFoundError("HTTP 404"), idempotent=True)
    assert not is_retryable(ValueError("a bug"), idempotent=True)
    assert not is_retryable(None)
    forced = case_task("create_case", retry_non_idempotent=True)
    assert forced.retry_condition_fn(forced, None, type("S", (), {"data": ServerError("HTTP 500")})())


# -- async tasks, workers, the runner per task run -------------------------------------------------------------------


def test_async_tasks_run_through_arun_and_retry_too(sandbox: Any, credentials: Any, runner: Any) -> None:
    sb, _ = sandbox
    case_id = _case(runner, "ASN")
    once = credentials.model_copy(update={"max_attempts": 1})
    calls: list[str] = []
    from datadog_case_actions.runtime import runner as runtime

    arun = runtime.Runner.arun

    async def spy(self: Any, action: Any, inputs: Any = None, **kw: Any) -> Any:
        calls.append(action)
        return await arun(self, action, inputs, **kw)

    states: list[Any] = []

    @flow
    async def escalate() -> None:
        states.append(await atasks.update_status.with_options(retry_delay_seconds=0)(
            credentials=once, case_id=case_id, status="CLOSED", return_state=True))

    sb.set_faults(fail_next=1)
    runtime.Runner.arun = spy  # type: ignore[method-assign]
    try:
        asyncio.run(escalate())
    finally:
        runtime.Runner.arun = arun  # type: ignore[method-assign]
    task_state = states[0]
    assert task_state.is_completed() and _task_run(task_state).run_count == 2
    assert calls == ["datadog.update_status", "datadog.update_status"]
    assert runner.run("get_case", {"case_id": case_id})["data"]["attributes"]["status"] == "CLOSED"


def test_each_task_run_builds_and_closes_its_own_runner(credentials: Any, runner: Any) -> None:
    from datadog_case_actions.runtime import runner as runtime

    case_id = _case(runner, "RUN")
    # The runners themselves are kept (not their id()s): a closed runner that is collected can
    # hand its address to the next one, which made an id-based check flaky.
    opened: list[Any] = []
    closed: list[Any] = []
    init, close = runtime.Runner.__init__, runtime.Runner.close

    def spy_init(self: Any, *a: Any, **kw: Any) -> None:
        opened.append(self)
        init(self, *a, **kw)

    def spy_close(self: Any) -> None:
        closed.append(self)
        close(self)

    @flow
    def twice() -> None:
        tasks.get_case(credentials=credentials, case_id=case_id)
        tasks.get_case(credentials=credentials, case_id=case_id)

    runtime.Runner.__init__, runtime.Runner.close = spy_init, spy_close  # type: ignore[method-assign]
    try:
        twice()
    finally:
        runtime.Runner.__init__, runtime.Runner.close = init, close  # type: ignore[method-assign]
    assert len(opened) == 2 and opened[0] is not opened[1]
    assert len(closed) == 2 and all(any(c is o for c in closed) for o in opened)


def test_tasks_pickle_by_reference_for_worker_processes(credentials: Any, runner: Any) -> None:
    import cloudpickle

    case_id = _case(runner, "PKL")
    payload = cloudpickle.dumps((tasks.get_case, atasks.get_case, credentials))
    assert b"_functions" in payload and b"_async_functions" in payload  # by reference, not by value
    # A fresh interpreter (as a spawned worker would be) rebuilds the task and runs its function.
    script = (
        "import pickle, sys, asyncio\n"
        "task, atask, creds = pickle.loads(sys.stdin.buffer.read())\n"
        "from datadog_case_actions.adapters.prefect import tasks, atasks\n"
        "assert task.fn is tasks.get_case.fn and atask.fn is atasks.get_case.fn\n"
        f"print(task.fn(credentials=creds, case_id={case_id!r})['data']['id'])\n"
    )
    done = subprocess.run([sys.executable, "-c", script], input=payload, capture_output=True, timeout=120)
    assert done.returncode == 0, done.stderr.decode()
    assert done.stdout.decode().strip().endswith(case_id)
    _assert_no_secret(done.stdout.decode(), done.stderr.decode())


# -- every action is a task ------------------------------------------------------------------------------------


@pytest.mark.parametrize("action_id", ACTIONS)
def test_every_action_is_a_typed_task(action_id: str) -> None:
    manifest = load_manifest(action_id)
    short = action_id.split(".", 1)[1]
    properties = manifest["input_schema"]["properties"]
    required = set(manifest["input_schema"]["required"])
    for namespace, asynchronous in ((tasks, False), (atasks, True)):
        task = getattr(namespace, short)
        assert task is case_task(action_id, asynchronous=asynchronous) is namespace[action_id]
        assert task.name == short and task.isasync is asynchronous
        assert task.description == manifest["description"]
        assert str(task.task_run_name).startswith(action_id)
        assert task.retry_condition_fn is not None and task.retries == door.DEFAULT_RETRIES
        signature = inspect.signature(task.fn)
        assert list(signature.parameters)[0] == "credentials"
        assert set(signature.parameters) == {"credentials", *properties}
        assert {n for n, p in signature.parameters.items() if p.default is inspect.Parameter.empty} == required
        assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in signature.parameters.values())
        model = input_model(action_id)
        for name, field in model.model_fields.items():
            assert signature.parameters[name].annotation in (field.annotation, door._annotation(field))
    schema = parameter_schema(tasks[short].fn).model_dump()
    assert set(schema["properties"]) == {"credentials", *properties}
    assert set(schema.get("required", [])) == required
    for name, prop in properties.items():
        if prop.get("description"):
            shown = schema["properties"][name]
            if "$ref" in shown:  # pydantic leaves a description equal to the referenced model's on the model
                shown = schema["definitions"][shown["$ref"].rsplit("/", 1)[-1]]
            assert " ".join(shown["description"].split()) == " ".join(prop["description"].split())


def test_the_namespaces() -> None:
    assert len(dir(tasks)) == len(ACTIONS) == len(load_index()["actions"])
    assert len(list(atasks)) == len(ACTIONS)
    with pytest.raises(AttributeError, match="create_cas"):
        tasks.create_cas  # noqa: B018
    custom = case_task("get_case", retries=0, tags=["datadog"])
    assert custom is not tasks.get_case and custom.retries == 0 and custom.tags == {"datadog"}


def test_a_typed_model_and_python_values_are_accepted(credentials: Any, runner: Any) -> None:
    project = runner.run("create_project", {"key": "TYP", "name": "Typed"})["data"]["id"]
    CreateCaseInputs = input_model("create_case")
    typed = CreateCaseInputs(title="from a model", type_id=CASE_TYPE, project_id=project, priority="P2")

    @flow
    def from_model() -> Any:
        return tasks.create_case(credentials=credentials, **dict(typed))

    created = from_model()["data"]
    assert created["attributes"]["priority"] == "P2" and created["attributes"]["title"] == "from a model"


# -- the credentials block -------------------------------------------------------------------------------------------


def test_the_block_never_shows_its_keys_and_builds_connections() -> None:
    block = DatadogCasesCredentials(api_key=API_KEY, app_key=APP_KEY, site="datadoghq.eu")
    _assert_no_secret(repr(block), str(block), json.dumps(block.model_dump(mode="json")),
                      json.dumps(block.model_dump(mode="json")), block.model_dump_json())
    connection = block.connection()
    assert isinstance(connection, Connection)
    assert connection.url == "https://api.datadoghq.eu"
    assert connection.auth_headers() == {"DD-API-KEY": API_KEY, "DD-APPLICATION-KEY": APP_KEY}
    _assert_no_secret(repr(connection), str(connection.redact()))
    token = DatadogCasesCredentials(access_token="tok-SECRET", site="us5.datadoghq.com").connection()
    assert token.auth_headers() == {"Authorization": "Bearer tok-SECRET"}
    sandbox = DatadogCasesCredentials(site="sandbox", sandbox_path=":memory:").connection()
    assert sandbox.is_sandbox and sandbox.sandbox_path == ":memory:"
    assert DatadogCasesCredentials(site="sandbox", max_attempts=1).connection().retry.attempts == 1


def test_bad_blocks_fail_when_made_without_echoing_keys() -> None:
    from pydantic import ValidationError

    with pytest.raises(ValidationError) as info:
        DatadogCasesCredentials(api_key=API_KEY, app_key=APP_KEY, site="example.com")
    assert "unknown site" in str(info.value)
    _assert_no_secret(str(info.value), repr(info.value.errors()), info.value.json())
    with pytest.raises(ValidationError) as info:
        DatadogCasesCredentials(api_key=API_KEY, app_key=APP_KEY, base_url="ftp://proxy")
    assert "base_url" in str(info.value)
    _assert_no_secret(str(info.value), repr(info.value.errors()), info.value.json())
    # Missing keys are a ConfigurationError of the first task run (not retried), never a sandbox answer.
    with pytest.raises(ConfigurationError, match="DD_APP_KEY"):
        DatadogCasesCredentials(api_key=API_KEY).connection().check()


def test_the_block_saves_and_loads(credentials: Any) -> None:
    name = f"roundtrip-{uuid.uuid4().hex[:8]}"
    credentials.save(name)
    loaded = DatadogCasesCredentials.load(name)
    assert loaded.connection() == credentials.connection()
    assert loaded.api_key.get_secret_value() == API_KEY


def test_a_misconfigured_task_fails_at_once(capfd: pytest.CaptureFixture[str]) -> None:
    states: list[Any] = []

    @flow
    def unconfigured() -> None:
        states.append(tasks.get_case(credentials=Connection(site="datadoghq.com"), case_id="X-1",
                                     return_state=True))

    unconfigured()
    task_state = states[0]
    assert task_state.is_failed() and _task_run(task_state).run_count == 1
    with pytest.raises(ConfigurationError):
        task_state.result()


def test_the_block_type_registers_with_its_secret_fields() -> None:
    DatadogCasesCredentials.register_type_and_schema()
    with get_client(sync_client=True) as client:
        block_type = client.read_block_type_by_slug("datadog-case-actions-credentials")
        schema = client.get_most_recent_block_schema_for_block_type(block_type.id)
    assert block_type.name == "Datadog Cases Credentials"
    assert schema is not None
    assert set(schema.fields["secret_fields"]) == {"api_key", "app_key", "access_token"}


def test_a_typed_model_as_a_flow_parameter_gives_a_form_and_is_validated(credentials: Any, runner: Any) -> None:
    from prefect.exceptions import ParameterTypeError

    project = runner.run("create_project", {"key": "FRM", "name": "Form"})["data"]["id"]

    @flow
    def open_case(inputs: CreateCaseInputs) -> Any:
        return tasks.create_case(credentials=credentials, **dict(inputs))

    schema = parameter_schema(open_case.fn).model_dump()
    form = schema["definitions"]["CreateCaseInputs"]
    assert list(form["properties"]) == list(load_manifest("datadog.create_case")["input_schema"]["properties"])
    assert form["properties"]["priority"]["anyOf"][0]["enum"][:2] == ["NOT_DEFINED", "P1"]
    created = open_case({"title": "from the form", "type_id": CASE_TYPE, "project_id": project, "priority": "P3"})
    assert created["data"]["attributes"]["priority"] == "P3"
    with pytest.raises(ParameterTypeError, match="priority"):
        open_case({"title": "t", "type_id": CASE_TYPE, "project_id": project, "priority": "URGENT"})


def test_async_tasks_load_a_saved_block_by_name(credentials: Any, runner: Any) -> None:
    case_id = _case(runner, "ANM")
    name = f"async-{uuid.uuid4().hex[:8]}"
    credentials.save(name)

    @flow
    async def read() -> Any:
        return await atasks.get_case(credentials=name, case_id=case_id)

    assert asyncio.run(read())["data"]["id"] == case_id


def test_pickled_block_instances_keep_their_keys_hidden(credentials: Any) -> None:
    restored = pickle.loads(pickle.dumps(credentials))
    assert restored.connection() == credentials.connection()
    _assert_no_secret(repr(restored))
