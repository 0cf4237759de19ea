"""Every Datadog Case Management API operation as a self-describing action.

    from datadog_case_actions import CaseManagement, Connection
    with CaseManagement(Connection.from_env()) as dd:      # typed: one method per action
        case = dd.create_case(title="DB down", type_id="...", project_id="...")

    from datadog_case_actions import run                   # any action id, plain dict inputs
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
    "CaseManagement": "client",
    "AsyncCaseManagement": "client",
    "NOT_GIVEN": "client",
    "NotGiven": "client",
    "list_actions": "registry",
    "describe": "registry",
    "load": "registry",
    "resolve": "registry",
    "UnknownActionError": "registry",
}

__all__ = sorted([*_EXPORTS, "__version__"])

if TYPE_CHECKING:  # `X as X`: an explicit re-export, which mypy --strict needs
    from typing import Any

    from .client import (
        NOT_GIVEN as NOT_GIVEN,
        AsyncCaseManagement as AsyncCaseManagement,
        CaseManagement as CaseManagement,
        NotGiven as NotGiven,
    )
    from .declare import Action as Action, Effect as Effect
    from .registry import (
        UnknownActionError as UnknownActionError,
        describe as describe,
        list_actions as list_actions,
        load as load,
        resolve as resolve,
    )
    from .typed import input_model as input_model
    from .runtime.connection import Connection as Connection, RetryPolicy as RetryPolicy, Secret as Secret
    from .runtime.errors import (
        ActionError as ActionError,
        ApiError as ApiError,
        AuthenticationError as AuthenticationError,
        ConfigurationError as ConfigurationError,
        ConflictError as ConflictError,
        InputError as InputError,
        NotFoundError as NotFoundError,
        RateLimitedError as RateLimitedError,
        ServerError as ServerError,
        TimeoutError as TimeoutError,
        TransportError as TransportError,
        UnexpectedResponseError as UnexpectedResponseError,
    )
    from .runtime.request import PreparedRequest as PreparedRequest
    from .runtime.runner import (
        Runner as Runner,
        aiterate as aiterate,
        arun as arun,
        iterate as iterate,
        prepare as prepare,
        run as run,
    )
    from .runtime.transport import Transport as Transport


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
