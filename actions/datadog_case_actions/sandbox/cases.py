"""Handlers of the case endpoints (29 operations), answering with the fields and shapes of the live API."""

from __future__ import annotations

import uuid
from typing import Any

from .casetypes import (
    REMOVE_TITLE,
    UPDATE_TITLE,
    case_type,
    check_custom_value,
    custom_config,
    find_type,
    legacy_type,
    statuses_of,
)
from .context import (
    SANDBOX_NAMESPACE,
    STATUSES,
    Ctx,
    Result,
    author_of,
    case_document,
    handler,
    included_users,
    render_case,
    render_cell,
)
from .errors import ApiFailure, bad_request, generic_error, not_found
from .search import aggregate_groups, count_groups, matches, parse_filter, sort_cases

ATTR = "/data/attributes"
SEARCH_DEFAULT_PAGE_SIZE = 10
TIMELINE_DEFAULT_PAGE_SIZE = 10
MAX_PAGE_SIZE = 100
PUBLIC_ID_BASE = 10000


def _case_doc(ctx: Ctx) -> dict[str, Any]:
    return ctx.case(ctx.inputs["case_id"])


def _one(ctx: Ctx, case: dict[str, Any], status: int = 200) -> Result:
    return status, case_document(ctx.store, case)


def _status_from(statuses: dict[str, tuple[str, str]], status: str | None, status_name: str | None, *,
                 where: str = ATTR) -> str | None:
    """The status code meant by *status* / *status_name* among the case type's *statuses* (they must agree)."""
    by_name = None
    if status_name is not None:
        wanted = status_name.strip().lower()
        by_name = next((code for code, (name, _) in statuses.items() if name.lower() == wanted), None)
        if by_name is None:
            allowed = ", ".join(name for name, _ in statuses.values())
            raise generic_error(f"invalid status name {status_name}. Must be one of {allowed}",
                                pointer=f"{where}/status_name")
    if status is not None and status not in statuses:
        raise generic_error(f"invalid status {status}. Must be one of {', '.join(statuses)}",
                            pointer=f"{where}/status")
    if status is not None and by_name is not None and status != by_name:
        raise bad_request(f"{where}: status {status!r} and status_name {status_name!r} disagree",
                          pointer=f"{where}/status_name")
    return by_name or status


def _set_status(ctx: Ctx, case: dict[str, Any], status: str, statuses: dict[str, tuple[str, str]]) -> None:
    name, group = statuses.get(status) or STATUSES[status]
    was_closed = case.get("status_group") == "SG_CLOSED"
    case["status"], case["status_name"], case["status_group"] = status, name, group
    if group == "SG_CLOSED" and not was_closed:
        case["closed_at"] = ctx.now_precise
    elif group != "SG_CLOSED":
        case.pop("closed_at", None)


def _page_args(ctx: Ctx, size_name: str, number_name: str, default_size: int, first: int) -> tuple[int, int]:
    size = ctx.inputs.get(size_name, default_size)
    number = ctx.inputs.get(number_name, first)
    api_size = "page[size]"
    if not 1 <= size <= MAX_PAGE_SIZE:
        raise bad_request(f"{api_size}: must be between 1 and {MAX_PAGE_SIZE}, got {size}", parameter=api_size)
    if number < first:
        raise bad_request(f"page[number]: must be >= {first}, got {number}", parameter="page[number]")
    return size, number


def _configured(ctx: Ctx, case_type_id: str, key: str, title: str) -> dict[str, Any]:
    """The config of custom attribute *key* on the case's type; 404 with ``meta.key`` otherwise (as live)."""
    config = custom_config(ctx, case_type_id, key)
    if config is None:
        raise not_found(title, meta={"key": key})
    return config


# -- create, read, search --------------------------------------------------------------------------

