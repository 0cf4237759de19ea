"""Parse the Datadog Case Management API reference (markdown) into a digest.

The digest is the machine-readable form of the reference: for each of the 75
operations its method, path, scope, preview flag, parameters, request body and
response bodies as JSON Schema (draft 2020-12), the examples the reference
shows, and a flat list of every documented field.  Manifests are generated from
the digest (see ``tools/generate.py``) and the conformance test holds every
manifest to it, so the reference itself is only needed to refresh the digest::

    python tools/reference.py ../shared/seeds/003_8f27d15e2a148076.txt \
        ../shared/reference/case-types-and-attributes.md \
        --operations ../shared/operations.tsv --drift ../shared/reference/api-drift.md \
        -o tests/reference_digest.json

Two reference formats are read.  The seed reference (66 operations) renders
nested models as flat tables of ``Parent field | Field | Type | Description``
rows in depth-first order, where "Parent field" is only the *name* of the
parent; ``_build_tree`` rebuilds the tree from that (see its docstring for how
ambiguous parents are resolved).  ``case-types-and-attributes.md`` (the 9 case
type and custom attribute operations of the live API's "Case Management Type"
and "Case Management Attribute" pages) adds explicit ``Required`` and ``Enum
values`` columns; ``_column_rows`` turns its tables into the first format's rows.
Enumerations written only in prose ("Allowed values: `A`, `B`") become
``enum`` too, and their rows say ``enum_from_prose``.  Then the drift
(``tools/drift.py``) is applied.  Standard library only.
"""

from __future__ import annotations

import argparse
import copy
import csv
import hashlib
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:  # run as a script: make ``tools.drift`` importable
    sys.path.insert(0, str(ROOT))

REQUIRED_MARK = "[*required*]"
ENUM_RE = re.compile(r"Allowed enum values: `([^`]*)`")
# An enumeration written in prose: "Allowed values: `A`, `B` (a gloss), `C`." or "one of `A`, `B` or `C`".
# Only a run of back-quoted values counts, so "Must be one of the existing statuses" is not one.
PROSE_ENUM_RE = re.compile(
    r"(?:Allowed values|\bone of)\s*:?\s*((?:`[^`]+`(?:\s*\([^)]*\))?(?:,\s*|\s+(?:and|or)\s+|,\s*(?:and|or)\s+)?)+)")
SCOPE_RE = re.compile(r"require the `([a-z_]+)` authorization")
FENCE_JSON_RE = re.compile(r"```json\n(.*?)\n```", re.S)

SCALAR_TYPES: dict[str, dict[str, Any]] = {
    "string": {"type": "string"},
    "date-time": {"type": "string", "format": "date-time"},
    "date": {"type": "string", "format": "date"},
    "uuid": {"type": "string", "format": "uuid"},
    "boolean": {"type": "boolean"},
    "double": {"type": "number"},
    "number": {"type": "number"},
    "float": {"type": "number"},
    "int64": {"type": "integer", "format": "int64"},
    "int32": {"type": "integer", "format": "int32"},
    "integer": {"type": "integer"},
    "object": {"type": "object"},
    "enum": {"type": "string"},
}


@dataclass
class Node:
    """One row of a model table, with the rows nested below it."""

    name: str
    type: str = "object"
    required: bool = False
    description: str = ""
    children: list["Node"] = field(default_factory=list)
    additional: "Node | None" = None  # schema of additionalProperties values

    def child(self, name: str) -> "Node | None":
        return next((c for c in self.children if c.name == name), None)


def _cells(line: str) -> list[str]:
    return [c.strip() for c in line.strip().strip("|").split("|")]


def _tables(text: str) -> list[list[list[str]]]:
    """Every markdown table in *text* as rows of cells (header included)."""
    tables: list[list[list[str]]] = []
    current: list[list[str]] = []
    for line in text.splitlines():
        if line.startswith("|"):
            cells = _cells(line)
            if all(set(c) <= {"-", " ", ":"} for c in cells):
                continue  # separator row
            current.append(cells)
        elif current:
            tables.append(current)
            current = []
    if current:
        tables.append(current)
    return tables


def _split_name(raw: str) -> tuple[str, bool]:
    required = REQUIRED_MARK in raw
    return raw.replace(REQUIRED_MARK, "").strip(), required


