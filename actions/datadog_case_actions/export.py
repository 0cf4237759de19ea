"""The whole catalogue as one JSON document, for low-code builders and form renderers.

    dd-cases export [--output catalogue.json] [--compact]

Every action with its manifest fields and JSON Schemas that a form renderer can
use directly: self-contained (no ``$ref``), every enum with its values, every
property typed.  Standard library only, like listing.
"""

from __future__ import annotations

import argparse
import json
import sys
from typing import Any, Sequence, TextIO

from . import __version__, registry

__all__ = ["export_catalogue", "main", "FORMAT_VERSION"]

FORMAT_VERSION = 1
_FIELDS = ("id", "operation_id", "title", "description", "group", "method", "path", "scope", "preview", "effect",
           "idempotent", "success_status", "input_schema", "output_schema", "examples", "notes", "pagination")


def _inline(schema: Any, root: Any, depth: int = 0) -> Any:
    """*schema* with every local ``$ref`` replaced by what it points to (the manifests have none today;
    a plugin's might)."""
    if depth > 50:
        raise ValueError("schema references nest too deep (a cycle?)")
    if isinstance(schema, dict):
        if "$ref" in schema and isinstance(schema["$ref"], str) and schema["$ref"].startswith("#/"):
            target: Any = root
            for part in schema["$ref"][2:].split("/"):
                target = target[part.replace("~1", "/").replace("~0", "~")]
            rest = {k: v for k, v in schema.items() if k != "$ref"}
            return _inline({**target, **rest}, root, depth + 1)
        return {k: _inline(v, root, depth + 1) for k, v in schema.items() if k not in ("$defs", "definitions")}
    if isinstance(schema, list):
        return [_inline(v, root, depth + 1) for v in schema]
    return schema


def export_catalogue() -> dict[str, Any]:
    """Every installed action's manifest, schemas self-contained, sorted by id."""
    actions = []
    for info in sorted(registry.list_actions(), key=lambda a: a.id):
        manifest = registry.describe(info.id)
        entry = {key: manifest[key] for key in _FIELDS if key in manifest}
        for key in ("input_schema", "output_schema"):
            entry[key] = _inline(manifest[key], manifest[key])
        entry["distribution"] = info.distribution
        actions.append(entry)
    return {"format_version": FORMAT_VERSION, "package": "datadog-case-actions", "package_version": __version__,
            "count": len(actions), "actions": actions}


def main(argv: Sequence[str] | None = None, out: TextIO | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd-cases export",
                                     description="Export every action (manifest and self-contained JSON Schemas) "
                                                 "as one JSON document, for low-code builders and form renderers.")
    parser.add_argument("--output", "-o", metavar="FILE", help="write to FILE instead of stdout")
    parser.add_argument("--compact", action="store_true", help="one line instead of indented JSON")
    args = parser.parse_args(argv)
    text = json.dumps(export_catalogue(), indent=None if args.compact else 2, ensure_ascii=False,
                      separators=(",", ":") if args.compact else None) + "\n"
    if args.output:
        with open(args.output, "w", encoding="utf-8") as handle:
            handle.write(text)
    else:
        (out or sys.stdout).write(text)
    return 0


if __name__ == "__main__":  # pragma: no cover
    raise SystemExit(main())
