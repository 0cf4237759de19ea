"""An incident DAG: create a case, then comment on it using the first task's XCom.

Put this file in your dags folder.  The connection ``datadog_case_actions_default``
holds the credentials (see docs/airflow.md); for a local try, point it at the
sandbox: ``dd-cases serve`` and
AIRFLOW_CONN_DATADOG_CASE_ACTIONS_DEFAULT='{"conn_type": "datadog_case_actions", "host": "http://127.0.0.1:8126",
"password": "sandbox", "extra": {"app_key": "sandbox"}}'.
"""

from __future__ import annotations

import pendulum
from airflow.sdk import dag

from datadog_case_actions.adapters.airflow.decorators import case_task
from datadog_case_actions.adapters.airflow.operators import DatadogCaseActionOperator

CASE_TYPE = "00000000-0000-0000-0000-000000000001"


@dag(schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), catchup=False, tags=["datadog"],
     params={"project_id": "", "title": "Database primary is down"})
def datadog_incident() -> None:
    created = DatadogCaseActionOperator(
        task_id="create_case",
        action_id="create_case",
        inputs={"title": "{{ params.title }}", "type_id": CASE_TYPE, "project_id": "{{ params.project_id }}",
                "priority": "P1"},
        retries=2,
    )
    DatadogCaseActionOperator(
        task_id="comment_case",
        action_id="comment_case",
        inputs={"case_id": "{{ ti.xcom_pull(task_ids='create_case')['data']['id'] }}",
                "comment": "Paging the on-call engineer."},
    ) << created
    # the same through TaskFlow (its arguments are templated too)
    acknowledged = case_task("update_status", task_id="acknowledge")(
        inputs={"case_id": "{{ ti.xcom_pull(task_ids='create_case')['data']['id'] }}", "status": "IN_PROGRESS"})
    created >> acknowledged


datadog_incident()
