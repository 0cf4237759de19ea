"""Routing and request decoding, driven by the checked-in manifests.

Every manifest says where each flat input travels (path segment, query
parameter or JSON pointer in the body).  The sandbox reads those bindings
backwards: it pulls the inputs out of a request, then checks them against the
manifest's input schema with a small JSON Schema subset (type, enum, required,
properties, additionalProperties, items, anyOf, min/max, minLength, pattern,
date and date-time formats).  Errors name the field where the client put it:
the JSON pointer in the body (``/data/attributes/title``) or the query
parameter (``page[size]``).
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Mapping
from urllib.parse import unquote

from ..manifest import load_index, load_manifest
from ..runtime.fastcheck import FORMATS, TYPES
from .context import is_uuid
from .errors import ApiFailure, bad_request, generic_error, invalid_parameter

__all__ = ["Route", "routes", "match", "decode_inputs", "PATH_UUIDS"]

#: path parameters that must be UUIDs, with the name the live service gives them in its 400 "Invalid Parameter"
#: (CommentID and CustomAttributeId as recorded; CaseTypeID by analogy, the case-type 400 was never recorded)
PATH_UUIDS = {"cell_id": "CommentID", "custom_attribute_id": "CustomAttributeId", "case_type_id": "CaseTypeID"}

#: the statuses the live service names when it refuses one (``Update case status returns "Bad Request"``)
LIVE_STATUSES = ("NOT_STARTED, IN_PROGRESS, CLOSED, ACKNOWLEDGED, TRIGGERED, PENDING_APPROVAL, COMPLETED, CANCELLED, "
                 "DECLINED, SUNKNOWN, OPEN, RESOLVED, APPROVED, IMPLEMENTING")
LIVE_PRIORITIES = "P1, P2, P3, P4, P5, NOT_DEFINED"
#: operations whose ``type`` input is a custom attribute type: an unknown one is a bare 400 (live: FLOAT)
_ATTRIBUTE_TYPE_OPERATIONS = frozenset({"UpdateCaseCustomAttribute", "CreateCustomAttributeConfig",
                                        "UpdateCustomAttributeConfig"})


@dataclass(frozen=True)
class Route:
    action_id: str
    operation_id: str
    method: str
    template: str
    segments: tuple[str | None, ...]  # None marks a parameter
    params: tuple[str, ...]
    manifest: Mapping[str, Any]

    @property
    def rank(self) -> tuple[int, ...]:
        # literal segments win over parameters, left to right
        return tuple(1 if s is None else 0 for s in self.segments)


def _split(path: str) -> list[str]:
    return [segment for segment in path.strip("/").split("/")]


@lru_cache(maxsize=1)
def routes() -> tuple[Route, ...]:
    out = []
    for action_id, summary in load_index()["actions"].items():
        manifest = load_manifest(action_id)
        segments: list[str | None] = []
        params: list[str] = []
        for part in _split(summary["path"]):
            if part.startswith("{") and part.endswith("}"):
                segments.append(None)
                params.append(part[1:-1])
            else:
                segments.append(part)
        out.append(Route(action_id, summary["operation_id"], summary["method"].upper(), summary["path"],
                         tuple(segments), tuple(params), manifest))
    out.sort(key=lambda r: r.rank)
    return tuple(out)


def match(method: str, raw_path: str) -> tuple[Route | None, dict[str, str], bool]:
    """``(route, path_params, path_known)``; *path_known* tells a 405 from a 404."""
    parts = [unquote(p) for p in _split(raw_path.split("?", 1)[0])]
    path_known = False
    for route in routes():
        if len(route.segments) != len(parts):
            continue
        values: dict[str, str] = {}
        names = iter(route.params)
        for literal, part in zip(route.segments, parts):
            if literal is None:
                if not part:
                    break
                values[next(names)] = part
            elif literal != part:
                break
        else:
            path_known = True
            if route.method == method:
                return route, values, True
    return None, {}, path_known


# -- inputs --------------------------------------------------------------------------------------

_MISSING = object()


def _resolve(doc: Any, pointer: str) -> Any:
    node = doc
    walked = ""
    for key in pointer.lstrip("/").split("/"):
        if not isinstance(node, dict):
            raise ApiFailure(400, f"{walked or '/'}: expected an object, got {_json_type(node)}", pointer=walked or "/")
        walked += "/" + key
        if key not in node:
            return _MISSING
        node = node[key]
    return node


def _json_type(value: Any) -> str:
    if value is None:
        return "null"
    if isinstance(value, bool):
        return "boolean"
    if isinstance(value, int):
        return "integer"
    if isinstance(value, float):
        return "number"
    if isinstance(value, str):
        return "string"
    if isinstance(value, list):
        return "array"
    if isinstance(value, dict):
        return "object"
    return type(value).__name__


def _coerce_query(value: str, schema: Mapping[str, Any], name: str) -> Any:
    kind = schema.get("type")
    if kind == "integer":
        if re.fullmatch(r"[+-]?\d+", value.strip()):
            return int(value)
        raise ApiFailure(400, f"{name}: expected an integer, got {value!r}", parameter=name)
    if kind == "boolean":
        lowered = value.strip().lower()
        if lowered in ("true", "1"):
            return True
        if lowered in ("false", "0"):
            return False
        raise ApiFailure(400, f"{name}: expected true or false, got {value!r}", parameter=name)
    return value


def decode_inputs(route: Route, path_params: Mapping[str, str], query: Mapping[str, str], body: bytes) -> dict[str, Any]:
    """The flat inputs of a request, checked against the manifest; raises ``ApiFailure`` (400)."""
    manifest = route.manifest
    binding = manifest["request"]
    schema = manifest["input_schema"]
    props = schema.get("properties", {})
    inputs: dict[str, Any] = {}
    where: dict[str, tuple[str, str]] = {}  # input name -> ("pointer"|"parameter", location)

    for name in binding.get("path", ()):
        inputs[name] = path_params[name]
        where[name] = ("parameter", name)
        if name in PATH_UUIDS and not is_uuid(path_params[name]):
            raise invalid_parameter(PATH_UUIDS[name], parameter=name)
    for name, api_name in binding.get("query", {}).items():
        where[name] = ("parameter", api_name)
        if api_name in query:
            inputs[name] = _coerce_query(query[api_name], props.get(name, {}), api_name)

    template = binding.get("body_template")
    fields = binding.get("body", {})
    document: Any = None
    if template is not None or fields:
        if not body or not body.strip():
            raise ApiFailure(400, "request body is required: a JSON:API document with a 'data' object",
                             pointer="/data")
        try:
            document = json.loads(body)
        except ValueError as exc:
            raise ApiFailure(400, f"request body is not valid JSON: {exc}") from None
        if not isinstance(document, dict) or not isinstance(document.get("data"), dict):
            raise ApiFailure(400, "/data: missing required attribute: the body must be {\"data\": {...}}",
                             pointer="/data")
        expected_type = (template or {}).get("data", {}).get("type")
        if expected_type is not None:
            got = document["data"].get("type", _MISSING)
            if got is _MISSING:
                raise ApiFailure(400, f"/data/type: missing required attribute (expected {expected_type!r})",
                                 pointer="/data/type")
            if got != expected_type:
                raise _wrong_type(got, expected_type, "/data/type")
        for name, spec in fields.items():
            pointer = spec["pointer"]
            where[name] = ("pointer", pointer)
            value = _resolve(document, pointer)
            if value is not _MISSING:
                inputs[name] = value
                for const_pointer, constant in spec.get("with", {}).items():
                    found = _resolve(document, const_pointer)
                    if found is not _MISSING and found != constant:
                        raise _wrong_type(found, constant, const_pointer)

    if document is not None:
        _legacy_inputs(route.operation_id, document, inputs)
    problems: list[tuple[str, str, str, str]] = []  # (kind, location, message, input name)
    for name in schema.get("required", ()):
        if name not in inputs:
            kind, location = where.get(name, ("parameter", name))
            noun = "attribute in body" if kind == "pointer" else "parameter"
            problems.append((kind, location, f"missing required {noun}", name))
    for name, value in inputs.items():
        if name in props:
            kind, location = where[name]
            for sub, message in _check(props[name], value, location if kind == "pointer" else ""):
                problems.append((kind, sub if kind == "pointer" else location + sub, message, name))
    if problems:
        kind, location, message, name = problems[0]
        live = _live_failure(route.operation_id, name, inputs.get(name, _MISSING), kind, location, message)
        if live is not None:
            raise live
        detail = "; ".join(f"{loc}: {msg}" for _, loc, msg, _ in problems[:5])
        raise ApiFailure(400, detail, pointer=location if kind == "pointer" else None,
                         parameter=location if kind != "pointer" else None)
    return inputs


#: operation -> (pointer of a deprecated body field, {its value: (input, value meant)}): what live also accepts
_LEGACY = {
    # July/August 2025 recordings: CreateCase took "type": "STANDARD" instead of type_id and answered type_id ...0001
    "CreateCase": ("/data/attributes/type", {"STANDARD": ("type_id", "00000000-0000-0000-0000-000000000001")}),
}


def _legacy_inputs(operation: str, document: Any, inputs: dict[str, Any]) -> None:
    """Fill an input from the deprecated field live still accepted in its place, when the input is absent."""
    if operation not in _LEGACY:
        return
    pointer, meanings = _LEGACY[operation]
    found = _resolve(document, pointer)
    if isinstance(found, str) and found in meanings:
        name, value = meanings[found]
        inputs.setdefault(name, value)


def _wrong_type(got: Any, expected: Any, pointer: str) -> ApiFailure:
    """A JSON:API ``type`` that is not the one expected, worded as live (``got type "x" expected one of "case"``)."""
    shown = got if isinstance(got, str) else json.dumps(got)
    return bad_request(f'got type "{shown}" expected one of "{expected}"', pointer=pointer)


def _live_failure(operation: str, name: str, value: Any, kind: str, location: str,
                  message: str) -> ApiFailure | None:
    """The live answer to the first invalid input, where the recordings show one; None keeps the sandbox's own."""
    if value is _MISSING:
        return None
    if name == "priority" and location == "/data/attributes/priority" and " is not one of" in message:
        return generic_error(f"invalid priority {value}. Must be one of {LIVE_PRIORITIES}", pointer=location)
    if name == "status" and location == "/data/attributes/status" and " is not one of" in message:
        return generic_error(f"invalid status {value}. Must be one of {LIVE_STATUSES}", pointer=location)
    if name == "type" and operation in _ATTRIBUTE_TYPE_OPERATIONS and " is not one of" in message:
        return bad_request(pointer=location)
    prefix = "/data/attributes/"
    if kind == "pointer" and location.startswith(prefix) and message.startswith("expected "):
        # the service's JSON decoder names the attribute and the JSON type it got, not the nested pointer
        attribute = location[len(prefix):].split("/", 1)[0]
        got = message.rsplit("got ", 1)[-1]
        return bad_request(f'error decoding attribute "{attribute}": invalid type {got}', pointer=location)
    return None


