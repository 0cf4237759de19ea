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

Each task run builds its own ``Runner`` from the credentials and closes it at the
end: no pool is shared between task runs, threads or worker processes.

Secrets: the block holds keys as ``SecretStr`` (masked in reprs, the UI and
serialized parameters); they become ``Secret`` values of a ``Connection`` inside
the task run only and never reach a log line.  Pass the block's *name* to tasks
and flows (``credentials="datadog"``) so that parameters stored by Prefect hold
no key at all.

Register the block type with ``prefect block register -m datadog_case_actions.adapters.prefect``.
Needs the ``[prefect]`` extra (Prefect 3).
"""

from __future__ import annotations

import inspect
import logging
import re
import threading
from collections.abc import Mapping
from typing import Annotated, Any, cast

from prefect import get_run_logger, task
from prefect.blocks.core import Block
from prefect.cache_policies import NO_CACHE
from prefect.tasks import Task
from pydantic import BaseModel, ConfigDict, Field, SecretStr, field_validator
from pydantic_core import to_jsonable_python

from ..runtime.connection import SANDBOX_SITE, Connection, RetryPolicy, site_url
from ..runtime.errors import ActionError, ConfigurationError, safe_to_retry
from ..typed import input_model

__all__ = [
    "DatadogCasesCredentials",
    "tasks",
    "atasks",
    "case_task",
    "is_retryable",
    "retry_condition",
    "DEFAULT_RETRIES",
    "DEFAULT_RETRY_DELAY_SECONDS",
]

#: Prefect-level retries of every task by default (on top of the transport's own attempts).
DEFAULT_RETRIES = 2
DEFAULT_RETRY_DELAY_SECONDS: list[float] = [10, 60]

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
        "actions). 1 leaves all retrying to Prefect's task retries.",
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

        retry = RetryPolicy(max_attempts=self.max_attempts, retry=self.max_attempts > 1)
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


def _connection(credentials: Credentials) -> Connection:
    if isinstance(credentials, Connection):
        return credentials
    if isinstance(credentials, DatadogCasesCredentials):
        return credentials.connection()
    if credentials is None:
        return Connection.from_env()
    if isinstance(credentials, str):
        block = cast(DatadogCasesCredentials, DatadogCasesCredentials.load(credentials, _sync=True))  # type: ignore[call-arg]
        return block.connection()
    raise ConfigurationError(
        "credentials must be a DatadogCasesCredentials block, its name, or a Connection; "
        f"got {type(credentials).__name__}"
    )


async def _aconnection(credentials: Credentials) -> Connection:
    if isinstance(credentials, str):
        loaded = cast(DatadogCasesCredentials, await DatadogCasesCredentials.aload(credentials))
        return loaded.connection()
    return _connection(credentials)


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


def _run_sync(action_id: str, fields: Mapping[str, tuple[str, bool]], idempotent: bool,
              credentials: Credentials, arguments: Mapping[str, Any]) -> Any:
    from ..runtime.runner import Runner

    logger = _logger()
    inputs = _inputs(fields, arguments)
    with Runner(_connection(credentials)) as runner:
        try:
            result = runner.run(action_id, inputs)
        except ActionError as error:
            _log_failure(logger, action_id, error, idempotent)
            raise
    logger.info("%s succeeded", action_id)
    return result


async def _run_async(action_id: str, fields: Mapping[str, tuple[str, bool]], idempotent: bool,
                     credentials: Credentials, arguments: Mapping[str, Any]) -> Any:
    from ..runtime.runner import Runner

    logger = _logger()
    inputs = _inputs(fields, arguments)
    async with Runner(await _aconnection(credentials)) as runner:
        try:
            result = await runner.arun(action_id, inputs)
        except ActionError as error:
            _log_failure(logger, action_id, error, idempotent)
            raise
    logger.info("%s succeeded", action_id)
    return result


# -- the task functions: typed signatures from the input models --------------------------------------------------

_LOCK = threading.RLock()
_FUNCTIONS: dict[tuple[str, bool], Any] = {}
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


def _function(action: Any, asynchronous: bool) -> Any:
    """The function behind an action's task: keyword-only parameters typed from its input model."""
    manifest = _manifest(action)
    action_id = manifest["id"]
    key = (action_id, asynchronous)
    with _LOCK:
        found = _FUNCTIONS.get(key)
        if found is not None:
            return found
        model = input_model(manifest)
        clash = _RESERVED & set(model.model_fields)
        if clash:
            raise ConfigurationError(f"inputs named {sorted(clash)} cannot be task parameters", action_id=action_id)
        fields = {name: (f.serialization_alias or name, f.is_required()) for name, f in model.model_fields.items()}
        idempotent = bool(manifest.get("idempotent"))

        if asynchronous:
            async def action_task(credentials: Credentials = None, **arguments: Any) -> Any:
                return await _run_async(action_id, fields, idempotent, credentials, arguments)
            function: Any = action_task
        else:
            def action_task(credentials: Credentials = None, **arguments: Any) -> Any:  # type: ignore[misc]
                return _run_sync(action_id, fields, idempotent, credentials, arguments)
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
        # Importable by this dotted path, so (cloud)pickle sends tasks to worker processes by reference.
        function.__qualname__ = f"{'_async_functions' if asynchronous else '_functions'}.{short}"
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
              **task_options: Any) -> Task[Any, Any]:
    """The Prefect task of *action* (``"create_case"``, ``"datadog.create_case"``, an ``Action``).

    *asynchronous* gives the ``async`` variant.  *task_options* are ``@task``
    options overriding the defaults (``retries``, ``retry_delay_seconds``,
    ``tags``, ``timeout_seconds``, ``task_run_name``…).  Without options the
    task is built once per action and reused.
    """
    manifest = _manifest(action)
    key = (manifest["id"], asynchronous)
    plain = not task_options and not retry_non_idempotent
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
    built: Task[Any, Any] = task(_function(manifest, asynchronous), **options)
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
