"""What the MCP server lists, as plain data: which tools (profiles), their descriptions and schemas.

Nothing here imports ``mcp``: ``adapters/mcp.py`` turns these dictionaries into MCP
tools, and the token budget of ``tools/list`` (docs/mcp.md) is measured on them.

An agent pays for the whole ``tools/list`` answer in every conversation, so each part
is sized for that:

* the input schema is the manifest's, complete (every input, type, enum, constraint,
  ``required``), less what only documents the schema itself (``$schema``, titles,
  ``x-`` annotations) and the descriptions of members nested more than two names deep
  (``settings.integration_jira.enabled`` loses its description, ``custom_attributes.<key>.value`` keeps it);
* the description is generated from the manifest: what the action does, what it
  changes, which inputs it needs, what an id looks like and which served tool gives it;
* the output schema is ``full`` (the manifest's, loosened so that every real answer
  passes), ``compact`` (only the names of the result's members, two levels deep) or
  ``none``.
"""

from __future__ import annotations

import copy
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from typing import Any

__all__ = ["PROFILES", "OUTPUT_SCHEMAS", "select", "input_schema", "output_schema", "describe_tool", "describe_tools",
           "tool_name"]

#: profile name -> which manifests it serves
PROFILES: dict[str, Callable[[Mapping[str, Any]], bool]] = {
    "all": lambda manifest: True,
    "read-only": lambda manifest: manifest["effect"] == "read",
    # reads and purely additive writes: nothing that exists is changed or removed
    "additive": lambda manifest: manifest["effect"] == "read" or not overwrites(manifest),
}
OUTPUT_SCHEMAS = ("full", "compact", "none")

#: constraint keywords the loose output schema drops (a real answer may break any of them)
_CONSTRAINTS = frozenset({"required", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
                          "minItems", "maxItems", "maxProperties", "const"})
#: keywords holding one subschema, or a list of them
_SUBSCHEMA = ("items", "additionalProperties", "anyOf", "oneOf", "allOf", "not")
#: how deep, in member names, input descriptions and compact output names go (an array's items
#: and a map's values sit at their owner's level)
_DESCRIBED_DEPTH = 2
_COMPACT_DEPTH = 2
#: verbs of the tools that list things an id input names
_LISTING = ("list_", "get_", "search_")


def tool_name(manifest: Mapping[str, Any]) -> str:
    """The tool name of an action: its id without the namespace (``create_case``)."""
    return str(manifest["id"]).split(".", 1)[1]


def overwrites(manifest: Mapping[str, Any]) -> bool:
    """Whether the action changes or removes existing data (unknown for another distribution's
    older manifest: then every write counts, as MCP's own default does)."""
    return bool(manifest.get("overwrites", manifest["effect"] != "read"))


def select(manifests: Iterable[Mapping[str, Any]], profile: str = "all", groups: Sequence[str] = (),
           names: Sequence[str] = ()) -> list[Mapping[str, Any]]:
    """The manifests a server serves: those of *profile* and, when given, of *groups* and named in *names*.

    Raises ``ValueError`` naming the valid choices for an unknown profile, group or name,
    and when nothing is left.
    """
    manifests = list(manifests)
    if profile not in PROFILES:
        raise ValueError(f"unknown profile {profile!r}; choose from {', '.join(PROFILES)}")
    known_groups = sorted({str(m.get("group", "other")) for m in manifests})
    _check("group", groups, known_groups)
    _check("tool", names, sorted(tool_name(m) for m in manifests))
    chosen = [m for m in manifests
              if PROFILES[profile](m)
              and (not groups or m.get("group", "other") in groups)
              and (not names or tool_name(m) in names)]
    if not chosen:
        raise ValueError("no tool matches these options (profile, groups and tools all apply)")
    return chosen


def _check(kind: str, asked: Sequence[str], known: Sequence[str]) -> None:
    unknown = [a for a in asked if a not in known]
    if unknown:
        raise ValueError(f"unknown {kind}{'s' if len(unknown) > 1 else ''} {', '.join(unknown)}; "
                         f"known: {', '.join(known)}")


# -- input schemas --------------------------------------------------------------------------------

