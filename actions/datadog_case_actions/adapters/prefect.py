"""The Prefect 3 door: a credentials block and every action as a typed Prefect task.

    from prefect import flow
    from datadog_case_actions.adapters.prefect import DatadogCasesCredentials, tasks

    @flow
    def triage(credentials: str = "datadog"):           # the name of a saved block
        case = tasks.create_case(credentials=credentials, title="DB is down", type_id="…", project_id="…",
                                 priority="P1")
        tasks.comment_case(credentials=credentials, case_id=case["data"]["id"], comment="on it")

``tasks.<action>`` is the synchronous task of an action, ``atasks.<action>``
the async one (``await atasks.get_case(...)``, run through ``Runner.arun``),
``case_task(action, **task_options)`` builds either with other Prefect options.
Each task is named after its action (``create_case``), its description is the
manifest's, its run names carry the action id (``datadog.update_priority[OPS-1]``)
and its keyword parameters are the action's inputs, typed from the pydantic model
of ``datadog_case_actions.typed`` (enums as ``Literal``, required fields
required, the others ``None`` = not sent).  The runtime still validates every
call against the manifest's JSON Schema.

Retries: the package's transport already retries inside one task run (429s as
the rate-limit headers say, 5xx and network errors for idempotent actions).
Prefect's task retries come on top and are gated by ``retry_condition_fn``: only
an ``ActionError`` whose ``retryable`` is true is retried, and for actions that
are not idempotent (creates, comments) only when the request surely was not
applied (a 429, or a connection that never reached the server).  Bad input,
bad credentials, 404s and conflicts fail at once.

Rate limits (Datadog's limit belongs to the organisation, not to a worker): a 429
is waited out inside the task run when the API asks for at most
``max_rate_limit_wait`` seconds, and the call is made again without using an
attempt or a Prefect retry, so no case is lost whatever ``max_attempts`` says.
A longer wait fails the run with the ``RateLimitedError``; Prefect's retry then
starts no sooner than the API's ``retry_after``, whatever ``retry_delay_seconds``
says.  Across workers, name a Prefect global concurrency limit: ``rate_limit_name``
(a limit with slot decay: one slot per call, Prefect's ``rate_limit``) and/or
``concurrency_limit_name`` (a slot held during each call), on the credentials
block or as ``case_task(..., rate_limit=..., concurrency_limit=...)``.  Async
tasks take one of ``max_concurrency`` slots per event loop (8 by default), so an
``asyncio.gather`` over thousands of calls cannot stampede.

Each task run builds its own ``Runner`` from the credentials and closes it at the
end: no pool is shared between task runs, threads or worker processes.  A block
given by name is loaded once per flow run and worker process, not once per task run.

Secrets: the block holds keys as ``SecretStr`` (masked in reprs, the UI and
serialized parameters); they become ``Secret`` values of a ``Connection`` inside
the task run only and never reach a log line.  Pass the block's *name* to tasks
and flows (``credentials="datadog"``) so that parameters stored by Prefect hold
no key at all.

Register the block type with ``prefect block register -m datadog_case_actions.adapters.prefect``.
Needs the ``[prefect]`` extra (Prefect 3).
"""

from __future__ import annotations

import asyncio
import contextlib
import inspect
import logging
import re
import threading
import time
import weakref
from collections import OrderedDict
from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Annotated, Any, NamedTuple, cast

from prefect import get_run_logger, task
from prefect.blocks.core import Block
from prefect.cache_policies import NO_CACHE
from prefect.tasks import Task
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_core import to_jsonable_python

from ..runtime.connection import SANDBOX_SITE, Connection, RetryPolicy, site_url
from ..runtime.errors import ActionError, ConfigurationError, RateLimitedError, safe_to_retry
from ..typed import input_model
from ._pacing import (
    DEFAULT_MAX_RATE_LIMIT_WAIT,
    DEFAULT_RATE_LIMIT_DEADLINE,
    acall_through_rate_limits,
    call_through_rate_limits,
    door_connection,
    pause,
    path_target,
)

