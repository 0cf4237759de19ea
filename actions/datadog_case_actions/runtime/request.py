"""Strict in: validate flat inputs against the manifest and build the HTTP request.

Inputs are checked against the manifest's input schema (JSON Schema 2020-12)
and *every* violation is reported at once, each with its field path, before
anything touches the network.  The request is then built from the manifest's
``request`` binding: path parameters are percent-encoded into the path, query
parameters get their API names (``page_size`` -> ``page[size]``) and body
fields are placed at their JSON pointer inside the JSON:API envelope, together
with the constants that go with them (``"type": "case"``...).

Beyond the schema, every input must be sendable: text valid as UTF-8, numbers
finite (JSON has no NaN or Infinity), and every path parameter one real path
segment (``path_parameter_schema``, which the generator writes into every
manifest and ``build`` enforces again).  Integral values of integer fields go
out as integers (``5.0`` -> ``5``).
Where the API renamed an enum value (``execute_workflow`` -> ``EXECUTE_WORKFLOW``), the
binding's ``normalize`` member lists the old spellings, which are accepted and
replaced by the current ones before sending.
"""

from __future__ import annotations

import math
import re
from typing import Any, Callable, Mapping, NamedTuple
from urllib.parse import quote

from .errors import InputError, Violation
from .fastcheck import FORMATS, Check, compile_schema

__all__ = ["PreparedRequest", "prepare", "validate", "validator_for", "path_parameter_schema",
           "PATH_PARAMETER_MAX_LENGTH"]

#: Longer than any identifier the API issues; percent-encoded (up to 12 characters per character)
#: it stays far below httpx's 64 kB URL limit and the usual 8 kB request-line limits of proxies.
PATH_PARAMETER_MAX_LENGTH = 512
# One segment, and not a dot segment: '.' and '..' are removed by URL normalisation (RFC 3986
# 5.2.4), so GET /cases/. would become GET /cases.  Any '..' is refused, not only a whole one.
_PATH_PARAMETER_PATTERN = r"^(?!\.$)(?!.*\.\.)[^/?#]*$"  # empty: minLength alone says so
_PATH_PARAMETER_MESSAGE = "must be a single path segment: not '.', no '/', '?', '#' or '..'"
_SEGMENT = re.compile(_PATH_PARAMETER_PATTERN)


def path_parameter_schema(schema: Mapping[str, Any]) -> dict[str, Any]:
    """*schema* of a path parameter with the one rule every path parameter follows."""
    return {**schema, "minLength": 1, "maxLength": PATH_PARAMETER_MAX_LENGTH, "pattern": _PATH_PARAMETER_PATTERN,
            "x-pattern-message": _PATH_PARAMETER_MESSAGE}


def _segment_violation(name: str, value: str) -> Violation | None:
    """The same rule as ``path_parameter_schema``, for ``build``: it holds even for a manifest without it."""
    if not value:
        return Violation(field=name, message="must not be empty", validator="minLength")
    if len(value) > PATH_PARAMETER_MAX_LENGTH:
        return Violation(field=name, validator="maxLength",
                         message=f"is {len(value)} characters long, at most {PATH_PARAMETER_MAX_LENGTH} allowed")
    if not _SEGMENT.search(value):
        return Violation(field=name, message=_PATH_PARAMETER_MESSAGE, validator="pattern")
    return None


class PreparedRequest(NamedTuple):
    """An HTTP request ready to send; holds no credentials (see ``Connection``)."""

    action_id: str
    method: str
    path: str
    params: tuple[tuple[str, str], ...] = ()
    body: Any = None
    idempotent: bool = False

    def to_dict(self) -> dict[str, Any]:
        return {"method": self.method, "path": self.path, "params": dict(self.params), "body": self.body}


def _format(name: str) -> Any:
    check = FORMATS[name]
    return lambda value: not isinstance(value, str) or check(value)


_validators: dict[str, Any] = {}
_fast_checks: dict[str, Check | None] = {}


def validator_for(manifest: Mapping[str, Any]) -> Any:
    """The compiled (cached) jsonschema validator of a manifest's input schema."""
    key = manifest["id"]
    found = _validators.get(key)
    if found is None:
        from jsonschema import Draft202012Validator, FormatChecker

        checker = FormatChecker(formats=())
        # Our own checks: jsonschema's date-time check silently needs an extra package.
        for name in FORMATS:
            checker.checks(name)(_format(name))
        found = Draft202012Validator(manifest["input_schema"], format_checker=checker)
        _validators[key] = found
    return found


def _field_path(error: Any) -> str:
    parts = list(error.absolute_path)
    text = ""
    for part in parts:
        text += f"[{part}]" if isinstance(part, int) else (f".{part}" if text else str(part))
    if error.validator == "dependentRequired":
        missing = re.match(r"'([^']+)' is a dependency of '([^']+)'", error.message)
        if missing:
            return f"{text}.{missing.group(1)}" if text else missing.group(1)
    if error.validator == "required":
        missing = re.search(r"'([^']+)' is a required property", error.message)
        if missing:
            text = f"{text}.{missing.group(1)}" if text else missing.group(1)
    return text


