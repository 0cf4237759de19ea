"""Every Datadog Case Management API operation as a self-describing action.

    from datadog_case_actions import run, Connection
    case = run("create_case", {"title": "DB down", "type_id": "...", "project_id": "..."})

Names are imported lazily: ``import datadog_case_actions`` and listing the
catalogue import neither httpx, pydantic nor jsonschema.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: importing typing costs a cold start ~6 ms

__version__ = "0.1.0"

_EXPORTS = {
    "run": "runtime.runner",
    "arun": "runtime.runner",
    "iterate": "runtime.runner",
    "aiterate": "runtime.runner",
    "prepare": "runtime.runner",
    "Runner": "runtime.runner",
    "Connection": "runtime.connection",
    "RetryPolicy": "runtime.connection",
    "Secret": "runtime.connection",
    "Transport": "runtime.transport",
    "PreparedRequest": "runtime.request",
    "ActionError": "runtime.errors",
    "InputError": "runtime.errors",
    "ConfigurationError": "runtime.errors",
    "ApiError": "runtime.errors",
    "AuthenticationError": "runtime.errors",
    "NotFoundError": "runtime.errors",
    "ConflictError": "runtime.errors",
    "RateLimitedError": "runtime.errors",
    "ServerError": "runtime.errors",
    "UnexpectedResponseError": "runtime.errors",
    "TransportError": "runtime.errors",
    "TimeoutError": "runtime.errors",
    "Action": "declare",
    "Effect": "declare",
    "input_model": "typed",
    "list_actions": "registry",
    "describe": "registry",
    "load": "registry",
    "resolve": "registry",
    "UnknownActionError": "registry",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:
    from typing import Any

    from .declare import Action, Effect
    from .registry import UnknownActionError, describe, list_actions, load, resolve
    from .typed import input_model
    from .runtime.connection import Connection, RetryPolicy, Secret
    from .runtime.errors import (
        ActionError,
        ApiError,
        AuthenticationError,
        ConfigurationError,
        ConflictError,
        InputError,
        NotFoundError,
        RateLimitedError,
        ServerError,
        TimeoutError,
        TransportError,
        UnexpectedResponseError,
    )
    from .runtime.request import PreparedRequest
    from .runtime.runner import Runner, aiterate, arun, iterate, prepare, run
    from .runtime.transport import Transport


def __getattr__(name: str) -> Any:
    module = _EXPORTS.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    import importlib

    value = getattr(importlib.import_module(f"{__name__}.{module}"), name)
    globals()[name] = value
    return value


def __dir__() -> list[str]:
    return __all__
