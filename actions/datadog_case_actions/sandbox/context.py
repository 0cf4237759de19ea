"""What a handler gets (``Ctx``), the handler registry, and the JSON:API renderers."""

from __future__ import annotations

import json
import re
import uuid
from dataclasses import dataclass, field
from typing import Any, Callable, Mapping

from .errors import bad_request, not_found
from .store import Store

__all__ = ["Ctx", "Result", "HANDLERS", "handler", "render_case", "render_cell", "render_project",
           "render_rule", "render_notification_rule", "render_window", "render_view", "render_link",
           "render_user", "included_users", "case_document", "author_of", "is_uuid", "user_ref", "STATUSES",
           "SANDBOX_NAMESPACE"]

#: the uuid5 namespace of ids the sandbox derives (user ids, watcher ids)
SANDBOX_NAMESPACE = uuid.UUID("5c1d0b7e-6a8f-4d33-9d8e-0c2a7a1e5b11")

#: deprecated status -> (status_name, status_group)
STATUSES = {
    "OPEN": ("Open", "SG_OPEN"),
    "IN_PROGRESS": ("In Progress", "SG_IN_PROGRESS"),
    "CLOSED": ("Closed", "SG_CLOSED"),
}

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")

#: (status, body or None)
Result = tuple[int, Any]

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
    now: str  # microsecond precision: created_at / modified_at set by API calls
    query: Mapping[str, str] = field(default_factory=dict)
    now_precise: str = ""  # nanosecond precision: archived_at, closed_at, comment created_at (live-api-notes 7.5)

    # -- lookups --------------------------------------------------------------------------------

    def case(self, ident: str) -> dict[str, Any]:
        """A case by UUID or key (``OPS-12``); 404 ``case not found`` otherwise."""
        found = self.store.get("cases", ident) or self.store.find_by_key("cases", ident.upper())
        if found is None:
            raise not_found("case not found")
        return found

    def project(self, ident: str, *, title: str = "project not found") -> dict[str, Any]:
        """A project by UUID or key; 404 otherwise."""
        found = self.store.get("projects", ident)
        if found is None:
            upper = ident.upper()
            found = next((p for p in self.store.list("projects") if p["key"] == upper), None)
        if found is None:
            raise not_found(title)
        return found

    def owned(self, kind: str, ident: str, project: dict[str, Any], noun: str) -> dict[str, Any]:
        found = self.store.get(kind, ident)
        if found is None or found.get("project_id") != project["id"]:
            raise not_found(f"{noun} not found")
        return found

    def body_uuid(self, name: str, pointer: str) -> str:
        """The body input *name*, which must be a UUID: bare 400 otherwise (live: a non-UUID ``assignee_id``)."""
        value = str(self.inputs.get(name) or "")
        if not is_uuid(value):
            raise bad_request(pointer=pointer)
        return value

    # -- writes ---------------------------------------------------------------------------------

    def touch(self, doc: dict[str, Any], *, by: bool = True) -> None:
        """Stamp a change: ``modified_at`` (and ``modified_by`` unless *by* is false)."""
        doc["modified_at"] = self.now
        if by:
            doc["modified_by"] = self.user

    def save_case(self, case: dict[str, Any], *, touch: bool = True, by: bool = True) -> None:
        if touch:
            self.touch(case, by=by)
        self.store.put("cases", case, parent=case["project_id"], key=case["key"])

    def remember_user(self) -> None:
        """Keep the caller, so the documents that name them can show them in ``included``."""
        if self.store.get("users", self.user) is None:
            handle = f"user-{self.user[:8]}@sandbox.local"
            self.store.put("users", {"id": self.user, "name": "Sandbox User", "email": handle, "handle": handle,
                                     "active": True})

    def new_id(self) -> str:
        return str(uuid.uuid4())

    def text(self, name: str, *, pointer: str | None = None, required: bool = True) -> str | None:
        """A string input that must not be blank (blank: the live bare 400, as for an empty title or comment)."""
        value = self.inputs.get(name)
        if value is None:
            if required:
                raise bad_request(f"{pointer or name}: missing required attribute", pointer=pointer)
            return None
        if not str(value).strip():
            raise bad_request(pointer=pointer)
        return str(value)


def is_uuid(value: str) -> bool:
    """The hyphenated 8-4-4-4-12 hex form, the only one the live API was seen taking."""
    return bool(_UUID.match(value))


# -- renderers -------------------------------------------------------------------------------------

def user_ref(user_id: str) -> dict[str, Any]:
    return {"data": {"id": user_id, "type": "user"}}


def _user_attributes(store: Store, user_id: str) -> dict[str, Any]:
    """A known caller, or the empty profile live answers for a user it has no data for."""
    found = store.get("users", user_id)
    if found is None:
        return {"active": False, "email": "", "handle": "", "name": ""}
    return {"active": found["active"], "email": found["email"], "handle": found["handle"], "name": found["name"]}


