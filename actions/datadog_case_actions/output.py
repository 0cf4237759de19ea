"""How ``dd-cases run`` prints results: a readable table, JSON, or NDJSON, with an optional field selection.

    table   one row per item (a list result) or one line per field (a single resource); the default on a terminal
    json    the API's document as it came (the default when stdout is not a terminal); with --all-pages, one
            JSON array of every item, streamed, so ``json.load`` always works
    ndjson  one item per line (a single result is one line), for ``jq -c`` and line-by-line processing

``--fields key,title,status`` picks fields by name: an item's own members first (``id``, ``type``),
then its ``attributes`` (``key``, ``title``...), or a dotted path (``relationships.project.data.id``).
"""

from __future__ import annotations

import json
from typing import Any, Iterable, Iterator, Sequence, TextIO

__all__ = ["FORMATS", "Printer", "items_of", "pick"]

FORMATS = ("table", "json", "ndjson")

#: the columns a table shows when no --fields are given, in this order, where an item has them
_PREFERRED = ("key", "title", "name", "status", "priority", "created_at")
_MAX_CELL = 60


def pick(item: Any, field: str) -> Any:
    """The value of *field* in *item*: its own member, else its ``attributes``' member, else a dotted path."""
    if not isinstance(item, dict):
        return None
    if field in item:
        return item[field]
    attributes = item.get("attributes")
    if isinstance(attributes, dict) and field in attributes:
        return attributes[field]
    value: Any = item
    for part in field.split("."):
        if not isinstance(value, dict) or part not in value:
            return None
        value = value[part]
    return value


def items_of(document: Any) -> list[Any] | None:
    """The items of a list result (``{"data": [...]}``), or None for a single resource or an empty answer."""
    if isinstance(document, dict) and isinstance(document.get("data"), list):
        return list(document["data"])
    return None


def _cell(value: Any) -> str:
    if value is None:
        return ""
    text = value if isinstance(value, str) else json.dumps(value, ensure_ascii=False, separators=(",", ":"))
    text = " ".join(text.split())  # one line per row, whatever the value holds
    return text if len(text) <= _MAX_CELL else text[: _MAX_CELL - 1] + "…"


def _default_columns(items: Sequence[Any]) -> list[str]:
    present = [f for f in _PREFERRED if any(pick(i, f) is not None for i in items)]
    has_id = any(isinstance(i, dict) and "id" in i for i in items)
    if "key" in present or not has_id:
        return present or ["id"]
    return ["id", *present]


class Printer:
    """Writes results in one format; a paged result is written item by item as it arrives."""

    def __init__(self, out: TextIO, fmt: str, fields: Sequence[str] | None = None, *, compact: bool = False) -> None:
        if fmt not in FORMATS:
            raise ValueError(f"unknown output format {fmt!r}; one of: {', '.join(FORMATS)}")
        self.out, self.fmt, self.fields, self.compact = out, fmt, list(fields or []), compact
        self._widths: list[int] = []

    def _select(self, item: Any) -> Any:
        return {f: pick(item, f) for f in self.fields} if self.fields else item

    def _json(self, value: Any, *, one_line: bool) -> str:
        if one_line:
            return json.dumps(value, separators=(",", ":"), ensure_ascii=False)
        return json.dumps(value, indent=2, ensure_ascii=False)

    # -- one result --------------------------------------------------------------------------------------------

    def document(self, document: Any) -> None:
        """Print one action's result."""
        items = items_of(document)
        if self.fmt == "json":
            if self.fields:
                value: Any = [self._select(i) for i in items] if items is not None else self._select(
                    document.get("data") if isinstance(document, dict) else document)
            else:
                value = document
            self.out.write(self._json(value, one_line=self.compact) + "\n")
        elif self.fmt == "ndjson":
            if items is not None:
                for item in items:
                    self.out.write(self._json(self._select(item), one_line=True) + "\n")
            else:
                data = document.get("data", document) if isinstance(document, dict) else document
                self.out.write(self._json(self._select(data) if self.fields else document, one_line=True) + "\n")
        elif items is not None:
            self._table(items, total=_total(document))
        else:
            self._record(document)

    def _record(self, document: Any) -> None:
        data = document.get("data") if isinstance(document, dict) else None
        if not isinstance(data, dict):
            self.out.write(("(no content)" if document in ({}, None) else self._json(document, one_line=False)) + "\n")
            return
        if self.fields:
            pairs = [(name, pick(data, name)) for name in self.fields]
        else:  # the resource's id and type, then its attributes as they came (one named "attributes" too)
            attributes = data.get("attributes")
            pairs = [("id", data.get("id")), ("type", data.get("type")),
                     *(attributes.items() if isinstance(attributes, dict) else [])]
        width = max(len(str(name)) for name, _ in pairs)
        for name, value in pairs:
            self.out.write(f"{name:<{width}}  {_cell(value)}\n")

    def _table(self, items: Sequence[Any], *, total: int | None = None) -> None:
        columns = self.fields or _default_columns(items)
        count = self._write_rows([[_cell(pick(i, c)) for c in columns] for i in items], columns, None)
        more = f" of {total}" if total is not None and total > count else ""
        self.out.write(f"{count}{more} item{'s' if count != 1 else ''}\n")

    def _write_rows(self, rows: list[list[str]], columns: list[str], widths: list[int] | None) -> int:
        header = widths is None
        widths = widths or [max([len(c), *(len(r[n]) for r in rows)]) for n, c in enumerate(columns)]
        self._widths = widths
        if header:
            self.out.write("  ".join(c.upper().ljust(w) for c, w in zip(columns, widths)).rstrip() + "\n")
        for row in rows:
            self.out.write("  ".join(v.ljust(w) for v, w in zip(row, widths)).rstrip() + "\n")
        return len(rows)

    # -- every page --------------------------------------------------------------------------------------------

    def stream(self, items: Iterable[Any]) -> int:
        """Print every item of a paged result as it arrives; returns how many."""
        count = 0
        if self.fmt == "ndjson":
            for count, item in enumerate(items, 1):
                self.out.write(self._json(self._select(item), one_line=True) + "\n")
        elif self.fmt == "json":  # one JSON array, written as it grows: memory stays one page
            self.out.write("[")
            for count, item in enumerate(items, 1):
                text = self._json(self._select(item), one_line=self.compact)
                self.out.write(("\n" if count == 1 else ",\n") + ("  " + text.replace("\n", "\n  ")))
            self.out.write("\n]\n" if count else "]\n")
        else:  # one table; its columns and widths come from the first hundred rows
            columns: list[str] | None = None
            widths: list[int] | None = None
            for chunk in _chunks(items, 100):
                columns = columns or self.fields or _default_columns(chunk)
                count += self._write_rows([[_cell(pick(i, c)) for c in columns] for i in chunk], columns, widths)
                widths = self._widths
            self.out.write(f"{count} item{'s' if count != 1 else ''}\n")
        return count


def _chunks(items: Iterable[Any], size: int) -> Iterator[list[Any]]:
    chunk: list[Any] = []
    for item in items:
        chunk.append(item)
        if len(chunk) == size:
            yield chunk
            chunk = []
    if chunk:
        yield chunk


def _total(document: Any) -> int | None:
    meta = document.get("meta") if isinstance(document, dict) else None
    page = meta.get("page") if isinstance(meta, dict) else None
    total = page.get("total_count", page.get("total")) if isinstance(page, dict) else None
    return total if isinstance(total, int) else None
