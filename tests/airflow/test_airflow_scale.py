"""The Airflow door at scale: connection forms, masking, logs, and rate limits (waits on the worker, deferrals).

Runs in the Airflow environment (.ci/suite-airflow); skipped where Airflow is absent.
"""

from __future__ import annotations

import json
import logging
import os
import time
import uuid
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow")

from datadog_case_actions import Connection, RateLimitedError, Runner  # noqa: E402
from datadog_case_actions.runtime.errors import ConfigurationError  # noqa: E402
from datadog_case_actions.sandbox import Sandbox, start_server_in_thread  # noqa: E402
from tests.rate_limited_server import REPORT, rate_limited_server  # noqa: E402

API, APP = "SENTINEL-AIRFLOW-API-1", "SENTINEL-AIRFLOW-APP-2"
CASE_TYPE = "00000000-0000-0000-0000-000000000001"


def _hook(monkeypatch: pytest.MonkeyPatch, conn: dict[str, Any] | str, conn_id: str = "dd_test") -> Any:
    from datadog_case_actions.adapters.airflow.hooks import DatadogCasesHook

    monkeypatch.setenv(f"AIRFLOW_CONN_{conn_id.upper()}", conn if isinstance(conn, str) else json.dumps(conn))
    return DatadogCasesHook(datadog_conn_id=conn_id)


# -- connection forms ------------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("conn", "url"),
    [
        # The official provider's form: API endpoint in the api_host extra, host = the events host name.
        ({"conn_type": "datadog", "host": "airflow-worker-3",
          "extra": {"api_key": API, "app_key": APP, "api_host": "https://api.datadoghq.eu"}},
         "https://api.datadoghq.eu"),
        ({"conn_type": "datadog", "host": "airflow-worker-3",
          "extra": {"api_key": API, "app_key": APP, "api_host": "us5.datadoghq.com"}},
         "https://api.us5.datadoghq.com"),
        ({"conn_type": "datadog", "host": "airflow-worker-3", "extra": {"api_key": API, "app_key": APP}},
         "https://api.datadoghq.com"),
        # Older connection forms prefix their extras.
        ({"conn_type": "datadog", "extra": {"extra__datadog__api_key": API, "extra__datadog__app_key": APP,
                                            "extra__datadog__api_host": "https://api.ap1.datadoghq.com"}},
         "https://api.ap1.datadoghq.com"),
        # A connection URI with a host and a port.
        (f"datadog-case-actions://:{API}@127.0.0.1:8126?app_key={APP}", "http://127.0.0.1:8126"),
        (f"datadog-case-actions://:{API}@proxy.internal:8443?app_key={APP}", "https://proxy.internal:8443"),
        (f"datadog-case-actions://:{API}@proxy.internal:8080/http?app_key={APP}", "http://proxy.internal:8080"),
        ({"conn_type": "datadog_case_actions", "host": "http://127.0.0.1", "port": 9000, "password": API,
          "extra": {"app_key": APP}}, "http://127.0.0.1:9000"),
    ],
    ids=["official-api_host-url", "official-api_host-site", "official-no-api_host", "official-prefixed-extras",
         "uri-loopback-port", "uri-host-port", "uri-schema-http", "url-and-port"],
)
def test_connection_forms(conn: dict[str, Any] | str, url: str, monkeypatch: pytest.MonkeyPatch) -> None:
    connection = _hook(monkeypatch, conn).get_conn()
    assert connection.url == url
    assert connection.auth_headers() == {"DD-API-KEY": API, "DD-APPLICATION-KEY": APP}


def test_a_bare_unknown_host_is_still_refused(monkeypatch: pytest.MonkeyPatch) -> None:
    # Without a port or a scheme, a host that is no Datadog site is a typo, not a place to send keys.
    with pytest.raises(ConfigurationError, match="neither a Datadog site"):
        _hook(monkeypatch, {"conn_type": "datadog_case_actions", "host": "datadoghq.ue", "password": API,
                            "extra": {"app_key": APP}}).get_conn()


def test_extras_set_attempts_rate_limit_wait_and_concurrency(monkeypatch: pytest.MonkeyPatch) -> None:
    hook = _hook(monkeypatch, {"conn_type": "datadog_case_actions", "password": API, "extra": {
        "app_key": APP, "max_attempts": "1", "max_rate_limit_wait": 7.5, "max_concurrency": 3,
        "rate_limit_deadline": 90, "timeout": 4}})
    connection = hook.get_conn()
    assert connection.retry.max_attempts == 1 and connection.retry.attempts == 1
    assert connection.retry.max_rate_limit_wait == 7.5 and connection.timeout == 4
    assert hook.settings == (7.5, 90.0, 3)
    with hook.get_runner(max_rate_limit_wait=2) as runner:
        assert runner.connection.retry.max_rate_limit_wait == 2
    for bad in ({"max_attempts": 0}, {"max_attempts": "two"}, {"max_concurrency": 1.5},
                {"max_rate_limit_wait": -1}):
        hook = _hook(monkeypatch, {"conn_type": "datadog_case_actions", "password": API,
                                   "extra": {"app_key": APP, **bad}})
        name = next(iter(bad))
        with pytest.raises(ConfigurationError, match=name):
            hook.get_conn() if name != "max_concurrency" else hook.settings