def _build_tree(rows: list[list[str]]) -> Node:
    """Rebuild the nested model from a ``Parent field | Field | Type | Description`` table.

    Rows come depth-first and fields are listed alphabetically within a parent,
    but a row names its parent only by name, and names repeat (``data`` is both
    the top-level document member and the member of every relationship).  The
    parent of a row is therefore the deepest node *on the path to the previous
    row* with that name that can still take the row: first one whose last child
    sorts before the new field (the alphabetical order holds), else one that has
    no child of that name yet.  ``additionalProperties`` rows describe the value
    schema of the map declared by the previous row.
    """
    root = Node(name="", type="object")
    stack: list[Node] = [root]
    for cells in rows:
        if len(cells) == 3:  # rows with an empty description lose their last cell
            cells = [*cells, ""]
        parent_name, raw_field, type_, description = cells[:4]
        name, required = _split_name(raw_field)
        node = Node(name=name, type=type_.strip(), required=required, description=description)
        if parent_name == "additionalProperties":
            owner = stack[-1]
            owner.additional = node
            stack = [*stack, node]
            continue
        if parent_name == "":
            parent_index = 0
        else:
            # a map whose value schema was already given, or a scalar, takes no members
            candidates = [
                i for i in range(len(stack) - 1, 0, -1)
                if stack[i].name == parent_name and stack[i].additional is None and _can_nest(stack[i].type)
            ]
            ordered = [i for i in candidates if not stack[i].children or stack[i].children[-1].name < name]
            fresh = [i for i in candidates if stack[i].child(name) is None]
            pick = ordered or fresh or candidates
            if not pick:
                raise ValueError(f"cannot place row {cells!r}: no parent named {parent_name!r} on {[n.name for n in stack]}")
            parent_index = pick[0]
        parent = stack[parent_index]
        parent.children.append(node)
        stack = [*stack[: parent_index + 1], node]
    return root


def _can_nest(type_: str) -> bool:
    t = type_.replace(" ", "")
    return t in {"object", "[object]", "[<oneOf>]"} or "<oneOf>" in t


def _enum_values(description: str) -> list[str] | None:
    match = ENUM_RE.search(description)
    if match:
        return [v.strip() for v in match.group(1).split(",") if v.strip()]
    return _prose_enum_values(description)


def _prose_enum_values(description: str) -> list[str] | None:
    """The values of an enumeration the reference writes only in prose, or None."""
    match = PROSE_ENUM_RE.search(description)
    if not match:
        return None
    return re.findall(r"`([^`]+)`", re.sub(r"\([^)]*\)", "", match.group(1))) or None


def _clean_description(description: str) -> str:
    text = ENUM_RE.sub("", description).strip()
    text = re.sub(r"\s+", " ", text)
    return text


def to_schema(node: Node) -> dict[str, Any]:
    """JSON Schema (2020-12) for one node of the rebuilt model tree."""
    type_ = node.type.replace(" ", "")
    nullable = type_.endswith(",nullable")  # "date-time, nullable" in the second format
    type_ = type_.removesuffix(",nullable")
    schema: dict[str, Any]
    if type_.startswith("[") and type_.endswith("]"):
        inner = Node(name=node.name, type=type_[1:-1], children=node.children, additional=node.additional,
                     description="")
        schema = {"type": "array", "items": to_schema(inner)}
    elif "<oneOf>" in type_:
        options = [to_schema(child) for child in node.children]
        schema = {"oneOf": options}
        for child, option in zip(node.children, options):
            option.setdefault("title", child.name)
    elif type_ == "object" or node.children or node.additional is not None:
        schema = {"type": "object"}
        if node.children:
            schema["properties"] = {c.name: to_schema(c) for c in node.children}
            required = [c.name for c in node.children if c.required]
            if required:
                schema["required"] = required
        if node.additional is not None:
            schema["additionalProperties"] = to_schema(node.additional)
    elif type_ in SCALAR_TYPES:
        schema = dict(SCALAR_TYPES[type_])
    else:
        raise ValueError(f"unknown type {node.type!r} for field {node.name!r}")
    if nullable:
        schema["type"] = [schema["type"], "null"]
    enum = _enum_values(node.description)
    if enum is not None:
        schema["enum"] = enum
    description = _clean_description(node.description)
    if description:
        schema["description"] = description
    return schema


