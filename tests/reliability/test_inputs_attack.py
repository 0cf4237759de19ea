"""Hostile and careless inputs (issue 10, items 3 and 16; issue 9's unknown-field hint).

Every case is derived from the manifests: every path parameter of every
action, every number or integer field at any depth, every object that refuses
extra keys.  Requests go to an ``httpx.MockTransport`` that records what httpx
really puts on the wire.
"""

from __future__ import annotations

import asyncio
import copy
import json
import math
import os
import subprocess
import sys
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import quote, unquote

import httpx
import pytest
from jsonschema import Draft202012Validator

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import ActionError, InputError
from datadog_case_actions.runtime.request import PATH_PARAMETER_MAX_LENGTH, PreparedRequest, build
from datadog_case_actions.runtime.runner import dry_run_request, prepare

ROOT = Path(__file__).resolve().parents[2]
MANIFESTS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "manifests").glob("datadog.*.json"))]
CONNECTION = Connection(api_key="k", app_key="a", base_url="http://127.0.0.1:9", retry=RetryPolicy.none())


def _strict_json(text: bytes) -> Any:
    def refuse(token: str) -> None:
        raise AssertionError(f"non-JSON token {token} on the wire")

    return json.loads(text, parse_constant=refuse)


class Wire:
    """A runner whose requests are recorded, and answered 200 ``{}``."""

    def __init__(self) -> None:
        self.requests: list[httpx.Request] = []
        self.runner = Runner(CONNECTION, httpx_transport=httpx.MockTransport(self._answer))

    def _answer(self, request: httpx.Request) -> httpx.Response:
        self.requests.append(request)
        if request.content:
            _strict_json(request.content)
        return httpx.Response(200, json={})

    def send(self, action: str, inputs: dict[str, Any]) -> httpx.Request:
        """The request httpx sent for *inputs* (whatever the runner made of the made-up answer)."""
        before = len(self.requests)
        try:
            self.runner.run(action, inputs)
        except ActionError as exc:
            assert not isinstance(exc, InputError), exc
        assert len(self.requests) == before + 1
        return self.requests[-1]


@pytest.fixture(scope="module")
def wire() -> Iterator[Wire]:
    recorder = Wire()
    yield recorder
    recorder.runner.close()


def _example(manifest: dict[str, Any]) -> dict[str, Any]:
    return copy.deepcopy(manifest["examples"][0]["input"])


# ---------------------------------------------------------------- item 3: path parameters

PATH_PARAMETERS = [(m, name) for m in MANIFESTS for name in m["request"].get("path", [])]
PATH_IDS = [f"{m['id'].split('.', 1)[1]}.{name}" for m, name in PATH_PARAMETERS]
REFUSED = {
    "dot": ".",
    "dot-dot": "..",
    "empty": "",
    "over-long": "x" * (PATH_PARAMETER_MAX_LENGTH + 1),
    "70 kB": "x" * 70_000,  # httpx.InvalidURL without the limit
}
# Accepted, and each must reach the server as exactly one segment that decodes back to itself.
KEPT = ["a b", "100%", "a%2Fb", "%2e", "%2E%2E", ".x", "x.", ".hidden", "é-ß-😀", "a+b", "a;b=c", "~user", "@:!$&'()*,",
        "x" * PATH_PARAMETER_MAX_LENGTH]


def test_the_path_parameters_are_all_found() -> None:
    # every {placeholder} of every path template, counted from the templates themselves
    import re

    in_paths = [(m["id"], name) for m in MANIFESTS for name in re.findall(r"{(\w+)}", m["path"])]
    assert len(PATH_PARAMETERS) == len(in_paths) >= 65
    assert len({m["id"] for m, _ in PATH_PARAMETERS}) == len({action for action, _ in in_paths}) >= 52


