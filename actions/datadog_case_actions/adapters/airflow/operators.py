"""``DatadogCaseActionOperator``: run any action by id, with templated inputs; the result goes to XCom.

Failures follow Airflow's retry semantics: errors that retrying may fix and
that are safe to retry (rate limits, 5xx and network errors of idempotent
actions; for creates and comments only a 429 or a request that never left) are
raised as they are, so the task's ``retries`` apply.  Everything else (invalid
input, missing credentials, 401/403, 404, 409, or a create that may already
have been applied) raises ``AirflowFailException`` and fails the task at once,
so a retry never makes a second case.  The rule is ``runtime.errors.safe_to_retry``,
shared with the Prefect door.
"""

from __future__ import annotations

from typing import Any, Sequence

from airflow.sdk import BaseOperator

try:  # Airflow 3.1+: the task SDK's own
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import AirflowFailException

from ... import registry
from ...runtime.errors import ActionError, safe_to_retry
from . import DEFAULT_CONN_ID
from .hooks import DatadogCasesHook

__all__ = ["DatadogCaseActionOperator", "run_action"]


def run_action(action_id: str, inputs: dict[str, Any] | None, conn_id: str) -> Any:
    """Run one action through the hook, mapping errors to Airflow's retry semantics."""
    try:
        return DatadogCasesHook(datadog_conn_id=conn_id).run(action_id, inputs)
    except ActionError as exc:
        if safe_to_retry(exc, bool(registry.describe(action_id)["idempotent"])):
            raise
        reason = "" if not exc.retryable else " (not retried: the request may have been applied)"
        raise AirflowFailException(f"{exc}{reason}") from exc


class DatadogCaseActionOperator(BaseOperator):
    """Run the Case Management action *action_id* (``create_case``, ``datadog.comment_case``...).

    ``inputs`` is templated (Jinja, including XCom pulls) at any depth; the
    action's JSON result is returned, so it lands in XCom for the next task.
    """

    template_fields: Sequence[str] = ("action_id", "inputs")
    template_fields_renderers = {"inputs": "json"}
    ui_color = "#f0e4ff"

    def __init__(self, *, action_id: str, inputs: dict[str, Any] | None = None,
                 datadog_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.action_id = action_id
        self.inputs = inputs or {}
        self.datadog_conn_id = datadog_conn_id

    def execute(self, context: Any) -> Any:
        self.log.info("running %s", self.action_id)
        return run_action(self.action_id, self.inputs, self.datadog_conn_id)
