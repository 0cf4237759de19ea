"""Case types and custom attribute configs (9 operations), and the rules they impose on cases.

The built-in types are constants with the ids, names, descriptions and status
sets the live API lists (``live-api-notes.md`` section 4); types created through
the API are stored and soft-deleted (``deleted_at``), as live.  A custom
attribute config (section 5) belongs to one case type and is addressed on a case
by its ``key``: a case accepts a custom attribute only when its type has a
config with that key, and the value must fit the config.
"""

from __future__ import annotations

from typing import Any

from .context import Ctx, Result, handler
from .errors import bad_request, not_found

__all__ = ["STANDARD_TYPE_ID", "BUILTIN_TYPES", "find_type", "case_type", "legacy_type", "statuses_of", "custom_config",
           "check_custom_value", "UPDATE_TITLE", "REMOVE_TITLE"]

ATTR = "/data/attributes"
STANDARD_TYPE_ID = "00000000-0000-0000-0000-000000000001"


def _statuses(open_: list[str], in_progress: list[str], closed: list[str]) -> dict[str, Any]:
    """A ``statuses_config``: per group the options, then the default (the first option), in the live key order."""
    return {group: {"status_options": [{"name": n} for n in names], "default": names[0]}
            for group, names in (("open", open_), ("in_progress", in_progress), ("closed", closed))}


DEFAULT_STATUSES = _statuses(["Open"], ["In Progress"], ["Closed"])

#: the built-in types live lists (all ``internal``, emoji ""); no ...0006 exists
BUILTIN_TYPES: dict[str, dict[str, Any]] = {
    f"00000000-0000-0000-0000-00000000000{n}": {
        "id": f"00000000-0000-0000-0000-00000000000{n}", "name": name, "description": description, "emoji": "",
        "internal": True, "statuses_config": statuses, "legacy_type": legacy}
    for n, name, description, statuses, legacy in (
        (1, "Standard", "General tasks and investigations", DEFAULT_STATUSES, "STANDARD"),
        (2, "Event Management", "Triage and investigate correlated alerts and events", DEFAULT_STATUSES, "TUNKNOWN"),
        # SECURITY: the case type value the security-findings API writes; inferred for this type, never recorded here
        (3, "Security", "Used By Datadog Security products and for general security workflows", DEFAULT_STATUSES,
         "SECURITY"),
        (4, "Change Request", "Request and track approvals",
         _statuses(["Open"], ["Pending Approval", "Approved", "Implementing"], ["Completed", "Cancelled", "Declined"]),
         "TUNKNOWN"),
        (5, "Error Tracking", "Triage and investigate errors", DEFAULT_STATUSES, "ERROR_TRACKING_ISSUE"),
        (7, "Logs Optimization Insights", "Triage and investigate logs optimization insights", DEFAULT_STATUSES,
         "TUNKNOWN"),
    )
}

_GROUPS = {"open": "SG_OPEN", "in_progress": "SG_IN_PROGRESS", "closed": "SG_CLOSED"}

UPDATE_TITLE = ("failed to update batch: failed to apply command: failed to apply domain.UpdateCustomAttribute "
                "command: custom attribute configuration not found")
REMOVE_TITLE = ("failed to update batch: failed to apply command: failed to apply domain.RemoveCustomAttribute "
                "command: custom attribute configuration not found")


# -- lookups used by the case handlers -------------------------------------------------------------

def find_type(ctx: Ctx, type_id: str) -> dict[str, Any] | None:
    """A built-in or created case type (even a deleted one), or None."""
    return BUILTIN_TYPES.get(type_id) or ctx.store.get("case_types", type_id)


def case_type(ctx: Ctx, type_id: str) -> dict[str, Any]:
    """An active case type; 404 ``case_type not found`` for an unknown or deleted one."""
    found = find_type(ctx, type_id)
    if found is None or found.get("deleted_at"):
        raise not_found("case_type not found")
    return found


def legacy_type(found: dict[str, Any]) -> str:
    """The case's deprecated ``type``: STANDARD, ERROR_TRACKING_ISSUE... and TUNKNOWN for every created type."""
    return str(found.get("legacy_type", "TUNKNOWN"))


def statuses_of(found: dict[str, Any] | None) -> dict[str, tuple[str, str]]:
    """``{status code: (status name, status group)}`` of a case type, codes like ``PENDING_APPROVAL``."""
    config = (found or {}).get("statuses_config") or DEFAULT_STATUSES
    out: dict[str, tuple[str, str]] = {}
    for group, block in config.items():
        for option in block["status_options"]:
            out[option["name"].upper().replace(" ", "_")] = (option["name"], _GROUPS[group])
    return out


def custom_config(ctx: Ctx, type_id: str, key: str) -> dict[str, Any] | None:
    return next((c for c in ctx.store.list("custom_attributes", parent=type_id) if c["key"] == key), None)


