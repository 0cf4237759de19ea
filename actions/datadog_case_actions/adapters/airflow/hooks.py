"""``DatadogCasesHook``: a runtime ``Connection`` and ``Runner`` from an Airflow connection.

Two connection shapes are understood, so nobody re-enters credentials:

* this provider's own type (``datadog_case_actions``): password = API key; extras
  ``app_key`` (or ``application_key``), ``access_token``, ``site``; host = an
  explicit API URL (a proxy, ``dd-cases serve``), a site host, or a bare host
  with a port (``datadog-case-actions://:KEY@127.0.0.1:8126?app_key=…``: http on
  loopback, https elsewhere, or the scheme named in the connection's schema field);
* the official Datadog provider's ``datadog`` type (``datadog_default``): extras
  ``api_key``, ``app_key`` and ``api_host`` (the API endpoint, a URL or a site);
  its ``host`` field is the host name events are reported for, not the API, and is
  ignored (a Datadog site written there, as older notes suggested, is still read).

Extras of either shape tune the calls: ``max_attempts`` (transport attempts per
call), ``max_rate_limit_wait`` (the longest 429 wait a task sits out on its
worker; the operator defers beyond it), ``rate_limit_deadline`` (the longest
total a call may wait for rate limits), ``max_concurrency`` and ``timeout``.

Every key read from a connection is registered with Airflow's secrets masker:
Airflow masks extras by name (``api_key``, ``access_token``), not ``app_key``.

A runner is made per hook and closed after the task: Airflow runs tasks in
forked or fresh worker processes, and no pool may be shared between them.
"""

from __future__ import annotations

import inspect
import ipaddress
from collections.abc import Mapping
from typing import Any, NamedTuple

from airflow.sdk import BaseHook

from ...runtime.connection import Connection, RetryPolicy, site_url
from ...runtime.errors import ConfigurationError
from ...runtime.runner import Runner
from .._pacing import DEFAULT_MAX_RATE_LIMIT_WAIT, DEFAULT_RATE_LIMIT_DEADLINE, call_through_rate_limits
from . import CONN_TYPE, DEFAULT_CONN_ID

try:  # Airflow 3: masks in the task process and tells the supervisor
    from airflow.sdk.log import mask_secret
except ImportError:  # pragma: no cover - older task SDKs
    from airflow.sdk.execution_time.secrets_masker import mask_secret  # type: ignore[no-redef]

__all__ = ["DatadogCasesHook", "CallSettings", "connection_from_airflow", "settings_from_airflow"]

#: The official Datadog provider's connection type.
OFFICIAL_CONN_TYPE = "datadog"


class CallSettings(NamedTuple):
    """How calls through a connection wait for rate limits (from its extras)."""

    max_rate_limit_wait: float = DEFAULT_MAX_RATE_LIMIT_WAIT
    rate_limit_deadline: float = DEFAULT_RATE_LIMIT_DEADLINE
    max_concurrency: int | None = None


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def _extras(conn: Any) -> dict[str, Any]:
    """The connection's extras, with the ``extra__<type>__`` prefix of older connection forms removed."""
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    for name in list(extra):
        if name.startswith("extra__"):
            extra.setdefault(name.split("__", 2)[-1], extra.pop(name))
    return extra


def _number(extra: Mapping[str, Any], name: str, kind: type, minimum: float) -> Any:
    """An extra as an int or a float of at least *minimum*, or None; a ConfigurationError naming it otherwise."""
    value = extra.get(name)
    if value in (None, ""):
        return None
    try:
        number = kind(value)
        if isinstance(value, bool) or (kind is int and float(value) != number) or number < minimum:
            raise ValueError
    except (TypeError, ValueError):
        article = "an integer" if kind is int else "a number"
        raise ConfigurationError(f"connection extra {name!r} must be {article} >= {minimum:g}") from None
    return number


def _is_loopback(host: str) -> bool:
    try:
        return host == "localhost" or ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def _target(host: str | None, port: Any, schema: Any) -> dict[str, str]:
    """``{"site": ...}`` or ``{"base_url": ...}`` for the API named by a host field (and a port, a schema)."""
    if not host:
        return {}
    host = str(host).strip()
    if host.startswith(("http://", "https://")):
        base = host.rstrip("/")
        if port and base.count(":") == 1:  # a URL without a port of its own
            base = f"{base}:{int(port)}"
        return {"base_url": base}
    if port:  # a connection URI's host and port: http on loopback (the sandbox), https elsewhere
        scheme = str(schema).lower() if str(schema or "").lower() in ("http", "https") else (
            "http" if _is_loopback(host) else "https")
        return {"base_url": f"{scheme}://{host}:{int(port)}"}
    try:
        site_url(host)  # a Datadog API host such as api.datadoghq.eu: a site
    except ConfigurationError:
        raise ConfigurationError(
            f"connection host {host!r} is neither a Datadog site nor an http(s) URL (nor a host with a port)"
        ) from None
    return {"site": host}