def _message(error: Any) -> str:
    if error.validator == "required":
        return "is required"
    if error.validator == "dependentRequired":
        given = re.match(r"'([^']+)' is a dependency of '([^']+)'", error.message)
        return f"is required when {given.group(2)} is given" if given else str(error.message)
    if error.validator == "minLength" and isinstance(error.instance, str):
        least = error.validator_value
        return "must not be empty" if least == 1 else f"must be at least {least} characters"
    if error.validator == "maxLength" and isinstance(error.instance, str):
        return f"is {len(error.instance)} characters long, at most {error.validator_value} allowed"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {type(error.instance).__name__} {_short(error.instance)}"
    if error.validator == "pattern" and error.schema.get("x-pattern-message"):
        return str(error.schema["x-pattern-message"])
    # jsonschema's own messages quote the whole value: keep a 70 kB input out of the error
    return str(error.message) if len(error.message) <= 300 else error.message[:297] + "..."


def _unknown_fields(error: Any) -> list[Violation]:
    """One violation per unexpected key of an ``additionalProperties: false`` object, with a suggestion."""
    import difflib  # only to explain a refusal: no cold-start cost for valid calls

    known = error.schema.get("properties", {})
    by_lower = {name.lower(): name for name in known}  # 'Title' and 'TITEL' find title too
    parent = _field_path(error)
    out = []
    for key in error.instance:
        if key in known:
            continue
        close = difflib.get_close_matches(str(key).lower(), list(by_lower), n=1, cutoff=0.6)
        hint = f"; did you mean {by_lower[close[0]]}?" if close else ""
        out.append(Violation(field=f"{parent}.{key}" if parent else str(key), message=f"unknown field{hint}",
                             validator="additionalProperties"))
    return out


def _short(value: Any) -> str:
    text = repr(value)
    return text if len(text) <= 60 else text[:57] + "..."


