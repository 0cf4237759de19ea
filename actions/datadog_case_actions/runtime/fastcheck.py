"""A compiled yes/no check for the JSON Schema subset the manifests use.

Why: jsonschema is the validator of record (its error objects give the field
paths users see), but walking a schema through it costs tens of microseconds
per call and ~25 ms of imports in a fresh process.  Almost every call is
valid, so we first ask this compiled predicate; only when it says "no" does
``request.validate`` run jsonschema to explain why.  The predicate must never
accept what jsonschema rejects: ``tests/test_fastcheck.py`` holds it to that on
every manifest's examples and on generated valid and invalid inputs.

Schemas using any keyword outside ``SUPPORTED`` compile to ``None``, which
means "always ask jsonschema".
"""

from __future__ import annotations

import datetime as _dt
import re
from typing import Any, Callable, Mapping

__all__ = ["compile_schema", "SUPPORTED", "FORMATS", "TYPES"]

Check = Callable[[Any], bool]

#: Keywords with no effect on validity.
_ANNOTATIONS = {"$schema", "title", "description", "examples", "default", "x-pattern-message", "deprecated",
                "readOnly", "writeOnly", "$comment", "x-aliases", "x-live-values"}
SUPPORTED = _ANNOTATIONS | {"type", "enum", "const", "properties", "required", "additionalProperties", "items",
                            "minItems", "maxItems", "minLength", "maxLength", "pattern", "format", "minimum",
                            "maximum", "exclusiveMinimum", "exclusiveMaximum", "anyOf", "dependentRequired"}


class Unsupported(Exception):
    pass


def _is_number(v: Any) -> bool:
    return isinstance(v, (int, float)) and not isinstance(v, bool)


TYPES: dict[str, Check] = {
    "string": lambda v: isinstance(v, str),
    "boolean": lambda v: isinstance(v, bool),
    "null": lambda v: v is None,
    "object": lambda v: isinstance(v, dict),
    "array": lambda v: isinstance(v, list),
    "number": _is_number,
    # JSON Schema counts 1.0 as an integer, and never a bool.
    "integer": lambda v: (isinstance(v, int) and not isinstance(v, bool)) or (isinstance(v, float) and v.is_integer()),
}


