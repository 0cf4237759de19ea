"""Typed inputs: one pydantic model per action, generated from its manifest's ``input_schema``.

    from datadog_case_actions.typed import input_model
    CreateCaseInputs = input_model("create_case")          # any id spelling; cached
    inputs = CreateCaseInputs(title="DB is down", type_id="…", project_id="…", priority="P1")
    run("create_case", inputs)                              # a model is accepted wherever inputs are
    inputs.to_inputs()                                      # the flat JSON inputs, unset fields left out

For type checkers and editors the typed surface is the generated facade
(``CaseManagement`` in ``client.py``, ``TypedDict``s in ``types.py``): classes
built at run time, as here, are invisible to them.  What pydantic is for here:
frameworks that build forms and signatures from pydantic at run time (Prefect's
parameter schemas and typed tasks, FastAPI bodies, notebooks) get one class per
action with typed fields: ``string`` /
``integer`` / ``number`` / ``boolean``, ``enum`` as ``Literal``, nullable
types as ``X | None``, arrays as ``list[...]``, objects with properties as
nested models (objects without as ``dict[str, ...]``), ``anyOf`` as a union;
required fields are required, the others default to ``None``; descriptions,
length and range limits, patterns and formats are carried into the field and
into the model's JSON schema, whose property names are the manifest's.
Unknown fields are refused (``extra="forbid"``), as the input schema does, and
values are not coerced (``strict``: ``"10"`` is no integer).

The JSON Schema validation in ``runtime/request.py`` stays the validator of
record: every action validates its inputs against the manifest whatever door
they came through; the models are a typed front for them, and agree with the
schema on the examples of every manifest (``tests/test_typed.py``).

Models are built on first use (building all of them costs ~0.2 s) and cached per
action.  They are importable by name (``from datadog_case_actions.typed
import CreateCaseInputs``), nested ones too, so their instances pickle.
"""

from __future__ import annotations

import keyword
import re
import threading
from collections.abc import Mapping
from typing import Annotated, Any, ClassVar, Literal, Union

from pydantic import AliasChoices, BaseModel, ConfigDict, Field, model_validator
from pydantic_core import PydanticCustomError, core_schema

__all__ = ["input_model", "model_name", "ActionInputs"]

_LOCK = threading.RLock()
_MODELS: dict[str, type[ActionInputs]] = {}  # action id (and the spellings asked for) -> model
_BY_NAME: dict[str, type[BaseModel]] = {}  # every generated class (nested too) by name, for pickling


class _Object(BaseModel):
    """Base of every generated model: unknown fields refused, values not coerced (``"10"`` is no integer)."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def to_inputs(self) -> dict[str, Any]:
        """The flat inputs for ``run``: only the fields that were set (None included, to clear a value),
        as JSON, under the schema's property names."""
        return self.model_dump(mode="json", by_alias=True, exclude_unset=True)


class _OpenObject(_Object):
    """A nested object whose schema allows members beyond its properties."""

    model_config = ConfigDict(extra="allow")


class ActionInputs(_Object):
    """Base of every generated input model; ``action_id`` names the action.  A model is accepted
    wherever inputs are (``run("create_case", CreateCaseInputs(...))``)."""

    action_id: ClassVar[str]


# -- JSON schema keywords pydantic has no native field for ----------------------------------------------------


class _Pattern:
    """A ``pattern`` checked with Python's ``re`` (the manifests use look-ahead, which pydantic's Rust regex lacks).

    Works as ``Annotated`` metadata in any model (a Prefect parameter model too), and
    puts ``pattern`` into the JSON schema.
    """

    __slots__ = ("pattern", "message", "_regex")

    def __init__(self, pattern: str, message: str | None = None) -> None:
        self.pattern = pattern
        self.message = message or f"must match the pattern {pattern!r}"
        self._regex = re.compile(pattern)

    def __repr__(self) -> str:
        return f"_Pattern({self.pattern!r})"

    def _check(self, value: Any) -> Any:
        if isinstance(value, str) and self._regex.search(value) is None:
            raise PydanticCustomError("string_pattern_mismatch", self.message)
        return value

    def __get_pydantic_core_schema__(self, source: Any, handler: Any) -> core_schema.CoreSchema:
        return core_schema.no_info_after_validator_function(self._check, handler(source))

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        out: dict[str, Any] = handler(schema)
        out["pattern"] = self.pattern
        return out


class _SchemaExtra:
    """Annotated metadata adding keywords (``format``...) to the JSON schema only; validation is unchanged."""

    __slots__ = ("extra",)

    def __init__(self, extra: Mapping[str, Any]) -> None:
        self.extra = dict(extra)

    def __repr__(self) -> str:
        return f"_SchemaExtra({self.extra!r})"

    def __get_pydantic_json_schema__(self, schema: Any, handler: Any) -> dict[str, Any]:
        out: dict[str, Any] = handler(schema)
        out.update(self.extra)
        return out