__all__ = [
    "DatadogCasesCredentials",
    "tasks",
    "atasks",
    "case_task",
    "is_retryable",
    "retry_condition",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_DELAY_SECONDS",
    "DEFAULT_ASYNC_CONCURRENCY",
    "RetryDelays",
]

#: Prefect-level retries of every task by default (on top of the transport's own attempts).
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY_SECONDS: list[float] = [10, 60]
#: Calls of async tasks in flight at once per event loop, unless the credentials say otherwise.
DEFAULT_ASYNC_CONCURRENCY = 8

#: Guards this module's caches (tasks, functions, loaded blocks, semaphores).
_LOCK = threading.RLock()

#: Keyword names of Prefect's own on a task call; an input of that name could not be passed.
_RESERVED = frozenset({"credentials", "wait_for", "return_state"})


class DatadogCasesCredentials(Block):
    """Credentials and site for the Datadog Case Management API.

    Either an API key and an application key, or an OAuth access token.  ``site``
    is a Datadog site (``datadoghq.com``, ``datadoghq.eu``, ``us5.datadoghq.com``…)
    or ``sandbox`` for the package's embedded sandbox; ``base_url`` overrides it
    (a proxy, a ``dd-cases serve`` sandbox server).
    """

    # Validation errors must not echo the inputs: they hold the keys.
    model_config = ConfigDict(hide_input_in_errors=True)

    _block_type_name = "Datadog Cases Credentials"
    _block_type_slug = "datadog-case-actions-credentials"
    _description = (
        "API key and application key (or an OAuth access token) and site for the Datadog Case Management "
        "actions of datadog-case-actions."
    )
    _code_example = """
```python
from datadog_case_actions.adapters.prefect import DatadogCasesCredentials, tasks

credentials = DatadogCasesCredentials.load("BLOCK_NAME")
tasks.get_case(credentials="BLOCK_NAME", case_id="OPS-1")  # in a flow; a block or its name
connection = credentials.connection()                     # a runtime Connection, for Runner(...)
```
"""

    api_key: SecretStr | None = Field(default=None, description="Datadog API key (DD-API-KEY).")
    app_key: SecretStr | None = Field(
        default=None, description="Datadog application key (DD-APPLICATION-KEY), with cases_read/cases_write scopes."
    )
    access_token: SecretStr | None = Field(
        default=None, description="An OAuth access token, used instead of the two keys when set."
    )
    site: str = Field(
        default="datadoghq.com",
        description="Datadog site: datadoghq.com, us3.datadoghq.com, us5.datadoghq.com, datadoghq.eu, "
        "ap1.datadoghq.com, ap2.datadoghq.com, ddog-gov.com, us2.ddog-gov.com, another Datadog site by name, "
        "or 'sandbox' for the embedded sandbox.",
    )
    base_url: str | None = Field(
        default=None, description="Explicit API base URL (a proxy or a sandbox server); overrides the site."
    )
    sandbox_path: str | None = Field(
        default=None, description="site='sandbox' only: the sandbox's SQLite file (empty: the per-user file)."
    )
    timeout: float = Field(default=30.0, gt=0, description="Seconds per HTTP attempt.")
    max_attempts: int = Field(
        default=4, ge=1,
        description="Attempts the transport makes within one task run (429 waits, backoff on 5xx for idempotent "
        "actions). 1 leaves all retrying to Prefect's task retries; rate-limit waits never count as attempts.",
    )
    max_rate_limit_wait: float = Field(
        default=DEFAULT_MAX_RATE_LIMIT_WAIT, ge=0,
        description="The longest wait a 429 may ask for that a task run sits out and then calls again (not counted "
        "as an attempt or a retry). A longer wait fails the run; Prefect's retry then waits at least that long.",
    )
    rate_limit_deadline: float = Field(
        default=DEFAULT_RATE_LIMIT_DEADLINE, gt=0,
        description="The longest total a task run spends waiting out 429s before it fails to Prefect's retries.",
    )
    rate_limit_name: str | None = Field(
        default=None,
        description="A Prefect global concurrency limit with slot decay: each call takes one slot first "
        "(prefect.concurrency rate_limit), pacing every worker of the deployment together.",
    )
    concurrency_limit_name: str | None = Field(
        default=None,
        description="A Prefect global concurrency limit: each call holds one slot while it runs, bounding calls "
        "in flight across every worker.",
    )
    max_concurrency: int | None = Field(
        default=None, ge=1,
        description=f"Calls in flight at once per worker process (sync tasks) or event loop (async tasks; "
        f"{DEFAULT_ASYNC_CONCURRENCY} when empty).",
    )

    # Checked field by field: a validation error then carries only the offending value, never the keys.
    # Missing keys are checked when a task runs (ConfigurationError, not retried).
    @field_validator("site")
    @classmethod
    def _known_site(cls, site: str) -> str:
        if site.strip().lower() != SANDBOX_SITE:
            try:
                site_url(site)
            except ConfigurationError as exc:
                raise ValueError(exc.message) from None
        return site

    @field_validator("base_url")
    @classmethod
    def _http_url(cls, base_url: str | None) -> str | None:
        if base_url and not re.match(r"^https?://[^/\s]+", base_url):
            raise ValueError("base_url must be an http(s) URL")
        return base_url or None

    def connection(self) -> Connection:
        """The runtime ``Connection`` for these credentials (keys as ``Secret`` values)."""

        def reveal(value: SecretStr | None) -> str | None:
            return value.get_secret_value() if value is not None and value.get_secret_value() else None

        retry = RetryPolicy(max_attempts=self.max_attempts, retry=self.max_attempts > 1,
                            max_rate_limit_wait=self.max_rate_limit_wait)
        return Connection(
            api_key=reveal(self.api_key),
            app_key=reveal(self.app_key),
            access_token=reveal(self.access_token),
            site=self.site,
            base_url=self.base_url or None,
            sandbox_path=(self.sandbox_path or None) if self.site.strip().lower() == SANDBOX_SITE else None,
            timeout=self.timeout,
            retry=retry,
        )


