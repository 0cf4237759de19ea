"""What the MCP server lists: the token budget over stdio, profiles, output schema modes, descriptions."""

from __future__ import annotations

import asyncio
import json
import re
from typing import Any

import pytest

mcp = pytest.importorskip("mcp")

from datadog_case_actions import registry  # noqa: E402
from datadog_case_actions.adapters import mcp_tools  # noqa: E402
from datadog_case_actions.adapters.mcp import build_server, main, served_manifests  # noqa: E402
from datadog_case_actions.manifest import load_index  # noqa: E402
from datadog_case_actions.sandbox import Sandbox  # noqa: E402
from mcp import Client  # noqa: E402

from tools.mcp_tokens import BUDGET, count_tokens, list_over_stdio, measure, wire_text  # noqa: E402

MANIFESTS = {mcp_tools.tool_name(m): m for m in (registry.describe(a) for a in load_index()["actions"])}
#: what documents a schema without constraining it
ANNOTATIONS = {"$schema", "title", "description"}


def _listing(**options: Any) -> dict[str, Any]:
    """The tools (name -> tool) of an in-process server with *options*, and a call outside them."""

    async def go() -> dict[str, Any]:
        with Sandbox(":memory:") as sandbox:
            runner = sandbox.runner()
            async with Client(build_server(runner, **options)) as client:
                tools = {t.name: t for t in (await client.list_tools()).tools}
                refused = await client.call_tool("create_project", {"key": "NO", "name": "not served"})
            await runner.aclose()
        return {"tools": tools, "create_project": refused}

    return asyncio.run(go())


def _without(schema: Any, keys: set[str]) -> Any:
    """*schema* less the keywords *keys* (and ``x-`` annotations), member names untouched."""
    if isinstance(schema, list):
        return [_without(s, keys) for s in schema]
    if not isinstance(schema, dict):
        return schema
    return {k: ({n: _without(s, keys) for n, s in v.items()} if k in ("properties", "$defs") else _without(v, keys))
            for k, v in schema.items() if k not in keys and not k.startswith("x-")}


# -- the budget, over stdio -------------------------------------------------------------------------

def test_default_tools_list_over_stdio_fits_the_token_budget() -> None:
    tools, size, tokens = measure()
    assert tools == len(MANIFESTS)
    assert tokens <= BUDGET, f"{tokens} tokens ({size} bytes) for {tools} tools"


def test_full_output_schemas_are_still_served_over_stdio() -> None:
    result = list_over_stdio(["--output-schema", "full"])
    tools = {t.name: t for t in result.tools}
    assert set(tools) == set(MANIFESTS)
    for name, tool in tools.items():
        assert tool.output_schema == mcp_tools.output_schema(MANIFESTS[name], "full"), name
    # the whole response, described: the title of a case, four levels down, with its description
    title = tools["get_case"].output_schema["properties"]["data"]["properties"]["attributes"]["properties"]["title"]
    assert title["description"] and "null" in title["type"]
    assert count_tokens(wire_text(result)) > 3 * BUDGET  # what the default spares an agent


def test_selection_flags_reach_the_stdio_server() -> None:
    result = list_over_stdio(["--profile", "read-only", "--group", "projects,cases", "--output-schema", "none"])
    names = {t.name for t in result.tools}
    assert names == {n for n, m in MANIFESTS.items() if m["effect"] == "read" and m["group"] in ("projects", "cases")}
    assert "get_projects" in names and all(t.output_schema is None for t in result.tools)


def test_count_tokens_is_a_real_tokenizer() -> None:
    assert count_tokens("hello world") == 2  # cl100k_base: [15339, 1917]
    assert count_tokens('{"readOnlyHint":true}') < len('{"readOnlyHint":true}') / 2


# -- profiles --------------------------------------------------------------------------------------

def test_read_only_profile_serves_only_reads_and_refuses_the_rest() -> None:
    got = _listing(profile="read-only")
    reads = {n for n, m in MANIFESTS.items() if m["effect"] == "read"}
    assert set(got["tools"]) == reads and len(reads) > 10
    assert all(t.annotations.read_only_hint for t in got["tools"].values())
    refused = got["create_project"]
    assert refused.is_error and json.loads(refused.content[0].text)["error"] == "UnknownTool"


