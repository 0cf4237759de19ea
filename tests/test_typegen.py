"""The typed-surface generator on manifests it has not met yet: a new action and new output fields just work."""

from __future__ import annotations

import copy
import typing
from typing import Any

from datadog_case_actions.catalog import AREAS
from datadog_case_actions.manifest import load_index, load_manifest
from tools import typegen

MANIFESTS = {action_id: load_manifest(action_id) for action_id in load_index()["actions"]}


def case_type_manifest() -> dict[str, Any]:
    """A manifest like the case-type operations a later release adds (``GetAllCaseTypes``, recorded live)."""
    resource = {
        "type": "object",
        "properties": {
            "id": {"type": "string"},
            "type": {"type": "string", "enum": ["case_type"]},
            "attributes": {"type": "object", "required": ["deleted_at"], "properties": {
                "name": {"type": "string"}, "emoji": {"type": "string"}, "description": {"type": "string"},
                "deleted_at": {"type": ["string", "null"]},
                "statuses-config": {"type": "object"},  # not an identifier: the functional TypedDict form
                "from": {"type": "string", "enum": ["A", "B"]},  # a keyword
            }},
        },
    }
    return {
        "id": "datadog.get_all_case_types", "operation_id": "GetAllCaseTypes", "group": "case_types",
        "title": "Get all case types", "description": "Get all case types.", "method": "GET",
        "path": "/api/v2/cases/types", "preview": False, "effect": "read",
        "input_schema": {"type": "object", "properties": {"include_deleted": {"type": "boolean"}}, "required": []},
        "output_schema": {"type": "object", "properties": {"data": {"type": "array", "items": resource}}},
    }


def generated(manifests: dict[str, Any]) -> dict[str, Any]:
    """Execute the generated ``types.py`` and return its namespace."""
    text = typegen.files(manifests, AREAS)[typegen.TYPES]
    namespace: dict[str, Any] = {}
    exec(compile(text, "types.py", "exec", dont_inherit=True), namespace)  # not this module's __future__ import
    return namespace


def test_a_recorded_action_gets_its_live_facts() -> None:
    types = generated(MANIFESTS)
    item = typing.get_args(typing.get_type_hints(types["GetAllCaseTypesResult"])["data"])[0]
    assert item is types["CaseType"]  # the same resource as create/update answer, whatever its descriptions say
    attributes = typing.get_type_hints(item)["attributes"]
    # facts: name, emoji, description always sent; deleted_at left out for active types, whatever the schema says
    assert attributes.__required_keys__ == {"name", "emoji", "description"}
    assert "deleted_at" in attributes.__optional_keys__


def test_a_new_action_with_odd_keys_compiles() -> None:
    manifest = case_type_manifest()
    manifest.update(id="datadog.list_case_types_next", operation_id="ListCaseTypesNext")  # a later release's action
    manifests = {**MANIFESTS, manifest["id"]: manifest}
    types = generated(manifests)
    item = typing.get_args(typing.get_type_hints(types["ListCaseTypesNextResult"])["data"])[0]
    attributes = typing.get_type_hints(item)["attributes"]
    assert attributes.__required_keys__ == frozenset()  # never recorded live: only the envelope is promised
    assert {"name", "deleted_at", "statuses-config", "from"} <= attributes.__optional_keys__
    hints = typing.get_type_hints(attributes)
    assert hints["from"] is str  # an output enum is str
    assert hints["deleted_at"] == str | None
    client = typegen.files(manifests, AREAS)[typegen.CLIENT]
    assert "    def list_case_types_next(\n" in client and "include_deleted: bool | NotGiven = NOT_GIVEN" in client


def test_a_field_added_to_an_output_schema_is_typed_and_required_only_if_always_sent() -> None:
    manifests = copy.deepcopy(MANIFESTS)
    changed = 0
    for manifest in manifests.values():  # every action answering with a case, as a later release would do
        props = manifest["output_schema"].get("properties", {})
        case = props.get("data", {}).get("items", props.get("data", {}))
        if case.get("properties", {}).get("type", {}).get("enum") == ["case"]:
            attributes = case["properties"]["attributes"]["properties"]
            attributes["comment_count"] = {"type": "integer"}
            attributes["merge_status"] = {"type": "string", "enum": ["NOT_MERGED"]}
            props["included"] = {"type": "array", "items": {"type": "object"}}
            changed += 1
    assert changed >= 20
    types = generated(manifests)
    live = types["CaseAttributes"]
    assert {"comment_count", "merge_status"} <= live.__required_keys__  # ALWAYS_PRESENT lists them already
    assert types["GetCaseResult"].__optional_keys__ == {"included"}
    unrecorded = typing.get_type_hints(typing.get_type_hints(types["AddCaseInsightsResult"])["data"])["attributes"]
    assert unrecorded.__required_keys__ == frozenset()