Credentials = DatadogCasesCredentials | Connection | str | None


# -- retries -----------------------------------------------------------------------------------------------------


def is_retryable(error: BaseException | None, idempotent: bool = True) -> bool:
    """Whether trying the action again may help and is safe (``runtime.errors.safe_to_retry``)."""
    return safe_to_retry(error, idempotent)


def _exception_of(state: Any) -> BaseException | None:
    data = getattr(state, "data", None)
    if isinstance(data, BaseException):
        return data
    inner = getattr(data, "result", None)  # a ResultRecord when results are persisted
    if isinstance(inner, BaseException):
        return inner
    try:
        result = state.result(raise_on_failure=False, _sync=True)
    except Exception:  # pragma: no cover - a state without a readable result
        return None
    return result if isinstance(result, BaseException) else None


def retry_condition(action: Any, *, retry_non_idempotent: bool = False) -> Any:
    """A Prefect ``retry_condition_fn`` for *action* (see ``is_retryable``)."""
    manifest = _manifest(action)
    idempotent = bool(manifest.get("idempotent")) or retry_non_idempotent

    # A plain function: Prefect calls retry_condition_fn only when inspect.isfunction() says so.
    def should_retry(task: Any, task_run: Any, state: Any) -> bool:
        return is_retryable(_exception_of(state), idempotent)

    should_retry.__qualname__ = should_retry.__name__ = f"retry_if_retryable_{_short(manifest['id'])}"
    return should_retry


# -- running an action in a task run -----------------------------------------------------------------------------


def _manifest(action: Any) -> Mapping[str, Any]:
    from ..registry import describe

    if isinstance(action, str):
        return describe(action)
    if isinstance(action, Mapping):
        return action
    return action.manifest  # type: ignore[no-any-return]


def _short(action_id: str) -> str:
    return action_id.rsplit(".", 1)[-1]


def _jsonable(value: Any) -> Any:
    """Task arguments as JSON inputs: models as their set fields, dates as ISO strings, tuples as lists."""
    if isinstance(value, BaseModel):
        if hasattr(value, "to_inputs"):
            return value.to_inputs()
        return value.model_dump(mode="json", by_alias=True, exclude_unset=True)
    if isinstance(value, Mapping):
        return {str(k): _jsonable(v) for k, v in value.items()}
    if isinstance(value, (list, tuple, set, frozenset)):
        return [_jsonable(v) for v in value]
    if value is None or isinstance(value, (str, int, float, bool)):
        return value
    return to_jsonable_python(value)