def _is_number(value: Any) -> bool:
    return isinstance(value, (int, float)) and not isinstance(value, bool)


def check_custom_value(config: dict[str, Any], value: dict[str, Any], at: str) -> None:
    """A case's custom attribute value must fit its config: same type and multiplicity, values of that type."""
    if value.get("type") != config["type"] or bool(value.get("is_multi")) != bool(config["is_multi"]):
        raise bad_request(f"{at}: the attribute {config['key']!r} is configured as type {config['type']}, "
                          f"is_multi {str(config['is_multi']).lower()}", pointer=at)
    raw = value.get("value")
    items = raw if isinstance(raw, list) else [raw]
    if bool(config["is_multi"]) != isinstance(raw, list):
        raise bad_request(f"{at}/value: must be an array when is_multi is true and a single value otherwise",
                          pointer=f"{at}/value")
    number = config["type"] == "NUMBER"
    if not all(_is_number(v) if number else isinstance(v, str) for v in items):
        raise bad_request(f"{at}/value: {config['type']} values must be {'numbers' if number else 'strings'}",
                          pointer=f"{at}/value")
    options = [o["value"] for o in (config.get("type_data") or {}).get("options", [])]
    if config["type"] == "SELECT" and options and any(v not in options for v in items):
        raise bad_request(f"{at}/value: not one of the options of {config['key']!r}: {', '.join(options)}",
                          pointer=f"{at}/value")


# -- rendering -------------------------------------------------------------------------------------

def render_case_type(found: dict[str, Any]) -> dict[str, Any]:
    """A case type as live answers it: attributes alphabetical, ``deleted_at`` only once deleted."""
    attributes: dict[str, Any] = {
        "emoji": found.get("emoji", ""),
        "internal": bool(found.get("internal", False)),
        "name": found["name"],
        "statuses_config": found.get("statuses_config") or DEFAULT_STATUSES,
    }
    for optional in ("deleted_at", "description"):
        if found.get(optional):
            attributes[optional] = found[optional]
    return {"id": found["id"], "type": "case_type", "attributes": dict(sorted(attributes.items()))}


def render_config(ctx: Ctx, config: dict[str, Any]) -> dict[str, Any]:
    """A custom attribute config; ``case_type`` is the owning type's legacy type (TUNKNOWN for created types)."""
    owner = find_type(ctx, config["case_type_id"]) or {}
    attributes: dict[str, Any] = {
        "case_type": legacy_type(owner),
        "case_type_id": config["case_type_id"],
        "display_name": config["display_name"],
        "is_multi": config["is_multi"],
        "key": config["key"],
        "type": config["type"],
    }
    if config.get("description"):
        attributes["description"] = config["description"]
    return {"id": config["id"], "type": "custom_attribute", "attributes": dict(sorted(attributes.items()))}


# -- emoji -----------------------------------------------------------------------------------------

_EMOJI_RANGES = ((0x1F000, 0x1FAFF), (0x2600, 0x27BF), (0x2300, 0x23FF), (0x2B00, 0x2BFF), (0x2190, 0x21FF),
                 (0x25A0, 0x25FF), (0x2934, 0x2935), (0xE0020, 0xE007F), (0x3030, 0x3030), (0x303D, 0x303D),
                 (0x3297, 0x3297), (0x3299, 0x3299), (0xA9, 0xA9), (0xAE, 0xAE), (0x2122, 0x2122),
                 (0x200D, 0x200D), (0xFE0F, 0xFE0F), (0x20E3, 0x20E3))


def _is_emoji(text: str) -> bool:
    """Emoji code points only (with joiners, variation selectors, keycaps); "" is allowed, as built-ins have it."""
    keycap = "\u20e3" in text
    return all(any(lo <= ord(ch) <= hi for lo, hi in _EMOJI_RANGES) or (keycap and ch in "0123456789#*")
               for ch in text)


def _type_fields(ctx: Ctx, found: dict[str, Any]) -> None:
    found["name"] = ctx.text("name", pointer=f"{ATTR}/name")
    for name in ("description", "emoji"):
        if name in ctx.inputs and ctx.inputs[name] is not None:
            found[name] = str(ctx.inputs[name])
    if not _is_emoji(found.get("emoji", "")):
        # live: emoji "notanemoji" -> {"status": "400", "title": "Bad Request"}
        raise bad_request(pointer=f"{ATTR}/emoji")


# -- case types ------------------------------------------------------------------------------------

@handler("GetAllCaseTypes")
def get_all_case_types(ctx: Ctx) -> Result:
    types = list(BUILTIN_TYPES.values()) + ctx.store.list("case_types")
    return 200, {"data": [render_case_type(t) for t in types]}