def flat_fields(schema: dict[str, Any], prefix: str = "") -> list[dict[str, Any]]:
    """Every documented field of *schema* as ``{path, type, required, enum}`` rows.

    Paths use ``.`` between members, ``[]`` for array items, ``{}`` for map values
    and ``|N`` for the N-th oneOf option.
    """
    rows: list[dict[str, Any]] = []

    def visit(s: dict[str, Any], path: str, required: bool) -> None:
        if path:
            row = {"path": path, "type": schema_type(s), "required": required, "enum": s.get("enum")}
            if s.get("enum") and _prose_enum_values(s.get("description", "")):
                row["enum_from_prose"] = True  # listed by tests/test_drift.py
            rows.append(row)
        if "oneOf" in s:
            for i, option in enumerate(s["oneOf"], 1):
                visit(option, f"{path}|{i}", False)
        if s.get("type") == "array" and isinstance(s.get("items"), dict):
            item = s["items"]
            if item.get("properties") or item.get("oneOf") or isinstance(item.get("additionalProperties"), dict):
                visit_children(item, f"{path}[]")
        else:
            visit_children(s, path)

    def visit_children(s: dict[str, Any], path: str) -> None:
        req = set(s.get("required", []))
        for name, sub in s.get("properties", {}).items():
            visit(sub, f"{path}.{name}" if path else name, name in req)
        if isinstance(s.get("additionalProperties"), dict):
            visit(s["additionalProperties"], f"{path}{{}}", False)
        if "oneOf" in s and path == prefix:
            pass

    visit(schema, prefix, True)
    return rows


def schema_type(s: dict[str, Any]) -> str:
    """A short type label: ``string``, ``integer``, ``array<string>``, ``oneOf``..."""
    if "oneOf" in s:
        return "oneOf"
    t = s.get("type", "any")
    if isinstance(t, list):  # nullable: "string/date-time|null"
        return "|".join(schema_type({**s, "type": x}) if x != "null" else "null" for x in t)
    if t == "array":
        return f"array<{schema_type(s.get('items', {}))}>"
    if "format" in s and t == "string":
        return f"string/{s['format']}"
    return str(t)


def _json_blocks(text: str) -> list[Any]:
    out = []
    for block in FENCE_JSON_RE.findall(text):
        try:
            out.append(json.loads(block))
        except json.JSONDecodeError as exc:  # recorded, never silently dropped
            out.append({"__malformed_example__": block, "__error__": str(exc)})
    return out


def _model_and_example(section: str) -> tuple[dict[str, Any] | None, str, Any]:
    """Schema, description and example of one ``Model``/``Example`` tab pair."""
    model_match = re.search(r'\{% tab title="Model" %\}(.*?)\{% /tab %\}', section, re.S)
    example_match = re.search(r'\{% tab title="Example" %\}(.*?)\{% /tab %\}', section, re.S)
    schema = None
    description = ""
    if model_match:
        body = model_match.group(1)
        description = next((ln.strip() for ln in body.splitlines() if ln.strip() and not ln.startswith("|")), "")
        tables = _tables(body)
        if tables:
            rows = tables[0]
            header, rows = rows[0], rows[1:]
            if header[0] != "Parent field":  # top-level only: Field | Type | Description
                rows = [["", *r] for r in rows]
            schema = to_schema(_build_tree(rows))
            if description:
                schema["description"] = description
    example = None
    if example_match:
        blocks = _json_blocks(example_match.group(1))
        example = blocks[0] if blocks else None
    return schema, description, example


def _params(section: str, heading: str) -> list[dict[str, Any]]:
    match = re.search(rf"#### {heading}\n(.*?)(?=\n###|\Z)", section, re.S)
    if not match:
        return []
    tables = _tables(match.group(1))
    out = []
    for cells in tables[0][1:] if tables else []:
        name, required = _split_name(cells[0])
        type_ = cells[1]
        description = cells[2] if len(cells) > 2 else ""
        schema = to_schema(Node(name=name, type=type_, description=description))
        out.append({"name": name, "required": required, "schema": schema})
    return out