def _inputs(fields: Mapping[str, tuple[str, bool]], arguments: Mapping[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name, value in arguments.items():
        json_name, required = fields[name]
        if value is None and not required:
            continue  # optional and not given: not sent (required ones go through, None included)
        out[json_name] = _jsonable(value)
    return out


class _Settings(NamedTuple):
    """How one task run calls: the rate-limit waits, the Prefect limits to take, the local bound."""

    max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT
    rate_limit_deadline: float = DEFAULT_RATE_LIMIT_DEADLINE
    rate_limit: str | None = None
    concurrency_limit: str | None = None
    max_concurrency: int | None = None


def _block_settings(block: DatadogCasesCredentials) -> _Settings:
    return _Settings(block.max_rate_limit_wait, block.rate_limit_deadline, block.rate_limit_name or None,
                     block.concurrency_limit_name or None, block.max_concurrency)


def _resolved(credentials: Credentials, block: DatadogCasesCredentials | None) -> tuple[Connection, _Settings]:
    if block is not None:
        return block.connection(), _block_settings(block)
    if isinstance(credentials, Connection):
        return credentials, _Settings(max_rate_limit_wait=credentials.retry.max_rate_limit_wait)
    if isinstance(credentials, DatadogCasesCredentials):
        return credentials.connection(), _block_settings(credentials)
    if credentials is None:
        connection = Connection.from_env()
        return connection, _Settings(max_rate_limit_wait=connection.retry.max_rate_limit_wait)
    raise ConfigurationError(
        "credentials must be a DatadogCasesCredentials block, its name, or a Connection; "
        f"got {type(credentials).__name__}"
    )


# A block named by the tasks is loaded once per flow run (and worker process), not once per task run:
# 240 mapped tasks made 240 API reads of the same block.  A new flow run loads it afresh (rotated keys).
_BLOCKS: "OrderedDict[tuple[Any, str], DatadogCasesCredentials]" = OrderedDict()
_BLOCK_LOCKS: dict[tuple[Any, str], threading.Lock] = {}
_ABLOCK_LOCKS: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[Any, str], asyncio.Lock]]" = (
    weakref.WeakKeyDictionary())
_MAX_BLOCKS = 64


def _flow_run_id() -> Any:
    """The id of the flow run this task run belongs to (None outside a flow run: nothing is cached)."""
    from prefect.context import FlowRunContext, TaskRunContext

    task_run = TaskRunContext.get()
    if task_run is not None and task_run.task_run.flow_run_id is not None:
        return task_run.task_run.flow_run_id
    flow_run = FlowRunContext.get()
    return getattr(getattr(flow_run, "flow_run", None), "id", None)


def _cached(key: tuple[Any, str]) -> DatadogCasesCredentials | None:
    with _LOCK:
        return _BLOCKS.get(key)


def _keep(key: tuple[Any, str], block: DatadogCasesCredentials) -> DatadogCasesCredentials:
    with _LOCK:
        _BLOCKS[key] = block
        while len(_BLOCKS) > _MAX_BLOCKS:
            _BLOCK_LOCKS.pop(_BLOCKS.popitem(last=False)[0], None)
    return block


def _load_block(name: str) -> DatadogCasesCredentials:
    """The saved block *name*, loaded once per flow run in this process."""
    key = (_flow_run_id(), name)
    if key[0] is None:
        return cast(DatadogCasesCredentials, DatadogCasesCredentials.load(name, _sync=True))  # type: ignore[call-arg]
    with _LOCK:
        lock = _BLOCK_LOCKS.setdefault(key, threading.Lock())
    with lock:  # concurrent first task runs wait for the one load
        found = _cached(key)
        if found is None:
            found = _keep(key, cast(DatadogCasesCredentials,
                                    DatadogCasesCredentials.load(name, _sync=True)))  # type: ignore[call-arg]
        return found


