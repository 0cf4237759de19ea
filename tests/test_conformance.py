"""Every manifest against the reference digest: nothing documented is missing or wrong.

The digest (``tests/reference_digest.json``) is made from the API reference by
``tools/reference.py``; it lists every documented parameter and request and
response field with its type, required flag and enum.  Here each one is looked
up in the manifest: request fields through the manifest's request binding (the
flat input that reaches that JSON pointer, or a constant the action fills in),
response fields in the output schema.  A difference is allowed only where the
action's declaration records the decision in its ``notes``.  The digest holds
both references (the 66 seed operations and the 9 case type and custom
attribute operations) with the drift of ``api-drift.md`` applied.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest

from tools.reference import schema_type

ROOT = Path(__file__).resolve().parent.parent
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))
OPERATIONS = DIGEST["operations"]
TOKEN = re.compile(r"([^.\[\]{}|]+)|(\[\])|(\{\})|\|(\d+)")


def manifest_for(operation_id: str) -> dict[str, Any]:
    action_id = "datadog." + re.sub(r"(?<!^)(?=[A-Z])", "_", operation_id).lower()
    return json.loads((ROOT / "manifests" / f"{action_id}.json").read_text(encoding="utf-8"))


def tokens(path: str) -> list[str]:
    out = []
    for name, items, values, option in TOKEN.findall(path):
        out.append(name or items or values or f"|{option}")
    return out


def walk(schema: dict[str, Any], steps: list[str]) -> tuple[dict[str, Any] | None, bool]:
    """The sub-schema at *steps* and whether its last member is required by its parent."""
    required = True
    for step in steps:
        if step == "[]":
            schema, required = schema.get("items"), False
        elif step == "{}":
            schema, required = schema.get("additionalProperties"), False
        elif step.startswith("|"):
            options = schema.get("anyOf") or schema.get("oneOf") or []
            index = int(step[1:]) - 1
            schema, required = (options[index] if index < len(options) else None), False
        else:
            props = schema.get("properties", {})
            required = step in schema.get("required", [])
            schema = props.get(step)
        if not isinstance(schema, dict):
            return None, False
    return schema, required


def label(schema: dict[str, Any]) -> str:
    """The digest's type label; manifests say ``anyOf`` where the reference says ``oneOf``."""
    s = dict(schema)
    if "anyOf" in s:
        s["oneOf"] = s.pop("anyOf")
    if isinstance(s.get("items"), dict) and "anyOf" in s["items"]:
        s["items"] = {**s["items"], "oneOf": s["items"]["anyOf"]}
    return schema_type(s)


def noted(manifest: dict[str, Any], name: str) -> bool:
    return any(f"`{name}`" in note or name in note.split() for note in manifest.get("notes", []))


def reference_values(schema: dict[str, Any]) -> list[Any]:
    """The enum without what the manifest adds on purpose: null (declared nullable), the old spellings
    it still accepts (``x-aliases``) and the values seen live (``x-live-values``)."""
    extra = set(schema.get("x-aliases", {})) | set(schema.get("x-live-values", []))
    return [v for v in (schema.get("enum") or []) if v is not None and v not in extra]


def check_field(problems: list[str], where: str, doc: dict[str, Any], found: dict[str, Any] | None,
                required: bool, manifest: dict[str, Any], name: str) -> None:
    if found is None:
        problems.append(f"{where}: documented field is missing")
        return
    if label(found) != doc["type"] and not noted(manifest, name):
        problems.append(f"{where}: type {label(found)} where the reference says {doc['type']}")
    if doc["enum"] is not None and reference_values(found) != doc["enum"]:
        problems.append(f"{where}: enum {found.get('enum')} where the reference says {doc['enum']}")
    if doc["enum"] is None and found.get("enum") is not None and not noted(manifest, name):
        problems.append(f"{where}: enum {found['enum']} the reference does not document")
    if required != doc["required"] and not noted(manifest, name):
        problems.append(f"{where}: required={required} where the reference says {doc['required']}")


