"""Discover actions through the ``datadog_cases.actions`` entry-point group.

Any installed distribution can add actions by declaring entry points in this
group (name: the action id; value: ``module:attribute`` of an object with an
``id`` and a ``manifest`` dict, normally an ``Action``).  Listing reads entry
point names and this package's ``manifests/index.json`` only: it imports no
action code, no httpx and no pydantic.  Other distributions' actions are
imported when they are described or run.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from importlib.metadata import EntryPoint, entry_points
from typing import Any

from .manifest import load_index, load_manifest

__all__ = ["GROUP", "ActionInfo", "discover", "list_actions", "resolve", "describe", "load", "UnknownActionError"]

GROUP = "datadog_cases.actions"


class UnknownActionError(LookupError):
    """No installed action has that id (the message lists close matches)."""


@dataclass(frozen=True)
class ActionInfo:
    """One catalogue line: what ``list`` shows without importing the action."""

    id: str
    title: str
    group: str
    effect: str
    preview: bool
    distribution: str | None

    def to_dict(self) -> dict[str, Any]:
        return dict(self.__dict__)


@lru_cache(maxsize=1)
def discover() -> dict[str, EntryPoint]:
    """Every action entry point of every installed distribution, by action id."""
    found: dict[str, EntryPoint] = {}
    for ep in entry_points(group=GROUP):
        found.setdefault(ep.name, ep)
    return found


def _summary(action_id: str) -> dict[str, Any] | None:
    return load_index().get("actions", {}).get(action_id)  # type: ignore[no-any-return]


def list_actions() -> list[ActionInfo]:
    """The installed catalogue, sorted by group then id."""
    out = []
    for action_id, ep in discover().items():
        summary = _summary(action_id) or _foreign_summary(action_id)
        dist = ep.dist.name if getattr(ep, "dist", None) is not None else None  # type: ignore[union-attr]
        out.append(
            ActionInfo(
                id=action_id,
                title=summary.get("title", action_id),
                group=summary.get("group", "other"),
                effect=summary.get("effect", "write"),
                preview=bool(summary.get("preview", False)),
                distribution=dist,
            )
        )
    return sorted(out, key=lambda a: (a.group, a.id))


def _foreign_summary(action_id: str) -> dict[str, Any]:
    # Actions of other distributions have no line in our index: ask the action.
    try:
        return dict(load(action_id).manifest)
    except Exception:  # a broken plugin must not break listing
        return {"title": f"{action_id} (failed to load)", "group": "other"}


def resolve(name: str) -> str:
    """The full action id for *name*: ``create_case``, ``CreateCase`` or ``datadog.create_case``."""
    known = discover()
    if name in known:
        return name
    from .declare import NAMESPACE, action_id_for

    for candidate in (f"{NAMESPACE}.{name}", action_id_for(name) if name[:1].isupper() else ""):
        if candidate in known:
            return candidate
    suffix = [a for a in known if a.rsplit(".", 1)[-1] == name]
    if len(suffix) == 1:
        return suffix[0]
    import difflib

    close = difflib.get_close_matches(name, [a.rsplit(".", 1)[-1] for a in known], n=3)
    hint = f"; did you mean {', '.join(close)}?" if close else "; run `dd-cases list` to see them"
    raise UnknownActionError(f"unknown action {name!r}{hint}")


def describe(name: str) -> dict[str, Any]:
    """The manifest of an action, read from disk when it is one of ours."""
    action_id = resolve(name)
    if _summary(action_id) is not None:
        return load_manifest(action_id)
    return dict(load(action_id).manifest)


@lru_cache(maxsize=None)
def load(name: str) -> Any:
    """Import the action object behind *name* (an ``Action`` or a compatible object)."""
    action_id = resolve(name)
    obj = discover()[action_id].load()
    if getattr(obj, "id", None) != action_id:
        raise UnknownActionError(f"entry point {action_id!r} loads an object whose id is {getattr(obj, 'id', None)!r}")
    return obj