async def _aload_block(name: str) -> DatadogCasesCredentials:
    """The async twin of ``_load_block``."""
    key = (_flow_run_id(), name)
    if key[0] is None:
        return cast(DatadogCasesCredentials, await DatadogCasesCredentials.aload(name))
    found = _cached(key)
    if found is not None:
        return found
    with _LOCK:
        lock = _ABLOCK_LOCKS.setdefault(asyncio.get_running_loop(), {}).setdefault(key, asyncio.Lock())
    async with lock:
        found = _cached(key)
        if found is None:
            found = _keep(key, cast(DatadogCasesCredentials, await DatadogCasesCredentials.aload(name)))
        return found


def _settings(credentials: Credentials) -> tuple[Connection, _Settings]:
    return _resolved(credentials, _load_block(credentials) if isinstance(credentials, str) else None)


async def _asettings(credentials: Credentials) -> tuple[Connection, _Settings]:
    return _resolved(credentials, await _aload_block(credentials) if isinstance(credentials, str) else None)


# -- bounds: this process's, then Prefect's global limits ------------------------------------------------------

_SEMAPHORES: dict[tuple[str, int], threading.BoundedSemaphore] = {}
_ASEMAPHORES: "weakref.WeakKeyDictionary[asyncio.AbstractEventLoop, dict[tuple[str, int], asyncio.Semaphore]]" = (
    weakref.WeakKeyDictionary())


@contextlib.contextmanager
def _local_slot(connection: Connection, limit: int | None) -> Iterator[None]:
    """One of *limit* slots per process and API (no bound when None: the task runner's workers bound it)."""
    if limit is None:
        yield
        return
    with _LOCK:
        semaphore = _SEMAPHORES.setdefault((connection.url, limit), threading.BoundedSemaphore(limit))
    with semaphore:
        yield


@contextlib.asynccontextmanager
async def _alocal_slot(connection: Connection, limit: int | None) -> AsyncIterator[None]:
    """One of *limit* slots per event loop and API (``DEFAULT_ASYNC_CONCURRENCY`` when None)."""
    limit = DEFAULT_ASYNC_CONCURRENCY if limit is None else limit
    with _LOCK:
        per_loop = _ASEMAPHORES.setdefault(asyncio.get_running_loop(), {})
        semaphore = per_loop.setdefault((connection.url, limit), asyncio.Semaphore(limit))
    async with semaphore:
        yield


@contextlib.contextmanager
def _engine_slot(settings: _Settings) -> Iterator[None]:
    """Prefect's global limits for one call: a rate-limit slot first, then a concurrency slot held during it."""
    from prefect.concurrency.sync import concurrency, rate_limit

    if settings.rate_limit:
        rate_limit(settings.rate_limit, strict=True)  # strict: a misspelt name fails instead of pacing nothing
    if settings.concurrency_limit:
        with concurrency(settings.concurrency_limit, strict=True):
            yield
    else:
        yield


@contextlib.asynccontextmanager
async def _aengine_slot(settings: _Settings) -> AsyncIterator[None]:
    """The async twin of ``_engine_slot``."""
    from prefect.concurrency.asyncio import concurrency, rate_limit

    if settings.rate_limit:
        await rate_limit(settings.rate_limit, strict=True)
    if settings.concurrency_limit:
        async with concurrency(settings.concurrency_limit, strict=True):
            yield
    else:
        yield


# -- a Prefect retry after a 429 starts no sooner than the API asked --------------------------------------------

#: task run id -> the monotonic time before which its next try must not call (a rate-limited run failed).
_NOT_BEFORE: dict[Any, float] = {}


def _task_run_id() -> Any:
    from prefect.context import TaskRunContext

    context = TaskRunContext.get()
    return None if context is None else context.task_run.id


def _remember_wait(error: ActionError) -> None:
    """After a rate-limited run fails to Prefect: its retry must wait what the API asked."""
    run_id = _task_run_id()
    if run_id is None or not isinstance(error, RateLimitedError):
        return
    now = time.monotonic()
    with _LOCK:
        for stale in [key for key, moment in _NOT_BEFORE.items() if moment < now]:
            del _NOT_BEFORE[stale]
        _NOT_BEFORE[run_id] = now + pause(error)


