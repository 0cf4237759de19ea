"""Contract: every action's own example, sent through the real runtime to the sandbox, answers its output schema.

For each of the 75 manifests a fresh in-memory sandbox gets what the action
needs (projects, a case type with a custom attribute config, cases, a comment,
rules, a window, a view, a link...); then
the manifest's first example input is sent with its placeholder ids replaced
by real ones (every other field kept) through ``Runner(Connection(...),
httpx_transport=SandboxTransport(sb))``, and the result is validated against
the manifest's ``output_schema`` (Draft 2020-12, no format checks).  The HTTP
status must be the manifest's ``success_status``.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Callable

import httpx
import pytest
from jsonschema import Draft202012Validator

from datadog_case_actions.sandbox import Sandbox, SandboxTransport

MANIFESTS = {
    m["id"]: m
    for m in (json.loads(p.read_text(encoding="utf-8"))
              for p in sorted((Path(__file__).resolve().parent.parent / "manifests").glob("datadog.*.json")))
}


class RecordingTransport(SandboxTransport):
    """The in-process transport, remembering the status of every answer."""

    def __init__(self, sandbox: Sandbox) -> None:
        super().__init__(sandbox)
        self.statuses: list[int] = []

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        response = super().handle_request(request)
        self.statuses.append(response.status_code)
        return response


def _runner(sb: Sandbox, transport: RecordingTransport) -> Any:
    from datadog_case_actions.runtime.connection import Connection
    from datadog_case_actions.runtime.runner import Runner

    return Runner(Connection(api_key="k", app_key="a", base_url="http://sandbox.local"), httpx_transport=transport)


ASSIGNEE = "6f1c2d3e-4b5a-4978-8695-a4b3c2d1e0f9"


class World:
    """What the examples refer to, created through the runtime itself."""

    def __init__(self, run: Callable[[str, dict[str, Any]], Any]) -> None:
        self.project = run("create_project", {"key": "OPS", "name": "Operations"})["data"]["id"]
        self.other_project = run("create_project", {"key": "MOV", "name": "Destination"})["data"]["id"]
        # a case type of our own, configured with the attribute the examples set (live: only configured keys work)
        self.case_type = run("create_case_type", {"name": "Investigation", "emoji": "🔎"})["data"]["id"]
        self.config = run("create_custom_attribute_config", {
            "case_type_id": self.case_type, "key": "aws_region", "display_name": "AWS region", "is_multi": False,
            "type": "TEXT"})["data"]["id"]
        case = {"type_id": self.case_type, "project_id": self.project}
        self.case_a = run("create_case", {**case, "title": "Parent case", "priority": "P2"})["data"]["id"]
        self.case_b = run("create_case", {**case, "title": "Child case",
                                          "type_id": "00000000-0000-0000-0000-000000000001"})["data"]["id"]
        self.cell = run("comment_case", {"case_id": self.case_a, "comment": "first!"})["data"][0]["id"]
        run("update_case_custom_attribute", {"case_id": self.case_a, "custom_attribute_key": "aws_region",
                                             "is_multi": False, "type": "TEXT", "value": "eu-west-1"})
        run("add_case_insights", {"case_id": self.case_a, "insights": [
            {"ref": "/monitors/12345?q=total", "resource_id": "12345", "type": "SECURITY_SIGNAL"}]})
        run("watch_case", {"case_id": self.case_a, "user_uuid": "00000000-0000-0000-0000-000000000000"})
        run("favorite_case_project", {"project_id": self.project})
        self.rule = run("create_case_automation_rule", {
            "project_id": self.project, "name": "triage", "action": {"type": "execute_workflow",
                                                                       "data": {"handle": "wf"}},
            "trigger": {"type": "case_created"}})["data"]["id"]
        self.notification_rule = run("create_project_notification_rule", {
            "project_id": self.project, "recipients": [{"type": "EMAIL", "data": {"email": "oncall@example.com"}}],
            "triggers": [{"type": "CASE_CREATED"}]})["data"]["id"]
        self.window = run("create_maintenance_window", {
            "name": "weekly", "query": "project:OPS", "start_at": "2026-06-01T00:00:00Z",
            "end_at": "2026-06-01T06:00:00Z"})["data"]["id"]
        self.view = run("create_case_view", {"name": "Open", "project_id": self.project,
                                             "query": "status:open"})["data"]["id"]
        self.link = run("create_case_link", {
            "parent_entity_type": "CASE", "parent_entity_id": self.case_a, "child_entity_type": "CASE",
            "child_entity_id": self.case_b, "relationship": "RELATES_TO"})["data"]["id"]


#: set-up beyond the common world, for actions that need a particular state
EXTRA: dict[str, Callable[[Callable[[str, dict[str, Any]], Any], World], Any]] = {
    "datadog.unlink_jira_issue": lambda run, w: run("link_jira_issue_to_case", {
        "case_id": w.case_a, "jira_issue_url": "https://jira.example.com/browse/PROJ-1"}),
}


def real_inputs(action_id: str, example: dict[str, Any], w: World) -> dict[str, Any]:
    """The example with placeholder ids replaced by the world's ids; every other field is kept."""
    inputs = copy.deepcopy(example)
    ids = {
        "case_id": w.case_a,
        "project_id": w.other_project if action_id == "datadog.move_case_to_project" else w.project,
        "rule_id": w.rule,
        "notification_rule_id": w.notification_rule,
        "maintenance_window_id": w.window,
        "view_id": w.view,
        "link_id": w.link,
        "cell_id": w.cell,
        "entity_id": w.case_a,
        "parent_entity_id": w.case_a,
        "child_entity_id": w.case_b,
        "case_type_id": w.case_type,
        "custom_attribute_id": w.config,
        "assignee_id": ASSIGNEE,  # the reference's examples write the placeholder "string"
    }
    for name, real in ids.items():
        if name in inputs:
            inputs[name] = real
    if "case_ids" in inputs:
        inputs["case_ids"] = [w.case_a, w.case_b]
    if isinstance(inputs.get("payload"), dict) and "<any-key>" in inputs["payload"]:
        # the reference's payload is a placeholder map; the priority action needs its real key
        inputs["payload"] = {"priority": "P1"}
    return inputs