# -- names ------------------------------------------------------------------------------------------------------


def _camel(text: str) -> str:
    return "".join(part[:1].upper() + part[1:] for part in re.split(r"[^0-9A-Za-z]+", text) if part)


def model_name(manifest: Mapping[str, Any]) -> str:
    """The class name of a manifest's input model: ``CreateCaseInputs`` (from the operation id)."""
    operation = manifest.get("operation_id")
    if operation:
        return f"{_camel(str(operation))}Inputs"
    namespace, _, short = str(manifest["id"]).rpartition(".")
    prefix = "" if namespace in ("", "datadog") else _camel(namespace)
    return f"{prefix}{_camel(short)}Inputs"


def _python_name(name: str, taken: set[str]) -> str:
    """A valid field name for the JSON property *name* (the JSON name stays the alias)."""
    py = re.sub(r"\W+", "_", name).strip("_") or "field"
    if py[0].isdigit() or py.startswith("model_"):
        py = f"f_{py}"
    if keyword.iskeyword(py) or hasattr(BaseModel, py):
        py += "_"
    while py in taken:
        py += "_"
    taken.add(py)
    return py


# -- schema -> annotation -------------------------------------------------------------------------------------


_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}


def _union(members: list[Any]) -> Any:
    unique: list[Any] = []
    for member in members:
        if member not in unique:
            unique.append(member)
    if not unique:
        return Any
    return unique[0] if len(unique) == 1 else Union[tuple(unique)]  # noqa: UP007 - built at run time


def _metadata(schema: Mapping[str, Any], kind: str | None) -> list[Any]:
    """pydantic constraints (enforced, and shown in the JSON schema) for the keywords of *schema*."""
    meta: list[Any] = []
    limits: dict[str, Any] = {}
    if kind == "string":
        if "minLength" in schema:
            limits["min_length"] = schema["minLength"]
        if "maxLength" in schema:
            limits["max_length"] = schema["maxLength"]
    elif kind == "array":
        if "minItems" in schema:
            limits["min_length"] = schema["minItems"]
        if "maxItems" in schema:
            limits["max_length"] = schema["maxItems"]
    elif kind in ("integer", "number"):
        for keyword_, option in (("minimum", "ge"), ("maximum", "le"), ("exclusiveMinimum", "gt"),
                                 ("exclusiveMaximum", "lt"), ("multipleOf", "multiple_of")):
            value = schema.get(keyword_)
            if isinstance(value, (int, float)) and not isinstance(value, bool):
                limits[option] = value
    if limits:
        meta.append(Field(**limits))
    if kind == "string" and isinstance(schema.get("pattern"), str):
        meta.append(_Pattern(schema["pattern"], schema.get("x-pattern-message")))
    extra = {k: schema[k] for k in ("format",) if k in schema}
    if extra:
        meta.append(_SchemaExtra(extra))
    return meta


def _annotation(schema: Any, hint: str) -> Any:
    """The Python type for a JSON schema (*hint* names nested models)."""
    if schema is True or not isinstance(schema, Mapping) or not schema:
        return Any
    if "const" in schema:
        return Literal[schema["const"]]
    if "enum" in schema:
        values = list(schema["enum"])
        nullable = None in values
        values = [v for v in values if v is not None]
        if any(isinstance(v, (dict, list)) for v in values):
            base: Any = Any
        else:
            base = Literal[tuple(values)] if values else type(None)
        return base | None if nullable and values else base
    for combinator in ("anyOf", "oneOf"):
        if combinator in schema:
            members = [_annotation(member, f"{hint}Option{i + 1}") for i, member in enumerate(schema[combinator])]
            if any(m is Any for m in members):
                return Any
            return _union(members)
    types = schema.get("type")
    if types is None:
        types = ["object"] if "properties" in schema else []
    if isinstance(types, str):
        types = [types]
    if not types:
        return Any
    members = [_typed(kind, schema, hint) for kind in types]
    if any(m is Any for m in members):
        return Any
    return _union(members)


def _typed(kind: str, schema: Mapping[str, Any], hint: str) -> Any:
    if kind in _SCALARS:
        base = _SCALARS[kind]
    elif kind == "array":
        items = schema.get("items")
        base = list[_annotation(items, f"{hint}Item") if isinstance(items, Mapping) else Any]  # type: ignore[misc]
    elif kind == "object":
        extra = schema.get("additionalProperties")
        if schema.get("properties"):
            base = _object_model(hint, schema, _OpenObject if extra is not False else _Object)
        elif isinstance(extra, Mapping) and extra:
            base = dict[str, _annotation(extra, f"{hint}Value")]  # type: ignore[misc]
        else:
            base = dict[str, Any]
    else:
        return Any
    meta = _metadata(schema, kind)
    return Annotated[tuple([base, *meta])] if meta else base


