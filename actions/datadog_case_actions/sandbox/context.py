"""What a handler gets (``Ctx``), the handler registry, and the JSON:API renderers."""

from __future__ import annotations

import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import ApiFailure
from .store import Store

__all__ = ["Ctx", "Result", "Later", "HANDLERS", "handler", "render_case", "render_cell", "render_project",
           "render_rule", "render_notification_rule", "render_window", "render_view", "render_link",
           "user_ref", "STATUSES", "SANDBOX_NAMESPACE"]

#: the uuid5 namespace of ids the sandbox derives (user ids, watcher ids)
SANDBOX_NAMESPACE = uuid.UUID("5c1d0b7e-6a8f-4d33-9d8e-0c2a7a1e5b11")

#: deprecated status -> (status_name, status_group)
STATUSES = {
    "OPEN": ("Open", "SG_OPEN"),
    "IN_PROGRESS": ("In Progress", "SG_IN_PROGRESS"),
    "CLOSED": ("Closed", "SG_CLOSED"),
}

#: (status, body or None); the body may be a ``Later``
Result = tuple[int, Any]


class Later:
    """A body computed after the sandbox's lock is released, from read-only snapshots only.

    Why: a heavy read (an aggregation over every case) must not keep every
    other client waiting.  *compute* may touch nothing a writer changes: the
    store's snapshots are replaced on a write, never modified.
    """

    __slots__ = ("compute", "operation")

    def __init__(self, compute: Callable[[], Any], operation: str) -> None:
        self.compute = compute
        self.operation = operation  # whose error shape an ``ApiFailure`` it raises takes

HANDLERS: dict[str, Callable[["Ctx"], Result]] = {}


def handler(operation_id: str) -> Callable[[Callable[["Ctx"], Result]], Callable[["Ctx"], Result]]:
    def register(fn: Callable[["Ctx"], Result]) -> Callable[["Ctx"], Result]:
        HANDLERS[operation_id] = fn
        return fn

    return register


@dataclass
class Ctx:
    store: Store
    operation: str
    inputs: dict[str, Any]
    user: str
    now: str
    query: Mapping[str, str] = field(default_factory=dict)

    # -- lookups --------------------------------------------------------------------------------

    def case(self, ident: str, *, pointer: str | None = None) -> dict[str, Any]:
        """A case by UUID or key (``OPS-12``); 404 otherwise."""
        found = self.store.get("cases", ident) or self.store.find_by_key("cases", ident.upper())
        if found is None:
            raise ApiFailure(404, f"case {ident} not found", pointer=pointer)
        return found

    def project(self, ident: str, *, status: int = 404, pointer: str | None = None) -> dict[str, Any]:
        """A project by UUID or key; 404 otherwise."""
        found = self.store.get("projects", ident)
        if found is None:
            upper = ident.upper()
            found = next((p for p in self.store.list("projects") if p["key"] == upper), None)
        if found is None:
            raise ApiFailure(status, f"project {ident} not found", pointer=pointer)
        return found

    def owned(self, kind: str, ident: str, project: dict[str, Any], noun: str) -> dict[str, Any]:
        found = self.store.get(kind, ident)
        if found is None or found.get("project_id") != project["id"]:
            raise ApiFailure(404, f"{noun} {ident} not found in project {project['key']}")
        return found

    # -- writes ---------------------------------------------------------------------------------

    def touch(self, doc: dict[str, Any]) -> None:
        doc["modified_at"] = self.now
        doc["modified_by"] = self.user

    def save_case(self, case: dict[str, Any], *, touch: bool = True) -> None:
        if touch:
            self.touch(case)
        self.store.put("cases", case, parent=case["project_id"], key=case["key"])

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def text(self, name: str, *, pointer: str | None = None, required: bool = True) -> str | None:
        """A string input that must not be blank."""
        value = self.inputs.get(name)
        if value is None:
            if required:
                raise ApiFailure(400, f"{pointer or name}: missing required attribute", pointer=pointer)
            return None
        if not str(value).strip():
            raise ApiFailure(400, f"{pointer or name}: must not be empty", pointer=pointer)
        return str(value)


# -- renderers -------------------------------------------------------------------------------------

def user_ref(user_id: str) -> dict[str, Any]:
    return {"data": {"id": user_id, "type": "user"}}