def test_additive_profile_serves_reads_and_writes_that_change_nothing_existing() -> None:
    tools = _listing(profile="additive")["tools"]
    assert "create_project" in tools and "get_case" in tools
    assert not {"update_priority", "assign_case", "delete_project", "unwatch_case"} & set(tools)
    assert not any(t.annotations.destructive_hint for t in tools.values())


def test_groups_and_tool_names_select_and_combine() -> None:
    by_group = served_manifests(groups=["cases", "projects"])
    assert {m["group"] for m in by_group.values()} == {"cases", "projects"}
    assert set(by_group) == {n for n, m in MANIFESTS.items() if m["group"] in ("cases", "projects")}
    assert list(served_manifests(tools=["get_case", "search_cases"])) == ["get_case", "search_cases"]
    # every option applies: the read-only tools of the projects group
    both = served_manifests(profile="read-only", groups=["projects"])
    assert set(both) == {"get_project", "get_projects"}


@pytest.mark.parametrize("argv, said", [
    (["--group", "cases,nope"], "unknown group nope; known: automation_rules, case_types"),
    (["--tools", "get_case,get_cas"], "unknown tool get_cas; known:"),
    (["--profile", "readonly"], "invalid choice: 'readonly'"),
    (["--output-schema", "tiny"], "invalid choice: 'tiny'"),
    (["--profile", "read-only", "--tools", "create_case"], "no tool matches these options"),
])
def test_bad_options_are_refused_with_the_valid_choices(argv: list[str], said: str,
                                                        capsys: pytest.CaptureFixture[str]) -> None:
    with pytest.raises(SystemExit) as exit_:
        main([*argv, "--list-tools"])
    assert exit_.value.code == 2
    assert said in capsys.readouterr().err


def test_help_documents_the_options(capsys: pytest.CaptureFixture[str]) -> None:
    from datadog_case_actions.cli import main as cli_main

    with pytest.raises(SystemExit):
        cli_main(["mcp", "--help"])
    text = " ".join(capsys.readouterr().out.split())
    for option in ("--profile {all,read-only,additive}", "--group", "--tools", "--output-schema {full,compact,none}",
                   "--list-tools", "docs/mcp.md", "notification_rules, projects, views"):
        assert option in text


def test_list_tools_prints_the_listing_without_a_connection(capsys: pytest.CaptureFixture[str],
                                                            monkeypatch: pytest.MonkeyPatch) -> None:
    for name in ("DD_API_KEY", "DD_APP_KEY", "DD_ACCESS_TOKEN", "DD_SITE"):
        monkeypatch.delenv(name, raising=False)
    assert main(["--tools", "get_case", "--output-schema", "none", "--list-tools"]) == 0
    listed = json.loads(capsys.readouterr().out)
    assert [t["name"] for t in listed["tools"]] == ["get_case"] and "outputSchema" not in listed["tools"][0]


# -- what each tool says ----------------------------------------------------------------------------

def test_annotations_follow_the_manifests() -> None:
    for name, tool in _listing()["tools"].items():
        manifest = MANIFESTS[name]
        assert tool.annotations.read_only_hint is (manifest["effect"] == "read"), name
        assert tool.annotations.destructive_hint is bool(manifest["overwrites"]), name
        assert tool.annotations.idempotent_hint is bool(manifest["idempotent"]), name
        assert tool.title == manifest["title"]


def test_input_schemas_validate_exactly_as_the_manifests() -> None:
    """Only annotations go: every input, type, enum, constraint and required list stays."""
    for name, manifest in MANIFESTS.items():
        served = mcp_tools.input_schema(manifest)
        assert _without(served, ANNOTATIONS) == _without(manifest["input_schema"], ANNOTATIONS), name
        for key, prop in manifest["input_schema"]["properties"].items():  # the inputs themselves stay described
            assert served["properties"][key].get("description") == prop.get("description"), (name, key)


