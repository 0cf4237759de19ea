"""The sandbox's case query language, sorting, counting and aggregation.

A query is space-separated terms, all of which must match (AND):

    status:open            status:in_progress / closed (also the status name: status:"In Progress")
    priority:P1            P1..P5 or NOT_DEFINED
    project:OPS            a project key or id
    assignee:<user id>     assignee:none for unassigned cases
    archived:true          archived:false
    key:OPS-12  id:<uuid>  title:word  description:word  type_id:<uuid>  status_group:SG_OPEN
    service:web-store      any other field matches the case's ``attributes`` (or custom attributes)
    database               free text: matches title, description or key, case-insensitively
    "disk full"            double quotes keep a phrase (or a value: title:"disk full") together
    -status:closed         a leading minus negates a term
    status:open,closed     a comma lists alternatives for one field

``AND`` between terms is accepted and ignored; ``OR`` is refused (400).
"""

from __future__ import annotations

import shlex
from collections import Counter
from typing import Any, Callable, Iterable

from .errors import ApiFailure

__all__ = ["parse_filter", "matches", "sort_cases", "group_values", "count_groups", "aggregate_groups",
           "STATUS_RANK", "PRIORITY_RANK"]

STATUS_RANK = {"OPEN": 0, "IN_PROGRESS": 1, "CLOSED": 2}
PRIORITY_RANK = {"P1": 1, "P2": 2, "P3": 3, "P4": 4, "P5": 5, "NOT_DEFINED": 6}
STATUS_NAMES = {"OPEN": "Open", "IN_PROGRESS": "In Progress", "CLOSED": "Closed"}

Predicate = Callable[[dict[str, Any]], bool]


def _project_key(case: dict[str, Any]) -> str:
    return str(case.get("key", "")).rsplit("-", 1)[0]


def _ci(a: Any, b: str) -> bool:
    return str(a).lower() == b.lower()


def _contains(text: Any, value: str) -> bool:
    return value.lower() in str(text or "").lower()


def _attribute_values(case: dict[str, Any], name: str) -> list[str]:
    values = list(case.get("attributes", {}).get(name, []))
    custom = case.get("custom_attributes", {}).get(name)
    if custom is not None:
        raw = custom.get("value")
        values.extend(raw if isinstance(raw, list) else [raw])
    return [v if isinstance(v, str) else (str(int(v)) if isinstance(v, float) and v.is_integer() else str(v))
            for v in values]


def _status_of(value: str, parameter: str) -> str:
    norm = value.strip().lower().replace(" ", "_").replace("-", "_")
    norm = norm[3:] if norm.startswith("sg_") else norm
    if norm.upper() in STATUS_RANK:
        return norm.upper()
    raise ApiFailure(400, f"{parameter}: unknown status {value!r} (use open, in_progress or closed)",
                     parameter=parameter)


def _term(field: str | None, value: str, parameter: str) -> Predicate:
    if field is not None and "," in value and value.strip(","):
        options = [_term(field, v, parameter) for v in value.split(",") if v]
        return lambda c: any(p(c) for p in options)
    if field is None:
        return lambda c: any(_contains(c.get(k), value) for k in ("title", "description", "key"))
    if field == "status":
        status = _status_of(value, parameter)
        # a case type's own statuses (Pending Approval, Completed...) count in their group
        return lambda c: c.get("status") == status or c.get("status_group") == "SG_" + status
    if field == "status_group":
        status = _status_of(value, parameter)
        return lambda c: c.get("status") == status
    if field == "status_name":
        return lambda c: _ci(c.get("status_name", ""), value)
    if field == "priority":
        wanted = value.upper()
        if wanted not in PRIORITY_RANK:
            raise ApiFailure(400, f"{parameter}: unknown priority {value!r} (use P1..P5 or NOT_DEFINED)",
                             parameter=parameter)
        return lambda c: c.get("priority") == wanted
    if field in ("project", "project_id"):
        return lambda c: c.get("project_id") == value or _project_key(c) == value.upper()
    if field in ("assignee", "assignee_id"):
        if value.lower() in ("none", "unassigned", "null"):
            return lambda c: not c.get("assignee_id")
        if value == "*":
            return lambda c: bool(c.get("assignee_id"))
        return lambda c: c.get("assignee_id") == value
    if field == "archived":
        if value.lower() not in ("true", "false"):
            raise ApiFailure(400, f"{parameter}: archived takes true or false, got {value!r}", parameter=parameter)
        archived = value.lower() == "true"
        return lambda c: bool(c.get("archived_at")) is archived
    if field == "key":
        return lambda c: _ci(c.get("key", ""), value)
    if field == "id":
        return lambda c: c.get("id") == value
    if field in ("title", "description"):
        return lambda c: _contains(c.get(field), value)
    if field == "type":
        return lambda c: _ci(c.get("type", ""), value)
    if field == "type_id":
        return lambda c: c.get("type_id") == value
    if field in ("created_by", "creator", "author"):
        return lambda c: c.get("created_by") == value
    name = field[len("attributes."):] if field.startswith("attributes.") else field
    name = name[len("custom_attributes."):] if name.startswith("custom_attributes.") else name
    if value == "*":
        return lambda c: bool(_attribute_values(c, name))
    return lambda c: any(_ci(v, value) for v in _attribute_values(c, name))


