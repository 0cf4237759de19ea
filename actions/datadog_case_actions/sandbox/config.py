"""Handlers of projects, favorites, notification and automation rules, maintenance windows, views and links."""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any

from .context import (
    Ctx,
    Result,
    handler,
    render_link,
    render_notification_rule,
    render_project,
    render_rule,
    render_view,
    render_window,
)
from .errors import ApiFailure, not_found

ATTR = "/data/attributes"

_DEFAULT_SETTINGS: dict[str, Any] = {
    "auto_close_inactive_cases": {"enabled": False, "max_inactive_time_in_secs": 2592000},
    "auto_transition_assigned_cases": {"auto_transition_assigned_cases_on_self_assigned": False},
    "integration_incident": {"enabled": False, "field_mappings": []},
    "integration_jira": {"enabled": False, "auto_creation": {"enabled": False}, "sync": {"enabled": False}},
    "integration_monitor": {"enabled": False, "auto_resolve_enabled": False},
    "integration_on_call": {"enabled": False, "auto_assign_on_call": False, "escalation_queries": []},
    "integration_service_now": {"enabled": False, "auto_creation": {"enabled": False}},
    "notification": {  # the only block a new project shows (as live projects do)
        "destinations": [],
        "enabled": False,
        "notify_on_case_assignment": False,
        "notify_on_case_closed": False,
        "notify_on_case_comment": False,
        "notify_on_case_comment_mention": False,
        "notify_on_case_priority_change": False,
        "notify_on_case_status_change": False,
        "notify_on_case_unassignment": False,
    },
}


def _merge(base: Any, patch: Any) -> Any:
    """PATCH semantics: objects merge key by key, anything else replaces."""
    if isinstance(base, dict) and isinstance(patch, dict):
        out = dict(base)
        for key, value in patch.items():
            out[key] = _merge(base.get(key), value)
        return out
    return patch


def _copy(value: Any) -> Any:
    return _merge({}, value) if isinstance(value, dict) else value


def _merge_settings(current: dict[str, Any], patch: dict[str, Any]) -> dict[str, Any]:
    """Settings PATCH: a block not shown yet starts from its defaults, so setting ``enabled`` shows the whole block."""
    out = dict(current)
    for block, value in patch.items():
        out[block] = _merge(current.get(block, _copy(_DEFAULT_SETTINGS.get(block, {}))), value)
    return out


# -- projects --------------------------------------------------------------------------------------

@handler("CreateProject")
def create_project(ctx: Ctx) -> Result:
    key = ctx.text("key", pointer=f"{ATTR}/key").strip()  # type: ignore[union-attr]
    name = ctx.text("name", pointer=f"{ATTR}/name")
    if not re.fullmatch(r"[A-Za-z][A-Za-z0-9]{0,9}", key):
        raise ApiFailure(400, f"{ATTR}/key: {key!r} is not a valid project key (1 to 10 letters or digits, "
                              "starting with a letter)", pointer=f"{ATTR}/key")
    key = key.upper()
    if key == "CASE":
        raise ApiFailure(400, f"{ATTR}/key: the project key cannot be \"CASE\"", pointer=f"{ATTR}/key")
    if any(p["key"] == key for p in ctx.store.list("projects")):
        raise ApiFailure(409, f"a project with key {key} already exists", pointer=f"{ATTR}/key")
    project = {
        "id": ctx.new_id(),
        "key": key,
        "name": name,
        "enabled_custom_case_types": ctx.inputs.get("enabled_custom_case_types", []),
        "team_uuid": ctx.inputs.get("team_uuid"),
        "member_teams": [ctx.inputs["team_uuid"]] if ctx.inputs.get("team_uuid") else [],
        "member_users": [ctx.user],
        "restricted": False,
        "settings": {"notification": _copy(_DEFAULT_SETTINGS["notification"])},
        "created_at": ctx.now,
        "created_by": ctx.user,
        "modified_at": ctx.now,
        "modified_by": ctx.user,
    }
    ctx.store.put("projects", project)
    return 201, {"data": render_project(project)}


@handler("GetProjects")
def get_projects(ctx: Ctx) -> Result:
    return 200, {"data": [render_project(p) for p in ctx.store.list("projects")]}


@handler("GetProject")
def get_project(ctx: Ctx) -> Result:
    return 200, {"data": render_project(ctx.project(ctx.inputs["project_id"]))}


