"""Output schemas carry what live responses carry (live-api-notes.md), optional and documented as observed;
the 9 case type and custom attribute actions build the requests the type/attribute reference specifies."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from datadog_case_actions.manifest import load_manifest
from datadog_case_actions.runtime.request import prepare
from jsonschema import Draft202012Validator

from tools.live_fields import ATTRIBUTES, OBSERVED

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = {m["id"]: m for m in (json.loads(p.read_text(encoding="utf-8"))
                                  for p in sorted((ROOT / "manifests").glob("datadog.*.json")))}
STANDARD = "00000000-0000-0000-0000-000000000001"
USER = "9a3c1b52-0b7e-4d0e-9a55-3b1c2d3e4f50"


def _data(manifest: dict[str, Any]) -> dict[str, Any]:
    data = manifest["output_schema"].get("properties", {}).get("data", {})
    return data.get("items", data) if data.get("type") == "array" else data


def _kind(manifest: dict[str, Any]) -> str | None:
    enum = _data(manifest).get("properties", {}).get("type", {}).get("enum") or []
    return enum[0] if len(enum) == 1 else None


@pytest.mark.parametrize("kind", sorted(ATTRIBUTES))
def test_every_response_of_a_resource_gains_its_live_fields_as_optional(kind: str) -> None:
    holders = [m for m in MANIFESTS.values() if _kind(m) == kind]
    assert holders, kind
    for manifest in holders:
        attributes = _data(manifest)["properties"]["attributes"]
        for name in ATTRIBUTES[kind]:
            assert name in attributes["properties"], (manifest["id"], name)
            assert name not in attributes.get("required", []), (manifest["id"], name)


def test_live_only_fields_say_they_were_observed_and_documented_ones_are_left_alone() -> None:
    case = _data(MANIFESTS["datadog.get_case"])["properties"]["attributes"]["properties"]
    for name in ("comment_count", "creation_source", "insights", "internal_id", "merge_status", "public_id",
                 "created_by_author"):
        assert case[name]["description"].startswith(OBSERVED), name
    # status_group is in the reference: its own description stays
    assert not case["status_group"].get("description", "").startswith(OBSERVED)
    assert case["type"]["enum"] == ["STANDARD", "ERROR_TRACKING_ISSUE", "TUNKNOWN"]
    assert case["type"]["x-live-values"] == ["ERROR_TRACKING_ISSUE", "TUNKNOWN"]


def _live_case() -> dict[str, Any]:
    """A case document in the shape live-api-notes.md section 1 describes (values made up)."""
    case_id = "5b0f2c4e-7d1a-4f3b-9c8e-2a1b3c4d5e6f"
    return {
        "data": {
            "id": case_id, "type": "case",
            "attributes": {
                "attributes": {}, "comment_count": 0, "created_at": "2026-01-02T10:00:00.123456Z",
                "creation_source": "MANUAL", "custom_attributes": {}, "description": "", "insights": [],
                "internal_id": case_id, "key": "OPS-7", "merge_status": "NOT_MERGED", "priority": "P4",
                "public_id": "12345", "status": "OPEN", "status_group": "SG_OPEN", "status_name": "Open",
                "title": "Disk full", "type": "TUNKNOWN", "type_id": "1f2e3d4c-5b6a-4978-8a9b-0c1d2e3f4a5b",
            },
            "relationships": {"created_by": {"data": {"id": USER, "type": "user"}},
                              "project": {"data": {"id": "0e1d2c3b-4a59-4687-9a8b-7c6d5e4f3a2b", "type": "project"}}},
        },
        "included": [{"id": USER, "type": "user", "attributes": {
            "active": True, "email": "a@example.com", "handle": "a@example.com", "name": "A"}}],
    }


def _strict(schema: Any) -> Any:
    """*schema* with no member beyond the documented ones allowed: what a live response is checked against."""
    if isinstance(schema, dict):
        out = {k: _strict(v) for k, v in schema.items()}
        if "properties" in schema and "additionalProperties" not in schema:
            out["additionalProperties"] = False
        return out
    if isinstance(schema, list):
        return [_strict(v) for v in schema]
    return schema


def test_a_live_case_document_has_no_member_the_schema_does_not_describe() -> None:
    schema = _strict(MANIFESTS["datadog.get_case"]["output_schema"])
    errors = [e.message for e in Draft202012Validator(schema).iter_errors(_live_case())]
    assert not errors


def test_a_live_comment_cell_has_no_member_the_schema_does_not_describe() -> None:
    cell = {"id": "c0ffee00-0000-4000-8000-000000000001", "type": "timeline_cell", "attributes": {
        "author": {"type": "USER", "content": {"ID": USER, "name": "A", "email": "a@example.com",
                                               "handle": "a@example.com", "active": True}},
        "cell_content": {"message": "Hello"}, "content": "{\"message\":\"Hello\"}",
        "created_at": "2026-01-02T10:00:01.123456789Z", "type": "COMMENT"}}
    for action_id in ("datadog.comment_case", "datadog.list_case_timeline"):
        schema = _strict(MANIFESTS[action_id]["output_schema"])
        assert not [e.message for e in Draft202012Validator(schema).iter_errors({"data": [cell]})], action_id


def test_search_meta_gains_total_cases_and_case_types_their_live_attributes() -> None:
    meta = MANIFESTS["datadog.search_cases"]["output_schema"]["properties"]["meta"]["properties"]
    assert meta["total_cases"]["type"] == "integer"
    types = _data(MANIFESTS["datadog.get_all_case_types"])["properties"]["attributes"]["properties"]
    assert {"internal", "statuses_config", "name", "deleted_at"} <= set(types)
    config = _data(MANIFESTS["datadog.create_custom_attribute_config"])["properties"]["attributes"]["properties"]
    assert config["case_type"]["description"].startswith(OBSERVED)


# -- the nine operations the seed reference lacks ----------------------------------------------------------------

def test_create_case_type_builds_the_documented_body() -> None:
    request = prepare(load_manifest("datadog.create_case_type"), {"name": "Investigation", "emoji": "👑"})
    assert (request.method, request.path) == ("POST", "/api/v2/cases/types")
    assert request.body == {"data": {"type": "case_type", "attributes": {"name": "Investigation", "emoji": "👑"}}}


def test_custom_attribute_config_paths_and_bodies() -> None:
    create = prepare(load_manifest("datadog.create_custom_attribute_config"),
                     {"case_type_id": STANDARD, "key": "region", "display_name": "Region", "type": "TEXT",
                      "is_multi": False})
    assert create.path == f"/api/v2/cases/types/{STANDARD}/custom_attributes"
    assert create.body == {"data": {"type": "custom_attribute", "attributes": {
        "key": "region", "display_name": "Region", "type": "TEXT", "is_multi": False}}}
    update = prepare(load_manifest("datadog.update_custom_attribute_config"),
                     {"case_type_id": STANDARD, "custom_attribute_id": "d57aff81-87df-478e-af85-9553e0a5d221",
                      "type": "SELECT", "type_data": {"options": [{"value": "eu-west-1"}]}})
    assert (update.method, update.path) == (
        "PUT", f"/api/v2/cases/types/{STANDARD}/custom_attributes/d57aff81-87df-478e-af85-9553e0a5d221")
    assert update.idempotent
    listing = prepare(load_manifest("datadog.get_all_custom_attributes"), {})
    assert (listing.method, listing.path, listing.body) == ("GET", "/api/v2/cases/types/custom_attributes", None)


def test_effects_and_idempotency_of_the_nine() -> None:
    expected = {
        "get_all_case_types": ("read", True), "create_case_type": ("write", False),
        "update_case_type": ("write", True), "delete_case_type": ("destructive", True),
        "get_all_custom_attributes": ("read", True), "get_all_custom_attribute_configs_by_case_type": ("read", True),
        "create_custom_attribute_config": ("write", False), "update_custom_attribute_config": ("write", True),
        "delete_custom_attribute_config": ("destructive", True),
    }
    for name, (effect, idempotent) in expected.items():
        manifest = MANIFESTS[f"datadog.{name}"]
        assert (manifest["effect"], manifest["idempotent"]) == (effect, idempotent), name
        assert manifest["group"] in {"case_types", "custom_attributes"} and not manifest["preview"]
