"""A real case with the package alone: a case type made and listed, then a case of that type, through every door.

Each door (typed inputs, the command line, chat and MCP) reaches the same sandbox and sees the type
``create_case_type`` made, which ``create_case`` then takes as its ``type_id``.
"""

from __future__ import annotations

import asyncio
import io
import json
from pathlib import Path
from typing import Any

import pytest

from datadog_case_actions.adapters.chat import ChatOps
from datadog_case_actions.cli import main
from datadog_case_actions.sandbox import Sandbox
from datadog_case_actions.typed import input_model

STANDARD = "00000000-0000-0000-0000-000000000001"


@pytest.fixture
def made(tmp_path: Path) -> tuple[Path, str, str]:
    """A sandbox file holding a project and a case type created through the typed inputs."""
    db = tmp_path / "sandbox.db"
    with Sandbox(db) as sandbox:
        runner = sandbox.runner()
        project = runner.run("create_project", input_model("create_project")(name="Security", key="SEC"))
        case_type = runner.run("create_case_type", input_model("create_case_type")(
            name="Security investigation", description="Investigations run by the SOC", emoji="🛡️"))
    return db, project["data"]["id"], case_type["data"]["id"]


def _type_ids(document: dict[str, Any]) -> set[str]:
    return {item["id"] for item in document["data"]}


def test_typed_inputs_list_the_type_and_create_a_case_of_it(made: tuple[Path, str, str]) -> None:
    db, project_id, type_id = made
    with Sandbox(db) as sandbox:
        runner = sandbox.runner()
        types = runner.run("get_all_case_types", input_model("get_all_case_types")())
        assert {STANDARD, type_id} <= _type_ids(types)
        case = runner.run("create_case", input_model("create_case")(title="Phishing report", type_id=type_id,
                                                                    project_id=project_id, priority="P2"))
        assert case["data"]["attributes"]["type_id"] == type_id


def test_the_typed_facade_lists_the_type_and_creates_a_case_of_it(made: tuple[Path, str, str]) -> None:
    from datadog_case_actions import AsyncCaseManagement, CaseManagement, Connection

    db, project_id, type_id = made
    with CaseManagement(Connection.sandbox(db)) as dd:
        listed = dd.get_all_case_types()
        assert {STANDARD, type_id} <= {item["id"] for item in listed["data"]}
        name = next(item["attributes"]["name"] for item in listed["data"] if item["id"] == type_id)
        assert name == "Security investigation"
        case = dd.create_case(title="Phishing report", type_id=type_id, project_id=project_id, priority="P2")
        assert case["data"]["attributes"]["type_id"] == type_id

    async def in_async() -> str:
        async with AsyncCaseManagement(Connection.sandbox(db)) as add:
            assert type_id in {item["id"] for item in (await add.get_all_case_types())["data"]}
            made_async = await add.create_case(title="Async report", type_id=type_id, project_id=project_id)
            return made_async["data"]["attributes"]["type_id"]

    import asyncio

    assert asyncio.run(in_async()) == type_id


def test_the_command_line_lists_the_type_and_creates_a_case_of_it(made: tuple[Path, str, str]) -> None:
    db, project_id, type_id = made
    sandbox = ["--sandbox", "--sandbox-path", str(db)]
    out = io.StringIO()
    assert main(["run", "get_all_case_types", *sandbox], stdout=out, stderr=io.StringIO()) == 0
    assert {STANDARD, type_id} <= _type_ids(json.loads(out.getvalue()))
    out = io.StringIO()
    assert main(["run", "create_case", "title=Phishing report", f"type_id={type_id}", f"project_id={project_id}",
                 *sandbox], stdout=out, stderr=io.StringIO()) == 0
    assert json.loads(out.getvalue())["data"]["attributes"]["type_id"] == type_id


def test_chat_lists_the_types_and_creates_a_case_of_one(made: tuple[Path, str, str]) -> None:
    db, _, type_id = made
    with Sandbox(db) as sandbox:
        runner = sandbox.runner()
        names = [t["attributes"]["name"] for t in runner.run("get_all_case_types", {})["data"]]
        chat = ChatOps(runner, defaults={"type_id": type_id}, show=len(names))
        listed = chat.handle("case run get_all_case_types").text  # every type, named
        assert listed == "\n".join([f"Get all case types: {len(names)} items:", *(f"• {n}" for n in names)])
        reply = chat.handle('case create "Phishing report" priority=P2 project=SEC').text
        assert reply.startswith("Created SEC-1: Phishing report"), reply
        case = runner.run("get_case", {"case_id": "SEC-1"})
        assert case["data"]["attributes"]["type_id"] == type_id


def test_mcp_lists_the_type_and_creates_a_case_of_it(made: tuple[Path, str, str]) -> None:
    pytest.importorskip("mcp")
    from datadog_case_actions.adapters.mcp import build_server
    from mcp import Client

    db, project_id, type_id = made

    async def go() -> None:
        with Sandbox(db) as sandbox:
            runner = sandbox.runner()
            async with Client(build_server(runner)) as client:
                types = await client.call_tool("get_all_case_types", {})
                assert not types.is_error, types.content
                assert {STANDARD, type_id} <= _type_ids(types.structured_content)
                case = await client.call_tool("create_case", {"title": "Phishing report", "type_id": type_id,
                                                              "project_id": project_id})
                assert not case.is_error, case.content
                assert case.structured_content["data"]["attributes"]["type_id"] == type_id
            await runner.aclose()

    asyncio.run(go())