def parse_operation(title: str, section: str) -> dict[str, Any]:
    endpoint = re.search(r"\| app\.datadoghq\.com \| (GET|POST|PUT|PATCH|DELETE) https://api\.datadoghq\.com(\S+)", section)
    if not endpoint:
        raise ValueError(f"{title}: no endpoint row for app.datadoghq.com")
    overview = re.search(r"### Overview\n(.*?)(?=\n### )", section, re.S)
    overview_text = overview.group(1) if overview else ""
    scope = SCOPE_RE.search(overview_text)
    summary = "\n".join(
        ln for ln in overview_text.strip().splitlines() if ln.strip() and "authorization [scope]" not in ln
    ).strip()
    request = None
    req_match = re.search(r"### Request\n(.*?)(?=\n### Response)", section, re.S)
    if req_match:
        body = req_match.group(1)
        schema, _, example = _model_and_example(body)
        head = re.search(r"#### Body Data \((required|optional)\)\n\n([^\n{]*)", body)
        request = {
            "required": bool(head and head.group(1) == "required"),
            "description": head.group(2).strip() if head else "",
            "schema": schema,
            "example": example,
        }
    responses: dict[str, Any] = {}
    resp_match = re.search(r"### Response\n(.*?)(?=\n### Code Example|\Z)", section, re.S)
    if resp_match:
        chunks = re.split(r'\{% tab title="(\d{3})" %\}', resp_match.group(1))
        for status, chunk in zip(chunks[1::2], chunks[2::2]):
            status_text = chunk.strip().splitlines()[0].strip() if chunk.strip() else ""
            schema, description, example = _model_and_example(chunk)
            responses[status] = {"description": status_text, "schema": schema, "example": example}
    return {
        "title": title,
        "method": endpoint.group(1),
        "path": endpoint.group(2),
        "preview": "This endpoint is in preview" in section.split("### Overview")[0],
        "scope": scope.group(1) if scope else None,
        "summary": summary,
        "path_params": _params(section, "Path Parameters"),
        "query_params": _params(section, "Query Strings"),
        "request": request,
        "responses": responses,
    }


def parse_reference(text: str) -> dict[str, dict[str, Any]]:
    """Every ``## Title`` section of the reference, parsed, keyed by title."""
    parts = re.split(r"^## (.+?)\{% #[^%]*%\}\s*$", text, flags=re.M)
    return {title.strip(): parse_operation(title.strip(), body) for title, body in zip(parts[1::2], parts[2::2])}


# The second format (case-types-and-attributes.md): each "## Title{% #anchor %}" section opens with
# "`METHOD /path` — operationId `Op` — stable|**preview** — OAuth scope …", model tables carry explicit
# "Required" and "Enum values" columns, and a response may say "Same table as Op's 201." instead of a table.
OP_LINE_RE = re.compile(
    r"^`(GET|POST|PUT|PATCH|DELETE) (\S+)` — operationId `(\w+)` — (\*\*preview\*\*|stable) — "
    r"OAuth scope(?:: not documented| `([a-z_]+)`)", re.M)
SAME_TABLE_RE = re.compile(r"Same table as (\w+)(?:'s (\d{3}))?")
# "#### CaseTypeResourceAttributes (…)" tables, which rows elsewhere name in their description only
SHARED_SCHEMA_RE = re.compile(r"^#### (\w+)[^\n]*\n\n(\|.*?)(?=\n\n)", re.S | re.M)
# A live error body quoted after a status, inline (`{...}`) or in a json fence.
LIVE_ERROR_RE = re.compile(
    r"\b([45]\d\d)\b(?:(?!\b[45]\d\d\b).){0,200}?(?:```json\n|`)(\{\"errors\".*?\})(?:\n```|`)", re.S)
ERROR_MODEL: dict[str, Any] = {
    "type": "object",
    "properties": {"errors": {"type": "array", "items": {"type": "string"}, "description": "List of error messages."}},
    "required": ["errors"],
    "description": "API error response.",
}


