"""How an action is declared: one ``Action(...)`` per API operation.

A declaration names the official operation and says what the reference cannot:
its effect, whether repeating it is safe, friendlier input names, and schema
refinements.  Everything else (method, path, scope, preview flag, schemas,
examples, the mapping from flat inputs to the JSON:API request) is derived from
the reference digest by ``tools/generate.py`` into the action's manifest, which
is what the runtime reads.  Importing this module costs nothing: no httpx, no
pydantic, no jsonschema.

    create_case = Action("CreateCase", idempotent=False)
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING, Any, Mapping

from .manifest import load_manifest

if TYPE_CHECKING:
    from .runtime.request import PreparedRequest

__all__ = ["Action", "Effect", "NAMESPACE", "action_id_for"]

#: every action id of this package starts with this namespace
NAMESPACE = "datadog"


class Effect(str, Enum):
    """What running the action does to the account."""

    READ = "read"
    WRITE = "write"
    DESTRUCTIVE = "destructive"


def action_id_for(operation: str, namespace: str = NAMESPACE) -> str:
    """``CreateCase`` -> ``datadog.create_case`` (the official SDKs' method name)."""
    return f"{namespace}." + re.sub(r"(?<!^)(?=[A-Z])", "_", operation).lower()


@dataclass(frozen=True)
class Action:
    """The declaration of one action; see the module docstring.

    Attributes:
        operation: the official operation name, e.g. ``CreateCase``.
        effect: read / write / destructive; by default from the HTTP method
            (GET reads, DELETE destroys, the rest write).
        idempotent: whether sending the same request twice leaves the same
            state; by default true for GET, PUT and DELETE.  It decides whether
            5xx and transport errors are retried.
        overwrites: whether running it changes or removes data that already
            exists (anything but a purely additive write); by default every
            DELETE and every write whose operation does not start with an
            additive verb (Create, Add, Comment, Link, Watch, Favorite).  MCP
            clients auto-approve tools that do not overwrite.
        names: friendlier input names, keyed by the documented name (an
            attribute, relationship or query parameter name, or a JSON pointer
            into the request body).
        schema: JSON Schema keywords merged into the input property of that
            (friendly) name, for what the reference states only in prose.
        output: JSON Schema keywords merged into the output schema's top level.
        description: replaces the reference's overview when that is too terse.
        group: the catalogue area; by default from the path.
        examples: extra example inputs, besides the one derived from the reference.
        notes: decisions taken where the reference is silent or contradicts itself.
        pagination: how to walk all pages (``page``/``size`` input names, ``items``
            member, ``first_page``, ``max_size``), for list operations.
        required: inputs to require although the reference marks them optional
            (say why in ``notes``).
        example_fix: input values replacing malformed ones in the reference's
            example (say why in ``notes``).
    """

    operation: str
    effect: Effect | None = None
    idempotent: bool | None = None
    overwrites: bool | None = None
    names: Mapping[str, str] = field(default_factory=dict)
    schema: Mapping[str, Mapping[str, Any]] = field(default_factory=dict)
    output: Mapping[str, Any] = field(default_factory=dict)
    description: str | None = None
    group: str | None = None
    examples: tuple[Mapping[str, Any], ...] = ()
    notes: tuple[str, ...] = ()
    pagination: Mapping[str, Any] | None = None
    example_fix: Mapping[str, Any] = field(default_factory=dict)
    required: tuple[str, ...] = ()

    @property
    def id(self) -> str:
        return action_id_for(self.operation)

    @property
    def manifest(self) -> dict[str, Any]:
        """The generated manifest (``manifests/<id>.json``)."""
        return load_manifest(self.id)

    def prepare(self, inputs: Mapping[str, Any]) -> "PreparedRequest":
        """Validate *inputs* and build the HTTP request; raises ``InputError``."""
        from .runtime.request import prepare

        return prepare(self.manifest, inputs)

    def __repr__(self) -> str:
        return f"Action({self.id!r})"