def parse_filter(text: str | None, parameter: str = "filter") -> list[Predicate]:
    """The predicates of a query; raises ``ApiFailure`` (400) on a malformed query."""
    if not text or not text.strip():
        return []
    lexer = shlex.shlex(text, posix=True)
    lexer.whitespace_split = True
    lexer.quotes = '"'
    lexer.escape = ""
    lexer.commenters = ""
    try:
        tokens = list(lexer)
    except ValueError:
        raise ApiFailure(400, f"{parameter}: unbalanced double quote in query {text!r}", parameter=parameter) from None
    predicates: list[Predicate] = []
    for token in tokens:
        if token == "AND":
            continue
        if token in ("OR", "NOT"):
            raise ApiFailure(400, f"{parameter}: {token} is not supported by the sandbox's query language "
                                  "(terms are ANDed; use -field:value to negate)", parameter=parameter)
        negate = token.startswith("-") and len(token) > 1
        body = token[1:] if negate else token
        field, sep, value = body.partition(":")
        if sep and field and value and field.replace("_", "").replace(".", "").isalnum():
            predicate = _term(field.lower(), value, parameter)
        else:
            predicate = _term(None, body, parameter)
        predicates.append((lambda p: (lambda c: not p(c)))(predicate) if negate else predicate)
    return predicates


def matches(case: dict[str, Any], predicates: Iterable[Predicate]) -> bool:
    return all(p(case) for p in predicates)


def _sortable_instant(text: str) -> str:
    """An RFC 3339 UTC stamp, fraction padded to 9 digits: live trims trailing zeros, which breaks string order."""
    base, _, rest = text.rstrip("Z").partition(".")
    return f"{base}.{rest.ljust(9, '0')}"


def sort_cases(cases: list[dict[str, Any]], field: str, ascending: bool) -> list[dict[str, Any]]:
    """Stable sort; *cases* come in creation order, which breaks ties."""
    indexed = list(enumerate(cases))

    def key(item: tuple[int, dict[str, Any]]) -> tuple[Any, int]:
        position, case = item
        if field == "priority":
            return PRIORITY_RANK.get(str(case.get("priority")), 9), position
        if field == "status":
            return STATUS_RANK.get(str(case.get("status")), 9), position
        return _sortable_instant(case.get("created_at", "")), position

    indexed.sort(key=key, reverse=not ascending)
    return [c for _, c in indexed]


def group_values(case: dict[str, Any], field: str) -> list[str]:
    """The value(s) of *field* for grouping (a case may count in several groups of a multi-value attribute)."""
    if field == "status":
        return [case["status"]]
    if field == "status_name":
        return [case["status_name"]]
    if field == "status_group":
        return [case["status_group"]]
    if field == "priority":
        return [case["priority"]]
    if field == "project":
        return [_project_key(case)]
    if field == "project_id":
        return [case["project_id"]]
    if field in ("assignee", "assignee_id"):
        return [case["assignee_id"]] if case.get("assignee_id") else []
    if field == "archived":
        return ["true" if case.get("archived_at") else "false"]
    if field in ("type", "type_id", "created_by"):
        return [str(case.get(field))] if case.get(field) else []
    name = field[len("attributes."):] if field.startswith("attributes.") else field
    return _attribute_values(case, name)


def _ranked(counter: Counter[str], limit: int | None) -> list[tuple[str, int]]:
    ranked = sorted(counter.items(), key=lambda kv: (-kv[1], kv[0]))
    return ranked if limit is None else ranked[:limit]


def count_groups(cases: list[dict[str, Any]], fields: list[str], limit: int | None) -> list[dict[str, Any]]:
    groups = []
    for field in fields:
        counter: Counter[str] = Counter()
        for case in cases:
            for value in set(group_values(case, field)):
                counter[value] += 1
        groups.append({"group": field,
                       "group_values": [{"count": n, "value": v} for v, n in _ranked(counter, limit)]})
    return groups


def aggregate_groups(cases: list[dict[str, Any]], fields: list[str], limit: int | None) -> list[dict[str, Any]]:
    if not fields:
        return []
    counter: Counter[str] = Counter()
    for case in cases:
        combos = [[]]  # type: list[list[str]]
        for field in fields:
            values = sorted(set(group_values(case, field)))
            combos = [combo + [v] for combo in combos for v in values]
        for combo in combos:
            counter[",".join(combo)] += 1
    return [{"group": g, "value": [n]} for g, n in _ranked(counter, limit)]