@pytest.mark.parametrize(("manifest", "name"), PATH_PARAMETERS, ids=PATH_IDS)
def test_dot_empty_and_over_long_path_parameters_are_refused_naming_the_field(
        manifest: dict[str, Any], name: str, wire: Wire) -> None:
    before = len(wire.requests)
    declared = Draft202012Validator(manifest["input_schema"]["properties"][name])
    for label, value in REFUSED.items():
        assert not declared.is_valid(value), f"{label}: the manifest's schema (typed models, MCP) lets it through"
        inputs = {**_example(manifest), name: value}
        for dry_run in (False, True):
            with pytest.raises(InputError) as info:
                wire.runner.run(manifest["id"], inputs, dry_run=dry_run)
            fields = [v.field for v in info.value.violations]
            assert fields == [name], (label, info.value.violations)
            assert len(str(info.value)) < 400, "the refused value is echoed whole"
    assert len(wire.requests) == before, "a refused path parameter reached the wire"


def test_the_async_path_refuses_them_too() -> None:
    seen: list[httpx.Request] = []

    async def go() -> None:
        transport = httpx.MockTransport(lambda r: (seen.append(r), httpx.Response(204))[1])
        async with Runner(CONNECTION, async_httpx_transport=transport) as runner:
            for value in REFUSED.values():
                with pytest.raises(InputError) as info:
                    await runner.arun("delete_project", {"project_id": value})
                assert [v.field for v in info.value.violations] == ["project_id"]
            await runner.arun("delete_project", {"project_id": "P-1"})  # the wire works

    asyncio.run(go())
    assert [str(r.url) for r in seen] == [CONNECTION.url + "/api/v2/cases/projects/P-1"]


@pytest.mark.parametrize(("manifest", "name"), PATH_PARAMETERS, ids=PATH_IDS)
def test_build_holds_the_rule_even_for_a_manifest_that_lacks_it(manifest: dict[str, Any], name: str) -> None:
    """A third-party manifest with a bare ``{"type": "string"}`` path parameter still cannot drop a segment."""
    loose = copy.deepcopy(manifest)
    loose["id"] = "loose." + manifest["id"]  # validation and build caches are per id
    for param in loose["request"]["path"]:
        loose["input_schema"]["properties"][param] = {"type": "string"}
    for label, value in REFUSED.items():
        inputs = {**_example(manifest), name: value}
        with pytest.raises(InputError) as info:
            build(loose, inputs)
        assert [v.field for v in info.value.violations] == [name], label


@pytest.mark.parametrize(("manifest", "name"), PATH_PARAMETERS, ids=PATH_IDS)
def test_the_dry_run_url_is_the_url_httpx_sends(manifest: dict[str, Any], name: str, wire: Wire) -> None:
    template = CONNECTION.url + manifest["path"]
    for value in [*KEPT, *REFUSED.values()]:
        inputs = {**_example(manifest), name: value}
        try:
            shown = dry_run_request(prepare(manifest["id"], inputs), CONNECTION)["url"]
        except InputError:
            assert value not in KEPT
            continue  # refused before anything is shown or sent (the test above)
        sent = wire.send(manifest["id"], inputs)
        assert shown == str(sent.url), value
        # the value is one whole segment, where the template puts it
        segments = sent.url.raw_path.decode("ascii").split("?")[0].split("/")
        expected = template.replace(CONNECTION.url, "").split("/")
        assert len(segments) == len(expected), (value, sent.url)
        position = expected.index("{" + name + "}")
        assert unquote(segments[position]) == value
        assert segments[position] == quote(value, safe="")


STRING_QUERIES = [(m, name) for m in MANIFESTS for name in m["request"].get("query", {})
                  if m["input_schema"]["properties"][name].get("type") == "string"
                  and "enum" not in m["input_schema"]["properties"][name]
                  and "format" not in m["input_schema"]["properties"][name]]


@pytest.mark.parametrize(("manifest", "name"), STRING_QUERIES,
                         ids=[f"{m['id'].split('.', 1)[1]}.{n}" for m, n in STRING_QUERIES])
def test_query_text_with_url_syntax_is_shown_and_sent_identically(manifest: dict[str, Any], name: str,
                                                                   wire: Wire) -> None:
    text = "a b/c?d#e%f+g&h=i é"
    inputs = {**_example(manifest), name: text}
    shown = dry_run_request(prepare(manifest["id"], inputs), CONNECTION)["url"]
    sent = wire.send(manifest["id"], inputs)
    assert shown == str(sent.url)
    api_name = manifest["request"]["query"][name]
    assert sent.url.params[api_name] == text
    assert sent.url.path == manifest["path"].format(**{p: inputs[p] for p in manifest["request"].get("path", [])})