def input_schema(manifest: Mapping[str, Any]) -> dict[str, Any]:
    """The manifest's input schema without its self-documentation (validation unchanged)."""
    schema: dict[str, Any] = _trim_inputs(manifest["input_schema"], 0)
    schema.pop("$schema", None)
    return schema


def _trim_inputs(schema: Any, depth: int) -> Any:
    if isinstance(schema, list):
        return [_trim_inputs(s, depth) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key == "title" or key.startswith("x-") or (key == "description" and depth > _DESCRIBED_DEPTH):
            continue  # annotations: no validator reads them
        if key in ("properties", "$defs"):
            out[key] = {name: _trim_inputs(sub, depth + 1) for name, sub in value.items()}
        elif key in _SUBSCHEMA:
            # depth counts named members: an array's items and a map's values sit at its own level
            out[key] = _trim_inputs(value, depth)
        else:
            out[key] = copy.deepcopy(value)
    return out


# -- output schemas -------------------------------------------------------------------------------

def output_schema(manifest: Mapping[str, Any], mode: str = "compact") -> dict[str, Any] | None:
    """The declared output schema in *mode* (``full``, ``compact`` or ``none``: then ``None``).

    Both forms accept every answer the full manifest schema accepts, and more: clients
    validate structured results against them, and the live API returns more than the
    reference documents.
    """
    if mode not in OUTPUT_SCHEMAS:
        raise ValueError(f"unknown output schema mode {mode!r}; choose from {', '.join(OUTPUT_SCHEMAS)}")
    if mode == "none":
        return None
    schema: dict[str, Any]
    if mode == "full":
        schema = loosen(manifest["output_schema"])
    else:
        schema = _names(manifest["output_schema"], 0)
    schema["type"] = "object"  # structured results are always objects ({} for a 204)
    return schema


def loosen(schema: Any) -> Any:
    """A schema every real answer satisfies: structure and descriptions kept, constraints dropped."""
    if isinstance(schema, list):
        return [loosen(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in _CONSTRAINTS:
            continue
        if key == "enum":
            note = "Known values: " + ", ".join(map(str, value)) + "."
            out["description"] = f"{schema.get('description', '')} {note}".strip()
            continue
        if key == "type":
            kinds = value if isinstance(value, list) else [value]
            out["type"] = kinds if "null" in kinds else [*kinds, "null"]
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: loosen(sub) for name, sub in value.items()}
        elif key in _SUBSCHEMA:
            out[key] = loosen(value)
        elif key != "description" or "description" not in out:
            out[key] = copy.deepcopy(value)
    return out


def _names(schema: Any, depth: int) -> dict[str, Any]:
    """Only the member names of *schema*, *_COMPACT_DEPTH* levels deep: no types, so no answer fails it."""
    if not isinstance(schema, dict) or depth >= _COMPACT_DEPTH:
        return {}
    out: dict[str, Any] = {}
    members: dict[str, Any] = {}
    for option in [schema, *schema.get("anyOf", []), *schema.get("oneOf", []), *schema.get("allOf", [])]:
        if not isinstance(option, dict):
            continue
        for name, sub in option.get("properties", {}).items():
            members[name] = _names(sub, depth + 1)
        if isinstance(option.get("items"), dict) and (items := _names(option["items"], depth)):
            out["items"] = items  # an array's members count at the array's own depth
    if members:
        out["properties"] = members
    return out


# -- descriptions ---------------------------------------------------------------------------------

def describe_tools(served: Mapping[str, Mapping[str, Any]]) -> dict[str, str]:
    """Tool name -> a short description for an agent, for each of the *served* manifests (name -> manifest).

    What the tool does, what it changes, which inputs it needs, what an id looks like and
    which served tool gives it (a tool that is not served is never named).
    """
    sources = {(tool, name): _lister(manifest, name, served)
               for tool, manifest in served.items() for name in manifest["input_schema"].get("properties", {})}
    gives: dict[str, set[str]] = {}
    for (_, name), source in sources.items():
        if source:
            gives.setdefault(source, set()).add(name)
    return {tool: _describe(manifest, {name: sources[tool, name] for name in manifest["input_schema"]
                                       .get("properties", {})}, gives.get(tool, set()))
            for tool, manifest in served.items()}


def describe_tool(manifest: Mapping[str, Any], served: Mapping[str, Mapping[str, Any]]) -> str:
    """The description of one tool among the *served* ones (see :func:`describe_tools`)."""
    return describe_tools({**served, tool_name(manifest): manifest})[tool_name(manifest)]


def _describe(manifest: Mapping[str, Any], sources: Mapping[str, str], gives: set[str]) -> str:
    parts = [_first_sentence(str(manifest["description"]) or str(manifest["title"]))]
    if manifest.get("preview"):
        parts.append("Preview API.")
    parts.append(_effect(manifest))
    schema = manifest["input_schema"]
    required = list(schema.get("required", []))
    if required:
        parts.append("Needs " + ", ".join(required) + ".")
    hints = [hint for name in [*required, *(n for n in schema.get("properties", {}) if n not in required)]
             if (hint := _id_hint(schema["properties"][name], name, sources[name]))]
    if hints:
        parts.append("; ".join(hints) + ".")
    if gives:
        parts.append("Gives the " + ", ".join(sorted(gives)) + " other tools need.")
    return " ".join(parts)


def _first_sentence(text: str) -> str:
    text = " ".join(text.split())
    match = re.match(r"(.+?[.!?])(\s|$)", text)
    sentence = match.group(1) if match else text
    return sentence if sentence.endswith((".", "!", "?")) else sentence + "."


def _effect(manifest: Mapping[str, Any]) -> str:
    if manifest["effect"] == "read":
        return "Read-only."
    if manifest["effect"] == "destructive":
        return "Deletes data: confirm first."
    return "Changes existing data." if overwrites(manifest) else "Only adds data."


def _id_hint(prop: Mapping[str, Any], name: str, source: str) -> str:
    """``case_id: UUID or key like OPS-12, from search_cases`` for an id input; ``""`` for any other input."""
    if not _stem(name):
        return ""
    shape = "UUID or key like OPS-12" if re.search(r"\bUUID or key\b", str(prop.get("description", ""))) else ""
    said = ", ".join(filter(None, [shape, f"from {source}" if source else ""]))
    return f"{name}: {said}" if said else ""


def _stem(name: str) -> str:
    """What an id input names (``case_type_id`` -> ``case_type``); ``""`` for an input that is no id."""
    stem = re.sub(r"_(ids?|uuids?|key)$", "", name)
    return "" if stem == name else stem


def _lister(manifest: Mapping[str, Any], name: str, served: Mapping[str, Any]) -> str:
    """The served read tool that lists what the id input *name* names, or ``""``.

    By name first (``project_id`` -> a ``list_/get_/search_`` tool ending in ``projects``),
    else by the input's description (``cell_id``, "the timeline cell" -> ``list_case_timeline``)
    when exactly one ``list_`` tool matches; a tool that needs the same input never lists it.
    """
    stem = _stem(name)
    if not stem:
        return ""
    text = str(manifest["input_schema"]["properties"][name].get("description", ""))
    candidates = [(tool, m) for tool, m in served.items()
                  if m["effect"] == "read" and tool.startswith(_LISTING) and tool != tool_name(manifest)
                  and name not in m["input_schema"].get("required", [])]
    by_name = [(tool, m) for tool, m in candidates if tool.endswith("_" + _plural(stem))]
    if by_name:
        # the same group first (rule_id of an automation rule tool), then the fewest required inputs
        best = min(by_name, key=lambda tm: (tm[1].get("group") != manifest.get("group"),
                                             len(tm[1]["input_schema"].get("required", [])), tm[0]))
        return best[0]
    # only list_ tools here: "the Jira project ID" must not point at get_project
    words = set(re.findall(r"[a-z]+", text.lower()))
    by_text = [tool for tool, _ in candidates if tool.startswith("list_") and tool.rsplit("_", 1)[1] in words]
    return by_text[0] if len(by_text) == 1 else ""


def _plural(stem: str) -> str:
    if stem.endswith("y"):
        return stem[:-1] + "ies"
    return stem + ("es" if stem.endswith(("s", "x", "ch", "sh")) else "s")
