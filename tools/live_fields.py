"""What the live API returns beyond the reference, added to output schemas as optional members.

One table per resource (keyed by its JSON:API ``type``), from
``../shared/reference/live-api-notes.md`` (sections 1.2, 1.4, 2, 4, 5.1, 7.4,
9).  ``tools/generate.py`` calls ``add_live_fields`` on every output schema:
each resource object found in it (an object whose ``type`` allows exactly that
one value and that has ``attributes``) gains the members below that the
reference does not already document; documents whose ``data`` is a case gain
``included``.  Nothing here is ever required, and a documented member is never
replaced.  Enum values seen live but missing from the reference are appended
and listed under ``x-live-values`` so that the conformance test can tell them
from the reference's own.

The other half of this module serves the drift's renamed spellings
(``x-aliases``, see ``tools/drift.py``): ``alias_inputs`` lets inputs take the
old spelling too and tells the request builder what to convert.
"""

from __future__ import annotations

import copy
from collections.abc import Iterator
from typing import Any

OBSERVED = "Observed in live responses (not in the API reference)"


def _live(schema: dict[str, Any], what: str) -> dict[str, Any]:
    return {**schema, "description": f"{OBSERVED}: {what}"}


_AUTHOR_CONTENT = {
    "ID": _live({"type": "string"}, "the user's UUID, spelt `ID` (the reference documents `id`)."),
    "active": _live({"type": "boolean"}, "whether the user is active."),
}
_USER = {
    "type": "object",
    "properties": {
        "id": {"type": "string", "description": "User UUID."},
        "type": {"type": "string", "enum": ["user"], "description": "JSON:API type."},
        "attributes": {
            "type": "object",
            "properties": {name: {"type": kind} for name, kind in
                           (("active", "boolean"), ("email", "string"), ("handle", "string"), ("name", "string"))},
        },
    },
}

#: resource type -> members of ``attributes`` seen live and not documented
ATTRIBUTES: dict[str, dict[str, dict[str, Any]]] = {
    "case": {
        "comment_count": _live({"type": "integer"}, "number of comments; 0 on a new case."),
        "creation_source": _live({"type": "string"}, "how the case was created: `MANUAL` for cases created "
                                 "through the API, `ERROR_TRACKING` for error-tracking cases."),
        "created_by_author": _live({
            "type": "object",
            "properties": {"type": {"type": "string"},
                           "content": {"type": "object", "properties": {
                               "ID": {"type": "string"}, "name": {"type": "string"}, "email": {"type": "string"},
                               "handle": {"type": "string"}, "active": {"type": "boolean"}}}},
        }, "the creator, in search results only."),
        "insights": _live({
            "type": "array",
            "items": {"type": "object", "properties": {"type": {"type": "string"}, "ref": {"type": "string"},
                                                       "resource_id": {"type": "string"}}},
        }, "the insights attached to the case; `[]` when none."),
        "internal_id": _live({"type": "string"}, "always equal to the case's `id`."),
        "merge_status": _live({"type": "string"}, "`NOT_MERGED` (the only value seen)."),
        "public_id": _live({"type": "string"}, "a numeric string from a counter shared by all projects, e.g. `99261`."),
        "status_group": _live({"type": "string"}, "`SG_OPEN`, `SG_IN_PROGRESS` or `SG_CLOSED`."),
        "status_name": _live({"type": "string"}, "the status's display name, e.g. `Open`."),
    },
    "timeline_cell": {
        "content": _live({"type": "string"}, "the cell content as a JSON-encoded string, e.g. "
                         "`{\"message\":\"Hello\"}`."),
    },
    "case_type": {
        "internal": _live({"type": "boolean"}, "true for Datadog's built-in types, false for created ones."),
        "statuses_config": _live({"type": "object"}, "the status options of each status group (`open`, "
                                 "`in_progress`, `closed`) and their defaults."),
    },
    "custom_attribute": {
        "case_type": _live({"type": "string"}, "`TUNKNOWN` on every config seen."),
    },
}

#: resource type -> enum values of ``attributes`` members seen live and missing from the reference
VALUES: dict[str, dict[str, list[str]]] = {
    "case": {"type": ["ERROR_TRACKING_ISSUE", "TUNKNOWN"]},
}

#: resource type -> top-level members of a document whose ``data`` holds that resource
DOCUMENT: dict[str, dict[str, dict[str, Any]]] = {
    "case": {
        "included": _live({"type": "array", "items": _USER},
                          "the users the case refers to (creator, assignee), once each."),
    },
}