def test_the_app_key_is_masked_in_task_logs(monkeypatch: pytest.MonkeyPatch) -> None:
    """Airflow masks extras by name, and ``app_key`` is not one of its names: the hook registers it."""
    from airflow.sdk.log import _secrets_masker  # type: ignore[attr-defined]

    app = f"app-{uuid.uuid4().hex}"  # fresh: nothing masked it before
    token = f"token-{uuid.uuid4().hex}"
    masker = _secrets_masker()
    assert app in masker.redact(f"key {app}")
    _hook(monkeypatch, {"conn_type": "datadog", "extra": {"api_key": API, "app_key": app}}).get_conn()
    _hook(monkeypatch, {"conn_type": "datadog_case_actions", "extra": {"access_token": token}}).get_conn()
    assert app not in masker.redact(f"key {app}") and token not in masker.redact(f"token {token}")


# -- rate limits -----------------------------------------------------------------------------------------------


def _limited(retry_after: float) -> RateLimitedError:
    return RateLimitedError("HTTP 429: slow down", action_id="datadog.create_case", status=429,
                            retry_after=retry_after,
                            headers={"X-RateLimit-Period": "60", "X-RateLimit-Name": "cases"})


def test_a_wait_beyond_the_threshold_defers_the_task(monkeypatch: pytest.MonkeyPatch) -> None:
    """The operator's defer call: a 120 s wait on a 10 s threshold frees the worker until the reset."""
    from airflow.sdk.exceptions import TaskDeferred

    from datadog_case_actions.adapters.airflow import hooks
    from datadog_case_actions.adapters.airflow.operators import DatadogCaseActionOperator
    from datadog_case_actions.adapters.airflow.triggers import RateLimitResetTrigger

    calls: list[Any] = []

    def limited(self: Any, action: str, inputs: Any = None, **kw: Any) -> Any:
        calls.append(kw)
        raise _limited(120)

    monkeypatch.setenv("AIRFLOW_CONN_DD_TEST", json.dumps(
        {"conn_type": "datadog_case_actions", "password": API, "extra": {"app_key": APP}}))
    monkeypatch.setattr(hooks.DatadogCasesHook, "run", limited)
    operator = DatadogCaseActionOperator(task_id="create", action_id="create_case", datadog_conn_id="dd_test",
                                         max_rate_limit_wait=10,
                                         inputs={"title": "t", "type_id": CASE_TYPE, "project_id": "p"})
    before = time.time()
    with pytest.raises(TaskDeferred) as deferred:
        operator.execute({})
    assert calls == [{"max_rate_limit_wait": 10}]
    trigger = deferred.value.trigger
    assert isinstance(trigger, RateLimitResetTrigger) and deferred.value.method_name == "execute_complete"
    assert before + 120 <= trigger.moment <= time.time() + 120 + 2.0  # what the API asked, plus a spread
    assert trigger.limit_name == "cases"
    classpath, kwargs = trigger.serialize()
    assert classpath == "datadog_case_actions.adapters.airflow.triggers.RateLimitResetTrigger"
    first = deferred.value.kwargs["first_limited_at"]
    assert deferred.value.kwargs["deferrals"] == 1

    # Resumed: it calls again, and defers again while the total stays within rate_limit_deadline.
    with pytest.raises(TaskDeferred) as again:
        operator.execute_complete({}, event={}, **deferred.value.kwargs)
    assert again.value.kwargs == {"first_limited_at": first, "deferrals": 2}
    # Past the deadline the error is raised: the task's retries apply.
    with pytest.raises(RateLimitedError):
        operator.execute_complete({}, event={}, first_limited_at=first - 3600, deferrals=5)
    # Not deferrable: raised at once.
    operator.deferrable = False
    with pytest.raises(RateLimitedError):
        operator.execute({})


