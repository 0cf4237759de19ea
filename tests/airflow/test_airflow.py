"""The Airflow door under real Airflow 3: provider metadata, hook, error mapping, and a DAG run with dag.test().

Runs in its own environment (.ci/suite-airflow installs apache-airflow and
migrates a throwaway metadata database); skipped where Airflow is absent.
"""

from __future__ import annotations

import json
import logging
import os
import shutil
from pathlib import Path
from typing import Any

import pytest

pytest.importorskip("airflow")

from jsonschema import Draft202012Validator  # noqa: E402

from datadog_case_actions import Connection, Runner  # noqa: E402
from datadog_case_actions.sandbox import Sandbox, start_server_in_thread  # noqa: E402

ROOT = Path(__file__).resolve().parents[2]
API, APP = "SENTINEL-AIRFLOW-API-1", "SENTINEL-AIRFLOW-APP-2"


def test_provider_info_is_valid_and_discovered() -> None:
    import airflow

    from datadog_case_actions.adapters.airflow import get_provider_info

    schema = json.loads((Path(airflow.__file__).parent / "provider_info.schema.json").read_text())
    info = get_provider_info()
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(info)]
    assert errors == []
    from airflow.providers_manager import ProvidersManager

    manager = ProvidersManager()
    assert "datadog-case-actions" in manager.providers
    assert "datadog_case_actions" in manager.hooks


@pytest.mark.parametrize(
    ("conn", "url", "headers"),
    [
        ({"conn_type": "datadog", "host": "api.datadoghq.eu", "extra": {"api_key": API, "app_key": APP}},
         "https://api.datadoghq.eu", {"DD-API-KEY": API, "DD-APPLICATION-KEY": APP}),
        ({"conn_type": "datadog", "host": "https://api.us5.datadoghq.com", "extra": {"api_key": API, "app_key": APP}},
         "https://api.us5.datadoghq.com", {"DD-API-KEY": API, "DD-APPLICATION-KEY": APP}),
        ({"conn_type": "datadog_case_actions", "password": API, "extra": {"app_key": APP, "site": "ap1.datadoghq.com"}},
         "https://api.ap1.datadoghq.com", {"DD-API-KEY": API, "DD-APPLICATION-KEY": APP}),
        ({"conn_type": "datadog_case_actions", "host": "http://127.0.0.1:8126", "password": API, "extra": {"app_key": APP}},
         "http://127.0.0.1:8126", {"DD-API-KEY": API, "DD-APPLICATION-KEY": APP}),
        ({"conn_type": "datadog_case_actions", "extra": {"access_token": API}},
         "https://api.datadoghq.com", {"Authorization": f"Bearer {API}"}),
    ],
    ids=["datadog_default-site-host", "datadog_default-url-host", "own-site", "own-url", "oauth"],
)
def test_the_hook_reads_both_connection_shapes(conn: dict[str, Any], url: str, headers: dict[str, str],
                                               monkeypatch: pytest.MonkeyPatch,
                                               caplog: pytest.LogCaptureFixture) -> None:
    from datadog_case_actions.adapters.airflow.hooks import DatadogCasesHook

    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("AIRFLOW_CONN_DATADOG_DEFAULT", json.dumps(conn))
    hook = DatadogCasesHook(datadog_conn_id="datadog_default")
    connection = hook.get_conn()
    assert connection.url == url and connection.auth_headers() == headers
    assert API not in repr(connection) and API not in caplog.text and APP not in caplog.text


def test_errors_map_to_airflow_retry_semantics(monkeypatch: pytest.MonkeyPatch) -> None:
    from airflow.sdk.exceptions import AirflowFailException

    from datadog_case_actions.adapters.airflow.operators import run_action
    from datadog_case_actions.runtime.errors import ServerError

    monkeypatch.setenv("AIRFLOW_CONN_DATADOG_CASE_ACTIONS_DEFAULT",
                       json.dumps({"conn_type": "datadog_case_actions", "password": API, "extra": {"app_key": APP}}))
    with pytest.raises(AirflowFailException, match="priority"):  # bad input: no retry can fix it
        run_action("update_priority", {"case_id": "OPS-1", "priority": "URGENT"}, "datadog_case_actions_default")

    with Sandbox(":memory:") as sandbox:
        sandbox.set_faults(fail_next=10, error_status=503)
        server, url = start_server_in_thread(sandbox)
        try:
            monkeypatch.setenv("AIRFLOW_CONN_DATADOG_CASE_ACTIONS_DEFAULT", json.dumps(
                {"conn_type": "datadog_case_actions", "host": url, "password": API,
                 "extra": {"app_key": APP}}))
            with pytest.raises(ServerError):  # retryable and idempotent: raised as is, the task's retries apply
                run_action("get_projects", {}, "datadog_case_actions_default")
            with pytest.raises(AirflowFailException, match="may have been applied"):  # a create after a 503
                run_action("create_project", {"key": "X", "name": "x"}, "datadog_case_actions_default")
        finally:
            server.stop()


def test_the_documented_dag_creates_a_case_and_comments_on_it_through_xcom(tmp_path: Path,
                                                                          caplog: pytest.LogCaptureFixture) -> None:
    """docs/examples/airflow_dag.py, unchanged, under dag.test() against the sandbox server."""
    caplog.set_level(logging.INFO)
    dags = Path(os.environ["AIRFLOW__CORE__DAGS_FOLDER"])
    dags.mkdir(parents=True, exist_ok=True)
    shutil.copy(ROOT / "docs" / "examples" / "airflow_dag.py", dags / "airflow_dag.py")

    sandbox = Sandbox(str(tmp_path / "airflow.sqlite3"))
    server, url = start_server_in_thread(sandbox)
    try:
        with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
            project = runner.run("create_project", {"key": "AF", "name": "Airflow"})["data"]["id"]
        os.environ["AIRFLOW_CONN_DATADOG_CASE_ACTIONS_DEFAULT"] = json.dumps(
            {"conn_type": "datadog_case_actions", "host": url, "password": API, "extra": {"app_key": APP}})

        from airflow.dag_processing.dagbag import DagBag

        bag = DagBag(dag_folder=str(dags))
        assert not bag.import_errors, bag.import_errors
        dag = bag.get_dag("datadog_incident")
        run = dag.test(run_conf={"project_id": project, "title": "DB primary down"})
        states = {ti.task_id: str(ti.state) for ti in run.get_task_instances()}
        assert states == {"create_case": "success", "comment_case": "success", "acknowledge": "success"}, states

        with Runner(Connection(api_key=API, app_key=APP, base_url=url)) as runner:
            cases = runner.run("search_cases", {"filter": "project:AF"})["data"]
            assert [c["attributes"]["title"] for c in cases] == ["DB primary down"]
            assert cases[0]["attributes"]["status"] == "IN_PROGRESS"
            timeline = runner.run("list_case_timeline", {"case_id": cases[0]["id"]})
            assert "Paging the on-call engineer." in json.dumps(timeline)
    finally:
        server.stop()
        sandbox.close()
    assert API not in caplog.text and APP not in caplog.text