def _retry_wait(logger: Any) -> float:
    """Seconds this try must still wait before calling (0 unless its previous try was rate limited)."""
    run_id = _task_run_id()
    with _LOCK:
        moment = _NOT_BEFORE.pop(run_id, None) if run_id is not None else None
    left = 0.0 if moment is None else moment - time.monotonic()
    if left > 0:
        logger.info("waiting %.1fs more before this retry: the API's rate limit asked for it", left)
    return max(left, 0.0)


class RetryDelays(list):  # type: ignore[type-arg]
    """Prefect retry delays that are never shorter than the wait a 429 asked of this task run.

    Prefect reads ``retry_delay_seconds[n]`` in the failed run's context when it
    schedules the retry, so the retry is scheduled (and shown) for when the API
    allows it.  The tasks of this module use it for their delays; the retried run
    also waits out any remainder itself (jitter, or delays given later through
    ``with_options``), so a retry never calls sooner than ``retry_after``.
    """

    def __getitem__(self, index: Any) -> Any:
        delay = super().__getitem__(index)
        if isinstance(index, slice):
            return delay
        run_id = _task_run_id()
        with _LOCK:
            moment = _NOT_BEFORE.get(run_id) if run_id is not None else None
        return delay if moment is None else max(float(delay), moment - time.monotonic())


def _retry_delays(delays: Any, retries: int) -> Any:
    """*delays* (a number, a list, or Prefect's callable of the retries) as ``RetryDelays``; None as it is."""
    if callable(delays):
        delays = delays(retries)
    if isinstance(delays, (RetryDelays, bool)):
        return delays
    if isinstance(delays, (int, float)):
        return RetryDelays([delays])
    if isinstance(delays, list):
        return RetryDelays(delays)
    return delays


def _logger() -> Any:
    """The run logger inside a Prefect run; this module's logger when a task function is called directly."""
    from prefect.exceptions import MissingContextError

    try:
        return get_run_logger()
    except MissingContextError:
        return logging.getLogger(__name__)


def _log_failure(logger: Any, action_id: str, error: ActionError, idempotent: bool) -> None:
    retry = "may be retried" if is_retryable(error, idempotent) else "not retried"
    logger.warning("%s failed (%s, %s): %s", action_id, type(error).__name__, retry, error.message)


class _Call(NamedTuple):
    """What a task function knows of its action."""

    action_id: str
    fields: Mapping[str, tuple[str, bool]]
    idempotent: bool
    manifest: Mapping[str, Any]
    limits: tuple[str | None, str | None]  # rate_limit, concurrency_limit given as task options


def _with_options(settings: _Settings, call: _Call) -> _Settings:
    rate, concurrency = call.limits
    return settings._replace(rate_limit=rate or settings.rate_limit,
                             concurrency_limit=concurrency or settings.concurrency_limit)


def _run_sync(call: _Call, credentials: Credentials, arguments: Mapping[str, Any]) -> Any:
    from ..runtime.runner import Runner

    logger = _logger()
    inputs = _inputs(call.fields, arguments)
    what = call.action_id + path_target(call.manifest, inputs)
    time.sleep(_retry_wait(logger))
    connection, settings = _settings(credentials)
    settings = _with_options(settings, call)

    with _local_slot(connection, settings.max_concurrency), Runner(door_connection(connection)) as runner:
        def attempt() -> Any:
            with _engine_slot(settings):
                return runner.run(call.action_id, inputs)

        try:
            result = call_through_rate_limits(attempt, what=what, max_wait=settings.max_rate_limit_wait,
                                              deadline=settings.rate_limit_deadline, logger=logger)
        except ActionError as error:
            _remember_wait(error)
            _log_failure(logger, what, error, call.idempotent)
            raise
    logger.info("%s succeeded", what)
    return result