#: resource type -> members of the document's ``meta`` (when the reference documents a ``meta``)
META: dict[str, dict[str, dict[str, Any]]] = {
    "case": {"total_cases": _live({"type": "integer"}, "the number of cases matching the search.")},
}


def _resource_type(schema: Any) -> str | None:
    if not isinstance(schema, dict) or schema.get("type") != "object":
        return None
    props = schema.get("properties", {})
    enum = props.get("type", {}).get("enum") or []
    return enum[0] if len(enum) == 1 and "attributes" in props else None


def _objects(schema: Any) -> Iterator[dict[str, Any]]:
    if not isinstance(schema, dict):
        return
    yield schema
    for sub in schema.get("properties", {}).values():
        yield from _objects(sub)
    for key in ("items", "additionalProperties"):
        yield from _objects(schema.get(key))
    for sub in schema.get("anyOf", []):
        yield from _objects(sub)


def _add(properties: dict[str, Any], extra: dict[str, dict[str, Any]]) -> None:
    for name, schema in extra.items():
        properties.setdefault(name, copy.deepcopy(schema))


def add_live_fields(output_schema: dict[str, Any]) -> None:
    """Add (in place) what live responses carry beyond the reference; see the module docstring."""
    for node in list(_objects(output_schema)):
        kind = _resource_type(node)
        if kind is None:
            continue
        attributes = node["properties"]["attributes"]
        attributes.setdefault("type", "object")
        _add(attributes.setdefault("properties", {}), ATTRIBUTES.get(kind, {}))
        for name, values in VALUES.get(kind, {}).items():
            member = attributes["properties"].get(name, {})
            missing = [v for v in values if "enum" in member and v not in member["enum"]]
            if missing:
                member["enum"] = [*member["enum"], *missing]
                member["x-live-values"] = missing
        if kind == "timeline_cell":
            author = attributes["properties"].get("author", {})
            for option in [author, *author.get("anyOf", [])]:
                content = option.get("properties", {}).get("content")
                if isinstance(content, dict) and content.get("type") == "object":
                    _add(content.setdefault("properties", {}), _AUTHOR_CONTENT)
    data = output_schema.get("properties", {}).get("data")
    kind = _resource_type(data) or _resource_type((data or {}).get("items"))
    if kind is not None:
        _add(output_schema["properties"], DOCUMENT.get(kind, {}))
        meta = output_schema["properties"].get("meta")
        if isinstance(meta, dict) and meta.get("type") == "object":
            _add(meta.setdefault("properties", {}), META.get(kind, {}))


def widen_aliases(schema: dict[str, Any]) -> list[tuple[list[str], dict[str, str]]]:
    """Append each ``x-aliases`` node's old spellings to its ``enum`` (in place); returns ``(steps, aliases)``.

    Steps lead from *schema* to the node: member names, and ``[]`` for array items.
    """
    found: list[tuple[list[str], dict[str, str]]] = []

    def visit(node: Any, steps: list[str]) -> None:
        if not isinstance(node, dict):
            return
        aliases = node.get("x-aliases")
        if aliases and "enum" in node:
            node["enum"] = [*node["enum"], *[old for old in aliases if old not in node["enum"]]]
            found.append((steps, dict(aliases)))
        for name, sub in node.get("properties", {}).items():
            visit(sub, [*steps, name])
        visit(node.get("items"), [*steps, "[]"])
        for sub in node.get("anyOf", []):
            visit(sub, steps)

    visit(schema, [])
    return found


def alias_inputs(properties: dict[str, Any]) -> dict[str, list[dict[str, Any]]]:
    """Widen every input property's aliased enums; returns the request binding's ``normalize`` member.

    ``{input name: [{"steps": [...], "aliases": {old: new}}]}``: where inside that
    input's value an old spelling is replaced by the current one before sending.
    """
    out: dict[str, list[dict[str, Any]]] = {}
    for name, schema in properties.items():
        for steps, aliases in widen_aliases(schema):
            out.setdefault(name, []).append({"steps": steps, "aliases": aliases})
    return out


def alias_notes(normalize: dict[str, list[dict[str, Any]]]) -> list[str]:
    """One manifest note per converted field, stating the choice."""
    notes = []
    for name, entries in normalize.items():
        for entry in entries:
            field = ".".join([name, *entry["steps"]]).replace(".[]", "[]")
            new = ", ".join(entry["aliases"].values())
            notes.append(f"`{field}` is sent in the newer specification's upper-case spelling ({new}); the seed "
                         "reference's lower-case spelling is still accepted and converted before sending. Responses "
                         "may carry either spelling.")
    return notes
