"""Property-based: inputs generated from every action's own input schema.

Valid inputs (hypothesis-jsonschema) always build a request whose method and
path are the reference's and whose JSON body validates against the
reference's request schema (from the checked-in digest).  Invalid inputs (each
a valid one broken in one way: wrong type, missing required field, unknown
enum value, unknown field, oversize or non-UTF-8 text, path parameters with
``/``, ``.``, ``..``, ``?`` or ``#``, empty or 70 kB long) always end in
``InputError`` and never reach the wire.  The number of examples run per action is printed (``pytest -s``) and
asserted.
"""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from hypothesis_jsonschema import from_schema
from jsonschema import Draft202012Validator

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import InputError
from datadog_case_actions.runtime.runner import prepare

ROOT = Path(__file__).resolve().parents[2]
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))["operations"]
MANIFESTS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "manifests").glob("datadog.*.json"))]
EXAMPLES = 25  # per action and per property; the suite asserts each ran at least this many
RUNS: dict[str, int] = {}  # valid examples run per action (reported at the end of the session)
INVALID_RUNS: dict[str, int] = {}

# A wire that must never be touched by an invalid input.
_WIRE: list[httpx.Request] = []
_RUNNER = Runner(Connection(api_key="k", app_key="a", retry=RetryPolicy.none()),
                 httpx_transport=httpx.MockTransport(lambda r: (_WIRE.append(r), httpx.Response(200, json={}))[1]))


def _any_of(schema: Any) -> Any:
    """The reference's ``oneOf`` read as ``anyOf``, the manifests' recorded decision: its options overlap
    (``[]`` is both "array of strings" and "array of numbers"), so a strict oneOf would refuse values
    the API takes."""
    if isinstance(schema, dict):
        return {("anyOf" if k == "oneOf" else k): _any_of(v) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_any_of(v) for v in schema]
    return schema


# Where a manifest records a decision that widens the reference (its "notes"), the body is held to the
# reference as the decision reads it.  Each entry names the note it follows.
DECISIONS: dict[str, tuple[str, Any]] = {
    # "documented as `YYYY-MM-DD`, with null to clear it": the reference types it string only
    "UpdateCaseDueDate": ("/properties/data/properties/attributes/properties/due_date",
                          {"type": ["string", "null"]}),
}


def _reference_body_validator(operation: str) -> Draft202012Validator | None:
    schema = (DIGEST[operation].get("request") or {}).get("schema")
    if not schema:
        return None
    schema = _any_of(schema)
    if operation in DECISIONS:
        pointer, replacement = DECISIONS[operation]
        node = schema
        keys = pointer.strip("/").split("/")
        for key in keys[:-1]:
            node = node[key]
        node[keys[-1]] = {**node[keys[-1]], **replacement}
    return Draft202012Validator(schema)


def _path_regex(template: str) -> str:
    return "^" + re.sub(r"\\\{[^}]+\\\}", "[^/?#]+", re.escape(template)) + "$"


def _strategy(schema: dict[str, Any]) -> st.SearchStrategy[Any]:
    # hypothesis-jsonschema does not know dependentRequired: keep only what the schema accepts.
    return from_schema(schema).filter(Draft202012Validator(schema).is_valid)


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["id"] for m in MANIFESTS])
def test_valid_inputs_build_the_reference_request(manifest: dict[str, Any]) -> None:
    body_validator = _reference_body_validator(manifest["operation_id"])
    path_pattern = re.compile(_path_regex(manifest["path"]))
    count = 0

    @settings(max_examples=EXAMPLES, deadline=None, derandomize=True,
              suppress_health_check=list(HealthCheck))
    @given(_strategy(manifest["input_schema"]))
    def check(inputs: dict[str, Any]) -> None:
        nonlocal count
        count += 1
        request = prepare(manifest["id"], inputs)
        assert request.method == manifest["method"]
        assert path_pattern.match(request.path), request.path
        if request.body is not None and body_validator is not None:
            errors = [e.message for e in body_validator.iter_errors(request.body)]
            assert not errors, (inputs, request.body, errors)
        json.dumps(request.body).encode("utf-8")  # always serialisable

    check()
    RUNS[manifest["id"]] = count
    print(f"{manifest['id']}: {count} valid examples")
    assert count >= min(EXAMPLES, 1 if not manifest["input_schema"]["properties"] else EXAMPLES)


BREAKERS: dict[str, Any] = {
    "wrong type": lambda prop, schema: {"__type__": True},  # an object where a scalar is expected
    "bad enum": lambda prop, schema: "NOT_AN_ENUM_VALUE" if "enum" in schema else None,
    "oversize": lambda prop, schema: "x" * (schema["maxLength"] + 1) if "maxLength" in schema else None,
    "non-utf8": lambda prop, schema: "bad \ud800 surrogate" if schema.get("type") == "string" else None,
}
PATH_ATTACKS = ["a/b", "..", ".", "", "x/../y", "a?b=1", "a#frag", "%2F..%2F", "a..b", "x" * 70_000]


def _invalid_variants(manifest: dict[str, Any], valid: dict[str, Any]) -> list[tuple[str, dict[str, Any]]]:
    schema = manifest["input_schema"]
    out: list[tuple[str, dict[str, Any]]] = [("unknown field", {**valid, "definitely_not_a_field": 1})]
    for name in schema.get("required", []):
        out.append((f"missing {name}", {k: v for k, v in valid.items() if k != name}))
    for name, prop in schema["properties"].items():
        for label, breaker in BREAKERS.items():
            value = breaker(name, prop)
            if value is not None and not (label == "wrong type" and prop.get("type") == "object"):
                out.append((f"{label} {name}", {**valid, name: value}))
    for name in manifest["request"].get("path", []):
        for attack in PATH_ATTACKS:
            out.append((f"path {name}={attack}", {**valid, name: attack}))
    return out


@pytest.mark.parametrize("manifest", MANIFESTS, ids=[m["id"] for m in MANIFESTS])
def test_invalid_inputs_always_end_in_input_error_and_never_reach_the_wire(manifest: dict[str, Any]) -> None:
    valid = manifest["examples"][0]["input"]
    checked = 0
    for label, inputs in _invalid_variants(manifest, valid):
        if label.startswith("path ") and inputs[label.split()[1].split("=")[0]] in ("a..b",):
            # '..' inside a segment is refused too: the pattern rejects any '..'
            pass
        before = len(_WIRE)
        with pytest.raises(InputError) as info:
            _RUNNER.run(manifest["id"], inputs)
        assert info.value.violations, label
        assert len(_WIRE) == before, f"{label}: a request reached the wire"
        checked += 1
    INVALID_RUNS[manifest["id"]] = checked
    print(f"{manifest['id']}: {checked} invalid variants")
    assert checked >= 1 + len(manifest["input_schema"].get("required", []))


@given(st.text(min_size=1, max_size=40))
@settings(max_examples=200, deadline=None, derandomize=True)
def test_any_case_id_either_refused_or_kept_inside_its_path_segment(case_id: str) -> None:
    """Whatever text a user passes as case_id, the request stays on /api/v2/cases/<one segment>."""
    try:
        request = prepare("get_case", {"case_id": case_id})
    except InputError:
        return
    assert re.fullmatch(r"/api/v2/cases/[^/?#]+", request.path), request.path
    # and httpx sends that path as it is (a dot segment would be dropped on the way)
    assert httpx.URL("http://127.0.0.1" + request.path).raw_path.decode("ascii") == request.path
    assert "/" not in case_id and ".." not in case_id
