"""Chat-ops against the in-process sandbox: a table of chat lines, well-formed and not."""

from __future__ import annotations

from typing import Any, Iterator

import pytest

from datadog_case_actions import Connection
from datadog_case_actions.adapters.chat import ChatOps
from datadog_case_actions.manifest import load_index
from datadog_case_actions.sandbox import Sandbox

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])

CASE_TYPE = "00000000-0000-0000-0000-000000000001"
API, APP = "SENTINEL-CHAT-API-1", "SENTINEL-CHAT-APP-2"


@pytest.fixture()
def chat() -> Iterator[ChatOps]:
    with Sandbox(":memory:") as sandbox:
        runner = sandbox.runner(connection=Connection(api_key=API, app_key=APP, base_url="http://sandbox.local"))
        runner.run("create_project", {"key": "OPS", "name": "Operations"})
        yield ChatOps(runner, defaults={"type_id": CASE_TYPE})
        runner.close()


def test_a_conversation(chat: ChatOps) -> None:
    created = chat.handle('case create "DB is down" priority=P1 project=OPS')
    assert created.ok and created.action_id == "datadog.create_case"
    assert created.text == "Created OPS-1: DB is down (P1, OPEN)"
    key = created.result["data"]["attributes"]["key"]

    table: list[tuple[str, bool, str]] = [
        (f"case comment {key} on it, failing over", True, "Comment added"),
        (f"case priority {key} p2", True, "Updated OPS-1: DB is down (P2, OPEN)"),
        (f"case status {key} in_progress", True, "(P2, IN_PROGRESS)"),
        (f"case assign {key} 00000000-0000-4000-8000-0000000000a1", True,
         "Assigned OPS-1: DB is down (P2, IN_PROGRESS) to 00000000-0000-4000-8000-0000000000a1"),
        (f"case show {key}", True, "OPS-1: DB is down (P2, IN_PROGRESS)"),
        ('case search "status:in_progress"', True, "1 case:\n• OPS-1: DB is down (P2, IN_PROGRESS)"),
        ("case search status:closed", True, "0 cases."),
        (f"case run update_case_title case_id={key} title='Primary DB down'", True, "Primary DB down"),
        (f"case status {key} closed", True, "(P2, CLOSED)"),
    ]
    for line, ok, expected in table:
        reply = chat.handle(line)
        assert reply.ok is ok, (line, reply.text)
        assert expected in reply.text, (line, reply.text)


def test_slack_style(chat: ChatOps) -> None:
    reply = chat.handle('case create "Checkout slow" priority=P3 project=OPS', style="slack")
    assert reply.text == "Created *OPS-1*: Checkout slow · P3 · OPEN"
    assert "`case create TITLE`" in chat.handle("case help", style="slack").text


def test_help(chat: ChatOps) -> None:
    text = chat.handle("case help").text
    assert "case create TITLE: Create a case" in text and "case run ACTION" in text and f"{ACTIONS} actions" in text
    create = chat.handle("case help create").text
    assert "title (required)" in create and "priority one of NOT_DEFINED, P1, P2, P3, P4, P5" in create
    assert "type_id" not in create  # filled from the bot's defaults
    assert "delete_project" in chat.handle("case help delete_project").text


def test_destructive_actions_need_confirmation(chat: ChatOps) -> None:
    project = chat.runner.run("get_projects")["data"][0]["id"]
    refused = chat.handle(f"case run delete_project project_id={project}")
    assert refused.needs_confirmation and not refused.ok and "--yes" in refused.text
    assert len(chat.runner.run("get_projects")["data"]) == 1  # nothing happened
    done = chat.handle(f"case run delete_project project_id={project} --yes")
    assert done.ok and chat.runner.run("get_projects")["data"] == []


@pytest.mark.parametrize(
    ("line", "expected"),
    [
        ('case create "unbalanced', "check the quotes"),
        ("case crate x", "Did you mean case create or case run create_case?"),
        ("case frobnicate", "don't know 'frobnicate'"),
        ("case priority OPS-1 P9", "priority: 'P9' is not one of"),
        ("case create", "title: is required"),
        ('case create "x" project=NOPE', "project_id: no project with key 'NOPE'"),
        ("case show OPS-404", "not found"),
        ("case show a/b", "case_id: must be a single path segment"),
        ("case show OPS-1 extra words", "unexpected words: extra words"),
        ("case run no_such_action", "unknown action 'no_such_action'"),
        ("case run", "say which action"),
        ("case run get_case case_id=OPS-1 colour=red", "colour: unknown field"),
    ],
)
def test_malformed_lines_get_a_helpful_reply_naming_the_field(chat: ChatOps, line: str, expected: str) -> None:
    reply = chat.handle(line)
    assert not reply.ok and expected in reply.text, reply.text


def test_no_reply_contains_a_key(chat: ChatOps) -> None:
    lines = ['case create "t" project=OPS', "case show OPS-9", "case priority OPS-1 P9", "case help",
             "case run get_projects", 'case search ""']
    texts: list[Any] = [chat.handle(line) for line in lines]
    for reply in texts:
        assert API not in repr(reply) and APP not in repr(reply)
