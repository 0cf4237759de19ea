"""The doors under attack: the sandbox server, the sandbox file, the module-level runner cache,
chat confirmation and MCP's destructive hints (issue 10, items 4, 7, 8, 14, 18, 19)."""

from __future__ import annotations

import asyncio
from typing import Any

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
    from mcp import Client

    from datadog_case_actions.adapters.mcp import build_server
    from datadog_case_actions.sandbox import Sandbox

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
