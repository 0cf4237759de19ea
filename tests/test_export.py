"""The catalogue export for low-code builders: one document, forms renderable from the schemas alone."""

from __future__ import annotations

import copy
import io
import json
import re
import shlex
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote

import pytest

from datadog_case_actions.cli import main
from datadog_case_actions.export import export_catalogue
from datadog_case_actions.manifest import load_index
from datadog_case_actions.registry import describe
from datadog_case_actions.runtime.request import prepare

#: the catalogue, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTION_IDS = sorted(load_index()["actions"])
ACTIONS = len(ACTION_IDS)

RENDERABLE = {"type", "anyOf", "enum", "const"}


def _properties(schema: dict[str, Any], path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    for name, prop in schema.get("properties", {}).items():
        yield f"{path}.{name}", prop
        yield from _walk(prop, f"{path}.{name}")


def _walk(schema: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
    if not isinstance(schema, dict):
        return
    yield from _properties(schema, path)
    if isinstance(schema.get("items"), dict):
        yield f"{path}[]", schema["items"]
        yield from _walk(schema["items"], f"{path}[]")
    for i, option in enumerate(schema.get("anyOf", [])):
        yield f"{path}|{i}", option
        yield from _walk(option, f"{path}|{i}")
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _walk(schema["additionalProperties"], f"{path}{{}}")


def test_export_holds_every_action_with_renderable_input_forms() -> None:
    doc = export_catalogue()
    assert doc["count"] == ACTIONS and [a["id"] for a in doc["actions"]] == ACTION_IDS
    assert "$ref" not in json.dumps(doc)
    for action in doc["actions"]:
        schema = action["input_schema"]
        assert set(schema.get("required", [])) <= set(schema["properties"]), action["id"]
        for path, prop in _walk(schema, action["id"]):
            assert RENDERABLE & set(prop), f"{path} has no type, options, enum or const"
            if "enum" in prop:
                assert isinstance(prop["enum"], list) and prop["enum"], f"{path}: empty enum"
        for key in ("method", "path", "effect", "idempotent", "examples", "output_schema", "title"):
            assert key in action, (action["id"], key)


def test_export_command_is_deterministic_json(tmp_path: Path) -> None:
    first, second = io.StringIO(), io.StringIO()
    assert main(["export"], stdout=first) == 0 and main(["export"], stdout=second) == 0
    assert first.getvalue() == second.getvalue()
    assert json.loads(first.getvalue())["count"] == ACTIONS
    target = tmp_path / "catalogue.json"
    assert main(["export", "--output", str(target), "--compact"]) == 0
    assert json.loads(target.read_text(encoding="utf-8")) == json.loads(first.getvalue())


# -- the request mapping: a builder that knows only the exported document -----------------------------------------

def _set(document: dict[str, Any], pointer: str, value: Any) -> None:
    keys = pointer.lstrip("/").split("/")
    node = document
    for key in keys[:-1]:
        node = node.setdefault(key, {})
    node[keys[-1]] = copy.deepcopy(value)


def _query_text(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, list):
        return ",".join(_query_text(item) for item in value)
    return str(value)


def _renamed(value: Any, steps: list[str], values: dict[str, str]) -> Any:
    if not steps:
        return values.get(value, value) if isinstance(value, str) else value
    if steps[0] == "[]" and isinstance(value, list):
        return [_renamed(item, steps[1:], values) for item in value]
    if isinstance(value, dict) and steps[0] in value:
        return {**value, steps[0]: _renamed(value[steps[0]], steps[1:], values)}
    return value


def _build_from_document(action: dict[str, Any], inputs: dict[str, Any]) -> tuple[str, str, list[Any], Any]:
    """method, path, query pairs and body, following the document's encoding rules and nothing else."""
    mapping = action["request"]
    path, query = mapping["path"], []
    body = copy.deepcopy(mapping["body_template"])
    for name, value in inputs.items():
        where = mapping["inputs"][name]
        if where["in"] == "path":
            path = path.replace("{" + where["name"] + "}", quote(str(value), safe=""))
        elif where["in"] == "query":
            if value is not None:
                query.append((where["name"], _query_text(value)))
        else:
            for rename in where.get("rename", ()):
                value = _renamed(value, rename["at"], rename["values"])
            _set(body, where["pointer"], value)
            for pointer, constant in where.get("with", {}).items():
                _set(body, pointer, constant)
    return mapping["method"], path, sorted(query), body


def _every_example() -> list[Any]:
    doc = export_catalogue()
    return [pytest.param(action, example["input"], id=f"{action['id']}#{i}")
            for action in doc["actions"] for i, example in enumerate(action["examples"])]


@pytest.mark.parametrize(("action", "inputs"), _every_example())
def test_a_builder_using_only_the_export_sends_what_prepare_sends(action: dict[str, Any],
                                                                  inputs: dict[str, Any]) -> None:
    # the document goes through JSON, as a builder gets it: no package object leaks into the builder
    action = json.loads(json.dumps(action))
    expected = prepare(describe(action["id"]), inputs)
    assert _build_from_document(action, inputs) == (expected.method, expected.path, sorted(expected.params),
                                                     expected.body)


def test_every_action_has_examples_and_a_mapping_for_each_input() -> None:
    doc = export_catalogue()
    assert doc["auth_headers"] == {"api_key": "DD-API-KEY", "application_key": "DD-APPLICATION-KEY"}
    assert doc["sites"]["datadoghq.eu"] == "https://api.datadoghq.eu" and doc["encoding"]
    for action in doc["actions"]:
        mapping = action["request"]
        assert action["examples"], action["id"]
        assert set(mapping["inputs"]) == set(action["input_schema"]["properties"]), action["id"]
        assert (mapping["content_type"] is None) == (mapping["body_template"] is None), action["id"]
        for name, where in mapping["inputs"].items():
            assert where["in"] in ("path", "query", "body"), (action["id"], name)
            if where["in"] == "path":
                assert "{" + where["name"] + "}" in action["path"], (action["id"], name)
            if where["in"] == "body":
                assert mapping["body_template"] is not None and where["pointer"].startswith("/data/")


def test_the_mapping_names_api_parameters_and_json_pointers() -> None:
    actions = {a["id"]: a["request"] for a in export_catalogue()["actions"]}
    assert actions["datadog.search_cases"]["inputs"]["page_size"] == {"in": "query", "name": "page[size]"}
    assert actions["datadog.search_cases"]["body_template"] is None
    create = actions["datadog.create_case"]
    assert create["inputs"]["title"] == {"in": "body", "pointer": "/data/attributes/title"}
    assert create["inputs"]["project_id"] == {"in": "body", "pointer": "/data/relationships/project/data/id",
                                              "with": {"/data/relationships/project/data/type": "project"}}
    assert create["body_template"] == {"data": {"attributes": {}, "type": "case"}}
    assert actions["datadog.get_case"]["inputs"]["case_id"] == {"in": "path", "name": "case_id"}
    # an enum value the API renamed: the old spelling is accepted and sent as the current one
    trigger = actions["datadog.create_case_automation_rule"]["inputs"]["trigger"]
    (rename,) = trigger["rename"]
    assert rename["at"] == ["type"] and rename["values"]["case_created"] == "CASE_CREATED"


def _documented_commands() -> list[list[str]]:
    text = (Path(__file__).resolve().parent.parent / "docs" / "lowcode.md").read_text(encoding="utf-8")
    blocks = "\n".join(re.findall(r"```bash\n(.*?)```", text, re.S))
    return [shlex.split(line.split("#", 1)[0])[1:] for line in blocks.splitlines()
            if line.startswith("dd-cases export")]


def test_every_export_command_in_the_docs_runs(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    commands = [c for c in _documented_commands() if "--help" not in c]
    assert {c[c.index("--format") + 1] for c in commands if "--format" in c} == {"openapi", "swagger2"}
    for number, args in enumerate(commands):
        if "-o" in args:
            args[args.index("-o") + 1] = str(tmp_path / f"{number}.json")
        assert main(args) == 0, args
        document = json.loads((tmp_path / f"{number}.json").read_text(encoding="utf-8") if "-o" in args
                              else capsys.readouterr().out)
        assert document.get("count") or document.get("paths"), args
