"""Where the live API has moved past the seed reference (api-drift.md), and enumerations written in prose.

Each test states the fact it checks.  The digest (``tests/reference_digest.json``) is built with the
drift applied (``tools/drift.py``); these tests hold the manifests and the built requests to the facts
themselves, so a digest rebuilt without the drift fails here too.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from datadog_case_actions.manifest import load_manifest
from datadog_case_actions.runtime.errors import InputError
from datadog_case_actions.runtime.request import prepare

from tools.drift import parse_drift
from tools.reference import _prose_enum_values

ROOT = Path(__file__).resolve().parent.parent
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))

# api-drift.md, "Enum values": the seed page shows 10 and hides 6 behind "Show 6 more"
INSIGHT_TYPES = [
    "SECURITY_SIGNAL", "MONITOR", "EVENT_CORRELATION", "ERROR_TRACKING", "CLOUD_COST_RECOMMENDATION", "INCIDENT",
    "SENSITIVE_DATA_SCANNER_ISSUE", "EVENT", "WATCHDOG_STORY", "WIDGET", "SECURITY_FINDING",
    "INSIGHT_SCORECARD_CAMPAIGN", "RESOURCE_POLICY", "APM_RECOMMENDATION", "SCM_URL", "PROFILING_DOWNSIZING_EXPERIMENT",
]
# api-drift.md, "Preview status": no longer marked unstable in the newer specification (July 2026)
NO_LONGER_PREVIEW = {
    "AddCaseInsights", "AggregateCases", "BulkUpdateCases", "CountCases", "CreateCaseAutomationRule",
    "CreateCaseJiraIssue", "CreateCaseLink", "CreateCaseNotebook", "CreateCaseServiceNowTicket", "CreateCaseView",
    "CreateMaintenanceWindow", "DeleteCaseAutomationRule", "DeleteCaseLink", "DeleteCaseView",
    "DeleteMaintenanceWindow", "DisableCaseAutomationRule", "EnableCaseAutomationRule", "FavoriteCaseProject",
    "GetCaseAutomationRule", "GetCaseView", "LinkIncident", "LinkJiraIssueToCase", "ListCaseAutomationRules",
    "ListCaseLinks", "ListCaseTimeline", "ListCaseViews", "ListCaseWatchers", "ListMaintenanceWindows",
    "ListUserCaseProjectFavorites", "MoveCaseToProject", "RemoveCaseInsights", "UnfavoriteCaseProject",
    "UnlinkJiraIssue", "UnwatchCase", "UpdateCaseAutomationRule", "UpdateCaseComment", "UpdateCaseDueDate",
    "UpdateCaseResolvedReason", "UpdateCaseView", "UpdateMaintenanceWindow", "WatchCase",
}
# case-types-and-attributes.md: the newer client (2.58.0+) lists none of the nine as unstable
ALSO_STABLE = {"UpdateCaseType", "UpdateCustomAttributeConfig"}

# Every field whose enumeration the reference writes only in prose ("Allowed values: `A`, `B`"):
# (operation, where, field path).  A fixed list: a refreshed reference that adds or drops one shows here.
PROSE_ENUMS = {
    (op, where, f"{prefix}{field}")
    for op, where, prefix in [
        ("CreateCaseLink", "request", "data.attributes."), ("CreateCaseLink", "201", "data.attributes."),
        ("ListCaseLinks", "200", "data[].attributes."),
    ]
    for field in ("child_entity_type", "parent_entity_type", "relationship")
} | {
    (op, where, f"{'data[]' if op.startswith('List') else 'data'}.attributes.trigger.data.change_type")
    for op, where in [
        ("CreateCaseAutomationRule", "request"), ("CreateCaseAutomationRule", "201"),
        ("UpdateCaseAutomationRule", "request"), ("UpdateCaseAutomationRule", "200"),
        ("GetCaseAutomationRule", "200"), ("EnableCaseAutomationRule", "200"),
        ("DisableCaseAutomationRule", "200"), ("ListCaseAutomationRules", "200"),
    ]
}
LINK_ENTITY_TYPES = ["CASE", "INCIDENT", "PAGE", "AGENT_CONVERSATION"]
LINK_RELATIONSHIPS = ["RELATES_TO", "CAUSES", "BLOCKS", "DUPLICATES", "PARENT_OF", "SUCCESSOR_OF", "ESCALATES_TO"]
LINK = {"parent_entity_id": "bf0cbac6-4c16-4cfb-b6bf-ca5e0ec37a4f", "parent_entity_type": "CASE",
        "child_entity_id": "4417921d-0866-4a38-822c-6f2a0f65f77d", "child_entity_type": "CASE",
        "relationship": "BLOCKS"}
RULE = {"project_id": "e555e290-ed65-49bd-ae18-8acbfcf18db7", "name": "Auto-assign", "state": "ENABLED",
        "action": {"type": "execute_workflow", "data": {"handle": "triage"}},
        "trigger": {"type": "status_transitioned", "data": {"from_status_name": "Open", "to_status_name": "Closed"}}}


def _prose_fields() -> set[tuple[str, str, str]]:
    found = set()
    for op_id, op in DIGEST["operations"].items():
        rows = [("request", r) for r in op["fields"]["request"]]
        rows += [(status, r) for status, fields in op["fields"]["responses"].items() for r in fields]
        found |= {(op_id, where, r["path"]) for where, r in rows if r.get("enum_from_prose")}
    return found


def test_every_enumeration_written_in_prose_is_an_enum() -> None:
    assert _prose_fields() == PROSE_ENUMS


def test_prose_enumerations_are_read_with_their_glosses_and_not_from_other_prose() -> None:
    text = ("The type of directional relationship. Allowed values: `RELATES_TO` (bidirectional association), "
            "`CAUSES` (parent causes child). Used with `other_thing`.")
    assert _prose_enum_values(text) == ["RELATES_TO", "CAUSES"]
    assert _prose_enum_values("Status of the case. Must be one of the existing statuses for the case's type.") is None
    assert _prose_enum_values("Filter by relationship (for example, `BLOCKS` or `CAUSES`).") is None
    assert _prose_enum_values("Must be one of `A`, `B` or `C`.") == ["A", "B", "C"]


def test_case_links_check_their_prose_enumerations() -> None:
    manifest = load_manifest("datadog.create_case_link")
    for name, values in (("relationship", LINK_RELATIONSHIPS), ("parent_entity_type", LINK_ENTITY_TYPES),
                         ("child_entity_type", LINK_ENTITY_TYPES)):
        assert manifest["input_schema"]["properties"][name]["enum"] == values
    prepare(manifest, LINK)
    with pytest.raises(InputError) as info:
        prepare(manifest, {**LINK, "relationship": "BLOKS"})
    assert [v.field for v in info.value.violations] == ["relationship"]
    with pytest.raises(InputError):
        prepare(manifest, {**LINK, "child_entity_type": "TICKET"})
    # the list filters take the same values
    listing = load_manifest("datadog.list_case_links")
    query = {"entity_type": "CASE", "entity_id": LINK["parent_entity_id"]}
    assert dict(prepare(listing, {**query, "relationship": "BLOCKS"}).params)["relationship"] == "BLOCKS"
    with pytest.raises(InputError):
        prepare(listing, {**query, "relationship": "BLOKS"})


def test_all_16_insight_types_are_accepted_by_both_insight_actions() -> None:
    for action_id in ("datadog.add_case_insights", "datadog.remove_case_insights"):
        manifest = load_manifest(action_id)
        item = manifest["input_schema"]["properties"]["insights"]["items"]
        assert item["properties"]["type"]["enum"] == INSIGHT_TYPES
        insights = [{"type": t, "ref": f"/x/{i}", "resource_id": str(i)} for i, t in enumerate(INSIGHT_TYPES)]
        request = prepare(manifest, {"case_id": "CASE-1", "insights": insights})
        assert [i["type"] for i in request.body["data"]["attributes"]["insights"]] == INSIGHT_TYPES
        with pytest.raises(InputError):
            prepare(manifest, {"case_id": "CASE-1",
                               "insights": [{"type": "NOT_AN_INSIGHT", "ref": "/x", "resource_id": "1"}]})


@pytest.mark.parametrize("action_id", ["datadog.create_case_automation_rule", "datadog.update_case_automation_rule"])
@pytest.mark.parametrize("spelling", [str.lower, str.upper])
def test_automation_rule_types_are_accepted_in_either_case_and_sent_upper_case(action_id: str, spelling: Any) -> None:
    manifest = load_manifest(action_id)
    inputs = {**RULE, "action": {**RULE["action"], "type": spelling("EXECUTE_WORKFLOW")},
              "trigger": {**RULE["trigger"], "type": spelling("STATUS_TRANSITIONED")}}
    if "{rule_id}" in manifest["path"]:
        inputs["rule_id"] = "e6f8e9a1-3b2c-4d5e-8f70-1a2b3c4d5e6f"
    request = prepare(manifest, inputs)
    attributes = request.body["data"]["attributes"]
    assert attributes["action"] == {"type": "EXECUTE_WORKFLOW", "data": {"handle": "triage"}}
    assert attributes["trigger"]["type"] == "STATUS_TRANSITIONED"
    assert inputs["action"]["type"] == spelling("EXECUTE_WORKFLOW")  # the caller's inputs are not changed
    with pytest.raises(InputError):
        prepare(manifest, {**inputs, "trigger": {"type": "Status_Transitioned"}})
    assert any("upper-case spelling" in note and "`action.type`" in note for note in manifest["notes"])


def test_automation_rule_responses_may_carry_either_spelling() -> None:
    from jsonschema import Draft202012Validator

    schema = load_manifest("datadog.get_case_automation_rule")["output_schema"]
    rule = {"id": "r1", "type": "rule", "attributes": {
        "name": "n", "state": "ENABLED", "created_at": "2026-01-01T00:00:00Z",
        "action": {"type": "EXECUTE_WORKFLOW", "data": {}}, "trigger": {"type": "CASE_CREATED"}}}
    Draft202012Validator(schema).validate({"data": rule})
    rule["attributes"]["action"]["type"] = "execute_workflow"
    Draft202012Validator(schema).validate({"data": rule})


def test_group_by_limit_is_at_most_1000() -> None:
    manifest = load_manifest("datadog.aggregate_cases")
    base = manifest["examples"][0]["input"]
    prepare(manifest, {**base, "group_by": {**base["group_by"], "limit": 1000}})
    with pytest.raises(InputError) as info:
        prepare(manifest, {**base, "group_by": {**base["group_by"], "limit": 1001}})
    assert [v.field for v in info.value.violations] == ["group_by.limit"]


def test_preview_flags_follow_the_newer_specification() -> None:
    previews = {}
    for op_id in DIGEST["operations"]:
        action_id = "datadog." + "".join(f"_{c.lower()}" if c.isupper() else c for c in op_id).lstrip("_")
        previews[op_id] = load_manifest(action_id)["preview"]
    assert len(NO_LONGER_PREVIEW) == 41
    assert not any(previews[op] for op in NO_LONGER_PREVIEW | ALSO_STABLE)
    # every operation the references mark preview is among those: none is left in preview
    assert {op for op, preview in previews.items() if preview} == set()


def test_the_drift_file_is_read_strictly() -> None:
    """A drift file whose lists no longer match what it announces is an error, not a silent partial read."""
    text = (ROOT / "tests" / "data" / "api-drift-sample.md").read_text(encoding="utf-8")
    drift = parse_drift(text)
    assert drift["insight_types"][-1] == "PROFILING_DOWNSIZING_EXPERIMENT" and len(drift["no_longer_preview"]) == 3
    assert drift["upper_case"]["action.type"] == ["EXECUTE_WORKFLOW", "ASSIGN_AGENT"]
    assert drift["maximum"] == [("AggregateCases", "group_by.limit", 1000)]
    with pytest.raises(ValueError, match="3 operations announced, 2 listed"):
        parse_drift(text.replace(", WatchCase.", "."))
    with pytest.raises(ValueError, match="insight types announced"):
        parse_drift(text.replace(", SCM_URL", ""))