async def _run_async(call: _Call, credentials: Credentials, arguments: Mapping[str, Any]) -> Any:
    from ..runtime.runner import Runner

    logger = _logger()
    inputs = _inputs(call.fields, arguments)
    what = call.action_id + path_target(call.manifest, inputs)
    await asyncio.sleep(_retry_wait(logger))
    connection, settings = await _asettings(credentials)
    settings = _with_options(settings, call)

    async with _alocal_slot(connection, settings.max_concurrency), Runner(door_connection(connection)) as runner:
        async def attempt() -> Any:
            async with _aengine_slot(settings):
                return await runner.arun(call.action_id, inputs)

        try:
            result = await acall_through_rate_limits(attempt, what=what, max_wait=settings.max_rate_limit_wait,
                                                     deadline=settings.rate_limit_deadline, logger=logger)
        except ActionError as error:
            _remember_wait(error)
            _log_failure(logger, what, error, call.idempotent)
            raise
    logger.info("%s succeeded", what)
    return result


# -- the task functions: typed signatures from the input models --------------------------------------------------

_FUNCTIONS: dict[tuple[str, bool, tuple[str | None, str | None]], Any] = {}
_TASKS: dict[tuple[str, bool], Task[Any, Any]] = {}


def _annotation(field: Any) -> Any:
    annotation = field.annotation
    return Annotated[tuple([annotation, *field.metadata])] if field.metadata else annotation


def _docstring(manifest: Mapping[str, Any], model: type[BaseModel]) -> str:
    title = manifest.get("title") or manifest["id"]
    lines = [f"{title} (`{manifest['id']}`: {manifest['method']} {manifest['path']}).",
             "", str(manifest.get("description") or ""), "", "Args:",
             "    credentials: A DatadogCasesCredentials block, the name of a saved one, or a Connection "
             "(None: DD_API_KEY, DD_APP_KEY and DD_SITE from the environment)."]
    for name, field in model.model_fields.items():
        text = " ".join((field.description or "").split()) or "(no description)"
        lines.append(f"    {name}: {text}")
    lines += ["", "Returns:", "    The API's response document (an empty dict for a 204)."]
    return "\n".join(lines)


def _function(action: Any, asynchronous: bool, limits: tuple[str | None, str | None] = (None, None)) -> Any:
    """The function behind an action's task: keyword-only parameters typed from its input model.

    *limits* are the Prefect global limits (rate limit, concurrency) named as task options.
    """
    manifest = _manifest(action)
    action_id = manifest["id"]
    key = (action_id, asynchronous, limits)
    with _LOCK:
        found = _FUNCTIONS.get(key)
        if found is not None:
            return found
        model = input_model(manifest)
        clash = _RESERVED & set(model.model_fields)
        if clash:
            raise ConfigurationError(f"inputs named {sorted(clash)} cannot be task parameters", action_id=action_id)
        fields = {name: (f.serialization_alias or name, f.is_required()) for name, f in model.model_fields.items()}
        call = _Call(action_id, fields, bool(manifest.get("idempotent")), manifest, limits)

        if asynchronous:
            async def action_task(credentials: Credentials = None, **arguments: Any) -> Any:
                return await _run_async(call, credentials, arguments)
            function: Any = action_task
        else:
            def action_task(credentials: Credentials = None, **arguments: Any) -> Any:  # type: ignore[misc]
                return _run_sync(call, credentials, arguments)
            function = action_task

        parameters = [inspect.Parameter("credentials", inspect.Parameter.KEYWORD_ONLY, default=None,
                                        annotation=DatadogCasesCredentials | str | None)]
        annotations: dict[str, Any] = {"credentials": DatadogCasesCredentials | str | None}
        for name, field in model.model_fields.items():
            annotation = _annotation(field)
            default = inspect.Parameter.empty if field.is_required() else None
            parameters.append(inspect.Parameter(name, inspect.Parameter.KEYWORD_ONLY, default=default,
                                                annotation=annotation))
            annotations[name] = annotation
        annotations["return"] = Any
        short = _short(action_id)
        function.__signature__ = inspect.Signature(parameters, return_annotation=Any)
        function.__annotations__ = annotations
        function.__name__ = short
        # Importable by this dotted path, so (cloud)pickle sends tasks to worker processes by reference;
        # a variant with limits is not importable and travels by value (cloudpickle checks identity).
        namespace = "_async_functions" if asynchronous else "_functions"
        function.__qualname__ = f"{namespace}.{short}" if limits == (None, None) else f"case_task.<locals>.{short}"
        function.__module__ = __name__
        function.__doc__ = _docstring(manifest, model)
        function.action_id = action_id
        _FUNCTIONS[key] = function
        return function