@pytest.mark.parametrize("attempts", [1, 4])
def test_a_wait_within_the_threshold_is_waited_on_the_worker_without_a_retry(
        attempts: int, caplog: pytest.LogCaptureFixture, capfd: pytest.CaptureFixture[str]) -> None:
    """A 429 with a short reset, any max_attempts: the hook (not the transport) waits and calls again, once."""
    from datadog_case_actions.adapters.airflow.hooks import DatadogCasesHook

    with Sandbox(":memory:") as sandbox:
        server, url = start_server_in_thread(sandbox)
        try:
            with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
                project = runner.run("create_project", {"key": "W", "name": "w"})["data"]["id"]
            sandbox.set_faults(rate_limit=1, rate_period=2)
            os.environ["AIRFLOW_CONN_DD_WAIT"] = json.dumps({
                "conn_type": "datadog_case_actions", "host": url, "password": API,
                "extra": {"app_key": APP, "max_attempts": attempts}})
            hook = DatadogCasesHook(datadog_conn_id="dd_wait")
            started = time.monotonic()
            for title in ("a", "b"):
                hook.run("create_case", {"title": title, "type_id": CASE_TYPE, "project_id": project})
            assert time.monotonic() - started >= 1.0  # the second waited for the window's reset
            sandbox.clear_faults()
            with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
                titles = sorted(c["attributes"]["title"] for c in runner.iterate("search_cases", {"filter": "project:W"}))
            assert titles == ["a", "b"]
        finally:
            os.environ.pop("AIRFLOW_CONN_DD_WAIT", None)
            server.stop()
    out, err = capfd.readouterr()
    assert "not counted as a retry" in caplog.text + out + err  # the door's wait, with its spread


_MAPPED_DAG = """
import pendulum
from airflow.sdk import DAG
from datadog_case_actions.adapters.airflow.operators import DatadogCaseActionOperator

with DAG({dag_id!r}, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    DatadogCaseActionOperator.partial(
        task_id="create_case", action_id="create_case", datadog_conn_id={conn_id!r},
        map_index_template="{{{{ task.inputs['title'] }}}}",
    ).expand(inputs=[{{"title": t, "type_id": {case_type!r}, "project_id": {project!r}}} for t in {titles!r}])
"""


def _mapped_dag(dag_id: str, project: str, titles: list[str], conn_id: str) -> Any:
    """A DAG file in the dags folder (dag.test() runs serialized DAGs) mapping create_case over *titles*."""
    from airflow.dag_processing.dagbag import DagBag

    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dags.mkdir(parents=True, exist_ok=True)
    (dags / f"{dag_id}.py").write_text(_MAPPED_DAG.format(dag_id=dag_id, conn_id=conn_id, case_type=CASE_TYPE,
                                                          project=project, titles=titles))
    bag = DagBag(dag_folder=str(dags / f"{dag_id}.py"))
    assert not bag.import_errors, bag.import_errors
    return bag.get_dag(dag_id)