def _api_target(conn: Any, extra: Mapping[str, Any]) -> dict[str, str]:
    if getattr(conn, "conn_type", None) == OFFICIAL_CONN_TYPE:
        api_host = _first(extra.get("api_host"))
        if api_host:
            return _target(api_host, None, None)
        host = getattr(conn, "host", None)
        try:  # the events host name; only a Datadog site written there is taken as the API
            return _target(host, None, None)
        except ConfigurationError:
            return {}
    host = _first(getattr(conn, "host", None), extra.get("api_host"), extra.get("host"))
    return _target(host, getattr(conn, "port", None), getattr(conn, "schema", None))


def connection_from_airflow(conn: Any) -> Connection:
    """A runtime ``Connection`` from an Airflow connection of either shape (see the module doc)."""
    extra = _extras(conn)
    api_key = _first(extra.get("api_key"), getattr(conn, "password", None))
    app_key = _first(extra.get("app_key"), extra.get("application_key"), extra.get("app-key"))
    token = _first(extra.get("access_token"))
    for secret in (api_key, app_key, token):
        if secret:
            mask_secret(str(secret))
    options: dict[str, Any] = {"api_key": api_key, "app_key": app_key, "access_token": token}
    if extra.get("sandbox_path"):
        options["sandbox_path"] = extra["sandbox_path"]
    options.update(_api_target(conn, extra))
    site = _first(extra.get("site"))
    if site:
        options["site"] = site
    timeout = _number(extra, "timeout", float, 0.001)
    if timeout is not None:
        options["timeout"] = timeout
    attempts = _number(extra, "max_attempts", int, 1)
    wait = _number(extra, "max_rate_limit_wait", float, 0)
    if attempts is not None or wait is not None:
        defaults = RetryPolicy()
        attempts = defaults.max_attempts if attempts is None else attempts
        options["retry"] = RetryPolicy(
            max_attempts=attempts, retry=attempts > 1,
            max_rate_limit_wait=defaults.max_rate_limit_wait if wait is None else wait)
    return Connection(**{k: v for k, v in options.items() if v is not None})


def settings_from_airflow(conn: Any) -> CallSettings:
    """The rate-limit settings of a connection's extras (defaults where absent)."""
    extra = _extras(conn)
    wait = _number(extra, "max_rate_limit_wait", float, 0)
    deadline = _number(extra, "rate_limit_deadline", float, 0)
    return CallSettings(
        max_rate_limit_wait=DEFAULT_MAX_RATE_LIMIT_WAIT if wait is None else wait,
        rate_limit_deadline=DEFAULT_RATE_LIMIT_DEADLINE if deadline is None else deadline,
        max_concurrency=_number(extra, "max_concurrency", int, 1),
    )


class DatadogCasesHook(BaseHook):
    """Runs Case Management actions with the credentials of an Airflow connection."""

    conn_name_attr = "datadog_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Datadog Case Management"

    def __init__(self, datadog_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.datadog_conn_id = datadog_conn_id
        self._airflow_conn: Any = None

    def _conn(self) -> Any:
        if self._airflow_conn is None:
            self._airflow_conn = self.get_connection(self.datadog_conn_id)
        return self._airflow_conn

    def get_conn(self) -> Connection:
        """The runtime ``Connection`` (keys as secrets: never in a repr or a log line)."""
        return connection_from_airflow(self._conn())

    @property
    def settings(self) -> CallSettings:
        """Rate-limit settings from the connection's extras."""
        return settings_from_airflow(self._conn())

    def get_runner(self, *, max_rate_limit_wait: float | None = None) -> Runner:
        """A new ``Runner``; close it (or use it as a context manager) when done.

        *max_rate_limit_wait* overrides the longest 429 wait the transport sits out.
        """
        connection = self.get_conn()
        if max_rate_limit_wait is not None:
            connection = connection.with_options(
                retry=connection.retry.with_options(max_rate_limit_wait=max_rate_limit_wait))
        limit = self.settings.max_concurrency
        # The runtime's concurrency bound, where this version of the runtime has one.
        if limit is not None and "max_concurrency" in inspect.signature(Runner).parameters:
            return Runner(connection, max_concurrency=limit)  # type: ignore[call-arg]
        return Runner(connection)

    def run(self, action: str, inputs: dict[str, Any] | None = None, *,
            max_rate_limit_wait: float | None = None) -> Any:
        """Run one action and return its JSON result; rate limits up to *max_rate_limit_wait* are waited out.

        Waits longer than that (default: the connection's ``max_rate_limit_wait``)
        raise the ``RateLimitedError``, whose ``retry_after`` says how long to wait.
        """
        settings = self.settings
        limit = settings.max_rate_limit_wait if max_rate_limit_wait is None else max_rate_limit_wait
        with self.get_runner(max_rate_limit_wait=0) as runner:  # every 429 comes back here (_pacing)
            return call_through_rate_limits(lambda: runner.run(action, inputs or {}), what=action,
                                            max_wait=limit, deadline=settings.rate_limit_deadline,
                                            logger=self.log)

    def test_connection(self) -> tuple[bool, str]:
        """For the UI's Test button: one cheap read (the projects list)."""
        try:
            self.run("get_projects")
        except Exception as exc:  # shown to the user as the reason
            return False, str(exc)
        return True, "Connection to Datadog Case Management works"