def _cli(*args: str) -> subprocess.CompletedProcess[str]:
    env = {**os.environ, "DD_API_KEY": "k-not-real", "DD_APP_KEY": "a-not-real", "DD_BASE_URL": "http://127.0.0.1:9"}
    return subprocess.run([sys.executable, "-m", "datadog_case_actions", *args], capture_output=True, text=True,
                          env=env, timeout=60, cwd=ROOT)


@pytest.mark.parametrize("value", [".", "..", ""])
def test_the_cli_dry_run_refuses_a_dot_case_id_with_exit_2(value: str) -> None:
    done = _cli("run", "get_case", f"case_id={value}", "--dry-run")
    assert done.returncode == 2, (done.stdout, done.stderr)
    assert "case_id" in done.stderr and not done.stdout


def test_the_cli_dry_run_shows_an_encoded_segment() -> None:
    done = _cli("run", "get_case", "case_id=a b%", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"] == "http://127.0.0.1:9/api/v2/cases/a%20b%25"


def test_the_cli_sends_page_size_five_point_oh_as_five_and_refuses_nan() -> None:
    done = _cli("run", "search_cases", "page_size=5.0", "page_number=1e1", "--dry-run")
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout)["url"].endswith("?page%5Bsize%5D=5&page%5Bnumber%5D=10")
    for text in ("nan", "inf", "-Infinity", "5.5"):
        done = _cli("run", "search_cases", f"page_size={text}", "--dry-run")
        assert done.returncode == 2 and "page_size" in done.stderr, (text, done.stderr)
    done = _cli("run", "search_cases", "page_size:=NaN", "--dry-run")  # raw JSON: Python's parser takes NaN
    assert done.returncode == 2 and "page_size" in done.stderr, done.stderr


# ---------------------------------------------------------------- schema positions, at any depth

Step = tuple[str, Any]  # ("property", name) | ("items", None) | ("additional", key) | ("option", index)


def _positions(schema: Any, steps: tuple[Step, ...] = ()) -> Iterator[tuple[tuple[Step, ...], dict[str, Any]]]:
    """Every subschema of *schema* with the steps that lead to it."""
    if not isinstance(schema, dict):
        return
    yield steps, schema
    for name, sub in schema.get("properties", {}).items():
        yield from _positions(sub, (*steps, ("property", name)))
    if isinstance(schema.get("items"), dict):
        yield from _positions(schema["items"], (*steps, ("items", None)))
    if isinstance(schema.get("additionalProperties"), dict):
        yield from _positions(schema["additionalProperties"], (*steps, ("additional", "k1")))
    for index, option in enumerate(schema.get("anyOf", [])):
        yield from _positions(option, (*steps, ("option", index)))


_FORMATS = {"date-time": "2026-01-02T03:04:05Z", "date": "2026-01-02", "uuid": "aeadc05e-98a8-11ec-ac2c-da7ad0900001"}


def _minimal(schema: dict[str, Any]) -> Any:
    """A small instance *schema* accepts."""
    if "const" in schema:
        return schema["const"]
    if "enum" in schema:
        return schema["enum"][0]
    if "anyOf" in schema:
        return _minimal(schema["anyOf"][0])
    kind = schema.get("type", "object")
    kind = kind[0] if isinstance(kind, list) else kind
    if kind == "object":
        return {name: _minimal(schema["properties"][name]) for name in schema.get("required", [])}
    if kind == "array":
        return [_minimal(schema.get("items", {})) for _ in range(schema.get("minItems", 0))]
    if kind in ("integer", "number"):
        return schema.get("minimum", 1)
    if kind == "boolean":
        return False
    if kind == "null":
        return None
    return _FORMATS.get(schema.get("format", ""), "x" * max(1, schema.get("minLength", 1)))