@pytest.mark.parametrize("threshold", [60.0, 0.5], ids=["wait-on-worker", "defer-to-triggerer"])
def test_a_rate_limited_mapped_run_loses_no_case(threshold: float, tmp_path: Path,
                                                 caplog: pytest.LogCaptureFixture,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    """30 mapped creates under dag.test() against ``dd-cases serve --rate-limit 10 --rate-period 4``.

    dag.test() runs the tasks one after the other: a 4 s window leaves each call 0.36 s
    for 11 to meet the limit, so a slow machine still meets it.  With the default
    threshold the 429s are waited out on the worker; with 0.5 s every 429 (the reset is
    at least 1 s) defers the task and the trigger runs in line.
    Either way: 30 cases, each once, no task failed.
    """
    caplog.set_level(logging.INFO)
    titles = [f"rate-limited {i:02d}" for i in range(30)]
    conn_id = "dd_limited"
    with rate_limited_server(tmp_path, limit=10, period=4) as server:
        with Runner(Connection(api_key=API, app_key=APP, base_url=server.url)) as runner:
            project = runner.run("create_project", {"key": "RL", "name": "Rate limited"})["data"]["id"]
        os.environ[f"AIRFLOW_CONN_{conn_id.upper()}"] = json.dumps({
            "conn_type": "datadog_case_actions", "host": server.url, "password": API,
            "extra": {"app_key": APP, "max_attempts": 1, "max_rate_limit_wait": threshold}})
        try:
            started = time.monotonic()
            run = _mapped_dag(f"rate_limited_{int(threshold * 10)}", project, titles, conn_id).test()
            elapsed = time.monotonic() - started
        finally:
            os.environ.pop(f"AIRFLOW_CONN_{conn_id.upper()}", None)
        tis = run.get_task_instances()
        assert sorted(str(ti.state) for ti in tis) == ["success"] * 30
        assert sorted(ti.rendered_map_index for ti in tis) == titles  # map_index_template as documented
        time.sleep(4.1)  # a fresh window for the check
        with Runner(Connection(api_key=API, app_key=APP, base_url=server.url)) as runner:
            made = [c["attributes"]["title"] for c in runner.iterate("search_cases", {"filter": "project:RL"})]
    lost, duplicated = len(set(titles) - set(made)), len(made) - len(set(made))
    limited = server.statuses[429]
    out, err = capfd.readouterr()
    logs = caplog.text + out + err  # task logs go through the task SDK's own logging, to the console
    deferrals = logs.count("deferring for")
    REPORT.append(f"airflow dag.test, 30 mapped creates, limit 10/4 s, max_rate_limit_wait={threshold:g}: "
                  f"{len(set(made))} created, {lost} lost, {duplicated} duplicated; {server.summary()}; "
                  f"{deferrals} deferrals; {elapsed:.1f} s")
    assert lost == 0 and duplicated == 0
    # the limit was met: as 429s, or, since the runtime paces by the API's headers, as waits before sending
    waited = "not counted as a retry" in logs
    assert limited > 0 or deferrals > 0 or waited, "the run met the rate limit"
    if threshold < 1:
        # every 429 and every budget wait beyond the threshold defers the task
        assert deferrals >= max(limited, 1) and "running trigger in line" in logs
        assert "resumed after 1 rate-limit deferral(s)" in logs
    else:
        assert deferrals == 0 and waited
    assert "running datadog.create_case" in logs and ", try 1 of 1" in logs
    assert API not in logs and APP not in logs


def test_the_log_names_the_case_and_the_try(tmp_path: Path, caplog: pytest.LogCaptureFixture,
                                            capfd: pytest.CaptureFixture[str]) -> None:
    from datadog_case_actions.adapters.airflow.operators import run_action

    caplog.set_level(logging.INFO)
    with Sandbox(":memory:") as sandbox:
        server, url = start_server_in_thread(sandbox)
        try:
            with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
                project = runner.run("create_project", {"key": "LG", "name": "l"})["data"]["id"]
                case = runner.run("create_case", {"title": "t", "type_id": CASE_TYPE, "project_id": project})
            os.environ["AIRFLOW_CONN_DD_LOG"] = json.dumps(
                {"conn_type": "datadog_case_actions", "host": url, "password": API, "extra": {"app_key": APP}})
            ti = type("TI", (), {"try_number": 2, "task": type("T", (), {"retries": 3})()})()
            run_action("comment_case", {"case_id": case["data"]["id"], "comment": "hi"}, "dd_log",
                       context={"ti": ti})
        finally:
            os.environ.pop("AIRFLOW_CONN_DD_LOG", None)
            server.stop()
    out, err = capfd.readouterr()
    assert f"running datadog.comment_case [case_id={case['data']['id']}], try 2 of 4" in caplog.text + out + err


_TEMPLATED_DAG = """
import pendulum
from airflow.sdk import DAG, task
from datadog_case_actions.adapters.airflow.operators import DatadogCaseActionOperator

INPUTS = [{{"title": "{{{{ 40 + 2 }}}} " + origin, "type_id": {case_type!r}, "project_id": {project!r}}}
          for origin in ("literal", "xcom")]

with DAG("templated_mapping", schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False):
    @task
    def from_upstream():
        return INPUTS[1:]

    DatadogCaseActionOperator.partial(task_id="literal", action_id="create_case",
                                      datadog_conn_id={conn_id!r}).expand(inputs=INPUTS[:1])
    DatadogCaseActionOperator.partial(task_id="xcom", action_id="create_case",
                                      datadog_conn_id={conn_id!r}).expand(inputs=from_upstream())
"""


def test_mapped_inputs_from_xcom_are_not_rendered_literal_ones_are(tmp_path: Path) -> None:
    """What docs/airflow.md says about Jinja in mapped inputs, checked."""
    from airflow.dag_processing.dagbag import DagBag

    with Sandbox(str(tmp_path / "templated.sqlite3")) as sandbox:
        server, url = start_server_in_thread(sandbox)
        try:
            with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
                project = runner.run("create_project", {"key": "TM", "name": "t"})["data"]["id"]
            os.environ["AIRFLOW_CONN_DD_TEMPLATED"] = json.dumps(
                {"conn_type": "datadog_case_actions", "host": url, "password": API, "extra": {"app_key": APP}})
            dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
            dags.mkdir(parents=True, exist_ok=True)
            path = dags / "templated_mapping.py"
            path.write_text(_TEMPLATED_DAG.format(case_type=CASE_TYPE, project=project, conn_id="dd_templated"))
            bag = DagBag(dag_folder=str(path))
            assert not bag.import_errors, bag.import_errors
            run = bag.get_dag("templated_mapping").test()
            assert {str(ti.state) for ti in run.get_task_instances()} == {"success"}
            with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
                titles = sorted(c["attributes"]["title"] for c in runner.iterate("search_cases", {"filter": "project:TM"}))
        finally:
            os.environ.pop("AIRFLOW_CONN_DD_TEMPLATED", None)
            server.stop()
    assert titles == ["42 literal", "{{ 40 + 2 }} xcom"]