def render_user(store: Store, user_id: str) -> dict[str, Any]:
    return {"id": user_id, "type": "user", "attributes": _user_attributes(store, user_id)}


def author_of(store: Store, user_id: str) -> dict[str, Any]:
    """A timeline author as live writes it: upper-case ``ID``, then name, email, handle, active."""
    user = _user_attributes(store, user_id)
    return {"type": "USER", "content": {"ID": user_id, "name": user["name"], "email": user["email"],
                                        "handle": user["handle"], "active": user["active"]}}


#: case fields shown only when they have a value (live omits the key rather than sending null)
_CASE_OPTIONAL = ("archived_at", "closed_at", "modified_at", "jira_issue", "service_now_ticket", "due_date",
                  "security_resolved_reason", "linear_issue")


def render_case(case: dict[str, Any], *, author: dict[str, Any] | None = None) -> dict[str, Any]:
    """A case resource with the live fields; *author* is ``created_by_author`` (search results only)."""
    attributes: dict[str, Any] = {
        "attributes": case.get("attributes", {}),
        "comment_count": case.get("comment_count", 0),
        "created_at": case["created_at"],
        "creation_source": case.get("creation_source", "MANUAL"),
        "custom_attributes": case.get("custom_attributes", {}),
        "description": case.get("description", ""),
        "insights": case.get("insights", []),
        "internal_id": case["id"],
        "key": case["key"],
        "merge_status": case.get("merge_status", "NOT_MERGED"),
        "priority": case["priority"],
        "public_id": str(case.get("public_id", case.get("number", 0))),
        "status": case["status"],
        "status_group": case["status_group"],
        "status_name": case["status_name"],
        "title": case["title"],
        "type": case.get("type", "STANDARD"),
        "type_id": case["type_id"],
    }
    for optional in _CASE_OPTIONAL:
        if case.get(optional) is not None:
            attributes[optional] = case[optional]
    if author is not None:
        attributes["created_by_author"] = author
    relationships: dict[str, Any] = {}
    if case.get("assignee_id"):
        relationships["assignee"] = user_ref(case["assignee_id"])
    relationships["created_by"] = user_ref(case["created_by"])
    if case.get("incidents"):
        relationships["incidents"] = {"data": [{"id": i, "type": "incidents"} for i in case["incidents"]]}
    if case.get("modified_by"):
        relationships["modified_by"] = user_ref(case["modified_by"])
    if case.get("notebook_id"):
        relationships["notebook"] = {"data": {"id": case["notebook_id"], "type": "notebook"}}
    relationships["project"] = {"data": {"id": case["project_id"], "type": "project"}}
    return {"id": case["id"], "type": "case", "attributes": dict(sorted(attributes.items())),
            "relationships": relationships}


def included_users(store: Store, cases: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The users the cases name (creator, then assignee), each once: the live ``included``."""
    seen: dict[str, None] = {}
    for case in cases:
        for user_id in (case.get("created_by"), case.get("assignee_id")):
            if user_id:
                seen.setdefault(user_id, None)
    return [render_user(store, user_id) for user_id in seen]


def case_document(store: Store, case: dict[str, Any]) -> dict[str, Any]:
    """``{"data": case, "included": [users]}``: what every case-returning call answers."""
    return {"data": render_case(case), "included": included_users(store, [case])}


def render_cell(cell: dict[str, Any], store: Store) -> dict[str, Any]:
    """A comment as a live timeline cell: ``cell_content`` and the same content as a JSON string."""
    content = {"message": cell["message"]}
    attributes: dict[str, Any] = {
        "author": author_of(store, cell["author_id"]),
        "cell_content": content,
        "content": json.dumps(content, separators=(",", ":"), ensure_ascii=False),
        "created_at": cell["created_at"],
        "type": "COMMENT",
    }
    if cell.get("modified_at") and cell["modified_at"] != cell["created_at"]:
        attributes["modified_at"] = cell["modified_at"]
    return {"id": cell["id"], "type": "timeline_cell", "attributes": attributes}


def render_project(project: dict[str, Any]) -> dict[str, Any]:
    """A project as live answers it: key, name, restricted, the settings set; no ``relationships``."""
    attributes: dict[str, Any] = {
        "key": project["key"],
        "name": project["name"],
        "restricted": project.get("restricted", False),
        "settings": project.get("settings", {}),
    }
    # documented, never seen live: shown only once a caller has set them
    for optional in ("columns_config", "enabled_custom_case_types"):
        if project.get(optional):
            attributes[optional] = project[optional]
    return {"id": project["id"], "type": "project", "attributes": dict(sorted(attributes.items()))}


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
