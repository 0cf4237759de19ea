"""Typed input models (pydantic) generated from the manifests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from datadog_case_actions.runtime.runner import prepare
from datadog_case_actions.typed import input_model

MANIFESTS = [json.loads(p.read_text(encoding="utf-8"))
             for p in sorted((Path(__file__).resolve().parent.parent / "manifests").glob("datadog.*.json"))]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["id"] for m in MANIFESTS])
def test_every_action_has_a_model_that_takes_its_example(manifest: dict[str, Any]) -> None:
    model = input_model(manifest["id"])
    assert model.__name__ == f"{manifest['operation_id']}Inputs"
    assert set(model.model_fields) == set(manifest["input_schema"]["properties"])
    required = {name for name, field in model.model_fields.items() if field.is_required()}
    assert required == set(manifest["input_schema"]["required"])
    example = manifest["examples"][0]["input"]
    typed = model(**example)
    assert typed.to_inputs() == example
    assert prepare(manifest["id"], typed) == prepare(manifest["id"], example)


def test_a_wrong_enum_or_unknown_field_names_the_field() -> None:
    model = input_model("create_case")
    base = {"title": "t", "type_id": "x", "project_id": "p"}
    with pytest.raises(ValidationError) as info:
        model(**base, priority="URGENT")
    assert info.value.errors()[0]["loc"] == ("priority",)
    with pytest.raises(ValidationError) as info:
        model(**base, colour="red")
    assert info.value.errors()[0]["loc"] == ("colour",)
    with pytest.raises(ValidationError):
        input_model("search_cases")(page_size="10")  # strict: no silent coercion


def test_unset_fields_are_not_sent_but_an_explicit_none_is() -> None:
    assert input_model("update_case_due_date")(case_id="OPS-1", due_date=None).to_inputs() == {
        "case_id": "OPS-1", "due_date": None}
    assert input_model("search_cases")(filter="status:open").to_inputs() == {"filter": "status:open"}


# -- the schema features the models carry --------------------------------------------------------------------


ENUMS = [(m["id"], name, prop["enum"]) for m in MANIFESTS
         for name, prop in m["input_schema"]["properties"].items() if "enum" in prop]


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["id"] for m in MANIFESTS])
def test_the_model_schema_has_the_manifest_properties_and_takes_every_example(manifest: dict[str, Any]) -> None:
    model = input_model(manifest["id"])
    schema = model.model_json_schema()
    properties = manifest["input_schema"]["properties"]
    assert list(schema["properties"]) == list(properties)
    assert set(schema.get("required", [])) == set(manifest["input_schema"]["required"])
    assert schema["additionalProperties"] is False
    assert model.action_id == manifest["id"]
    for name, prop in properties.items():
        assert model.model_fields[name].description == prop.get("description")
    for example in manifest["examples"]:
        typed = model.model_validate(example["input"])
        assert typed.to_inputs() == example["input"]
        assert prepare(manifest["id"], typed) == prepare(manifest["id"], example["input"])


@pytest.mark.parametrize(("action_id", "field", "values"), ENUMS, ids=[f"{a}.{f}" for a, f, _ in ENUMS])
def test_every_enum_is_a_literal_and_a_wrong_value_names_its_field(action_id: str, field: str,
                                                                   values: list[Any]) -> None:
    model = input_model(action_id)
    manifest = next(m for m in MANIFESTS if m["id"] == action_id)
    example = dict(manifest["examples"][0]["input"])
    example[field] = values[0]
    model.model_validate(example)
    example[field] = "NOT-AN-ENUM-VALUE"
    with pytest.raises(ValidationError) as info:
        model.model_validate(example)
    assert [e["loc"] for e in info.value.errors()] == [(field,)]
    enum = model.model_json_schema()["properties"][field]
    enum = enum.get("anyOf", [enum])[0]
    assert enum["enum"] == [v for v in values if v is not None]


def test_models_are_cached_and_found_by_any_spelling_and_by_name() -> None:
    from datadog_case_actions import typed

    model = input_model("create_case")
    assert model is input_model("datadog.create_case") is input_model("CreateCase") is typed.CreateCaseInputs
    settings = input_model("update_project").model_fields["settings"].annotation
    assert typed.UpdateProjectInputsSettings in settings.__args__
    with pytest.raises(AttributeError):
        typed.NoSuchInputs  # noqa: B018


def test_nested_objects_are_models_that_refuse_unknown_members() -> None:
    model = input_model("update_project")
    inputs = model(project_id="p", settings={"integration_jira": {"enabled": True}})
    assert inputs.to_inputs() == {"project_id": "p", "settings": {"integration_jira": {"enabled": True}}}
    with pytest.raises(ValidationError) as info:
        model(project_id="p", settings={"integration_jira": {"enabled": True, "colour": "red"}})
    assert info.value.errors()[0]["loc"] == ("settings", "integration_jira", "colour")
    with pytest.raises(ValidationError) as info:
        model(project_id="p", settings={"auto_close_inactive_cases": {"max_inactive_time_in_secs": "soon"}})
    assert info.value.errors()[0]["loc"] == ("settings", "auto_close_inactive_cases", "max_inactive_time_in_secs")
    schema = model.model_json_schema()
    assert "UpdateProjectInputsSettingsIntegrationJira" in schema["$defs"]


def test_any_of_is_a_union_and_maps_are_dicts() -> None:
    model = input_model("update_case_custom_attribute")
    base = {"case_id": "OPS-1", "custom_attribute_key": "region", "is_multi": False, "type": "TEXT"}
    for value in ("eu", ["eu", "us"], 3.5, [1.0, 2.0]):
        assert model(**base, value=value).to_inputs()["value"] == value
    with pytest.raises(ValidationError):
        model(**base, value={"not": "allowed"})
    attributes = input_model("update_attributes")(case_id="OPS-1", attributes={"service": ["web"]})
    assert attributes.attributes == {"service": ["web"]}
    with pytest.raises(ValidationError):
        input_model("update_attributes")(case_id="OPS-1", attributes={"service": "web"})


def test_limits_patterns_formats_and_nullable_types() -> None:
    get_case = input_model("get_case")
    with pytest.raises(ValidationError) as info:
        get_case(case_id="a/b")
    assert "single path segment" in info.value.errors()[0]["msg"]
    for bad in ("", ".", "..", "x" * 513):  # empty, dot segments, over-long
        with pytest.raises(ValidationError):
            get_case(case_id=bad)
    search = input_model("search_cases")
    search(page_size=100, page_number=1)
    for bad in ({"page_size": 0}, {"page_size": 101}, {"page_number": 0}):
        with pytest.raises(ValidationError) as info:
            search(**bad)
        assert info.value.errors()[0]["loc"] == (next(iter(bad)),)
    schema = search.model_json_schema()["properties"]["page_size"]["anyOf"][0]
    assert (schema["minimum"], schema["maximum"]) == (1, 100)
    assert get_case.model_json_schema()["properties"]["case_id"]["pattern"] == r"^(?!\.$)(?!.*\.\.)[^/?#]*$"
    window = input_model("create_maintenance_window").model_json_schema()["properties"]["start_at"]
    assert window["format"] == "date-time"
    due = input_model("update_case_due_date")
    assert due.model_fields["due_date"].is_required()
    assert due(case_id="OPS-1", due_date="2026-12-01").to_inputs()["due_date"] == "2026-12-01"


def test_dependent_required_is_checked_and_shown() -> None:
    model = input_model("update_case_automation_rule")
    model(project_id="p", rule_id="r")
    with pytest.raises(ValidationError, match="action, trigger required when name is given"):
        model(project_id="p", rule_id="r", name="renamed")
    assert model.model_json_schema()["dependentRequired"]["name"] == ["action", "trigger"]


def test_odd_property_names_become_fields_with_their_json_names_as_aliases() -> None:
    manifest = {"id": "acme.odd_names", "input_schema": {
        "type": "object", "title": "Odd names: inputs", "additionalProperties": False, "required": ["class"],
        "properties": {"class": {"type": "string"}, "model_config": {"type": "integer"},
                       "json": {"type": "boolean"}, "page[size]": {"type": "integer"}, "_id": {"type": "string"}}}}
    model = input_model(manifest)
    assert model.__name__ == "AcmeOddNamesInputs"
    assert model.model_json_schema()["title"] == "Odd names: inputs"
    assert list(model.model_json_schema()["properties"]) == list(manifest["input_schema"]["properties"])
    inputs = model.model_validate({"class": "c", "page[size]": 5, "json": True, "model_config": 1, "_id": "x"})
    assert inputs.to_inputs() == {"class": "c", "page[size]": 5, "json": True, "model_config": 1, "_id": "x"}
    assert model(class_="c", page_size=5).to_inputs() == {"class": "c", "page[size]": 5}


def test_instances_pickle_across_processes() -> None:
    import pickle
    import subprocess
    import sys

    inputs = input_model("update_project")(project_id="p", settings={"integration_jira": {"enabled": True}})
    assert pickle.loads(pickle.dumps(inputs)) == inputs
    done = subprocess.run(
        [sys.executable, "-c", "import pickle, sys; print(pickle.loads(sys.stdin.buffer.read()).to_inputs())"],
        input=pickle.dumps(inputs), capture_output=True, check=True, cwd=Path(__file__).resolve().parent.parent)
    assert done.stdout.decode().strip() == str(inputs.to_inputs())