@handler("UpdateProject")
def update_project(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"], title="failed to get project: project not found")
    if "name" in ctx.inputs:
        project["name"] = ctx.text("name", pointer=f"{ATTR}/name")
    for name in ("enabled_custom_case_types", "team_uuid"):
        if name in ctx.inputs:
            project[name] = ctx.inputs[name]
    if ctx.inputs.get("team_uuid"):
        project["member_teams"] = [ctx.inputs["team_uuid"]]
    if "settings" in ctx.inputs:
        project["settings"] = _merge_settings(project.get("settings", {}), ctx.inputs["settings"])
    if "columns_config" in ctx.inputs:
        project["columns_config"] = _merge(project.get("columns_config", {}), ctx.inputs["columns_config"])
    ctx.touch(project)
    ctx.store.put("projects", project)
    return 200, {"data": render_project(project)}


@handler("DeleteProject")
def delete_project(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    ctx.store.delete("projects", project["id"])
    for kind in ("rules", "notification_rules", "views"):
        ctx.store.delete_children(kind, project["id"])
    for favorite in ctx.store.list("favorites"):
        if favorite["project_id"] == project["id"]:
            ctx.store.delete("favorites", favorite["id"])
    return 204, None


# -- favorites -------------------------------------------------------------------------------------

@handler("ListUserCaseProjectFavorites")
def list_favorites(ctx: Ctx) -> Result:
    return 200, {"data": [{"id": f["project_id"], "type": "project_favorite"}
                          for f in ctx.store.list("favorites", parent=ctx.user)]}


@handler("FavoriteCaseProject")
def favorite_project(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    favorite_id = f"{ctx.user}:{project['id']}"
    if ctx.store.get("favorites", favorite_id) is None:
        ctx.store.put("favorites", {"id": favorite_id, "project_id": project["id"], "user_id": ctx.user,
                                    "created_at": ctx.now}, parent=ctx.user)
    return 204, None


@handler("UnfavoriteCaseProject")
def unfavorite_project(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    ctx.store.delete("favorites", f"{ctx.user}:{project['id']}")
    return 204, None


# -- notification rules ----------------------------------------------------------------------------

def _notification_fields(ctx: Ctx, rule: dict[str, Any]) -> None:
    for name in ("is_enabled", "query", "recipients", "triggers"):
        if name in ctx.inputs:
            rule[name] = ctx.inputs[name]
    for index, trigger in enumerate(rule.get("triggers", [])):
        if not trigger.get("type"):
            raise ApiFailure(400, f"{ATTR}/triggers/{index}/type: missing required attribute",
                             pointer=f"{ATTR}/triggers/{index}/type")
    for index, recipient in enumerate(rule.get("recipients", [])):
        if not recipient.get("type"):
            raise ApiFailure(400, f"{ATTR}/recipients/{index}/type: missing required attribute",
                             pointer=f"{ATTR}/recipients/{index}/type")


@handler("GetProjectNotificationRules")
def list_notification_rules(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    return 200, {"data": [render_notification_rule(r)
                          for r in ctx.store.list("notification_rules", parent=project["id"])]}


@handler("CreateProjectNotificationRule")
def create_notification_rule(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    rule: dict[str, Any] = {"id": ctx.new_id(), "project_id": project["id"], "is_enabled": True, "query": "",
                            "created_at": ctx.now, "created_by": ctx.user}
    _notification_fields(ctx, rule)
    ctx.touch(rule)
    ctx.store.put("notification_rules", rule, parent=project["id"])
    return 201, {"data": render_notification_rule(rule)}


@handler("UpdateProjectNotificationRule")
def update_notification_rule(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    rule = ctx.owned("notification_rules", ctx.inputs["notification_rule_id"], project, "notification rule")
    _notification_fields(ctx, rule)
    ctx.touch(rule)
    ctx.store.put("notification_rules", rule, parent=project["id"])
    return 204, None


@handler("DeleteProjectNotificationRule")
def delete_notification_rule(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    rule = ctx.owned("notification_rules", ctx.inputs["notification_rule_id"], project, "notification rule")
    ctx.store.delete("notification_rules", rule["id"])
    return 204, None


# -- automation rules ------------------------------------------------------------------------------

def _rule_fields(ctx: Ctx, rule: dict[str, Any]) -> None:
    if "name" in ctx.inputs:
        rule["name"] = ctx.text("name", pointer=f"{ATTR}/name")
    for name in ("action", "trigger", "state"):
        if name in ctx.inputs:
            rule[name] = ctx.inputs[name]


@handler("ListCaseAutomationRules")
def list_rules(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    return 200, {"data": [render_rule(r) for r in ctx.store.list("rules", parent=project["id"])]}


@handler("CreateCaseAutomationRule")
def create_rule(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    rule: dict[str, Any] = {"id": ctx.new_id(), "project_id": project["id"], "state": "ENABLED",
                            "created_at": ctx.now, "created_by": ctx.user}
    _rule_fields(ctx, rule)
    ctx.touch(rule)
    ctx.store.put("rules", rule, parent=project["id"])
    return 201, {"data": render_rule(rule)}


def _rule(ctx: Ctx) -> tuple[dict[str, Any], dict[str, Any]]:
    project = ctx.project(ctx.inputs["project_id"])
    return project, ctx.owned("rules", ctx.inputs["rule_id"], project, "automation rule")


@handler("GetCaseAutomationRule")
def get_rule(ctx: Ctx) -> Result:
    return 200, {"data": render_rule(_rule(ctx)[1])}


@handler("UpdateCaseAutomationRule")
def update_rule(ctx: Ctx) -> Result:
    project, rule = _rule(ctx)
    _rule_fields(ctx, rule)
    ctx.touch(rule)
    ctx.store.put("rules", rule, parent=project["id"])
    return 200, {"data": render_rule(rule)}


@handler("DeleteCaseAutomationRule")
def delete_rule(ctx: Ctx) -> Result:
    _, rule = _rule(ctx)
    ctx.store.delete("rules", rule["id"])
    return 204, None


def _set_state(ctx: Ctx, state: str) -> Result:
    project, rule = _rule(ctx)
    if rule["state"] != state:
        rule["state"] = state
        ctx.touch(rule)
        ctx.store.put("rules", rule, parent=project["id"])
    return 200, {"data": render_rule(rule)}


@handler("EnableCaseAutomationRule")
def enable_rule(ctx: Ctx) -> Result:
    return _set_state(ctx, "ENABLED")


@handler("DisableCaseAutomationRule")
def disable_rule(ctx: Ctx) -> Result:
    return _set_state(ctx, "DISABLED")


# -- maintenance windows ---------------------------------------------------------------------------

def _instant(value: str) -> _dt.datetime:
    parsed = _dt.datetime.fromisoformat(re.sub(r"[Zz]$", "+00:00", value))
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=_dt.timezone.utc)


def _window_fields(ctx: Ctx, window: dict[str, Any]) -> None:
    if "name" in ctx.inputs:
        window["name"] = ctx.text("name", pointer=f"{ATTR}/name")
    for name in ("query", "start_at", "end_at"):
        if name in ctx.inputs:
            window[name] = ctx.inputs[name]
    if _instant(window["end_at"]) < _instant(window["start_at"]):
        raise ApiFailure(400, f"{ATTR}/end_at: must not be before start_at", pointer=f"{ATTR}/end_at")


@handler("ListMaintenanceWindows")
def list_windows(ctx: Ctx) -> Result:
    return 200, {"data": [render_window(w) for w in ctx.store.list("maintenance_windows")]}


@handler("CreateMaintenanceWindow")
def create_window(ctx: Ctx) -> Result:
    window: dict[str, Any] = {"id": ctx.new_id(), "created_by": ctx.user, "updated_by": ctx.user,
                              "created_at": ctx.now}
    _window_fields(ctx, window)
    ctx.store.put("maintenance_windows", window)
    return 201, {"data": render_window(window)}


def _window(ctx: Ctx) -> dict[str, Any]:
    ident = ctx.inputs["maintenance_window_id"]
    window = ctx.store.get("maintenance_windows", ident)
    if window is None:
        raise not_found("maintenance window not found")
    return window


@handler("UpdateMaintenanceWindow")
def update_window(ctx: Ctx) -> Result:
    window = _window(ctx)
    _window_fields(ctx, window)
    window["updated_by"] = ctx.user
    ctx.store.put("maintenance_windows", window)
    return 200, {"data": render_window(window)}


@handler("DeleteMaintenanceWindow")
def delete_window(ctx: Ctx) -> Result:
    ctx.store.delete("maintenance_windows", _window(ctx)["id"])
    return 204, None


# -- case views ------------------------------------------------------------------------------------

def _view(ctx: Ctx) -> dict[str, Any]:
    ident = ctx.inputs["view_id"]
    view = ctx.store.get("views", ident)
    if view is None:
        raise not_found("view not found")
    return view


@handler("ListCaseViews")
def list_views(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    return 200, {"data": [render_view(v) for v in ctx.store.list("views", parent=project["id"])]}


@handler("CreateCaseView")
def create_view(ctx: Ctx) -> Result:
    project = ctx.project(ctx.inputs["project_id"])
    view = {
        "id": ctx.new_id(),
        "project_id": project["id"],
        "name": ctx.text("name", pointer=f"{ATTR}/name"),
        "query": ctx.inputs["query"],
        "np_rule_id": ctx.inputs.get("np_rule_id"),
        "created_at": ctx.now,
        "created_by": ctx.user,
    }
    ctx.touch(view)
    ctx.store.put("views", view, parent=project["id"])
    return 201, {"data": render_view(view)}


@handler("GetCaseView")
def get_view(ctx: Ctx) -> Result:
    return 200, {"data": render_view(_view(ctx))}


@handler("UpdateCaseView")
def update_view(ctx: Ctx) -> Result:
    view = _view(ctx)
    if "name" in ctx.inputs:
        view["name"] = ctx.text("name", pointer=f"{ATTR}/name")
    for name in ("query", "np_rule_id"):
        if name in ctx.inputs:
            view[name] = ctx.inputs[name]
    ctx.touch(view)
    ctx.store.put("views", view, parent=view["project_id"])
    return 200, {"data": render_view(view)}


@handler("DeleteCaseView")
def delete_view(ctx: Ctx) -> Result:
    ctx.store.delete("views", _view(ctx)["id"])
    return 204, None


# -- case links ------------------------------------------------------------------------------------

def _entity(ctx: Ctx, entity_type: str, entity_id: str, pointer: str | None) -> tuple[str, str]:
    """Normalise an entity reference: a CASE is looked up (by UUID or key) and stored by UUID."""
    entity_type = entity_type.strip().upper()
    if not entity_type:
        raise ApiFailure(400, f"{pointer}: must not be empty", pointer=pointer)
    if entity_type == "CASE":
        return entity_type, ctx.case(entity_id)["id"]
    return entity_type, entity_id


@handler("CreateCaseLink")
def create_link(ctx: Ctx) -> Result:
    inp = ctx.inputs
    relationship = ctx.text("relationship", pointer=f"{ATTR}/relationship").strip().upper()  # type: ignore[union-attr]
    parent_type, parent_id = _entity(ctx, inp["parent_entity_type"], inp["parent_entity_id"],
                                     f"{ATTR}/parent_entity_id")
    child_type, child_id = _entity(ctx, inp["child_entity_type"], inp["child_entity_id"], f"{ATTR}/child_entity_id")
    if (parent_type, parent_id) == (child_type, child_id):
        raise ApiFailure(400, f"{ATTR}/child_entity_id: an entity cannot be linked to itself",
                         pointer=f"{ATTR}/child_entity_id")
    link = {"parent_entity_type": parent_type, "parent_entity_id": parent_id, "child_entity_type": child_type,
            "child_entity_id": child_id, "relationship": relationship}
    for existing in ctx.store.list("links"):
        if all(existing[k] == v for k, v in link.items()):
            raise ApiFailure(409, "this link already exists")
    link.update(id=ctx.new_id(), created_at=ctx.now, created_by=ctx.user)
    ctx.store.put("links", link)
    return 201, {"data": render_link(link)}


@handler("ListCaseLinks")
def list_links(ctx: Ctx) -> Result:
    entity_type = ctx.inputs["entity_type"].strip().upper()
    entity_id = ctx.inputs["entity_id"]
    if entity_type == "CASE":
        found = ctx.store.get("cases", entity_id) or ctx.store.find_by_key("cases", entity_id.upper())
        entity_id = found["id"] if found else entity_id
    relationship = (ctx.inputs.get("relationship") or "").strip().upper()
    out = []
    for link in ctx.store.list("links"):
        if relationship and link["relationship"] != relationship:
            continue
        if (link["parent_entity_type"], link["parent_entity_id"]) == (entity_type, entity_id) or \
                (link["child_entity_type"], link["child_entity_id"]) == (entity_type, entity_id):
            out.append(render_link(link))
    return 200, {"data": out}


@handler("DeleteCaseLink")
def delete_link(ctx: Ctx) -> Result:
    if not ctx.store.delete("links", ctx.inputs["link_id"]):
        raise not_found("link not found")
    return 204, None
