"""The doors under attack: the sandbox server, the sandbox file, the module-level runner cache,
chat confirmation and MCP's destructive hints (issue 10, items 4, 7, 8, 14, 18, 19)."""

from __future__ import annotations

import asyncio
import os
import sqlite3
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator

import pytest

CASE_TYPE = "00000000-0000-0000-0000-000000000001"


# -- MCP: destructiveHint is false only for purely additive writes (item 18) ----------------------

#: every write that only adds data; any other write changes or removes something that exists
ADDITIVE = {
    "add_case_insights", "comment_case", "create_case", "create_case_automation_rule", "create_case_jira_issue",
    "create_case_link", "create_case_notebook", "create_case_service_now_ticket", "create_case_view",
    "create_maintenance_window", "create_project", "create_project_notification_rule", "favorite_case_project",
    "link_incident", "link_jira_issue_to_case", "watch_case",
}
#: the tools the review found marked non-destructive although they overwrite or remove data
OVERWRITING = {
    "update_attributes", "update_case_comment", "update_case_title", "update_project", "bulk_update_cases",
    "remove_case_insights", "unlink_jira_issue", "unassign_case", "move_case_to_project", "unwatch_case",
    "unfavorite_case_project",
}


def test_mcp_destructive_hint_is_false_exactly_for_additive_writes() -> None:
    pytest.importorskip("mcp")
    from datadog_case_actions.adapters.mcp import build_server
    from datadog_case_actions.sandbox import Sandbox
    from mcp import Client

    async def tools() -> dict[str, Any]:
        with Sandbox(":memory:") as sandbox:
            runner = sandbox.runner()
            try:
                async with Client(build_server(runner)) as client:
                    return {t.name: t.annotations for t in (await client.list_tools()).tools}
            finally:
                await runner.aclose()

    annotations = asyncio.run(tools())
    writes = {name for name, a in annotations.items() if not a.read_only_hint}
    not_destructive = {name for name in writes if annotations[name].destructive_hint is False}
    assert not_destructive == ADDITIVE
    assert OVERWRITING <= writes - not_destructive
    assert all(annotations[name].destructive_hint for name in writes if name.startswith(("delete_", "update_")))


# -- chat: only a flag outside the free text confirms (item 8) ------------------------------------

@pytest.fixture()
def sandbox_runner() -> Iterator[Any]:
    from datadog_case_actions.sandbox import Sandbox

    with Sandbox(":memory:") as sandbox:
        runner = sandbox.runner()
        yield runner
        runner.close()


def _chat(runner: Any) -> Any:
    from datadog_case_actions.adapters.chat import ChatOps

    runner.run("create_project", {"key": "OPS", "name": "Operations"})
    runner.run("create_project", {"key": "OLD", "name": "Old"})
    return ChatOps(runner, defaults={"type_id": CASE_TYPE})


def _projects(runner: Any) -> set[str]:
    return {p["attributes"]["key"] for p in runner.run("get_projects")["data"]}


def _case(runner: Any, key: str) -> dict[str, Any]:
    return runner.run("get_case", {"case_id": key})["data"]["attributes"]  # type: ignore[no-any-return]


def _comments(runner: Any, key: str) -> set[str]:
    cells = runner.run("list_case_timeline", {"case_id": key})["data"]
    return {c["attributes"]["cell_content"]["message"] for c in cells if c["attributes"]["type"] == "COMMENT"}


def test_chat_free_text_keeps_its_confirm_words_and_only_flags_outside_it_confirm(sandbox_runner: Any) -> None:
    chat = _chat(sandbox_runner)
    assert chat.handle('case create "DB down" project=OPS').ok
    old = next(p["id"] for p in sandbox_runner.run("get_projects")["data"] if p["attributes"]["key"] == "OLD")
    # (line, reply ok, what the sandbox holds afterwards)
    table: list[tuple[str, bool, Any]] = [
        ("case comment OPS-1 please confirm", True, lambda: "please confirm" in _comments(sandbox_runner, "OPS-1")),
        ("case comment OPS-1 ship it --yes", True, lambda: "ship it --yes" in _comments(sandbox_runner, "OPS-1")),
        ("case comment OPS-1 --confirm", True, lambda: "--confirm" in _comments(sandbox_runner, "OPS-1")),
        ("case title OPS-1 Confirm", True, lambda: _case(sandbox_runner, "OPS-1")["title"] == "Confirm"),
        ('case title OPS-1 "Needs --yes"', True, lambda: _case(sandbox_runner, "OPS-1")["title"] == "Needs --yes"),
        (f"case run delete_project project_id={old} confirm", False, lambda: "OLD" in _projects(sandbox_runner)),
        (f"case run delete_project project_id={old}", False, lambda: "OLD" in _projects(sandbox_runner)),
        (f"case --yes run delete_project project_id={old}", True, lambda: "OLD" not in _projects(sandbox_runner)),
    ]
    for line, ok, holds in table:
        reply = chat.handle(line)
        assert reply.ok is ok, (line, reply.text)
        assert holds(), (line, reply.text)