def validate(manifest: Mapping[str, Any], inputs: Any) -> None:
    """Raise ``InputError`` listing every violation of the input schema."""
    if not isinstance(inputs, Mapping):
        raise InputError(
            [Violation(field="", message=f"inputs must be an object, got {type(inputs).__name__}", validator="type")],
            action_id=manifest["id"],
        )
    key = manifest["id"]
    try:
        fast = _fast_checks[key]
    except KeyError:
        fast = _fast_checks[key] = compile_schema(manifest["input_schema"])
    unsendable = list(_unsendable(inputs, ""))
    if fast is not None and fast(inputs if isinstance(inputs, dict) else dict(inputs)):
        if unsendable:
            raise InputError(unsendable, action_id=key)
        return  # valid: the common case, decided without jsonschema
    validator = validator_for(manifest)
    errors = sorted(validator.iter_errors(dict(inputs)), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    # a field that cannot be sent at all is reported as that, not also as a schema violation
    violations = list(unsendable)
    taken = {v.field for v in unsendable}
    for error in errors:
        # a oneOf/anyOf failure says little; its best sub-error names the real field
        best = error
        if error.context:
            from jsonschema.exceptions import best_match

            best = best_match(error.context) or error
        found = (_unknown_fields(best) if best.validator == "additionalProperties"
                 else [Violation(field=_field_path(best), message=_message(best), validator=best.validator)])
        violations += [v for v in found if v.field not in taken]
    if violations:
        raise InputError(violations, action_id=key)


def _unsendable(value: Any, path: str) -> Any:
    """Values JSON cannot carry: lone surrogates (e.g. from a mis-decoded file name), NaN and infinities."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                yield Violation(field=path, validator="unicode",
                                message=f"is not valid Unicode text (character {exc.start}: {value[exc.start]!r})")
    elif isinstance(value, float):
        if not math.isfinite(value):
            yield Violation(field=path, validator="finite", message=f"must be a finite number, got {value}")
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _unsendable(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, (list, tuple)):
        for index, item in enumerate(value):
            yield from _unsendable(item, f"{path}[{index}]")


def _copy(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _copy(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_copy(v) for v in value]
    return value


def _place(doc: dict[str, Any], keys: tuple[str, ...], value: Any) -> None:
    node = doc
    for key in keys[:-1]:
        child = node.get(key)
        if not isinstance(child, dict):
            child = node[key] = {}
        node = child
    node[keys[-1]] = value


def _query_value(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, (list, tuple)):
        return ",".join(_query_value(v) for v in value)
    return str(value)


def _keys(pointer: str) -> tuple[str, ...]:
    return tuple(pointer.lstrip("/").split("/"))


def _as_int(value: Any) -> Any:
    return int(value) if isinstance(value, float) and value.is_integer() else value


def _integer_fixer(schema: Any) -> Callable[[Any], Any] | None:
    """A function giving the integer fields under *schema* as ints (``5.0`` -> ``5``); None if there are none.

    JSON Schema counts 5.0 as an integer, but ``page[size]=5.0`` or ``"priority": 5.0``
    is refused by APIs that parse integers strictly.
    """
    if not isinstance(schema, Mapping):
        return None
    kinds = schema.get("type", ())
    kinds = [kinds] if isinstance(kinds, str) else list(kinds)
    steps: list[Callable[[Any], Any]] = []
    if "integer" in kinds and "number" not in kinds:
        steps.append(_as_int)
    fields = {name: fix for name, sub in schema.get("properties", {}).items() if (fix := _integer_fixer(sub))}
    extra = _integer_fixer(schema.get("additionalProperties"))
    if fields or extra:
        known = frozenset(schema.get("properties", {}))

        def fix_object(value: Any) -> Any:
            if not isinstance(value, dict):
                return value
            out = {}
            for name, item in value.items():
                fix = fields.get(name) if name in known else extra
                out[name] = fix(item) if fix is not None else item
            return out

        steps.append(fix_object)
    item_fix = _integer_fixer(schema.get("items"))
    if item_fix is not None:
        steps.append(lambda value: [item_fix(v) for v in value] if isinstance(value, list) else value)
    for option in [*schema.get("anyOf", ()), *schema.get("oneOf", ())]:
        # each step only touches values of its own shape, so all options' steps can run in turn
        fix = _integer_fixer(option)
        if fix is not None:
            steps.append(fix)
    if not steps:
        return None
    if len(steps) == 1:
        return steps[0]

    def run_all(value: Any) -> Any:
        for step in steps:
            value = step(value)
        return value

    return run_all


# The manifest's request binding, compiled once per action: pointers split, constants paired,
# old enum spellings by input name.
_Normalize = dict[str, tuple[tuple[tuple[str, ...], Mapping[str, str]], ...]]


class _Plan(NamedTuple):
    action_id: str
    method: str
    path: str
    idempotent: bool
    path_names: tuple[str, ...]
    query: tuple[tuple[str, str], ...]
    template: Any
    fields: tuple[tuple[str, tuple[str, ...], tuple[tuple[tuple[str, ...], Any], ...]], ...]
    integers: tuple[tuple[str, Callable[[Any], Any]], ...]
    normalize: _Normalize


_plans: dict[str, _Plan] = {}


def _plan(manifest: Mapping[str, Any]) -> _Plan:
    key = manifest["id"]
    plan = _plans.get(key)
    if plan is None:
        binding = manifest["request"]
        fields = tuple(
            (name, _keys(spec["pointer"]), tuple((_keys(p), c) for p, c in spec.get("with", {}).items()))
            for name, spec in binding.get("body", {}).items()
        )
        integers = tuple((name, fix) for name, sub in manifest["input_schema"].get("properties", {}).items()
                         if (fix := _integer_fixer(sub)) is not None)
        normalize = {name: tuple((tuple(e["steps"]), e["aliases"]) for e in entries)
                     for name, entries in binding.get("normalize", {}).items()}
        plan = _Plan(key, manifest["method"], manifest["path"], bool(manifest["idempotent"]),
                     tuple(binding.get("path", ())), tuple(binding.get("query", {}).items()),
                     binding.get("body_template"), fields, integers, normalize)
        _plans[key] = plan
    return plan


def _current_spelling(value: Any, steps: tuple[str, ...], aliases: Mapping[str, str]) -> Any:
    """*value* (already a copy) with the old spelling at *steps* (names, ``[]`` for items) replaced."""
    if not steps:
        return aliases.get(value, value) if isinstance(value, str) else value
    step, rest = steps[0], steps[1:]
    if step == "[]" and isinstance(value, list):
        return [_current_spelling(item, rest, aliases) for item in value]
    if isinstance(value, dict) and step in value:
        value[step] = _current_spelling(value[step], rest, aliases)
    return value


def build(manifest: Mapping[str, Any], inputs: Mapping[str, Any]) -> PreparedRequest:
    """The request for already-validated *inputs* (see ``prepare``)."""
    action_id, method, path, idempotent, path_names, query, template, fields, integers, normalize = _plan(manifest)
    if integers and any(name in inputs for name, _ in integers):
        inputs = {**inputs, **{name: fix(inputs[name]) for name, fix in integers if name in inputs}}
    refused = []
    for name in path_names:
        value = str(inputs[name])
        problem = _segment_violation(name, value)
        if problem is not None:
            refused.append(problem)
        path = path.replace("{" + name + "}", quote(value, safe=""))
    if refused:
        raise InputError(refused, action_id=action_id)
    params = tuple(
        (api_name, _query_value(inputs[name]))
        for name, api_name in query
        if name in inputs and inputs[name] is not None
    )
    body = None
    if template is not None or fields:
        body = _copy(template) if template is not None else {}
        for name, keys, constants in fields:
            if name in inputs:
                value = inputs[name]
                value = _copy(value) if isinstance(value, (dict, list)) else value
                for steps, aliases in normalize.get(name, ()):
                    value = _current_spelling(value, steps, aliases)
                _place(body, keys, value)
                for constant_keys, constant in constants:
                    _place(body, constant_keys, constant)
    return PreparedRequest(action_id=action_id, method=method, path=path, params=params, body=body,
                           idempotent=idempotent)


def prepare(manifest: Mapping[str, Any], inputs: Any) -> PreparedRequest:
    """Validate *inputs* against the manifest, then build the request."""
    validate(manifest, inputs)
    return build(manifest, inputs)
