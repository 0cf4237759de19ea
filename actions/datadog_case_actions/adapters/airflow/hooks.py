"""``DatadogCasesHook``: a runtime ``Connection`` and ``Runner`` from an Airflow connection.

Two connection shapes are understood, so nobody re-enters credentials:

* this provider's own type (``datadog_case_actions``): password = API key; extras
  ``app_key`` (or ``application_key``), ``access_token``, ``site``; host = an
  explicit API URL (a proxy, ``dd-cases serve``) or a site host;
* the official Datadog provider's ``datadog_default``: extras ``api_key`` and
  ``app_key``, host = the API host (``api.datadoghq.eu``, ``https://api.datadoghq.com``).

A runner is made per hook and closed after the task: Airflow runs tasks in
forked or fresh worker processes, and no pool may be shared between them.
"""

from __future__ import annotations

from typing import Any

from airflow.sdk import BaseHook

from ...runtime.connection import Connection, site_url
from ...runtime.errors import ConfigurationError
from ...runtime.runner import Runner
from . import CONN_TYPE, DEFAULT_CONN_ID

__all__ = ["DatadogCasesHook", "connection_from_airflow"]


def _first(*values: Any) -> Any:
    return next((v for v in values if v not in (None, "")), None)


def connection_from_airflow(conn: Any) -> Connection:
    """A runtime ``Connection`` from an Airflow connection of either shape (see the module doc)."""
    extra = dict(getattr(conn, "extra_dejson", None) or {})
    api_key = _first(extra.get("api_key"), getattr(conn, "password", None))
    app_key = _first(extra.get("app_key"), extra.get("application_key"), extra.get("app-key"))
    token = _first(extra.get("access_token"))
    site = _first(extra.get("site"))
    host = _first(getattr(conn, "host", None), extra.get("api_host"), extra.get("host"))
    options: dict[str, Any] = {"api_key": api_key, "app_key": app_key, "access_token": token}
    if extra.get("sandbox_path"):
        options["sandbox_path"] = extra["sandbox_path"]
    if host:
        try:
            site_url(host)  # a Datadog API host such as api.datadoghq.eu: a site
            options["site"] = host
        except ConfigurationError:
            if not str(host).startswith(("http://", "https://")):
                raise ConfigurationError(
                    f"connection host {host!r} is neither a Datadog site nor an http(s) URL") from None
            options["base_url"] = host
    if site:
        options["site"] = site
    if "timeout" in extra:
        options["timeout"] = float(extra["timeout"])
    return Connection(**{k: v for k, v in options.items() if v is not None})


class DatadogCasesHook(BaseHook):
    """Runs Case Management actions with the credentials of an Airflow connection."""

    conn_name_attr = "datadog_conn_id"
    default_conn_name = DEFAULT_CONN_ID
    conn_type = CONN_TYPE
    hook_name = "Datadog Case Management"

    def __init__(self, datadog_conn_id: str = DEFAULT_CONN_ID, **kwargs: Any) -> None:
        super().__init__(**kwargs)
        self.datadog_conn_id = datadog_conn_id

    def get_conn(self) -> Connection:
        """The runtime ``Connection`` (keys as secrets: never in a repr or a log line)."""
        return connection_from_airflow(self.get_connection(self.datadog_conn_id))

    def get_runner(self) -> Runner:
        """A new ``Runner``; close it (or use it as a context manager) when done."""
        return Runner(self.get_conn())

    def run(self, action: str, inputs: dict[str, Any] | None = None) -> Any:
        """Run one action and return its JSON result."""
        with self.get_runner() as runner:
            return runner.run(action, inputs or {})

    def test_connection(self) -> tuple[bool, str]:
        """For the UI's Test button: one cheap read (the projects list)."""
        try:
            self.run("get_projects")
        except Exception as exc:  # shown to the user as the reason
            return False, str(exc)
        return True, "Connection to Datadog Case Management works"
