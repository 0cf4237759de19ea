"""Strict in: validate flat inputs against the manifest and build the HTTP request.

Inputs are checked against the manifest's input schema (JSON Schema 2020-12)
and *every* violation is reported at once, each with its field path, before
anything touches the network.  The request is then built from the manifest's
``request`` binding: path parameters are percent-encoded into the path, query
parameters get their API names (``page_size`` -> ``page[size]``) and body
fields are placed at their JSON pointer inside the JSON:API envelope, together
with the constants that go with them (``"type": "case"``...).  Where the API
renamed an enum value (``execute_workflow`` -> ``EXECUTE_WORKFLOW``), the
binding's ``normalize`` member lists the old spellings, which are accepted and
replaced by the current ones before sending.
"""

from __future__ import annotations

import re
from typing import Any, Mapping, NamedTuple
from urllib.parse import quote

from .errors import InputError, Violation
from .fastcheck import FORMATS, Check, compile_schema

__all__ = ["PreparedRequest", "prepare", "validate", "validator_for"]


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
    if error.validator == "additionalProperties":
        extra = re.findall(r"'([^']+)'", error.message.split("(")[-1])
        return f"unknown field(s) {', '.join(extra)}" if extra else "unknown fields"
    if error.validator == "enum":
        allowed = ", ".join(map(str, error.validator_value))
        return f"{error.instance!r} is not one of: {allowed}"
    if error.validator == "type":
        expected = error.validator_value
        expected = " or ".join(expected) if isinstance(expected, list) else expected
        return f"expected {expected}, got {type(error.instance).__name__} {_short(error.instance)}"
    if error.validator == "pattern" and error.schema.get("x-pattern-message"):
        return str(error.schema["x-pattern-message"])
    return str(error.message)


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
    if fast is not None and fast(inputs if isinstance(inputs, dict) else dict(inputs)):
        bad_text = list(_invalid_text(inputs, ""))
        if bad_text:
            raise InputError(bad_text, action_id=key)
        return  # valid: the common case, decided without jsonschema
    validator = validator_for(manifest)
    errors = sorted(validator.iter_errors(dict(inputs)), key=lambda e: (list(map(str, e.absolute_path)), e.validator))
    if errors:
        violations = []
        for error in errors:
            # a oneOf/anyOf failure says little; its best sub-error names the real field
            best = error
            if error.context:
                from jsonschema.exceptions import best_match

                best = best_match(error.context) or error
            violations.append(Violation(field=_field_path(best), message=_message(best), validator=best.validator))
        raise InputError(violations, action_id=manifest["id"])
    bad_text = list(_invalid_text(inputs, ""))
    if bad_text:
        raise InputError(bad_text, action_id=key)


def _invalid_text(value: Any, path: str) -> Any:
    """Strings that cannot be sent as UTF-8 (lone surrogates, e.g. from a mis-decoded file name)."""
    if isinstance(value, str):
        if not value.isascii():
            try:
                value.encode("utf-8")
            except UnicodeEncodeError as exc:
                yield Violation(field=path, validator="unicode",
                                message=f"is not valid Unicode text (character {exc.start}: {value[exc.start]!r})")
    elif isinstance(value, Mapping):
        for name, item in value.items():
            yield from _invalid_text(item, f"{path}.{name}" if path else str(name))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _invalid_text(item, f"{path}[{index}]")


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


# The manifest's request binding, compiled once per action: pointers split, constants paired,
# old enum spellings by input name.
_Normalize = dict[str, tuple[tuple[tuple[str, ...], Mapping[str, str]], ...]]
_Plan = tuple[str, str, str, bool, tuple[str, ...], tuple[tuple[str, str], ...], Any,
              tuple[tuple[str, tuple[str, ...], tuple[tuple[tuple[str, ...], Any], ...]], ...], _Normalize]
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
        normalize = {name: tuple((tuple(e["steps"]), e["aliases"]) for e in entries)
                     for name, entries in binding.get("normalize", {}).items()}
        plan = (key, manifest["method"], manifest["path"], bool(manifest["idempotent"]),
                tuple(binding.get("path", ())), tuple(binding.get("query", {}).items()),
                binding.get("body_template"), fields, normalize)
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
    action_id, method, path, idempotent, path_names, query, template, fields, normalize = _plan(manifest)
    for name in path_names:
        path = path.replace("{" + name + "}", quote(str(inputs[name]), safe=""))
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