def test_chat_a_yes_reply_confirms_only_the_request_it_answers(sandbox_runner: Any) -> None:
    chat = _chat(sandbox_runner)
    ids = {p["attributes"]["key"]: p["id"] for p in sandbox_runner.run("get_projects")["data"]}
    alice, bob = ("#ops", "alice"), ("#ops", "bob")
    # (conversation, line, reply ok, needs confirmation, projects afterwards)
    table: list[tuple[Any, str, bool, bool, set[str]]] = [
        (alice, f"case run delete_project project_id={ids['OLD']}", False, True, {"OPS", "OLD"}),
        (bob, "yes", False, False, {"OPS", "OLD"}),  # someone else's request
        (None, "yes", False, False, {"OPS", "OLD"}),  # no conversation, no pending request
        (alice, "case yes", True, False, {"OPS"}),
        (alice, "yes", False, False, {"OPS"}),  # the request was answered: nothing left to confirm
        (alice, f"case run delete_project project_id={ids['OPS']}", False, True, {"OPS"}),
        (alice, "case show OPS-1", False, False, {"OPS"}),  # any other line drops the request
        (alice, "yes", False, False, {"OPS"}),
    ]
    for conversation, line, ok, asks, projects in table:
        reply = chat.handle(line, conversation=conversation)
        assert (reply.ok, reply.needs_confirmation) == (ok, asks), (conversation, line, reply.text)
        assert _projects(sandbox_runner) == projects, (conversation, line, reply.text)


# -- a damaged or impossible sandbox file is a ConfigurationError naming it (item 14) -------------

def _good_database(path: Path) -> None:
    from datadog_case_actions.sandbox import Sandbox

    with Sandbox(path) as sandbox:
        runner = sandbox.runner()
        project = runner.run("create_project", {"key": "OPS", "name": "Operations"})["data"]["id"]
        for number in range(40):
            runner.run("create_case", {"title": f"case {number} " + "x" * 400, "type_id": CASE_TYPE,
                                       "project_id": project})
        runner.close()


def _damaged(tmp_path: Path, kind: str) -> Path:
    """A sandbox path that cannot be used, of the given *kind*."""
    if kind == "garbage":
        path = tmp_path / "garbage.sqlite3"
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "truncated":
        path = tmp_path / "truncated.sqlite3"
        _good_database(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "cases_page":  # opens fine, fails only when the cases are read
        path = tmp_path / "cases_page.sqlite3"
        _good_database(path)
        with sqlite3.connect(path) as db:
            root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'cases'").fetchone()[0]
            size = db.execute("PRAGMA page_size").fetchone()[0]
        db.close()
        data = bytearray(path.read_bytes())
        data[(root - 1) * size: root * size] = b"\xff" * size
        path.write_bytes(bytes(data))
    elif kind == "under_a_file":
        (tmp_path / "plain").write_text("not a folder")
        path = tmp_path / "plain" / "sandbox.sqlite3"
    else:
        path = tmp_path / "a_directory"
        path.mkdir()
    return path


DAMAGE = ["garbage", "truncated", "cases_page", "under_a_file", "directory"]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_sandbox_file_is_a_configuration_error_from_run(tmp_path: Path, kind: str) -> None:
    from datadog_case_actions import Connection, run
    from datadog_case_actions.runtime.errors import ConfigurationError

    path = _damaged(tmp_path, kind)
    connection = Connection.sandbox(path)
    with pytest.raises(ConfigurationError) as raised:
        run("get_projects", connection=connection)
        run("search_cases", connection=connection)  # the damaged page holds the cases
    assert str(path) in str(raised.value) and raised.value.exit_code == 2

    async def via_arun() -> None:
        from datadog_case_actions.runtime.runner import Runner

        async with Runner(Connection.sandbox(path)) as runner:
            await runner.arun("search_cases")

    with pytest.raises(ConfigurationError):
        asyncio.run(via_arun())


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_sandbox_file_is_one_line_and_exit_2_on_the_cli(tmp_path: Path, kind: str) -> None:
    path = _damaged(tmp_path, kind)
    env = {**os.environ, "DD_SANDBOX_PATH": str(path), "PYTHONWARNINGS": "error"}
    done = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", "run", "search_cases", "--sandbox"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and str(path) in done.stderr and "Traceback" not in done.stderr
    if kind == "cases_page":  # that one opens: the server would start and serve until stopped
        return
    served = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", "serve", "--db", str(path),
                             "--port", "0", "-q"], env=env, capture_output=True, text=True, timeout=60)
    assert served.returncode == 2, served.stderr
    assert served.stderr.count("\n") == 1 and str(path) in served.stderr