def exercise(action_id: str) -> tuple[int, Any]:
    """Run *action_id*'s first example against a fresh sandbox; ``(status, result)``."""
    manifest = MANIFESTS[action_id]
    with Sandbox(":memory:") as sb:
        transport = RecordingTransport(sb)
        runner = _runner(sb, transport)
        try:
            world = World(runner.run)
            if action_id in EXTRA:
                EXTRA[action_id](runner.run, world)
            transport.statuses.clear()
            result = runner.run(action_id, real_inputs(action_id, manifest["examples"][0]["input"], world))
        finally:
            runner.close()
        return transport.statuses[-1], result


def check(action_id: str) -> None:
    manifest = MANIFESTS[action_id]
    status, result = exercise(action_id)
    assert status == manifest["success_status"], (action_id, status)
    errors = sorted(Draft202012Validator(manifest["output_schema"]).iter_errors(result), key=str)
    assert not errors, f"{action_id}: " + "; ".join(
        f"{'/'.join(map(str, e.absolute_path))}: {e.message}" for e in errors[:5])


@pytest.mark.parametrize("action_id", sorted(MANIFESTS))
def test_example_answers_the_output_schema(action_id: str) -> None:
    check(action_id)


def test_every_manifest_is_covered() -> None:
    covered = set()
    for action_id in sorted(MANIFESTS):
        check(action_id)
        covered.add(action_id)
    assert len(MANIFESTS) == 75
    assert covered == set(MANIFESTS)
    index = json.loads((Path(__file__).resolve().parent.parent / "manifests" / "index.json").read_text())
    assert covered == set(index["actions"])


def test_results_are_real_data_not_placeholders() -> None:
    status, result = exercise("datadog.search_cases")
    page = result["meta"]["page"]
    assert status == 200 and all(isinstance(page[k], int) for k in ("current", "size", "total"))
    keys = sorted(c["attributes"]["key"] for c in result["data"])
    assert keys == ["OPS-1", "OPS-2"]
    _, project = exercise("datadog.get_project")
    assert project["data"]["attributes"]["key"] == "OPS"
    _, moved = exercise("datadog.move_case_to_project")
    assert moved["data"]["attributes"]["key"] == "MOV-1"


def test_the_runner_pages_through_the_sandbox_sync_and_async() -> None:
    import asyncio

    with Sandbox(":memory:") as sb, sb.runner() as runner:
        pid = runner.run("create_project", {"key": "PG", "name": "Paging"})["data"]["id"]
        for i in range(23):
            runner.run("create_case", {"title": f"case {i}", "type_id": "00000000-0000-0000-0000-000000000001",
                                       "project_id": pid})
        items = list(runner.iterate("search_cases", {"page_size": 10, "sort_asc": True}))
        assert [c["attributes"]["key"] for c in items] == [f"PG-{i}" for i in range(1, 24)]

        async def go() -> list[str]:
            await runner.arun("comment_case", {"case_id": "PG-1", "comment": "async"})
            timeline = await runner.arun("list_case_timeline", {"case_id": "PG-1"})
            return [c["attributes"]["cell_content"]["message"] for c in timeline["data"]]

        assert asyncio.run(go()) == ["async"]