def _run_name(manifest: Mapping[str, Any]) -> str:
    path = [name for name in manifest.get("request", {}).get("path", []) if name.isidentifier()]
    if not path:
        return str(manifest["id"])
    return f"{manifest['id']}[" + "/".join(f"{{{name}}}" for name in path) + "]"


def case_task(action: Any, *, asynchronous: bool = False, retry_non_idempotent: bool = False,
              rate_limit: str | None = None, concurrency_limit: str | None = None,
              **task_options: Any) -> Task[Any, Any]:
    """The Prefect task of *action* (``"create_case"``, ``"datadog.create_case"``, an ``Action``).

    *asynchronous* gives the ``async`` variant.  *rate_limit* and
    *concurrency_limit* name Prefect global concurrency limits each call takes a
    slot of (over the credentials block's ``rate_limit_name`` and
    ``concurrency_limit_name``).  *task_options* are ``@task`` options overriding
    the defaults (``retries``, ``retry_delay_seconds``, ``tags``,
    ``timeout_seconds``, ``task_run_name``…).  Without options the task is built
    once per action and reused.
    """
    manifest = _manifest(action)
    key = (manifest["id"], asynchronous)
    limits = (rate_limit or None, concurrency_limit or None)
    plain = not task_options and not retry_non_idempotent and limits == (None, None)
    if plain:
        found = _TASKS.get(key)
        if found is not None:
            return found
    options: dict[str, Any] = {
        "name": _short(manifest["id"]),
        "description": manifest.get("description") or manifest.get("title"),
        "task_run_name": _run_name(manifest),
        "retries": DEFAULT_RETRIES,
        "retry_delay_seconds": DEFAULT_RETRY_DELAY_SECONDS,
        "retry_condition_fn": retry_condition(manifest, retry_non_idempotent=retry_non_idempotent),
        # Every call is a fresh API call: results are never reused from a cache (and the inputs,
        # credentials included, are never hashed into a cache key).
        "cache_policy": NO_CACHE,
    }
    options.update(task_options)
    options["retry_delay_seconds"] = _retry_delays(options["retry_delay_seconds"], options["retries"])
    built: Task[Any, Any] = task(_function(manifest, asynchronous, limits), **options)
    if plain:
        with _LOCK:
            built = _TASKS.setdefault(key, built)
    return built


class _Namespace:
    """``tasks.create_case``: the task of every installed action, built on first use."""

    def __init__(self, asynchronous: bool, what: str) -> None:
        self._asynchronous = asynchronous
        self._what = what

    def __repr__(self) -> str:
        return f"<{'async ' if self._asynchronous else ''}Prefect tasks of the Datadog Case Management actions>"

    def _lookup(self, name: str) -> Any:
        if name.startswith("_"):
            raise AttributeError(name)
        from ..registry import UnknownActionError

        try:
            manifest = _manifest(name)
        except UnknownActionError as exc:
            raise AttributeError(str(exc)) from None
        if self._what == "functions":
            return _function(manifest, self._asynchronous)
        return case_task(manifest, asynchronous=self._asynchronous)

    def __getattr__(self, name: str) -> Any:
        return self._lookup(name)

    def __getitem__(self, name: str) -> Any:
        try:
            return self._lookup(name)
        except AttributeError as exc:
            raise KeyError(name) from exc

    def __dir__(self) -> list[str]:
        from ..registry import discover

        return sorted(_short(action_id) for action_id in discover())

    def __iter__(self) -> Any:
        return iter([getattr(self, name) for name in dir(self)])


#: ``tasks.create_case(credentials=..., title=..., ...)``: the synchronous task of every action.
tasks = _Namespace(asynchronous=False, what="tasks")
#: ``await atasks.create_case(...)``: the async variants (``Runner.arun``).
atasks = _Namespace(asynchronous=True, what="tasks")
_functions = _Namespace(asynchronous=False, what="functions")
_async_functions = _Namespace(asynchronous=True, what="functions")
