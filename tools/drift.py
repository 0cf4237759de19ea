"""Read where the live API has moved past the seed reference (``api-drift.md``) and apply it to the digest.

The drift file is prose, but its facts come in a few fixed shapes, and each is
read by one pattern here (a shape that no longer matches is an error, never a
silent skip):

* "N operations that the seeds mark "in preview" are no longer marked unstable …: A, B, C."
  -> ``preview`` false for those operations (the count must match the list);
* "**Insight types** (…): N values. … (…): V1, V2, …." -> every enum that is a
  proper subset of those values is widened to all of them;
* "**Automation rules** (…): … `action.type`: A, B; `trigger.type`: C, D. The
  seeds have the lower-case forms." -> every enum that equals one of those
  lists in lower case is renamed to the upper-case values, and the digest
  records the old spelling as an alias (``renamed``) so that callers may still
  use it (see ``tools/generate.py``);
* "- Op `a.b`: at most N." -> ``maximum`` on that request field;
  "- A / B `x`: N to M items" -> ``minItems``/``maxItems``.

Every change is listed in the digest's ``drift`` member, so a reader (and
``tests/test_drift.py``) can see exactly what differs from the seed reference.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

# The nine type/attribute operations: the newer client (2.58.0 and later, see case-types-and-attributes.md,
# "Preview (unstable) status") marks none of them unstable; their docs pages still say preview for two.
NEWER_SPEC_STABLE = ("UpdateCaseType", "UpdateCustomAttributeConfig")


def _section(text: str, heading: str) -> str:
    match = re.search(rf"^## {re.escape(heading)}\n(.*?)(?=^## |\Z)", text, re.S | re.M)
    if not match:
        raise ValueError(f"api-drift: no section {heading!r}")
    return match.group(1)


def _words(text: str) -> list[str]:
    return [w.strip() for w in re.split(r",\s*", text.strip().rstrip(".")) if w.strip()]


def parse_drift(text: str) -> dict[str, Any]:
    """The drift facts of ``api-drift.md`` as data."""
    preview = _section(text, "Preview status")
    stated = re.search(r"(\d+) operations that the seeds mark", preview)
    names = re.search(r"\):\s*([A-Za-z, ]+)\.", preview)
    if not stated or not names:
        raise ValueError("api-drift: the preview list is not in its expected shape")
    no_longer_preview = _words(names.group(1))
    if len(no_longer_preview) != int(stated.group(1)):
        raise ValueError(f"api-drift: {stated.group(1)} operations announced, {len(no_longer_preview)} listed")

    enums = _section(text, "Enum values")
    insight = re.search(r"\*\*Insight types\*\*.*?(\d+) values\..*\):\s*([A-Z_, ]+)\.\n", enums)
    if not insight:
        raise ValueError("api-drift: the insight types are not in their expected shape")
    insight_types = _words(insight.group(2))
    if len(insight_types) != int(insight.group(1)):
        raise ValueError(f"api-drift: {insight.group(1)} insight types announced, {len(insight_types)} listed")
    rules = re.search(r"\*\*Automation rules\*\*(.*?)\n- ", enums, re.S)
    if not rules or "lower-case forms" not in rules.group(1):
        raise ValueError("api-drift: the automation-rule spellings are not in their expected shape")
    upper_case = {field: _words(values) for field, values in re.findall(r"`([\w.]+)`: ([A-Z_, ]+)[;.]", rules.group(1))}

    bounds = _section(text, "Bounds")
    maximum = [(op, field, int(n)) for op, field, n in re.findall(r"^- (\w+) `([\w.]+)`: at most (\d+)", bounds, re.M)]
    items = [(ops, field, int(lo), int(hi))
             for ops, field, lo, hi in re.findall(r"^- ([\w /]+?) `(\w+)`: (\d+) to (\d+) items", bounds, re.M)]
    return {
        "no_longer_preview": no_longer_preview,
        "insight_types": insight_types,
        "upper_case": upper_case,
        "maximum": maximum,
        "items": [(op.strip(), field, lo, hi) for ops, field, lo, hi in items for op in ops.split("/")],
    }


def _schemas(op: dict[str, Any]) -> Iterator[tuple[str, str, dict[str, Any]]]:
    """``(where, path, schema)`` for every schema node of an operation (request, responses, parameters)."""
    def walk(schema: Any, path: str) -> Iterator[tuple[str, dict[str, Any]]]:
        if not isinstance(schema, dict):
            return
        yield path, schema
        for name, sub in schema.get("properties", {}).items():
            yield from walk(sub, f"{path}.{name}" if path else name)
        if isinstance(schema.get("items"), dict):
            yield from walk(schema["items"], f"{path}[]")
        if isinstance(schema.get("additionalProperties"), dict):
            yield from walk(schema["additionalProperties"], f"{path}{{}}")
        for i, option in enumerate(schema.get("oneOf", []), 1):
            yield from walk(option, f"{path}|{i}")

    if op.get("request") and op["request"].get("schema"):
        for path, schema in walk(op["request"]["schema"], ""):
            yield "request", path, schema
    for status, response in op["responses"].items():
        for path, schema in walk(response.get("schema"), ""):
            yield status, path, schema
    for kind in ("path_params", "query_params"):
        for param in op[kind]:
            yield kind, param["name"], param["schema"]


def apply_drift(operations: dict[str, dict[str, Any]], drift: dict[str, Any]) -> list[dict[str, Any]]:
    """Change *operations* (digest entries) in place as *drift* says; returns the list of changes."""
    changes: list[dict[str, Any]] = []
    unknown = [op for op in drift["no_longer_preview"] if op not in operations]
    if unknown:
        raise ValueError(f"api-drift names operations the digest lacks: {unknown}")
    def change(op_id: str, where: str, path: str, before: Any, after: Any) -> None:
        changes.append({"operation": op_id, "where": where, "path": path, "before": before, "after": after})

    for op_id in [*drift["no_longer_preview"], *NEWER_SPEC_STABLE]:
        if operations[op_id]["preview"]:
            operations[op_id]["preview"] = False
            change(op_id, "operation", "preview", True, False)
    insight = drift["insight_types"]
    renames = {tuple(v.lower() for v in values): values for values in drift["upper_case"].values()}
    for op_id, op in operations.items():
        for where, path, schema in _schemas(op):
            enum = schema.get("enum")
            if not enum:
                continue
            if len(enum) > 1 and set(enum) < set(insight):
                schema["enum"] = list(insight)
                change(op_id, where, path, enum, list(insight))
            elif tuple(enum) in renames and list(enum) != renames[tuple(enum)]:
                new = renames[tuple(enum)]
                schema["enum"] = list(new)
                schema["x-aliases"] = dict(zip(enum, new, strict=True))  # old -> current; accepted from callers
                change(op_id, where, path, enum, list(new))
    for op_id, field, bound in drift["maximum"]:
        changes += _bound(operations, op_id, field, {"maximum": bound})
    for op_id, field, low, high in drift["items"]:
        changes += _bound(operations, op_id, field, {"minItems": low, "maxItems": high})
    return changes


def _bound(operations: dict[str, dict[str, Any]], op_id: str, field: str,
           keywords: dict[str, int]) -> list[dict[str, Any]]:
    """Set *keywords* on the request field named *field* (its last dotted names) of *op_id*."""
    found = [(path, schema) for where, path, schema in _schemas(operations[op_id])
             if where == "request" and (path == f"data.attributes.{field}" or path.endswith(f".{field}"))]
    if len(found) != 1:
        raise ValueError(f"api-drift: {op_id} `{field}` names {len(found)} request fields")
    path, schema = found[0]
    before = {k: schema.get(k) for k in keywords}
    schema.update(keywords)
    return [{"operation": op_id, "where": "request", "path": path, "before": before, "after": keywords}]