def _column_rows(table: list[list[str]], shared: dict[str, list[list[str]]] | None = None) -> list[list[str]]:
    """A ``Parent field | Field | Type | Required | Enum values | Description`` table as first-format rows.

    An object row without member rows whose description opens with the name of a *shared* schema
    ("CaseTypeResourceAttributes (`name` required inside).") gets that schema's rows as its members.
    """
    header, rows = table[0], table[1:]
    at = {name: i for i, name in enumerate(header)}
    out: list[list[str]] = []
    for index, cells in enumerate(rows):
        cells = cells + [""] * (len(header) - len(cells))
        required = cells[at["Required"]].replace("*", "").strip().startswith("yes")
        enum = re.findall(r"`([^`]+)`", cells[at["Enum values"]])
        description = cells[at["Description"]] + (f" Allowed enum values: `{','.join(enum)}`" if enum else "")
        field_name = cells[at["Field"]].strip("`")
        name = field_name + (f" {REQUIRED_MARK}" if required else "")
        out.append([cells[at["Parent field"]].strip("`"), name, cells[at["Type"]], description])
        named = re.match(r"(\w+)", cells[at["Description"]])
        has_members = index + 1 < len(rows) and rows[index + 1][at["Parent field"]].strip("`") == field_name
        if shared and named and named.group(1) in shared and not has_members and cells[at["Type"]] == "object":
            out += [[field_name, *row[1:]] for row in _column_rows(shared[named.group(1)])]
    return out


def _first_example(text: str) -> Any:
    blocks = _json_blocks(text)
    if blocks:
        return blocks[0]
    inline = re.search(r"Response example\b.{0,300}?\):\s*`(\{[^`]*\})`", text, re.S)
    return json.loads(inline.group(1)) if inline else None


def parse_column_operation(title: str, section: str,
                           shared: dict[str, list[list[str]]] | None = None) -> dict[str, Any]:
    """One operation of the second format, in the digest's shape (``same_as`` left to resolve)."""
    head = OP_LINE_RE.search(section)
    if not head:
        raise ValueError(f"{title}: no '`METHOD /path` — operationId …' line")
    overview = re.search(r"### Overview\n\n(.*?)(?=\n### |\n---|\Z)", section, re.S)
    path_params = []
    arguments = re.search(r"### Arguments\n(.*?)(?=\n### )", section, re.S)
    for cells in (_tables(arguments.group(1))[0][1:] if arguments else []):
        name, required = _split_name(cells[0])
        name = name.strip("`")
        path_params.append({"name": name, "required": required,
                            "schema": to_schema(Node(name=name, type=cells[1], description=cells[2]))})
    request = None
    req = re.search(r"### Request\n(.*?)(?=\n### Response)", section, re.S)
    body_head = re.search(r"Body \((required|optional)\): (\w+)\.", req.group(1)) if req else None
    if req and body_head:
        table = _tables(req.group(1))[0]
        request = {"required": body_head.group(1) == "required", "description": body_head.group(2),
                   "schema": to_schema(_build_tree(_column_rows(table, shared))),
                   "example": _first_example(req.group(1))}
    responses: dict[str, Any] = {}
    resp = re.search(r"### Response\n(.*?)(?=\n---|\Z)", section, re.S)
    for heading, chunk in re.findall(r"^#### ([^\n]+)\n(.*?)(?=^#### |\Z)", resp.group(1) if resp else "", re.S | re.M):
        status_line = re.match(r"(\d{3}) ([^—]+?)(?: — \w+)?\s*$", heading)
        if status_line:
            tables = _tables(chunk)
            same = SAME_TABLE_RE.search(chunk)
            schema: Any = to_schema(_build_tree(_column_rows(tables[0], shared))) if tables else None
            if schema is None and same:
                schema = {"same_as": [same.group(1), same.group(2) or status_line.group(1)]}
            responses[status_line.group(1)] = {"description": status_line.group(2).strip(), "schema": schema,
                                               "example": _first_example(chunk)}
        elif heading.strip() == "Errors":
            live = {status: json.loads(body) for status, body in LIVE_ERROR_RE.findall(chunk)}
            for cells in _tables(chunk)[0][1:]:
                status = cells[0]
                responses[status] = {"description": cells[1], "schema": copy.deepcopy(ERROR_MODEL),
                                     "example": live.get(status, {"errors": [cells[1]]})}
    return {
        "title": title,
        "method": head.group(1),
        "path": head.group(2),
        "preview": head.group(4) != "stable",
        "scope": head.group(5),
        "summary": " ".join(overview.group(1).split()) if overview else "",
        "path_params": path_params,
        "query_params": [],
        "request": request,
        "responses": responses,
        "operation_id_documented": head.group(3),
    }