@handler("CreateCase")
def create_case(ctx: Ctx) -> Result:
    project = ctx.project(ctx.body_uuid("project_id", "/data/relationships/project/data/id"))
    assignee = ctx.body_uuid("assignee_id", "/data/relationships/assignee/data/id") \
        if ctx.inputs.get("assignee_id") is not None else None
    type_id = ctx.body_uuid("type_id", f"{ATTR}/type_id")
    found_type = case_type(ctx, type_id)
    title = ctx.text("title", pointer=f"{ATTR}/title")
    statuses = statuses_of(found_type)
    status = _status_from(statuses, None, ctx.inputs.get("status_name")) or next(iter(statuses))
    custom = ctx.inputs.get("custom_attributes") or {}
    for name, value in custom.items():
        config = _configured(ctx, type_id, name, UPDATE_TITLE)
        check_custom_value(config, value, f"{ATTR}/custom_attributes/{name}")
    number = ctx.store.next_value(f"case_number:{project['id']}")
    case: dict[str, Any] = {
        "id": ctx.new_id(),
        "key": f"{project['key']}-{number}",
        "number": number,
        # one counter across projects, numeric string (live); offset so it never reads like the key's number
        "public_id": str(PUBLIC_ID_BASE + ctx.store.next_value("public_id")),
        "project_id": project["id"],
        "title": title,
        "description": ctx.inputs.get("description") or "",
        "priority": ctx.inputs.get("priority", "NOT_DEFINED"),
        "type": legacy_type(found_type),
        "type_id": type_id,
        "attributes": {},
        "custom_attributes": custom,
        "insights": [],
        "comment_count": 0,
        "creation_source": "MANUAL",
        "merge_status": "NOT_MERGED",
        "created_at": ctx.now,
        "created_by": ctx.user,
        "assignee_id": assignee,
    }
    _set_status(ctx, case, status, statuses)
    ctx.remember_user()
    ctx.save_case(case, touch=False)  # a fresh case has no modified_at / modified_by (live)
    return _one(ctx, case, 201)


@handler("GetCase")
def get_case(ctx: Ctx) -> Result:
    return _one(ctx, _case_doc(ctx))


def _filtered(ctx: Ctx, text: str | None, parameter: str) -> list[dict[str, Any]]:
    predicates = parse_filter(text, parameter)
    return [c for c in ctx.store.snapshot("cases") if matches(c, predicates)]


def _searched(ctx: Ctx, text: str | None, sort_field: str, ascending: bool) -> list[dict[str, Any]]:
    """Filtered and sorted cases, remembered per data version so paging through them stays linear."""
    memo = ctx.store.memo
    key = (ctx.store.version(), text, sort_field, ascending)
    found = memo.get(key)
    if found is None:
        found = sort_cases(_filtered(ctx, text, "filter"), sort_field, ascending)
        if len(memo) >= 8:
            memo.pop(next(iter(memo)))
        memo[key] = found
    return found


@handler("SearchCases")
def search_cases(ctx: Ctx) -> Result:
    size, number = _page_args(ctx, "page_size", "page_number", SEARCH_DEFAULT_PAGE_SIZE, 1)
    found = _searched(ctx, ctx.inputs.get("filter"), ctx.inputs.get("sort_field", "created_at"),
                      ctx.inputs.get("sort_asc", False))
    page = found[(number - 1) * size: number * size]
    pages = (len(found) + size - 1) // size
    # live: created_by_author on each result, total_cases in meta, the users of the whole page in included
    authors = {uid: author_of(ctx.store, uid) for uid in {c["created_by"] for c in page}}  # one lookup per user
    return 200, {"data": [render_case(c, author=authors[c["created_by"]]) for c in page],
                 "meta": {"total_cases": len(found), "page": {"current": number, "size": len(page), "total": pages}},
                 "included": included_users(ctx.store, page)}


@handler("CountCases")
def count_cases(ctx: Ctx) -> Result:
    cases = _filtered(ctx, ctx.inputs.get("query_filter"), "query_filter")
    fields = [f.strip() for f in (ctx.inputs.get("group_bys") or "").split(",") if f.strip()]
    limit = ctx.inputs.get("limit")
    if limit is not None and limit < 1:
        raise ApiFailure(400, f"limit: must be >= 1, got {limit}", parameter="limit")
    return 200, {"data": {"id": f"count-{uuid.uuid4().hex[:12]}", "type": "count",
                          "attributes": {"groups": count_groups(cases, fields, limit)}}}