def _date_time(v: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d[Tt ]\d\d:\d\d:\d\d(\.\d+)?([Zz]|[+-]\d\d:?\d\d)?", v):
        return False
    try:
        _dt.datetime.fromisoformat(v.replace("Z", "+00:00").replace("z", "+00:00"))
    except ValueError:
        return False
    return True


def _date(v: str) -> bool:
    if not re.fullmatch(r"\d{4}-\d\d-\d\d", v):
        return False
    try:
        _dt.date.fromisoformat(v)
    except ValueError:
        return False
    return True


def _uuid_ok(v: str) -> bool:
    import uuid as _uuid  # only when a uuid-format field is present: keeps cold starts short

    try:
        _uuid.UUID(v)
    except ValueError:
        return False
    return True


# Must agree with the format checks registered in request.validator_for; other formats are not asserted.
FORMATS: dict[str, Callable[[str], bool]] = {"date-time": _date_time, "date": _date, "uuid": _uuid_ok}


def _equal(a: Any, b: Any) -> bool:
    """JSON equality as jsonschema sees it: booleans are not numbers."""
    if isinstance(a, bool) or isinstance(b, bool):
        return isinstance(a, bool) and isinstance(b, bool) and a == b
    if isinstance(a, dict) and isinstance(b, dict):
        return a.keys() == b.keys() and all(_equal(a[k], b[k]) for k in a)
    if isinstance(a, list) and isinstance(b, list):
        return len(a) == len(b) and all(_equal(x, y) for x, y in zip(a, b))
    if _is_number(a) and _is_number(b):
        return bool(a == b)
    return type(a) is type(b) and bool(a == b)



# Small check factories: each returns a closure over its own values (built once per schema, called per input).


def _any_of(tests: tuple[Check, ...]) -> Check:
    return lambda v: any(t(v) for t in tests)


def _at_least(n: int) -> Check:
    return lambda v: len(v) >= n


def _at_most(n: int) -> Check:
    return lambda v: len(v) <= n


def _matches(rx: re.Pattern[str]) -> Check:
    return lambda s: rx.search(s) is not None


def _when(applies: Check, checks: tuple[Check, ...]) -> Check:
    """The *checks* hold for values *applies* to (JSON Schema keywords ignore other types)."""
    return lambda v: not applies(v) or all(c(v) for c in checks)


def _bounded(test: Callable[[Any, Any], bool], bound: Any) -> Check:
    return lambda x: test(x, bound)


def _each(check: Check) -> Check:
    return lambda items: all(check(x) for x in items)


_BOUNDS: tuple[tuple[str, Callable[[Any, Any], bool]], ...] = (
    ("minimum", lambda x, b: x >= b), ("maximum", lambda x, b: x <= b),
    ("exclusiveMinimum", lambda x, b: x > b), ("exclusiveMaximum", lambda x, b: x < b),
)


def _compile(schema: Any) -> Check:
    if schema is True or schema == {}:
        return lambda v: True
    if schema is False:
        return lambda v: False
    if not isinstance(schema, Mapping):
        raise Unsupported(repr(schema))
    unknown = set(schema) - SUPPORTED
    if unknown:
        raise Unsupported(", ".join(sorted(unknown)))
    checks: list[Check] = []

    kind = schema.get("type")
    if kind is not None:
        kinds = [kind] if isinstance(kind, str) else list(kind)
        tests = [TYPES[k] for k in kinds]
        checks.append(tests[0] if len(tests) == 1 else _any_of(tuple(tests)))

    if "enum" in schema:
        options = list(schema["enum"])
        if all(isinstance(o, str) for o in options):
            allowed = frozenset(options)
            checks.append(lambda v: isinstance(v, str) and v in allowed)
        else:
            checks.append(lambda v: any(_equal(v, o) for o in options))
    if "const" in schema:
        constant = schema["const"]
        checks.append(lambda v: _equal(v, constant))

    string_checks: list[Check] = []
    if "minLength" in schema:
        string_checks.append(_at_least(schema["minLength"]))
    if "maxLength" in schema:
        string_checks.append(_at_most(schema["maxLength"]))
    if "pattern" in schema:
        string_checks.append(_matches(re.compile(schema["pattern"])))
    if schema.get("format") in FORMATS:
        string_checks.append(FORMATS[schema["format"]])
    if string_checks:
        checks.append(_when(lambda v: isinstance(v, str), tuple(string_checks)))

    number_checks: list[Check] = []
    for key, test in _BOUNDS:
        if key in schema:
            number_checks.append(_bounded(test, schema[key]))
    if number_checks:
        checks.append(_when(_is_number, tuple(number_checks)))

    array_checks: list[Check] = []
    if "minItems" in schema:
        array_checks.append(_at_least(schema["minItems"]))
    if "maxItems" in schema:
        array_checks.append(_at_most(schema["maxItems"]))
    if "items" in schema:
        item = _compile(schema["items"])
        array_checks.append(_each(item))
    if array_checks:
        checks.append(_when(lambda v: isinstance(v, list), tuple(array_checks)))

    if {"properties", "required", "additionalProperties"} & set(schema):
        properties = {name: _compile(sub) for name, sub in schema.get("properties", {}).items()}
        required = tuple(schema.get("required", ()))
        extra = schema.get("additionalProperties", True)
        extra_check = None if extra is True else _compile(extra)

        def object_check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            for name in required:
                if name not in v:
                    return False
            for name, value in v.items():
                check = properties.get(name)
                if check is not None:
                    if not check(value):
                        return False
                elif extra_check is not None and not extra_check(value):
                    return False
            return True

        checks.append(object_check)

    if "dependentRequired" in schema:
        dependent = {k: tuple(v) for k, v in schema["dependentRequired"].items()}

        def dependent_check(v: Any) -> bool:
            if not isinstance(v, dict):
                return True
            return all(all(d in v for d in deps) for key, deps in dependent.items() if key in v)

        checks.append(dependent_check)

    if "anyOf" in schema:
        options_ = [_compile(s) for s in schema["anyOf"]]
        checks.append(lambda v: any(c(v) for c in options_))

    if not checks:
        return lambda v: True
    if len(checks) == 1:
        return checks[0]
    all_checks = tuple(checks)
    return lambda v: all(c(v) for c in all_checks)


def compile_schema(schema: Mapping[str, Any]) -> Check | None:
    """A predicate that is True only for instances jsonschema would accept, or None if unsupported."""
    try:
        return _compile(schema)
    except (Unsupported, re.error, KeyError, TypeError):
        return None
