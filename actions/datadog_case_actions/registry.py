"""Discover actions through the ``datadog_case_actions.actions`` entry-point group.

Any installed distribution can add actions by declaring entry points in this
group (name: the action id; value: ``module:attribute`` of an object with an
``id`` and a ``manifest`` dict, normally an ``Action``).  Listing reads entry
point names and this package's ``manifests/index.json`` only: it imports no
action code, no httpx and no pydantic.  Other distributions' actions are
imported when they are described or run.
"""

from __future__ import annotations

import os
import sys
from collections import namedtuple
from functools import lru_cache

from .manifest import load_index, load_manifest
from .runtime.errors import UnknownActionError

TYPE_CHECKING = False
if TYPE_CHECKING:
    from typing import Any

__all__ = ["GROUP", "ActionInfo", "discover", "list_actions", "resolve", "describe", "load", "UnknownActionError"]

GROUP = "datadog_case_actions.actions"


class ActionInfo(namedtuple("ActionInfo", "id title group effect preview distribution")):
    """One catalogue line: what ``list`` shows without importing the action."""

    __slots__ = ()

    def to_dict(self) -> dict[str, Any]:
        return dict(self._asdict())


class EntryPoint(namedtuple("EntryPoint", "name value group dist_name")):
    """One entry point of the group, as recorded in a distribution's ``entry_points.txt``."""

    __slots__ = ()

    @property
    def dist(self) -> Any:
        return _Dist(self.dist_name) if self.dist_name else None

    def load(self) -> Any:
        """Import ``module:attr.path``, as ``importlib.metadata.EntryPoint.load`` does."""
        import importlib

        module_name, _, attrs = self.value.partition(":")
        obj = importlib.import_module(module_name.strip())
        for attr in filter(None, attrs.strip().split(".")):
            obj = getattr(obj, attr)
        return obj


_Dist = namedtuple("_Dist", "name")


def _normalize(name: str) -> str:
    return name.replace("-", "_").replace(".", "_").lower()


def _scan(group: str) -> list[EntryPoint] | None:
    """Entry points of *group* read straight from the ``*.dist-info`` folders on ``sys.path``.

    Why not ``importlib.metadata.entry_points``: importing it costs ~25 ms (it
    pulls in the email package to parse METADATA), a third of a cold ``list``.
    This reads the same files in the same order with the same rule (the first
    distribution of a name on ``sys.path`` wins) and ``tests/test_registry.py``
    holds it equal to importlib.metadata.  Anything unusual on the path (a zip
    or egg file) returns None, and importlib.metadata does the job.
    """
    found: list[EntryPoint] = []
    seen: set[str] = set()
    for entry in sys.path:
        folder = entry or "."
        try:
            names = sorted(os.listdir(folder))
        except NotADirectoryError:
            return None
        except OSError:
            continue
        for name in names:
            if not name.endswith((".dist-info", ".egg-info")):
                continue
            meta = os.path.join(folder, name)
            if not os.path.isdir(meta):
                continue
            dist_name = _dist_name(meta, name)
            key = _normalize(dist_name)
            if key in seen:
                continue
            seen.add(key)
            found.extend(_entry_points(os.path.join(meta, "entry_points.txt"), group, dist_name))
    return found


def _dist_name(meta: str, folder_name: str) -> str:
    for file_name in ("METADATA", "PKG-INFO"):
        try:
            with open(os.path.join(meta, file_name), encoding="utf-8", errors="replace") as handle:
                for line in handle:
                    if line.startswith("Name:"):
                        return line[5:].strip()
                    if not line.strip():
                        break
        except OSError:
            continue
    return folder_name.rsplit(".", 1)[0].split("-", 1)[0]


def _entry_points(path: str, group: str, dist_name: str) -> list[EntryPoint]:
    try:
        with open(path, encoding="utf-8") as handle:
            text = handle.read()
    except OSError:
        return []
    out: list[EntryPoint] = []
    current = None
    for raw in text.splitlines():
        line = raw.strip()
        if not line or line.startswith(("#", ";")):
            continue
        if line.startswith("[") and line.endswith("]"):
            current = line[1:-1].strip()
        elif current == group and "=" in line:
            name, _, value = line.partition("=")
            out.append(EntryPoint(name.strip(), value.strip(), group, dist_name))
    return out


@lru_cache(maxsize=1)
def discover() -> dict[str, EntryPoint]:
    """Every action entry point of every installed distribution, by action id."""
    scanned = _scan(GROUP)
    if scanned is None:
        from importlib.metadata import entry_points

        scanned = [EntryPoint(ep.name, ep.value, GROUP, ep.dist.name if ep.dist else None)
                   for ep in entry_points(group=GROUP)]
    found: dict[str, EntryPoint] = {}
    for ep in scanned:
        found.setdefault(ep.name, ep)
    return found


def _summary(action_id: str) -> dict[str, Any] | None:
    return load_index().get("actions", {}).get(action_id)  # type: ignore[no-any-return]


def list_actions() -> list[ActionInfo]:
    """The installed catalogue, sorted by group then id."""
    out = []
    for action_id, ep in discover().items():
        summary = _summary(action_id) or _foreign_summary(action_id)
        dist = ep.dist_name
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