def _with(schema: dict[str, Any], steps: tuple[Step, ...], leaf: Any) -> Any:
    """A minimal instance of *schema* with *leaf* at the end of *steps*."""
    if not steps:
        return leaf
    (kind, key), rest = steps[0], steps[1:]
    if kind == "property":
        base = _minimal(schema)
        return {**base, key: _with(schema["properties"][key], rest, leaf)}
    if kind == "items":
        return [_with(schema["items"], rest, leaf)]
    if kind == "additional":
        return {key: _with(schema["additionalProperties"], rest, leaf)}
    return _with(schema["anyOf"][key], rest, leaf)


def _field(steps: tuple[Step, ...]) -> str:
    text = ""
    for kind, key in steps:
        if kind == "items":
            text += "[0]"
        elif kind in ("property", "additional"):
            text += f".{key}" if text else key
    return text


def _inputs(manifest: dict[str, Any], steps: tuple[Step, ...], leaf: Any) -> dict[str, Any]:
    """The manifest's example with *leaf* placed at *steps* (the rest of the top field made minimal)."""
    top = _with(manifest["input_schema"], steps, leaf)
    return {**_example(manifest), steps[0][1]: top[steps[0][1]]}


def _numeric(schema: dict[str, Any]) -> set[str]:
    kind = schema.get("type", ())
    return {k for k in ([kind] if isinstance(kind, str) else kind) if k in ("integer", "number")}


NUMBERS = [(m, steps, sub) for m in MANIFESTS for steps, sub in _positions(m["input_schema"])
           if steps and _numeric(sub)]
NUMBER_IDS = [f"{m['id'].split('.', 1)[1]}:{_field(steps)}" for m, steps, _ in NUMBERS]
INTEGERS = [(m, steps, sub) for m, steps, sub in NUMBERS if _numeric(sub) == {"integer"}]


def test_number_fields_are_found_at_every_depth() -> None:
    assert len(NUMBERS) >= 15 and len(INTEGERS) >= 7
    assert any(len([s for s in steps if s[0] != "option"]) > 2 for _, steps, _ in NUMBERS)  # nested ones too


@pytest.mark.parametrize(("manifest", "steps", "schema"), NUMBERS, ids=NUMBER_IDS)
def test_nan_and_infinities_are_refused_in_every_number_field(manifest: dict[str, Any], steps: tuple[Step, ...],
                                                               schema: dict[str, Any], wire: Wire) -> None:
    finite = _inputs(manifest, steps, _minimal(schema))
    prepare(manifest["id"], finite)  # the same inputs with a finite number are valid
    before = len(wire.requests)
    for bad in (math.nan, math.inf, -math.inf):
        with pytest.raises(InputError) as info:
            wire.runner.run(manifest["id"], _inputs(manifest, steps, bad))
        found = {v.field: v for v in info.value.violations}
        assert _field(steps) in found, info.value.violations
        assert found[_field(steps)]["validator"] == "finite"
        assert "finite" in found[_field(steps)].text
    assert len(wire.requests) == before


@pytest.mark.parametrize("where", ["free-form body", "query"])
def test_non_finite_numbers_are_refused_where_the_schema_says_nothing(where: str) -> None:
    # custom attribute values take any of several shapes; a nested list of numbers holds the NaN
    if where == "query":
        inputs: dict[str, Any] = {"page_size": math.inf}
        action = "search_cases"
        field = "page_size"
    else:
        action = "update_case_custom_attribute"
        inputs = {"case_id": "OPS-1", "custom_attribute_key": "region", "is_multi": True, "type": "NUMBER",
                  "value": [1.5, math.nan]}
        field = "value[1]"
    with pytest.raises(InputError) as info:
        prepare(action, inputs)
    assert [v.field for v in info.value.violations] == [field]


@pytest.mark.parametrize(("manifest", "steps", "schema"), INTEGERS,
                         ids=[f"{m['id'].split('.', 1)[1]}:{_field(s)}" for m, s, _ in INTEGERS])