def request_problems(op: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    binding = manifest["request"]
    inputs = manifest["input_schema"]
    by_pointer = {spec["pointer"]: name for name, spec in binding["body"].items()}
    constants: dict[str, Any] = {}
    template = binding.get("body_template") or {}

    def collect(doc: Any, pointer: str) -> None:
        if isinstance(doc, dict):
            for key, value in doc.items():
                collect(value, f"{pointer}/{key}")
        else:
            constants[pointer] = doc

    collect(template, "")
    for spec in binding["body"].values():
        constants.update(spec.get("with", {}))

    documented = {row["path"]: row for row in op["fields"]["request"]}
    required_chain: dict[str, bool] = {}
    for path, row in documented.items():
        parent = path.rsplit(".", 1)[0] if "." in path else ""
        required_chain[path] = row["required"] and required_chain.get(parent, True)
    required_chain = {p: r and op["request"]["required"] for p, r in required_chain.items()}

    for path, row in documented.items():
        pointer = "/" + "/".join(tokens(path.split("[]")[0].split("{}")[0].split("|")[0]))
        # find the binding at or above this field
        owner = next((p for p in sorted(by_pointer, key=len, reverse=True)
                      if pointer == p or pointer.startswith(p + "/")), None)
        if owner is not None:
            name = by_pointer[owner]
            rest_path = path[len(owner.strip("/").replace("/", ".")):]
            steps = tokens(rest_path)
            prop = inputs["properties"].get(name)
            if prop is None:
                problems.append(f"request {path}: bound to input {name!r} which the input schema lacks")
                continue
            if not steps:
                # a flat input is required only when every member above the field is
                check_field(problems, f"request {path} (input {name})", {**row, "required": required_chain[path]},
                            prop, name in inputs.get("required", []), manifest, name)
            else:
                found, req = walk(prop, steps)
                check_field(problems, f"request {path} (input {name})", row, found, req, manifest, name)
        elif pointer in constants:
            if row["enum"] and constants[pointer] not in row["enum"]:
                problems.append(f"request {path}: constant {constants[pointer]!r} not in {row['enum']}")
        elif any(p.startswith(pointer + "/") for p in list(by_pointer) + list(constants)):
            continue  # a container (data, data.attributes, a relationship): its members are checked
        else:
            problems.append(f"request {path}: documented field is not reachable from the inputs")
    return problems


def params_problems(op: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    problems = []
    inputs = manifest["input_schema"]
    for param in op["path_params"]:
        name = param["name"]
        if name not in manifest["request"]["path"] or name not in inputs.get("required", []):
            problems.append(f"path parameter {name} is not a required input")
    query = {api: name for name, api in manifest["request"]["query"].items()}
    for param in op["query_params"]:
        name = query.get(param["name"])
        if name is None:
            problems.append(f"query parameter {param['name']} is not an input")
            continue
        row = {"type": schema_type(param["schema"]), "required": param["required"], "enum": param["schema"].get("enum")}
        check_field(problems, f"query {param['name']} (input {name})", row, inputs["properties"].get(name),
                    name in inputs.get("required", []), manifest, name)
    return problems


def response_problems(op: dict[str, Any], manifest: dict[str, Any]) -> list[str]:
    problems: list[str] = []
    status = str(manifest["success_status"])
    if status not in op["responses"]:
        return [f"success status {status} is not documented"]
    output = manifest["output_schema"]
    for row in op["fields"]["responses"].get(status, []):
        found, req = walk(output, tokens(row["path"]))
        check_field(problems, f"response {status} {row['path']}", row, found, req, manifest, row["path"])
    return problems


@pytest.mark.parametrize("operation_id", sorted(OPERATIONS))
def test_manifest_matches_reference(operation_id: str) -> None:
    op = OPERATIONS[operation_id]
    manifest = manifest_for(operation_id)
    problems = []
    for key in ("method", "path", "scope", "preview"):
        if manifest[key] != op[key]:
            problems.append(f"{key} is {manifest[key]!r}, the reference says {op[key]!r}")
    problems += params_problems(op, manifest)
    if op["request"] and op["request"]["schema"]:
        problems += request_problems(op, manifest)
    problems += response_problems(op, manifest)
    assert not problems, f"{operation_id}:\n  " + "\n  ".join(problems)


def test_removing_a_documented_field_is_caught() -> None:
    """The check is not vacuous: drop one documented input and one output field and it fails."""
    op = OPERATIONS["CreateCase"]
    manifest = manifest_for("CreateCase")
    del manifest["input_schema"]["properties"]["priority"]
    assert any("data.attributes.priority" in p for p in request_problems(op, manifest))
    manifest = manifest_for("CreateCase")
    manifest["input_schema"]["properties"]["priority"]["enum"].remove("P5")
    assert any("enum" in p for p in request_problems(op, manifest))
    manifest = manifest_for("GetCase")
    del manifest["output_schema"]["properties"]["data"]["properties"]["attributes"]["properties"]["status_name"]
    assert any("status_name" in p for p in response_problems(OPERATIONS["GetCase"], manifest))
    manifest = manifest_for("SearchCases")
    del manifest["request"]["query"]["page_size"]
    assert any("page[size]" in p for p in params_problems(OPERATIONS["SearchCases"], manifest))


def test_only_declared_extra_enum_values_are_tolerated() -> None:
    """Old spellings (``x-aliases``) and live values (``x-live-values``) pass; any other difference is caught."""
    op = OPERATIONS["CreateCaseAutomationRule"]
    assert not request_problems(op, manifest_for("CreateCaseAutomationRule"))
    manifest = manifest_for("CreateCaseAutomationRule")
    manifest["input_schema"]["properties"]["action"]["properties"]["type"]["enum"].remove("EXECUTE_WORKFLOW")
    assert any("action.type" in p and "enum" in p for p in request_problems(op, manifest))
    manifest = manifest_for("CreateCaseAutomationRule")
    manifest["input_schema"]["properties"]["action"]["properties"]["type"]["enum"].append("run_playbook")
    assert any("action.type" in p and "enum" in p for p in request_problems(op, manifest))
    manifest = manifest_for("GetCase")
    case_type = manifest["output_schema"]["properties"]["data"]["properties"]["attributes"]["properties"]["type"]
    assert case_type["x-live-values"] and not response_problems(OPERATIONS["GetCase"], manifest)
    del case_type["x-live-values"]
    assert any("attributes.type" in p for p in response_problems(OPERATIONS["GetCase"], manifest))