# -- a small JSON Schema subset ---------------------------------------------------------------------

def _is(value: Any, kind: str) -> bool:
    check = TYPES.get(kind)
    return True if check is None else check(value)


def _valid_format(value: str, fmt: str) -> bool:
    # The runtime's own format checks: the sandbox accepts exactly what the client lets through.
    check = FORMATS.get(fmt)
    return True if check is None else check(value)


def _check(schema: Mapping[str, Any], value: Any, at: str) -> list[tuple[str, str]]:
    """Violations of *schema* by *value* as ``(pointer, message)``; *at* is the value's pointer."""
    out: list[tuple[str, str]] = []
    if "anyOf" in schema:
        if all(_check(option, value, at) for option in schema["anyOf"]):
            out.append((at, f"{_json_type(value)} value is not one of the allowed types"))
            return out
    kind = schema.get("type")
    if kind is not None:
        kinds = kind if isinstance(kind, list) else [kind]
        if not any(_is(value, k) for k in kinds):
            return [(at, f"expected {' or '.join(kinds)}, got {_json_type(value)}")]
    if "enum" in schema and value not in schema["enum"]:
        allowed = ", ".join(map(str, schema["enum"]))
        return [(at, f"{value!r} is not one of: {allowed}")]
    if isinstance(value, str):
        if "minLength" in schema and len(value) < schema["minLength"]:
            out.append((at, f"must be at least {schema['minLength']} character(s) long"))
        if "pattern" in schema and not re.search(schema["pattern"], value):
            out.append((at, str(schema.get("x-pattern-message") or f"does not match {schema['pattern']}")))
        if "format" in schema and not _valid_format(value, schema["format"]):
            out.append((at, f"{value!r} is not a valid {schema['format']}"))
    elif _is(value, "number"):
        if "minimum" in schema and value < schema["minimum"]:
            out.append((at, f"must be >= {schema['minimum']}, got {value}"))
        if "maximum" in schema and value > schema["maximum"]:
            out.append((at, f"must be <= {schema['maximum']}, got {value}"))
    elif isinstance(value, list):
        if "minItems" in schema and len(value) < schema["minItems"]:
            out.append((at, f"needs at least {schema['minItems']} item(s), got {len(value)}"))
        if "maxItems" in schema and len(value) > schema["maxItems"]:
            out.append((at, f"at most {schema['maxItems']} items are allowed, got {len(value)}"))
        if isinstance(schema.get("items"), dict):
            for index, item in enumerate(value):
                out.extend(_check(schema["items"], item, f"{at}/{index}"))
    elif isinstance(value, dict):
        props = schema.get("properties", {})
        for name in schema.get("required", ()):
            if name not in value:
                out.append((f"{at}/{name}", "missing required attribute"))
        if "maxProperties" in schema and len(value) > schema["maxProperties"]:
            out.append((at, f"at most {schema['maxProperties']} properties are allowed"))
        extra = schema.get("additionalProperties", True)
        for name, item in value.items():
            if name in props:
                out.extend(_check(props[name], item, f"{at}/{name}"))
            elif extra is False:
                out.append((f"{at}/{name}", "unknown attribute"))
            elif isinstance(extra, dict):
                out.extend(_check(extra, item, f"{at}/{name}"))
    return out