def test_integral_floats_in_integer_fields_go_out_as_integers(manifest: dict[str, Any], steps: tuple[Step, ...],
                                                              schema: dict[str, Any], wire: Wire) -> None:
    whole = max(5, schema.get("minimum", 5))
    as_float = _inputs(manifest, steps, float(whole))
    as_int = _inputs(manifest, steps, whole)
    request = prepare(manifest["id"], as_float)
    # identical to the request built from the int, down to the JSON text (5 and 5.0 differ there)
    assert json.dumps(request.to_dict()) == json.dumps(prepare(manifest["id"], as_int).to_dict())
    sent = wire.send(manifest["id"], as_float)
    assert f"{whole}.0" not in str(sent.url) and f"{whole}.0".encode() not in sent.content
    assert str(sent.url) == dry_run_request(request, CONNECTION)["url"]


def test_page_size_five_point_oh_is_sent_as_five(wire: Wire) -> None:
    sent = wire.send("search_cases", {"page_size": 5.0, "page_number": 2.0})
    assert sent.url.params["page[size]"] == "5" and sent.url.params["page[number]"] == "2"


def test_a_body_that_is_not_strict_json_never_reaches_the_wire(wire: Wire) -> None:
    """Validation refuses NaN first; the serialiser refuses it too, for a request built by hand."""
    before = len(wire.requests)
    request = PreparedRequest(action_id="datadog.update_project", method="PATCH", path="/api/v2/cases/projects/p",
                              body={"data": {"attributes": {"x": math.nan}}})
    with pytest.raises(ValueError, match="JSON compliant"):
        wire.runner.transport.send(request)
    assert len(wire.requests) == before


# ---------------------------------------------------------------- unknown keys: the key is the field

def _typo(name: str) -> str:
    """*name* with two different neighbouring letters swapped (``title`` -> ``tilte``)."""
    for i in range(len(name) // 2, len(name) - 1):
        if name[i] != name[i + 1]:
            return name[:i] + name[i + 1] + name[i] + name[i + 2:]
    return name + "x"


WITH_FIELDS = [m for m in MANIFESTS if m["input_schema"]["properties"]]


@pytest.mark.parametrize("manifest", WITH_FIELDS, ids=[m["id"].split(".", 1)[1] for m in WITH_FIELDS])
def test_an_unknown_key_is_the_field_and_the_closest_known_one_is_suggested(manifest: dict[str, Any]) -> None:
    properties = manifest["input_schema"]["properties"]
    name = max(properties, key=len)
    typo = _typo(name)
    assert typo not in properties
    with pytest.raises(InputError) as info:
        prepare(manifest["id"], {**_example(manifest), typo: 1, "zzqqxx": 2})
    found = {v.field: v.text for v in info.value.violations}
    assert found[typo] == f"unknown field; did you mean {name}?"
    assert found["zzqqxx"] == "unknown field"  # nothing close: no guess


def test_titel_suggests_title() -> None:
    with pytest.raises(InputError) as info:
        prepare("update_case_title", {"case_id": "OPS-1", "titel": "x"})
    found = {v.field: v.text for v in info.value.violations}
    assert found["titel"] == "unknown field; did you mean title?" and found["title"] == "is required"


CLOSED_OBJECTS = [(m, steps, sub) for m in MANIFESTS for steps, sub in _positions(m["input_schema"])
                  if steps and sub.get("additionalProperties") is False and sub.get("properties")]


def test_nested_objects_that_refuse_extra_keys_are_found() -> None:
    assert CLOSED_OBJECTS


@pytest.mark.parametrize(("manifest", "steps", "schema"), CLOSED_OBJECTS,
                         ids=[f"{m['id'].split('.', 1)[1]}:{_field(s)}" for m, s, _ in CLOSED_OBJECTS])
def test_a_nested_unknown_key_is_named_by_its_full_path(manifest: dict[str, Any], steps: tuple[Step, ...],
                                                        schema: dict[str, Any]) -> None:
    name = max(schema["properties"], key=len)
    typo = _typo(name)
    inputs = _inputs(manifest, steps, {**_minimal(schema), typo: 1})
    with pytest.raises(InputError) as info:
        prepare(manifest["id"], inputs)
    found = {v.field: v.text for v in info.value.violations}
    assert found == {f"{_field(steps)}.{typo}": f"unknown field; did you mean {name}?"}
