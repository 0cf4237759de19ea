"""Typed input models, generated from the manifests with pydantic.

    from actions.datadog_cases.typed import input_model
    CreateCaseInputs = input_model("create_case")
    inputs = CreateCaseInputs(title="DB down", type_id="…", project_id="…", priority="P1")
    run("create_case", inputs)                # a model is accepted wherever inputs are

What pydantic is for here: editors, type checkers and frameworks that build
forms or parameter schemas from Python types (Prefect's flow parameters, FastAPI
bodies, notebooks) get one class per action with its fields, types, enums as
``Literal`` and descriptions.  The manifest's JSON Schema stays the contract:
the runtime validates every call against it with jsonschema whatever the
inputs came as, so a model can never let through what the schema refuses.
"""

from __future__ import annotations

from functools import lru_cache
from typing import Any, Literal, Optional, Union

from pydantic import BaseModel, ConfigDict, Field, create_model

from .registry import describe

__all__ = ["input_model", "ActionInputs"]


class ActionInputs(BaseModel):
    """Base of every generated input model: unknown fields are refused, values are not coerced."""

    model_config = ConfigDict(extra="forbid", strict=True)

    def to_inputs(self) -> dict[str, Any]:
        """The flat inputs for ``run``: only the fields that were set (None included, to clear a value)."""
        return self.model_dump(exclude_unset=True, mode="json")


_SCALARS: dict[str, Any] = {"string": str, "integer": int, "number": float, "boolean": bool, "null": type(None)}


def _type_of(schema: dict[str, Any]) -> Any:
    if "enum" in schema:
        values = tuple(schema["enum"])
        kind: Any = Literal[values]  # type: ignore[valid-type]
        if None in values:
            kind = Optional[Literal[tuple(v for v in values if v is not None)]]  # type: ignore[misc]
        return kind
    if "const" in schema:
        return Literal[schema["const"]]  # type: ignore[valid-type]
    if "anyOf" in schema:
        return Union[tuple(_type_of(option) for option in schema["anyOf"])]  # type: ignore[return-value]
    kind = schema.get("type")
    if isinstance(kind, list):
        return Union[tuple(_type_of({**schema, "type": k}) for k in kind)]  # type: ignore[return-value]
    if kind == "array":
        return list[_type_of(schema.get("items") or {})]  # type: ignore[misc]
    if kind == "object":
        return dict[str, Any]
    return _SCALARS.get(kind or "", Any)


def _class_name(manifest: dict[str, Any]) -> str:
    return f"{manifest['operation_id']}Inputs"


@lru_cache(maxsize=None)
def input_model(action: str) -> type[ActionInputs]:
    """The pydantic model of *action*'s inputs (``create_case``, ``CreateCase`` or ``datadog.create_case``)."""
    manifest = describe(action)
    schema = manifest["input_schema"]
    required = set(schema.get("required", []))
    fields: dict[str, Any] = {}
    for name, prop in schema.get("properties", {}).items():
        kind = _type_of(prop)
        extra = {"description": prop.get("description")} if prop.get("description") else {}
        if name in required:
            fields[name] = (kind, Field(..., **extra))
        else:
            fields[name] = (Optional[kind], Field(None, **extra))
    model = create_model(_class_name(manifest), __base__=ActionInputs, __doc__=manifest.get("description"),
                         **fields)
    model.action_id = manifest["id"]  # type: ignore[attr-defined]
    return model