def render_case(case: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "attributes": case.get("attributes", {}),
        "created_at": case["created_at"],
        "custom_attributes": case.get("custom_attributes", {}),
        "description": case.get("description", ""),
        "key": case["key"],
        "modified_at": case["modified_at"],
        "priority": case["priority"],
        "status": case["status"],
        "status_group": case["status_group"],
        "status_name": case["status_name"],
        "title": case["title"],
        "type": case.get("type", "STANDARD"),
        "type_id": case["type_id"],
    }
    for optional in ("archived_at", "closed_at", "jira_issue", "service_now_ticket", "due_date",
                     "security_resolved_reason", "linear_issue"):
        if case.get(optional) is not None:
            attributes[optional] = case[optional]
    if case.get("insights"):
        attributes["insights"] = case["insights"]
    relationships: dict[str, Any] = {
        "created_by": user_ref(case["created_by"]),
        "modified_by": user_ref(case["modified_by"]),
        "project": {"data": {"id": case["project_id"], "type": "project"}},
    }
    if case.get("assignee_id"):
        relationships["assignee"] = user_ref(case["assignee_id"])
    if case.get("incidents"):
        relationships["incidents"] = {"data": [{"id": i, "type": "incidents"} for i in case["incidents"]]}
    if case.get("notebook_id"):
        relationships["notebook"] = {"data": {"id": case["notebook_id"], "type": "notebook"}}
    return {"id": case["id"], "type": "case", "attributes": attributes, "relationships": relationships}


def _author(user_id: str) -> dict[str, Any]:
    handle = f"user-{user_id[:8]}@sandbox.local"
    return {"type": "USER", "content": {"id": user_id, "handle": handle, "email": handle, "name": "Sandbox User"}}


def render_cell(cell: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "author": _author(cell["author_id"]),
        "cell_content": {"message": cell["message"]},
        "created_at": cell["created_at"],
        "modified_at": cell["modified_at"],
        "type": "COMMENT",
    }
    if cell.get("deleted_at"):
        attributes["deleted_at"] = cell["deleted_at"]
    return {"id": cell["id"], "type": "timeline_cell", "attributes": attributes}


def render_project(project: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": project["id"],
        "type": "project",
        "attributes": {
            "columns_config": project.get("columns_config", {"columns": []}),
            "enabled_custom_case_types": project.get("enabled_custom_case_types", []),
            "key": project["key"],
            "name": project["name"],
            "restricted": project.get("restricted", False),
            "settings": project.get("settings", {}),
        },
        "relationships": {
            "member_team": {"data": [{"id": t, "type": "team_links"} for t in project.get("member_teams", [])]},
            "member_user": {"data": [{"id": u, "type": "user"} for u in project.get("member_users", [])]},
        },
    }


def render_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule["id"],
        "type": "rule",
        "attributes": {
            "action": rule["action"],
            "created_at": rule["created_at"],
            "modified_at": rule["modified_at"],
            "name": rule["name"],
            "state": rule["state"],
            "trigger": rule["trigger"],
        },
        "relationships": {"created_by": user_ref(rule["created_by"]), "modified_by": user_ref(rule["modified_by"])},
    }


def render_notification_rule(rule: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": rule["id"],
        "type": "notification_rule",
        "attributes": {
            "is_enabled": rule["is_enabled"],
            "query": rule.get("query", ""),
            "recipients": rule.get("recipients", []),
            "triggers": rule.get("triggers", []),
        },
    }


def render_window(window: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": window["id"],
        "type": "maintenance_window",
        "attributes": {
            "created_by": window["created_by"],
            "end_at": window["end_at"],
            "name": window["name"],
            "query": window["query"],
            "start_at": window["start_at"],
            "updated_by": window["updated_by"],
        },
    }


def render_view(view: dict[str, Any]) -> dict[str, Any]:
    attributes: dict[str, Any] = {
        "created_at": view["created_at"],
        "modified_at": view["modified_at"],
        "name": view["name"],
        "query": view["query"],
    }
    if view.get("np_rule_id") is not None:
        attributes["np_rule_id"] = view["np_rule_id"]
    return {
        "id": view["id"],
        "type": "view",
        "attributes": attributes,
        "relationships": {
            "created_by": user_ref(view["created_by"]),
            "modified_by": user_ref(view["modified_by"]),
            "project": {"data": {"id": view["project_id"], "type": "project"}},
        },
    }


def render_link(link: dict[str, Any]) -> dict[str, Any]:
    return {
        "id": link["id"],
        "type": "link",
        "attributes": {k: link[k] for k in ("child_entity_id", "child_entity_type", "parent_entity_id",
                                            "parent_entity_type", "relationship")},
    }
