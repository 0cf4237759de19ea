"""The MCP server, driven by the MCP client library: in-process against the sandbox, and over stdio."""

from __future__ import annotations

import asyncio
import json
import os
import sys
from pathlib import Path
from typing import Any

import pytest

mcp = pytest.importorskip("mcp")

from mcp import Client, StdioServerParameters  # noqa: E402

from datadog_case_actions.adapters.mcp import build_server  # noqa: E402
from datadog_case_actions.sandbox import Sandbox  # noqa: E402
from datadog_case_actions.manifest import load_index

ROOT = Path(__file__).resolve().parent.parent

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])
CASE_TYPE = "00000000-0000-0000-0000-000000000001"


def _text(result: Any) -> Any:
    return json.loads(result.content[0].text)


def test_every_action_is_a_tool_with_schemas_and_annotations_and_real_calls() -> None:
    async def go() -> None:
        with Sandbox(":memory:") as sandbox:
            runner = sandbox.runner()
            async with Client(build_server(runner)) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                assert len(tools) == ACTIONS
                create = tools["create_case"]
                assert create.input_schema["required"] == ["title", "type_id", "project_id"]
                assert create.output_schema and create.output_schema["type"] == "object"
                assert create.annotations.read_only_hint is False and create.annotations.idempotent_hint is False
                assert tools["get_case"].annotations.read_only_hint is True
                assert tools["delete_project"].annotations.destructive_hint is True

                project = await client.call_tool("create_project", {"key": "OPS", "name": "Ops"})
                assert not project.is_error
                project_id = project.structured_content["data"]["id"]
                case = await client.call_tool("create_case", {"title": "DB down", "type_id": CASE_TYPE,
                                                              "project_id": project_id, "priority": "P1"})
                assert not case.is_error, case.content
                case_id = case.structured_content["data"]["id"]
                got = await client.call_tool("get_case", {"case_id": case_id})
                assert _text(got)["data"]["attributes"]["title"] == "DB down"

                bad = await client.call_tool("update_priority", {"case_id": case_id, "priority": "URGENT"})
                assert bad.is_error
                error = _text(bad)
                assert error["error"] == "InputError" and error["violations"][0]["field"] == "priority"
                missing = await client.call_tool("get_case", {"case_id": "OPS-404"})
                assert missing.is_error and _text(missing)["status"] == 404
            await runner.aclose()

    asyncio.run(go())


@pytest.mark.parametrize("output_schema", ["full", "compact"])
def test_an_undocumented_enum_value_in_a_result_does_not_fail_the_call(output_schema: str) -> None:
    """The declared output schema is loose on purpose: clients validate structured results against it."""
    from datadog_case_actions.adapters.mcp import tool_for
    from datadog_case_actions.registry import describe
    from jsonschema import Draft202012Validator

    schema = tool_for(describe("get_case"), output_schema=output_schema).output_schema
    surprising = {"data": {"id": "x", "type": "case", "attributes": {"status": "PENDING_REVIEW", "priority": None,
                                                                      "new_thing": [1]}}}
    assert Draft202012Validator(schema).is_valid(surprising)


def test_stdio_server_lists_every_tool_and_calls_one(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DD_")},
           "DD_SITE": "sandbox", "DD_SANDBOX_PATH": str(tmp_path / "mcp.sqlite3"), "PYTHONPATH": str(ROOT)}
    params = StdioServerParameters(command=sys.executable, args=["-m", "datadog_case_actions.adapters.mcp"],
                                   env=env, cwd=str(ROOT))

    async def go() -> None:
        async with Client(params) as client:
            tools = (await client.list_tools()).tools
            assert len(tools) == ACTIONS
            made = await client.call_tool("create_project", {"key": "STD", "name": "Over stdio"})
            assert not made.is_error and made.structured_content["data"]["attributes"]["key"] == "STD"

    asyncio.run(go())
    with Sandbox(str(tmp_path / "mcp.sqlite3")) as sandbox:  # it really landed in the sandbox file
        keys = [p["attributes"]["key"] for p in sandbox.runner().run("get_projects")["data"]]
    assert keys == ["STD"]


def test_no_tool_result_or_listing_contains_a_key() -> None:
    from datadog_case_actions import Connection

    api, app = "SENTINEL-MCP-API-1", "SENTINEL-MCP-APP-2"

    async def go() -> list[str]:
        seen: list[str] = []
        with Sandbox(":memory:") as sandbox:
            runner = sandbox.runner(connection=Connection(api_key=api, app_key=app, base_url="http://sandbox.local"))
            async with Client(build_server(runner)) as client:
                seen.append((await client.list_tools()).model_dump_json())
                for name, arguments in [("create_project", {"key": "K", "name": "k"}), ("get_case", {"case_id": "X-1"}),
                                        ("update_priority", {"case_id": "X-1", "priority": "NOPE"}),
                                        ("no_such_tool", {})]:
                    seen.append((await client.call_tool(name, arguments)).model_dump_json())
            await runner.aclose()
        return seen

    for text in asyncio.run(go()):
        assert api not in text and app not in text
