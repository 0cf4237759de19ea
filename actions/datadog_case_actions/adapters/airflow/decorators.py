"""TaskFlow: ``case_task("create_case")`` is a ``@task`` that runs the action with the inputs it is given.

    from datadog_case_actions.adapters.airflow.decorators import case_task

    created = case_task("create_case")(inputs={"title": "DB down", "type_id": ..., "project_id": ...})
    case_task("comment_case", task_id="comment")(
        inputs={"case_id": "{{ ti.xcom_pull(task_ids='create_case')['data']['id'] }}", "comment": "on it"})

The arguments of a TaskFlow task are templated, so Jinja and XCom pulls work
inside ``inputs`` as they do for the operator.  Rate limits are waited out on the
worker up to the connection's ``max_rate_limit_wait``; a TaskFlow task cannot
defer, so for longer waits use ``DatadogCaseActionOperator``.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import task

from . import DEFAULT_CONN_ID
from .operators import run_action

__all__ = ["case_task"]


def case_task(action_id: str, *, datadog_conn_id: str = DEFAULT_CONN_ID, **task_kwargs: Any) -> Any:
    """A TaskFlow task running *action_id*; call it with ``inputs={...}``."""
    task_kwargs.setdefault("task_id", action_id.rsplit(".", 1)[-1])

    @task(**task_kwargs)
    def run_case_action(inputs: dict[str, Any] | None = None) -> Any:
        return run_action(action_id, inputs, datadog_conn_id)

    return run_case_action