@pytest.mark.parametrize("output_schema", ["full", "compact", "none"])
def test_real_answers_pass_the_client_validation_in_each_mode(output_schema: str) -> None:
    """The client library validates structured results against the declared schema: real calls must pass."""
    case_type = "00000000-0000-0000-0000-000000000001"

    async def go() -> None:
        with Sandbox(":memory:") as sandbox:
            runner = sandbox.runner()
            async with Client(build_server(runner, output_schema=output_schema)) as client:
                listed = {t.name: t for t in (await client.list_tools()).tools}
                assert (listed["get_case"].output_schema is None) is (output_schema == "none")

                async def call(name: str, arguments: dict[str, Any]) -> Any:
                    result = await client.call_tool(name, arguments)
                    assert not result.is_error, (name, result.content)
                    return result.structured_content

                project = (await call("create_project", {"key": "OPS", "name": "Ops"}))["data"]["id"]
                case = await call("create_case", {"title": "DB down", "type_id": case_type, "project_id": project,
                                                   "priority": "P1", "description": "since 14:05"})
                key = case["data"]["attributes"]["key"]
                await call("comment_case", {"case_id": key, "comment": "looking"})
                for name, arguments in [("get_case", {"case_id": key}), ("search_cases", {"filter": "DB"}),
                                        ("get_projects", {}), ("get_project", {"project_id": project}),
                                        ("list_case_timeline", {"case_id": key}), ("get_all_case_types", {}),
                                        ("update_priority", {"case_id": key, "priority": "P2"}),
                                        ("count_cases", {}), ("archive_case", {"case_id": key})]:
                    await call(name, arguments)
            await runner.aclose()

    asyncio.run(go())


def _paths(schema: Any, prefix: tuple[str, ...] = ()) -> set[tuple[str, ...]]:
    """The member paths a schema names (``[]`` for an array's items)."""
    out: set[tuple[str, ...]] = set()
    if not isinstance(schema, dict):
        return out
    for option in [schema, *schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]:
        for name, sub in option.get("properties", {}).items():
            out |= {prefix + (name,)} | _paths(sub, prefix + (name,))
        if isinstance(option.get("items"), dict):
            out |= _paths(option["items"], prefix)
    return out


def test_compact_output_schemas_name_the_real_members_and_constrain_nothing() -> None:
    def keywords(schema: Any) -> set[str]:
        if not isinstance(schema, dict):
            return set()
        found = set(schema)
        for sub in [*schema.get("properties", {}).values(), schema.get("items")]:
            found |= keywords(sub)
        return found

    for name, manifest in MANIFESTS.items():
        compact = mcp_tools.output_schema(manifest, "compact")
        full_paths = _paths(manifest["output_schema"])
        assert _paths(compact) == {p for p in full_paths if len(p) <= 2}, name
        assert keywords(compact) <= {"type", "properties", "items"}, name
        assert compact["type"] == "object"
    data = mcp_tools.output_schema(MANIFESTS["search_cases"], "compact")["properties"]["data"]
    assert set(data["items"]["properties"]) >= {"id", "type", "attributes"}


def test_descriptions_say_effect_needs_and_where_ids_come_from() -> None:
    tools = _listing()["tools"]
    create = tools["create_case"].description
    assert "Only adds data." in create and "Needs title, type_id, project_id." in create
    assert "type_id: from get_all_case_types" in create and "project_id: from get_projects" in create
    assert "case_id: UUID or key like OPS-12, from search_cases" in tools["get_case"].description
    assert "Deletes data: confirm first." in tools["delete_project"].description
    assert "Changes existing data." in tools["update_priority"].description
    assert "rule_id: from list_case_automation_rules" in tools["delete_case_automation_rule"].description
    assert "cell_id: from list_case_timeline" in tools["update_case_comment"].description
    assert "Gives the project_id other tools need." in tools["get_projects"].description
    # no guesses from words alone: a Jira project id is not a Case Management project
    assert "jira_project_id:" not in tools["create_case_jira_issue"].description


@pytest.mark.parametrize("options", [{}, {"profile": "read-only"}, {"groups": ["cases"]},
                                     {"tools": ["get_case", "update_priority"]}])
def test_descriptions_only_point_at_served_listing_tools(options: dict[str, Any]) -> None:
    served = served_manifests(**options)
    for name, manifest in served.items():
        text = mcp_tools.describe_tool(manifest, served)
        assert len(text) <= 400, name
        for pointed in re.findall(r"\bfrom ([a-z]+_[a-z_]+)", text):
            assert pointed in served and served[pointed]["effect"] == "read", (name, pointed)
    if "tools" in options:
        assert "search_cases" not in mcp_tools.describe_tool(served["get_case"], served)