@handler("AggregateCases")
def aggregate_cases(ctx: Ctx) -> Result:
    group_by = ctx.inputs["group_by"]
    limit = group_by["limit"]
    if limit < 1:
        raise ApiFailure(400, f"{ATTR}/group_by/limit: must be >= 1, got {limit}", pointer=f"{ATTR}/group_by/limit")
    cases = _filtered(ctx, ctx.inputs["query_filter"], "query_filter")
    fields = [f.strip() for f in group_by["groups"] if f.strip()]
    return 200, {"data": {"id": f"agg-{uuid.uuid4().hex[:12]}", "type": "aggregate",
                          "attributes": {"groups": aggregate_groups(cases, fields, int(limit)),
                                         "total": len(cases)}}}


# -- single-field updates --------------------------------------------------------------------------

@handler("UpdateCaseTitle")
def update_title(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["title"] = ctx.text("title", pointer=f"{ATTR}/title")
    ctx.save_case(case)
    return _one(ctx, case)


@handler("UpdateCaseDescription")
def update_description(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["description"] = ctx.inputs["description"]
    ctx.save_case(case)
    return _one(ctx, case)


@handler("UpdateStatus")
def update_status(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    statuses = statuses_of(find_type(ctx, case.get("type_id", "")))
    status = _status_from(statuses, ctx.inputs.get("status"), ctx.inputs.get("status_name"))
    if status is None:
        raise bad_request(f"{ATTR}/status_name: missing required attribute (give status_name or status)",
                          pointer=f"{ATTR}/status_name")
    _set_status(ctx, case, status, statuses)
    ctx.save_case(case)
    return _one(ctx, case)


@handler("UpdatePriority")
def update_priority(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["priority"] = ctx.inputs["priority"]
    ctx.save_case(case)
    return _one(ctx, case)


@handler("AssignCase")
def assign_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["assignee_id"] = ctx.body_uuid("assignee_id", f"{ATTR}/assignee_id")
    ctx.save_case(case)
    return _one(ctx, case)


@handler("UnassignCase")
def unassign_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    if case.get("assignee_id"):  # unassigning an unassigned case changes nothing, not even modified_at (live)
        case["assignee_id"] = None
        ctx.save_case(case)
    return _one(ctx, case)


@handler("ArchiveCase")
def archive_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    if not case.get("archived_at"):
        case["archived_at"] = ctx.now_precise  # the status is kept (live)
        ctx.save_case(case)
    return _one(ctx, case)


@handler("UnarchiveCase")
def unarchive_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    if case.pop("archived_at", None):
        ctx.save_case(case)
    return _one(ctx, case)


@handler("UpdateAttributes")
def update_attributes(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["attributes"] = ctx.inputs["attributes"]
    ctx.save_case(case)
    return _one(ctx, case)


@handler("UpdateCaseCustomAttribute")
def update_custom_attribute(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    key = ctx.inputs["custom_attribute_key"]
    config = _configured(ctx, case["type_id"], key, UPDATE_TITLE)
    value = {k: ctx.inputs[k] for k in ("type", "is_multi", "value")}
    check_custom_value(config, value, ATTR)
    case.setdefault("custom_attributes", {})[key] = value
    ctx.save_case(case, by=False)  # live: modified_at changes, modified_by is not set
    return _one(ctx, case)


@handler("DeleteCaseCustomAttribute")
def delete_custom_attribute(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    key = ctx.inputs["custom_attribute_key"]
    _configured(ctx, case["type_id"], key, REMOVE_TITLE)
    if case.setdefault("custom_attributes", {}).pop(key, None) is not None:
        ctx.save_case(case, by=False)
    return _one(ctx, case)  # 200 with the case; unchanged when the key was not set (live)


@handler("UpdateCaseDueDate")
def update_due_date(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["due_date"] = ctx.inputs["due_date"]  # None clears it
    ctx.save_case(case)
    return _one(ctx, case)


@handler("UpdateCaseResolvedReason")
def update_resolved_reason(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    case["security_resolved_reason"] = ctx.text("security_resolved_reason",
                                                pointer=f"{ATTR}/security_resolved_reason")
    ctx.save_case(case)
    return _one(ctx, case)


# -- comments and timeline -------------------------------------------------------------------------

def _count_comments(ctx: Ctx, case: dict[str, Any], delta: int) -> None:
    case["comment_count"] = max(0, int(case.get("comment_count", 0)) + delta)
    ctx.save_case(case, touch=False)


@handler("CommentCase")
def comment_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    cell = {
        "id": ctx.new_id(),
        "case_id": case["id"],
        "type": "COMMENT",
        "message": ctx.text("comment", pointer=f"{ATTR}/comment"),
        "author_id": ctx.user,
        "created_at": ctx.now_precise,
    }
    ctx.remember_user()
    ctx.store.put("cells", cell, parent=case["id"])
    _count_comments(ctx, case, +1)
    # live: 200 (not 201) and data is a list holding the new cell only
    return 200, {"data": [render_cell(cell, ctx.store)]}


def _cell(ctx: Ctx, case: dict[str, Any]) -> dict[str, Any]:
    cell_id = ctx.inputs["cell_id"]
    cell = ctx.store.get("cells", cell_id)
    if cell is None or cell["case_id"] != case["id"]:
        raise not_found("failed to get timeline cell: timeline cell not found")
    if cell.get("deleted_at"):
        raise not_found("timeline cell not found")
    return cell


@handler("UpdateCaseComment")
def update_comment(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    cell = _cell(ctx, case)
    cell["message"] = ctx.text("comment", pointer=f"{ATTR}/comment")
    cell["modified_at"] = ctx.now_precise
    ctx.store.put("cells", cell, parent=case["id"])
    return 200, None


@handler("DeleteCaseComment")
def delete_comment(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    cell = _cell(ctx, case)
    cell["deleted_at"] = ctx.now_precise
    ctx.store.put("cells", cell, parent=case["id"])
    _count_comments(ctx, case, -1)
    return 204, None


@handler("ListCaseTimeline")
def list_timeline(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    size, number = _page_args(ctx, "page_size", "page_number", TIMELINE_DEFAULT_PAGE_SIZE, 0)
    cells = [c for c in ctx.store.list("cells", parent=case["id"]) if not c.get("deleted_at")]
    if not ctx.inputs.get("sort_ascending", False):
        cells.reverse()
    page = cells[number * size: (number + 1) * size]
    return 200, {"data": [render_cell(c, ctx.store) for c in page]}


# -- watchers ------------------------------------------------------------------------------------

def _watcher_id(case_id: str, user: str) -> str:
    return str(uuid.uuid5(SANDBOX_NAMESPACE, f"watcher:{case_id}:{user}"))


@handler("ListCaseWatchers")
def list_watchers(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    return 200, {"data": [
        {"id": w["id"], "type": "watcher", "relationships": {"user": {"data": {"id": w["user_id"], "type": "user"}}}}
        for w in ctx.store.list("watchers", parent=case["id"])
    ]}


@handler("WatchCase")
def watch_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    user = ctx.inputs["user_uuid"]
    watcher_id = _watcher_id(case["id"], user)
    if ctx.store.get("watchers", watcher_id) is None:
        ctx.store.put("watchers", {"id": watcher_id, "case_id": case["id"], "user_id": user, "created_at": ctx.now},
                      parent=case["id"])
    return 201, None


@handler("UnwatchCase")
def unwatch_case(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    ctx.store.delete("watchers", _watcher_id(case["id"], ctx.inputs["user_uuid"]))
    return 204, None


# -- insights ------------------------------------------------------------------------------------

@handler("AddCaseInsights")
def add_insights(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    insights = case.setdefault("insights", [])
    known = {(i["type"], i["resource_id"]) for i in insights}
    for insight in ctx.inputs["insights"]:
        if (insight["type"], insight["resource_id"]) not in known:
            insights.append(dict(insight))
            known.add((insight["type"], insight["resource_id"]))
    ctx.save_case(case)
    return _one(ctx, case)


@handler("RemoveCaseInsights")
def remove_insights(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    gone = {(i["type"], i["resource_id"]) for i in ctx.inputs["insights"]}
    case["insights"] = [i for i in case.get("insights", []) if (i["type"], i["resource_id"]) not in gone]
    ctx.save_case(case)
    return _one(ctx, case)


# -- project move and bulk -------------------------------------------------------------------------

def move_case(ctx: Ctx, case: dict[str, Any], project: dict[str, Any]) -> None:
    if case["project_id"] == project["id"]:
        return
    number = ctx.store.next_value(f"case_number:{project['id']}")
    case["project_id"], case["number"], case["key"] = project["id"], number, f"{project['key']}-{number}"


@handler("MoveCaseToProject")
def move_to_project(ctx: Ctx) -> Result:
    case = _case_doc(ctx)
    project = ctx.project(ctx.inputs["project_id"])
    move_case(ctx, case, project)
    ctx.save_case(case)
    return _one(ctx, case)


_BULK_PAYLOAD = {"priority": "priority", "assign": "assignee_id", "update_project": "project_id"}


@handler("BulkUpdateCases")
def bulk_update(ctx: Ctx) -> Result:
    from .integrations import new_jira_issue, new_service_now_ticket

    action = ctx.inputs["action"]
    payload = ctx.inputs.get("payload") or {}
    ids = ctx.inputs["case_ids"]
    if not ids:
        raise ApiFailure(400, f"{ATTR}/case_ids: must name at least one case", pointer=f"{ATTR}/case_ids")
    where = f"{ATTR}/payload"
    needed = _BULK_PAYLOAD.get(action)
    if needed and not str(payload.get(needed, "")).strip():
        raise ApiFailure(400, f"{where}/{needed}: missing required attribute for the {action!r} action",
                         pointer=f"{where}/{needed}")
    if action == "priority" and payload["priority"] not in ("NOT_DEFINED", "P1", "P2", "P3", "P4", "P5"):
        raise ApiFailure(400, f"{where}/priority: {payload['priority']!r} is not one of: NOT_DEFINED, P1, P2, P3, "
                              "P4, P5", pointer=f"{where}/priority")
    status = None
    if action == "status":
        status = _status_from(statuses_of(None), payload.get("status"), payload.get("status_name"), where=where)
        if status is None:
            raise ApiFailure(400, f"{where}/status: missing required attribute for the 'status' action",
                             pointer=f"{where}/status")
    project = ctx.project(payload["project_id"]) if action == "update_project" else None
    cases = [ctx.case(i) for i in ids]  # every id must exist before anything changes
    seen: set[str] = set()
    for case in cases:
        if case["id"] in seen:
            continue
        seen.add(case["id"])
        if action == "priority":
            case["priority"] = payload["priority"]
        elif action == "status":
            _set_status(ctx, case, status, statuses_of(find_type(ctx, case.get("type_id", ""))))  # type: ignore[arg-type]
        elif action == "assign":
            case["assignee_id"] = payload["assignee_id"]
        elif action == "unassign":
            case["assignee_id"] = None
        elif action == "archive":
            if not case.get("archived_at"):
                case["archived_at"] = ctx.now
        elif action == "unarchive":
            case.pop("archived_at", None)
        elif action == "update_project":
            move_case(ctx, case, project)  # type: ignore[arg-type]
        elif action == "jira":
            case["jira_issue"] = case.get("jira_issue") or new_jira_issue(ctx)
        elif action == "servicenow":
            case["service_now_ticket"] = case.get("service_now_ticket") or new_service_now_ticket(
                payload.get("instance_name") or "sandbox")
        elif action == "linear":
            case["linear_issue"] = case.get("linear_issue") or {"status": "COMPLETED", "result": {}}
        ctx.save_case(case)
    return 200, None
