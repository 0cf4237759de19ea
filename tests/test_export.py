"""The catalogue export for low-code builders: one document, forms renderable from the schemas alone."""

from __future__ import annotations

import io
import json
from pathlib import Path
from typing import Any, Iterator

from datadog_case_actions.cli import main
from datadog_case_actions.export import export_catalogue
from datadog_case_actions.manifest import load_index

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])

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
    assert doc["count"] == ACTIONS and len({a["id"] for a in doc["actions"]}) == ACTIONS
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
