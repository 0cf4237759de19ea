"""Typed input models (pydantic) generated from the manifests."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from pydantic import ValidationError

from actions.datadog_cases.runtime.runner import prepare
from actions.datadog_cases.typed import input_model

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