def _fields(schema: Mapping[str, Any], hint: str) -> tuple[dict[str, Any], dict[str, Any]]:
    """Annotations and ``FieldInfo`` defaults for the properties of an object schema."""
    required = set(schema.get("required", ()))
    annotations: dict[str, Any] = {}
    defaults: dict[str, Any] = {}
    taken: set[str] = set()
    for name, prop in schema.get("properties", {}).items():
        py = _python_name(name, taken)
        annotation = _annotation(prop, hint + _camel(name))
        options: dict[str, Any] = {}
        if isinstance(prop, Mapping) and prop.get("description"):
            options["description"] = prop["description"]
        if py != name:
            options["validation_alias"] = AliasChoices(name, py)
            options["serialization_alias"] = name
        if name in required:
            defaults[py] = Field(**options)
        else:
            if annotation is not Any:
                annotation = annotation | None
            defaults[py] = Field(default=None, **options)
        annotations[py] = annotation
    return annotations, defaults


def _dependent_required(rules: Mapping[str, list[str]]) -> Any:
    def check(self: BaseModel) -> BaseModel:
        names = {(f.alias or f.serialization_alias or n): n for n, f in type(self).model_fields.items()}
        given = {json for json, py in names.items() if py in self.model_fields_set}
        for key, needed in rules.items():
            missing = [n for n in needed if n not in given]
            if key in given and missing:
                raise ValueError(f"{', '.join(missing)} required when {key} is given")
        return self

    return model_validator(mode="after")(check)


def _build(name: str, schema: Mapping[str, Any], base: type[_Object], doc: str | None,
           extra_namespace: Mapping[str, Any] | None = None, title: str | None = None) -> type[_Object]:
    annotations, defaults = _fields(schema, name)
    config: dict[str, Any] = {}
    if title:
        config["title"] = title
    namespace: dict[str, Any] = {
        "__module__": __name__,
        "__qualname__": name,
        "__doc__": doc,
        "__annotations__": annotations,
        **defaults,
        **(extra_namespace or {}),
    }
    rules = schema.get("dependentRequired")
    if rules:
        namespace["_check_dependent_required"] = _dependent_required(rules)
        config["json_schema_extra"] = {"dependentRequired": rules}
    if config:
        namespace["model_config"] = ConfigDict(**config)  # type: ignore[typeddict-item]
    model = type(name, (base,), namespace)
    _BY_NAME[name] = model
    return model


def _object_model(name: str, schema: Mapping[str, Any], base: type[_Object]) -> type[_Object]:
    found = _BY_NAME.get(name)
    if found is not None:
        return found  # type: ignore[return-value]
    return _build(name, schema, base, schema.get("description"))


# -- the public entry point ---------------------------------------------------------------------------------------


def _manifest(action: Any) -> Mapping[str, Any]:
    if isinstance(action, Mapping):
        return action
    if not isinstance(action, str):
        return action.manifest  # type: ignore[no-any-return]  # an Action object
    from .manifest import load_index, load_manifest

    own = load_index()["actions"]
    for candidate in (action, f"datadog.{action}"):
        if candidate in own:
            return load_manifest(candidate)
    from .registry import describe

    return describe(action)


def input_model(action: Any) -> type[ActionInputs]:
    """The pydantic model of *action*'s inputs: an id in any spelling (``create_case``, ``CreateCase``,
    ``datadog.create_case``), an ``Action`` or a manifest.  Built once per action, then cached."""
    if isinstance(action, str):
        found = _MODELS.get(action)
        if found is not None:
            return found
    manifest = _manifest(action)
    action_id = manifest["id"]
    with _LOCK:
        found = _MODELS.get(action_id)
        if found is None:
            schema = manifest.get("input_schema") or {"type": "object", "properties": {}}
            doc = manifest.get("description") or manifest.get("title") or action_id
            found = _build(model_name(manifest), schema, ActionInputs, f"Inputs of `{action_id}`: {doc}",
                           {"action_id": action_id}, schema.get("title"))  # type: ignore[assignment]
            _MODELS[action_id] = found  # type: ignore[assignment]
        if isinstance(action, str):
            _MODELS[action] = found  # type: ignore[assignment]
    return found  # type: ignore[return-value]


def __getattr__(name: str) -> Any:
    """``CreateCaseInputs`` and its nested models by name (so pickle finds generated classes)."""
    if name.startswith("_") or not name[:1].isupper():
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    if name not in _BY_NAME:
        from .manifest import load_index

        for action_id, summary in load_index()["actions"].items():
            if name.startswith(model_name({"id": action_id, **summary})):
                input_model(action_id)
                if name in _BY_NAME:
                    break
    try:
        return _BY_NAME[name]
    except KeyError:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}") from None
