"""Strict in: validation names every bad field; the JSON:API request is built exactly."""

from __future__ import annotations

import pytest

from datadog_case_actions.registry import load
from datadog_case_actions.runtime.errors import InputError
from datadog_case_actions.runtime.request import prepare

PROJECT = "d4bbe1af-f36e-42f1-87c1-493ca35c320e"
TYPE = "00000000-0000-0000-0000-000000000001"


def manifest(name: str) -> dict:
    return load(name).manifest


def test_create_case_builds_the_json_api_envelope() -> None:
    req = prepare(manifest("create_case"), {
        "title": "DB is down", "type_id": TYPE, "project_id": PROJECT, "priority": "P1", "assignee_id": "u-1",
    })
    assert (req.method, req.path, req.params) == ("POST", "/api/v2/cases", ())
    assert req.body == {
        "data": {
            "type": "case",
            "attributes": {"title": "DB is down", "type_id": TYPE, "priority": "P1"},
            "relationships": {
                "project": {"data": {"id": PROJECT, "type": "project"}},
                "assignee": {"data": {"id": "u-1", "type": "user"}},
            },
        }
    }
    assert req.idempotent is False


def test_optional_relationship_left_out_is_not_sent() -> None:
    req = prepare(manifest("create_case"), {"title": "t", "type_id": TYPE, "project_id": PROJECT})
    assert "assignee" not in req.body["data"]["relationships"]


def test_every_violation_is_reported_at_once_with_its_field() -> None:
    with pytest.raises(InputError) as info:
        prepare(manifest("create_case"), {"title": 5, "priority": "P9", "colour": "red",
                                          "custom_attributes": {"region": {"is_multi": "no", "type": "TEXT", "value": "x"}}})
    fields = {v.field: v.text for v in info.value.violations}
    assert "is not one of: NOT_DEFINED, P1, P2, P3, P4, P5" in fields["priority"]
    assert fields["title"].startswith("expected string")
    assert fields["type_id"] == "is required" and fields["project_id"] == "is required"
    assert fields["colour"] == "unknown field"  # the unknown key itself is the field
    assert "custom_attributes.region.is_multi" in fields
    assert "priority" in str(info.value) and info.value.action_id == "datadog.create_case"


@pytest.mark.parametrize("bad", ["a/b", "..", "x?y=1", "x#frag", "", "../etc"])
def test_path_parameters_cannot_escape_their_segment(bad: str) -> None:
    with pytest.raises(InputError) as info:
        prepare(manifest("get_case"), {"case_id": bad})
    assert info.value.violations[0].field == "case_id"


def test_path_parameters_are_percent_encoded() -> None:
    assert prepare(manifest("get_case"), {"case_id": "OPS 12"}).path == "/api/v2/cases/OPS%2012"


def test_query_parameters_get_their_api_names() -> None:
    req = prepare(manifest("search_cases"), {"page_size": 50, "page_number": 2, "sort_asc": False, "filter": "status:open"})
    assert dict(req.params) == {"page[size]": "50", "page[number]": "2", "sort[asc]": "false", "filter": "status:open"}
    assert req.body is None


def test_page_size_limit_is_enforced() -> None:
    with pytest.raises(InputError, match="page_size"):
        prepare(manifest("search_cases"), {"page_size": 101})


def test_insights_limit_is_enforced() -> None:
    insight = {"ref": "/monitors/1", "resource_id": "1", "type": "MONITOR"}
    prepare(manifest("add_case_insights"), {"case_id": "c", "insights": [insight] * 100})
    with pytest.raises(InputError, match="insights"):
        prepare(manifest("add_case_insights"), {"case_id": "c", "insights": [insight] * 101})


def test_body_only_constants_and_data_id() -> None:
    assert prepare(manifest("archive_case"), {"case_id": "c"}).body == {"data": {"type": "case"}}
    assert prepare(manifest("move_case_to_project"), {"case_id": "c", "project_id": "p"}).body == {
        "data": {"id": "p", "type": "project"}}


def test_due_date_accepts_a_date_or_null_only() -> None:
    m = manifest("update_case_due_date")
    assert prepare(m, {"case_id": "c", "due_date": None}).body["data"]["attributes"] == {"due_date": None}
    with pytest.raises(InputError, match="due_date"):
        prepare(m, {"case_id": "c", "due_date": "next friday"})


def test_inputs_must_be_an_object() -> None:
    with pytest.raises(InputError, match="inputs must be an object"):
        prepare(manifest("get_case"), ["case_id"])  # type: ignore[arg-type]


def test_members_of_an_optional_object_bring_its_required_members() -> None:
    """The reference requires action, name and trigger once a rule's attributes are sent at all."""
    from datadog_case_actions.runtime.runner import prepare as prepare_by_id

    with pytest.raises(InputError) as info:
        prepare_by_id("update_case_automation_rule", {"project_id": "p", "rule_id": "r", "name": "triage"})
    fields = {v.field: v.text for v in info.value.violations}
    assert fields == {"action": "is required when name is given", "trigger": "is required when name is given"}
    assert prepare_by_id("update_case_automation_rule", {"project_id": "p", "rule_id": "r"}).body == {
        "data": {"type": "rule"}}


def test_text_that_is_not_valid_unicode_is_refused_with_its_field() -> None:
    from datadog_case_actions.runtime.runner import prepare as prepare_by_id

    with pytest.raises(InputError) as info:
        prepare_by_id("comment_case", {"case_id": "OPS-1", "comment": "half a \ud800 pair"})
    assert [(v.field, v["validator"]) for v in info.value.violations] == [("comment", "unicode")]
