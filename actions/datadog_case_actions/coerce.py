"""Turn ``key=value`` text into typed inputs, guided by an action's input schema.

Shared by the command line and the chat adapter: ``priority=P1`` stays a
string, ``page_size=50`` becomes 50, ``sort_asc=false`` becomes False,
``case_ids=A,B`` becomes ``["A", "B"]``, and ``key:=<json>`` takes raw JSON.
Anything that cannot be coerced is left as text, so the schema validation that
follows reports it with the field's name instead of a parse error here.
Standard library only.
"""

from __future__ import annotations

import json
from typing import Any, Mapping

__all__ = ["coerce_value", "parse_assignments"]

_TRUE = {"true", "yes", "y", "on", "1"}
_FALSE = {"false", "no", "n", "off", "0"}


def _types(schema: Mapping[str, Any]) -> list[str]:
    t = schema.get("type")
    if isinstance(t, list):
        return [str(x) for x in t]
    if isinstance(t, str):
        return [t]
    out: list[str] = []
    for option in schema.get("anyOf", []) or schema.get("oneOf", []):
        out += [x for x in _types(option) if x not in out]
    return out


def coerce_value(text: str, schema: Mapping[str, Any] | None) -> Any:
    """*text* as the type the property schema asks for (text itself when unsure)."""
    if schema is None:
        return text
    types = _types(schema)
    stripped = text.strip()
    if "null" in types and stripped.lower() in {"null", "none"}:
        return None
    for t in types:
        if t == "boolean" and stripped.lower() in _TRUE | _FALSE:
            return stripped.lower() in _TRUE
        if t == "integer":
            try:
                return int(stripped)
            except ValueError:
                pass
            try:
                whole = float(stripped)  # "5.0" and "1e3" are integers too; "nan" and "inf" are not
            except ValueError:
                pass
            else:
                if whole.is_integer():
                    return int(whole)
        if t == "number":
            try:
                number = float(stripped)
                return int(number) if number.is_integer() and "." not in stripped and "e" not in stripped.lower() else number
            except ValueError:
                pass
        if t in {"array", "object"} and stripped[:1] in "[{":
            try:
                return json.loads(stripped)
            except json.JSONDecodeError:
                pass
        if t == "array" and stripped[:1] not in "[{":
            items = schema.get("items", {}) if isinstance(schema.get("items"), Mapping) else {}
            return [coerce_value(part, items) for part in stripped.split(",") if part.strip()] if stripped else []
        if t == "string":
            return text
    return text


def parse_assignments(pairs: list[str], input_schema: Mapping[str, Any]) -> dict[str, Any]:
    """``["title=DB down", "page_size=5", "payload:={\\"priority\\": \\"P1\\"}"]`` -> typed dict.

    Raises ``ValueError`` naming the pair for text that is no assignment or
    invalid raw JSON.
    """
    properties = input_schema.get("properties", {})
    out: dict[str, Any] = {}
    for pair in pairs:
        raw_json = False
        if ":=" in pair and ("=" not in pair or pair.index(":=") < pair.index("=")):
            key, _, value = pair.partition(":=")
            raw_json = True
        elif "=" in pair:
            key, _, value = pair.partition("=")
        else:
            raise ValueError(f"{pair!r} is not key=value")
        key = key.strip()
        if not key:
            raise ValueError(f"{pair!r} has no field name before '='")
        if raw_json:
            try:
                out[key] = json.loads(value)
            except json.JSONDecodeError as exc:
                raise ValueError(f"{key}: invalid JSON after ':=' ({exc.msg})") from None
        else:
            out[key] = coerce_value(value, properties.get(key))
    return out
