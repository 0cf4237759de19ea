"""The seam through which a named site gets its transports (runtime/backends.py)."""

from __future__ import annotations

import httpx
import pytest

from datadog_case_actions import ConfigurationError, Connection, Runner
from datadog_case_actions.runtime import backends
from datadog_case_actions.runtime.connection import SANDBOX_SITE


class _Echo:
    """A backend answering every request with its path; counts how often it was closed."""

    closed = 0

    def transports(self) -> tuple[httpx.BaseTransport, httpx.AsyncBaseTransport]:
        answer = httpx.MockTransport(lambda request: httpx.Response(200, json={"path": request.url.path}))
        return answer, answer  # MockTransport is both

    def close(self) -> None:
        _Echo.closed += 1


def test_a_registered_backend_serves_its_site(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_FACTORIES", {SANDBOX_SITE: lambda connection: _Echo()})
    with Runner(Connection.sandbox(":memory:")) as runner:
        assert runner.run("get_project", {"project_id": "p1"}) == {"path": "/api/v2/cases/projects/p1"}
    assert _Echo.closed == 1


def test_the_installed_sandbox_comes_through_its_entry_point(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_FACTORIES", {})
    with Runner(Connection.sandbox(":memory:")) as runner:
        assert runner.run("get_projects")["data"] == []
    assert SANDBOX_SITE in backends._FACTORIES


def test_a_site_nothing_serves_is_a_configuration_error(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(backends, "_FACTORIES", {})
    monkeypatch.setattr(backends, "GROUP", "datadog_case_actions.no-such-group")
    with pytest.raises(ConfigurationError, match="nothing serves the site 'sandbox'"):
        Runner(Connection.sandbox(":memory:")).run("get_projects")
