"""The compiled fast check never accepts what jsonschema rejects (and accepts what it accepts)."""

from __future__ import annotations

import copy
import json
from pathlib import Path
from typing import Any, Iterator

import pytest

from datadog_case_actions.runtime.fastcheck import compile_schema
from datadog_case_actions.runtime.request import validator_for

MANIFESTS = [json.loads(p.read_text(encoding="utf-8"))
             for p in sorted((Path(__file__).resolve().parent.parent / "manifests").glob("datadog.*.json"))]

ODD_VALUES: list[Any] = [None, True, 0, 1.5, -1, 2.0, "", "x", "P1", "a/b", "..", "2026-13-01", "2026-01-01",
                         "2026-01-01T00:00:00Z", "not-a-uuid", "00000000-0000-0000-0000-000000000001",
                         [], ["x"], [1], {}, {"a": 1}, "x" * 5000]


def mutations(example: dict[str, Any], schema: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The example with each field dropped or replaced by odd values, each schema property set to odd
    values, and an unknown field added."""
    yield example
    yield {**example, "surprise": 1}
    yield [example]  # not an object at all
    for name in schema.get("properties", {}):
        for odd in ODD_VALUES:
            yield {**example, name: odd}
    for name in example:
        yield {k: v for k, v in example.items() if k != name}
        for odd in ODD_VALUES:
            yield {**example, name: odd}
        value = example[name]
        if isinstance(value, dict):
            for inner in value:
                for odd in ODD_VALUES[:8]:
                    changed = copy.deepcopy(example)
                    changed[name][inner] = odd
                    yield changed
        if isinstance(value, list) and value:
            for odd in ODD_VALUES[:8]:
                yield {**example, name: [odd, *value[1:]]}


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["id"] for m in MANIFESTS])
def test_fast_check_agrees_with_jsonschema(manifest: dict[str, Any]) -> None:
    fast = compile_schema(manifest["input_schema"])
    assert fast is not None, "every manifest uses only the supported keywords"
    validator = validator_for(manifest)
    checked = 0
    for example in manifest["examples"]:
        for candidate in mutations(example["input"], manifest["input_schema"]):
            assert fast(candidate) == validator.is_valid(candidate), candidate
            checked += 1
    assert checked >= 2 + 22 * len(manifest["input_schema"]["properties"])


def test_unsupported_keywords_fall_back_to_jsonschema() -> None:
    assert compile_schema({"type": "object", "oneOf": [{"required": ["a"]}]}) is None
    assert compile_schema({"$ref": "#/$defs/x"}) is None


def test_json_equality_rules() -> None:
    check = compile_schema({"enum": [1, "a", None]})
    assert check is not None
    assert check(1) and check(1.0) and check("a") and check(None)
    assert not check(True) and not check("1")
    integer = compile_schema({"type": "integer", "minimum": 1})
    assert integer is not None and integer(2.0) and not integer(True) and not integer(0) and not integer(1.5)