def parse_column_reference(text: str) -> dict[str, dict[str, Any]]:
    """Every operation section of a second-format reference, keyed by title, "Same table as" resolved."""
    parts = re.split(r"^## (.+?)\{% #[^%]*%\}\s*$", text, flags=re.M)
    shared = {name: _tables(table)[0] for name, table in SHARED_SCHEMA_RE.findall(parts[0])}
    by_title = {title.strip(): parse_column_operation(title.strip(), body, shared)
                for title, body in zip(parts[1::2], parts[2::2], strict=True)}
    by_id = {op["operation_id_documented"]: op for op in by_title.values()}
    for op in by_title.values():
        for response in op["responses"].values():
            schema = response["schema"]
            if isinstance(schema, dict) and "same_as" in schema:
                other, other_status = schema["same_as"]
                response["schema"] = copy.deepcopy(by_id[other]["responses"][other_status]["schema"])
    for op in by_title.values():
        del op["operation_id_documented"]
    return by_title


def parse_any_reference(text: str) -> dict[str, dict[str, Any]]:
    """Either format, told apart by the second format's operation lines."""
    return parse_column_reference(text) if OP_LINE_RE.search(text) else parse_reference(text)


def build_digest(references: list[Path], operations_tsv: Path, drift_file: Path | None = None) -> dict[str, Any]:
    """The digest of every operation that *operations_tsv* lists, from *references*, with the drift applied."""
    by_title: dict[str, dict[str, Any]] = {}
    sources = []
    for reference in references:
        text = reference.read_text(encoding="utf-8")
        parsed = parse_any_reference(text)
        clash = set(parsed) & set(by_title)
        if clash:
            raise ValueError(f"{reference.name}: operations already in another reference: {sorted(clash)}")
        by_title.update(parsed)
        sources.append({"file": reference.name, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                        "operations": len(parsed)})
    with operations_tsv.open(encoding="utf-8") as fh:
        listed = list(csv.DictReader(fh, delimiter="\t"))
    operations: dict[str, Any] = {}
    for row in listed:
        op = by_title.get(row["title"])
        if op is None:
            raise ValueError(f"operation {row['operation_id']} ({row['title']!r}) is not in the reference")
        checks = {
            "method": (op["method"], row["method"]),
            "path": (op["path"], row["path"]),
            "preview": (op["preview"], row["stability"] == "preview"),
            "scope": (op["scope"], None if row["oauth_scope"] == "-" else row["oauth_scope"]),
        }
        for what, (ours, theirs) in checks.items():
            if ours != theirs:
                raise ValueError(f"{row['operation_id']}: {what} is {ours!r} in the reference, {theirs!r} in the list")
        operations[row["operation_id"]] = {"operation_id": row["operation_id"], **op}
    unlisted = sorted(set(by_title) - {r["title"] for r in listed})
    if unlisted:
        raise ValueError(f"reference sections not in the operation list: {unlisted}")
    digest: dict[str, Any] = {
        "generated_by": "python tools/reference.py REFERENCE... --operations OPERATIONS_TSV --drift API_DRIFT "
                        "-o tests/reference_digest.json",
        "source": sources,
    }
    if drift_file is not None:
        from tools.drift import apply_drift, parse_drift

        text = drift_file.read_text(encoding="utf-8")
        changes = apply_drift(operations, parse_drift(text))
        digest["drift"] = {"file": drift_file.name, "sha256": hashlib.sha256(text.encode()).hexdigest(),
                           "changes": changes}
    for op in operations.values():
        op["fields"] = {
            "request": flat_fields(op["request"]["schema"]) if op["request"] and op["request"]["schema"] else [],
            "responses": {
                status: flat_fields(r["schema"]) for status, r in op["responses"].items() if r["schema"]
            },
        }
    digest["operations"] = operations
    return digest


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("reference", type=Path, nargs="+", help="API reference files (markdown, either format)")
    parser.add_argument("--operations", type=Path, required=True, help="operations.tsv listing every operation")
    parser.add_argument("--drift", type=Path, help="api-drift.md: where the live API has moved past the references")
    parser.add_argument("-o", "--output", type=Path, default=Path("tests/reference_digest.json"))
    args = parser.parse_args(argv)
    digest = build_digest(args.reference, args.operations, args.drift)
    args.output.write_text(json.dumps(digest, indent=1, sort_keys=False) + "\n", encoding="utf-8")
    print(f"wrote {args.output}: {len(digest['operations'])} operations", file=sys.stderr)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
