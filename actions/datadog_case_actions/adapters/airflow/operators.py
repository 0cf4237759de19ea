"""``DatadogCaseActionOperator``: run any action by id, with templated inputs; the result goes to XCom.

Failures follow Airflow's retry semantics: errors that retrying may fix and
that are safe to retry (rate limits, 5xx and network errors of idempotent
actions; for creates and comments only a 429 or a request that never left) are
raised as they are, so the task's ``retries`` apply.  Everything else (invalid
input, missing credentials, 401/403, 404, 409, or a create that may already
have been applied) raises ``AirflowFailException`` and fails the task at once,
so a retry never makes a second case.  The rule is ``runtime.errors.safe_to_retry``,
shared with the Prefect door.

Rate limits are not failures: a 429 asking for at most ``max_rate_limit_wait``
seconds (connection extra, or the operator's argument; 60 by default) is waited
out on the worker and the call made again, without using a retry.  A longer
wait *defers* the task (``RateLimitResetTrigger``): the worker slot is freed, the
triggerer sleeps until the window resets, and the task resumes and calls again.
Only after ``rate_limit_deadline`` seconds (3600) of rate-limit waits in total is
the ``RateLimitedError`` raised, and then the task's retries apply.
"""

from __future__ import annotations

import time
from typing import Any, Sequence

from airflow.sdk import BaseOperator

try:  # Airflow 3.1+: the task SDK's own
    from airflow.sdk.exceptions import AirflowFailException
except ImportError:  # pragma: no cover - Airflow 3.0
    from airflow.exceptions import AirflowFailException

from ... import registry
from ...runtime.errors import ActionError, RateLimitedError, safe_to_retry
from .._pacing import pause, path_target
from . import DEFAULT_CONN_ID
from .hooks import DatadogCasesHook
from .triggers import RateLimitResetTrigger

__all__ = ["DatadogCaseActionOperator", "run_action"]


def _try_label(context: Any) -> str:
    """``"try 2 of 3"`` from a task context (empty outside one)."""
    if context is None:
        try:
            from airflow.sdk import get_current_context

            context = get_current_context()
        except Exception:  # called outside a running task
            return ""
    ti = context.get("ti") if hasattr(context, "get") else None
    try_number = getattr(ti, "try_number", None)
    if not try_number:
        return ""
    task = getattr(ti, "task", None)
    retries = getattr(task, "retries", None)
    return f", try {try_number}" + (f" of {int(retries) + 1}" if isinstance(retries, int) else "")


def run_action(action_id: str, inputs: dict[str, Any] | None, conn_id: str, *,
               max_rate_limit_wait: float | None = None, context: Any = None, hook: DatadogCasesHook | None = None,
               resumed: str = "") -> Any:
    """Run one action through the hook, mapping errors to Airflow's retry semantics.

    Logs the action, its path parameters (the case) and the try; rate limits up
    to *max_rate_limit_wait* are waited out, longer ones raise ``RateLimitedError``.
    """
    hook = hook or DatadogCasesHook(datadog_conn_id=conn_id)
    manifest = registry.describe(action_id)
    hook.log.info("running %s%s%s%s", manifest["id"], path_target(manifest, inputs), _try_label(context), resumed)
    try:
        return hook.run(action_id, inputs, max_rate_limit_wait=max_rate_limit_wait)
    except ActionError as exc:
        if safe_to_retry(exc, bool(manifest["idempotent"])):
            raise
        reason = "" if not exc.retryable else " (not retried: the request may have been applied)"
        raise AirflowFailException(f"{exc}{reason}") from exc


class DatadogCaseActionOperator(BaseOperator):
    """Run the Case Management action *action_id* (``create_case``, ``datadog.comment_case``...).

    ``inputs`` is templated (Jinja, including XCom pulls) at any depth; the
    action's JSON result is returned, so it lands in XCom for the next task.
    ``max_rate_limit_wait`` (seconds; default the connection's extra, else 60) is
    the longest 429 wait the task sits out on its worker; a longer one defers
    the task until the rate limit resets, unless ``deferrable=False`` (then the
    ``RateLimitedError`` is raised and the task's retries apply).
    """

    template_fields: Sequence[str] = ("action_id", "inputs")
    template_fields_renderers = {"inputs": "json"}
    ui_color = "#f0e4ff"

    def __init__(self, *, action_id: str, inputs: dict[str, Any] | None = None,
                 datadog_conn_id: str = DEFAULT_CONN_ID, max_rate_limit_wait: float | None = None,
                 deferrable: bool = True, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.action_id = action_id
        self.inputs = inputs or {}
        self.datadog_conn_id = datadog_conn_id
        self.max_rate_limit_wait = max_rate_limit_wait
        self.deferrable = deferrable

    def execute(self, context: Any) -> Any:
        return self._call(context, first_limited_at=None)

    def execute_complete(self, context: Any, event: Any = None, **state: Any) -> Any:
        """Resumed after a deferral: the rate-limit window has reset, call again."""
        # The trigger's event carries the deferral state (dag.test() passes the event alone).
        state = {**state, **(event if isinstance(event, dict) else {})}
        return self._call(context, first_limited_at=state.get("first_limited_at"),
                          deferrals=int(state.get("deferrals") or 0))

    def _call(self, context: Any, first_limited_at: float | None, deferrals: int = 0) -> Any:
        hook = DatadogCasesHook(datadog_conn_id=self.datadog_conn_id)
        resumed = f", resumed after {deferrals} rate-limit deferral(s)" if deferrals else ""
        try:
            return run_action(self.action_id, self.inputs, self.datadog_conn_id, context=context, hook=hook,
                              max_rate_limit_wait=self.max_rate_limit_wait, resumed=resumed)
        except RateLimitedError as error:
            if not self.deferrable:
                raise
            now = time.time()
            first = now if first_limited_at is None else first_limited_at
            wait = pause(error)
            if now - first + wait > hook.settings.rate_limit_deadline:
                raise
            self.log.warning("%s rate limited: the API asks to wait %ss, more than this task holds a worker; "
                             "deferring for %.1fs (the worker slot is released)", self.action_id,
                             "?" if error.retry_after is None else f"{error.retry_after:g}", wait)
            self.defer(trigger=RateLimitResetTrigger(now + wait, self.action_id, _limit_name(error),
                                                     first_limited_at=first, deferrals=deferrals + 1),
                       method_name="execute_complete",
                       kwargs={"first_limited_at": first, "deferrals": deferrals + 1})


def _limit_name(error: RateLimitedError) -> str | None:
    return next((v for k, v in (error.headers or {}).items() if k.lower() == "x-ratelimit-name"), None)