@handler("CreateCaseType")
def create_case_type(ctx: Ctx) -> Result:
    found: dict[str, Any] = {"id": ctx.new_id(), "internal": False, "emoji": "", "created_at": ctx.now,
                             "created_by": ctx.user}
    _type_fields(ctx, found)
    ctx.store.put("case_types", found)
    return 201, {"data": render_case_type(found)}


def _own_type(ctx: Ctx) -> dict[str, Any]:
    """The path's case type, which must be one the caller created (built-in types cannot be changed)."""
    type_id = ctx.inputs["case_type_id"]
    if type_id in BUILTIN_TYPES:
        raise bad_request(f"case type {type_id} is built in and cannot be changed", parameter="case_type_id")
    return case_type(ctx, type_id)


@handler("UpdateCaseType")
def update_case_type(ctx: Ctx) -> Result:
    found = _own_type(ctx)
    if "name" in ctx.inputs or any(n in ctx.inputs for n in ("description", "emoji")):
        _type_fields(ctx, found)  # omitted optional fields are kept
    found["modified_at"] = ctx.now
    ctx.store.put("case_types", found)
    return 200, {"data": render_case_type(found)}


@handler("DeleteCaseType")
def delete_case_type(ctx: Ctx) -> Result:
    type_id = ctx.inputs["case_type_id"]
    if type_id in BUILTIN_TYPES:
        raise bad_request(f"case type {type_id} is built in and cannot be deleted", parameter="case_type_id")
    found = ctx.store.get("case_types", type_id)
    # a soft delete, 204 again for a deleted type (live); no 404 is documented, so an unknown id is a no-op too
    if found is not None and not found.get("deleted_at"):
        found["deleted_at"] = ctx.now
        ctx.store.put("case_types", found)
    return 204, None


# -- custom attribute configs ----------------------------------------------------------------------

@handler("GetAllCustomAttributes")
def get_all_custom_attributes(ctx: Ctx) -> Result:
    # ordered by case type id (live); configs of deleted types are still listed (live)
    configs = sorted(ctx.store.list("custom_attributes"), key=lambda c: c["case_type_id"])
    return 200, {"data": [render_config(ctx, c) for c in configs]}


@handler("GetAllCustomAttributeConfigsByCaseType")
def get_custom_attribute_configs(ctx: Ctx) -> Result:
    type_id = ctx.inputs["case_type_id"]
    return 200, {"data": [render_config(ctx, c) for c in ctx.store.list("custom_attributes", parent=type_id)]}


@handler("CreateCustomAttributeConfig")
def create_custom_attribute_config(ctx: Ctx) -> Result:
    type_id = ctx.inputs["case_type_id"]
    case_type(ctx, type_id)
    key = ctx.text("key", pointer=f"{ATTR}/key")
    if custom_config(ctx, type_id, key) is not None:  # type: ignore[arg-type]
        raise bad_request(f"{ATTR}/key: the case type already has a custom attribute {key!r}", pointer=f"{ATTR}/key")
    config: dict[str, Any] = {
        "id": ctx.new_id(),
        "case_type_id": type_id,
        "key": key,
        "display_name": ctx.text("display_name", pointer=f"{ATTR}/display_name"),
        "is_multi": bool(ctx.inputs["is_multi"]),
        "type": ctx.inputs["type"],
        "created_at": ctx.now,
    }
    if ctx.inputs.get("description"):
        config["description"] = ctx.inputs["description"]
    ctx.store.put("custom_attributes", config, parent=type_id)
    return 201, {"data": render_config(ctx, config)}


def _config(ctx: Ctx) -> dict[str, Any] | None:
    type_id = ctx.inputs["case_type_id"]
    config_id = ctx.inputs["custom_attribute_id"]
    found = ctx.store.get("custom_attributes", config_id)
    return found if found is not None and found["case_type_id"] == type_id else None


@handler("UpdateCustomAttributeConfig")
def update_custom_attribute_config(ctx: Ctx) -> Result:
    config = _config(ctx)
    if config is None:
        raise not_found("custom attribute configuration not found")
    if "display_name" in ctx.inputs:
        config["display_name"] = ctx.text("display_name", pointer=f"{ATTR}/display_name")
    for name in ("description", "type", "type_data", "map_from"):
        if name in ctx.inputs:
            config[name] = ctx.inputs[name]
    ctx.store.put("custom_attributes", config, parent=config["case_type_id"])
    return 200, {"data": render_config(ctx, config)}


@handler("DeleteCustomAttributeConfig")
def delete_custom_attribute_config(ctx: Ctx) -> Result:
    config = _config(ctx)
    if config is not None:  # no 404 is documented: deleting what is not there is a no-op
        ctx.store.delete("custom_attributes", config["id"])
    return 204, None

