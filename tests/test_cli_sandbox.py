"""The sandbox from the command line: demo, --sandbox runs across processes, serve, and no silent fallback."""

from __future__ import annotations

import io
import json
import os
import socket
import subprocess
import sys
import time
import urllib.request
from pathlib import Path
from typing import Any

from datadog_case_actions.cli import main
from datadog_case_actions.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
CASE_TYPE = "00000000-0000-0000-0000-000000000001"


def cli(*argv: str, env: dict[str, str] | None = None) -> subprocess.CompletedProcess[str]:
    """dd-cases in a fresh process, with a clean environment (no keys unless given)."""
    base = {k: v for k, v in os.environ.items() if not k.startswith("DD_")}
    return subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", *argv], cwd=ROOT,
                          env={**base, **(env or {})}, capture_output=True, text=True, timeout=60)


def test_demo_runs_the_incident_workflow_and_leaves_its_cases_in_the_sandbox(tmp_path: Path) -> None:
    db = str(tmp_path / "demo.sqlite3")
    out = io.StringIO()
    assert main(["demo", "--path", db], stdout=out) == 0
    text = out.getvalue()
    for action in ("create_project", "create_case", "update_priority", "assign_case", "update_attributes",
                   "comment_case", "add_case_insights", "search_cases", "count_cases", "aggregate_cases",
                   "update_status", "archive_case"):
        assert action in text, action
    assert "Done: 5 cases opened, 2 closed, 3 still open" in text
    with Sandbox(db) as sandbox:
        cases = sandbox.runner().run("search_cases", {"filter": "project:INC1", "page_size": 100})["data"]
        statuses = sorted(c["attributes"]["status"] for c in cases)
        assert statuses == ["CLOSED", "CLOSED", "OPEN", "OPEN", "OPEN"]
        archived = sandbox.runner().run("search_cases", {"filter": "project:INC1 archived:true"})["data"]
        assert [c["attributes"]["title"] for c in archived] == ["Certificate expires in 10 days"]
    # a second run in the same file gets its own project
    again = io.StringIO()
    assert main(["demo", "--path", db, "--json"], stdout=again) == 0
    summary = json.loads(again.getvalue())
    assert summary["project"] == "INC2" and summary["open_after"] == 3 and len(summary["steps"]) == 22


def test_run_with_sandbox_persists_across_processes(tmp_path: Path) -> None:
    db = str(tmp_path / "cli.sqlite3")
    refused = cli("run", "create_project", "key=OPS", "name=Ops", "--sandbox", "--sandbox-path", db)
    assert refused.returncode == 2 and "add --create" in refused.stderr and not (tmp_path / "cli.sqlite3").exists()
    made = cli("run", "create_project", "key=OPS", "name=Ops", "--sandbox", "--sandbox-path", db, "--create")
    assert made.returncode == 0 and f"creating a new sandbox database at {db}" in made.stderr
    project = json.loads(made.stdout)
    created = cli("run", "create_case", "title=DB down", f"type_id={CASE_TYPE}", f"project_id={project['data']['id']}",
                  "priority=P1", "--sandbox", "--sandbox-path", db)
    assert created.returncode == 0, created.stderr
    case = json.loads(created.stdout)["data"]
    # a second process, choosing the sandbox through the environment this time
    got = cli("run", "get_case", f"case_id={case['id']}", env={"DD_SITE": "sandbox", "DD_SANDBOX_PATH": db})
    assert got.returncode == 0, got.stderr
    assert json.loads(got.stdout)["data"] == case


def test_missing_keys_against_a_real_site_fail_loudly_and_never_use_the_sandbox() -> None:
    result = cli("run", "get_case", "case_id=OPS-1")
    assert result.returncode == 2
    assert "missing credentials" in result.stderr and "DD_API_KEY" in result.stderr
    assert result.stdout == ""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


def _serve(*args: str) -> tuple[subprocess.Popen[str], str]:
    port = _free_port()
    proc = subprocess.Popen([sys.executable, "-m", "datadog_case_actions.cli", "serve", "--port", str(port),
                             "--db", ":memory:", "-q", *args], cwd=ROOT, stderr=subprocess.PIPE, text=True)
    url = f"http://127.0.0.1:{port}"
    for _ in range(200):
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.1):
                return proc, url
        except OSError:
            time.sleep(0.05)
    proc.kill()
    raise AssertionError("serve did not start: " + (proc.stderr.read() if proc.stderr else ""))


def _get(url: str) -> Any:
    request = urllib.request.Request(url, headers={"DD-API-KEY": "x", "DD-APPLICATION-KEY": "y"})
    with urllib.request.urlopen(request, timeout=5) as response:  # loopback only
        return response.status, json.loads(response.read())


def test_serve_answers_plain_http_and_the_cli_with_base_url() -> None:
    proc, url = _serve()
    try:
        status, body = _get(url + "/api/v2/cases/projects")
        assert status == 200 and body == {"data": []}
        env = {"DD_API_KEY": "x", "DD_APP_KEY": "y", "DD_BASE_URL": url}
        made = cli("run", "create_project", "key=SRV", "name=Served", env=env)
        assert made.returncode == 0, made.stderr
        status, body = _get(url + "/api/v2/cases/projects")
        assert [p["attributes"]["key"] for p in body["data"]] == ["SRV"]
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()


def test_a_rate_limited_server_makes_the_client_wait_and_succeed(caplog: Any) -> None:
    import logging

    from datadog_case_actions import Connection, Runner

    caplog.set_level(logging.INFO, logger="datadog_case_actions")
    proc, url = _serve("--rate-limit", "2", "--rate-period", "1")
    try:
        with Runner(Connection(api_key="x", app_key="y", base_url=url)) as runner:
            started = time.monotonic()
            for _ in range(3):
                assert runner.run("get_projects") == {"data": []}
            waited = time.monotonic() - started
    finally:
        proc.terminate()
        proc.wait(10)
        if proc.stderr:
            proc.stderr.close()
    # The third call found the budget spent in the headers of the second: it waited, and sent no request to be 429'd...
    assert "rate limit spent; waiting" in caplog.text and "HTTP 429" not in caplog.text
    assert waited >= 0.3  # ...and waited for the window to reset before succeeding
