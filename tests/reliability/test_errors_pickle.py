"""Every exception class of the package survives pickle and copy.deepcopy with its fields (issue 10, item 11).

The classes are discovered by importing every module of the package, not listed
by hand, so a new error class is held to the same rule.  A real worker pool
raising an ``InputError`` and an ``ApiError`` must hand them back intact and stay
usable (an error that cannot be unpickled breaks the pool).
"""

from __future__ import annotations

import concurrent.futures
import copy
import functools
import importlib
import inspect
import multiprocessing
import pickle
import pkgutil
from typing import Any

import pytest

import datadog_case_actions
from datadog_case_actions import Connection
from datadog_case_actions.runtime import errors
from datadog_case_actions.runtime.runner import prepare, run
from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

# Modules that need an orchestrator's own package (each is tested in its own environment by .ci/run).
OPTIONAL = {"airflow", "prefect"}

# A distinct, non-default value for every constructor parameter an error class takes.
SAMPLES: dict[str, Any] = {
    "message": "something failed",
    "violations": [errors.Violation(field="case_id", message="must be a single path segment", validator="pattern"),
                   errors.Violation(field="page_size", message="must be a finite number", validator="finite")],
    "action_id": "datadog.get_case",
    "status": 429,
    "messages": ["slow down", "really"],
    "body": {"errors": [{"detail": "slow down", "meta": [1, 2.5, None]}]},
    "headers": {"x-ratelimit-reset": "3"},
    "retry_after": 2.5,
    "sent": False,
    "detail": "no such case",
    "pointer": "/data/attributes/title",
    "parameter": "page[size]",
    "applied": True,
    "title": "Invalid Parameter",
    "code": "invalid_parameter",
    "meta": {"key": "region"},
    "show_status": True,
    "show_detail": False,
}
# The same with every flag the other way: a rebuilt error may come out right for one value only.
FLIPPED = {name: (not value if isinstance(value, bool) else value) for name, value in SAMPLES.items()}


def _modules() -> list[str]:
    names = []
    for info in pkgutil.walk_packages(datadog_case_actions.__path__, datadog_case_actions.__name__ + "."):
        if info.name.endswith(".__main__"):
            continue  # running it is its only purpose
        try:
            importlib.import_module(info.name)
        except ImportError as exc:  # ModuleNotFoundError, or a test folder of that name seen as a namespace
            if (exc.name or "").split(".")[0] not in OPTIONAL:
                raise
            continue
        names.append(info.name)
    return names


def _error_classes() -> list[type[BaseException]]:
    found: dict[str, type[BaseException]] = {}
    for name in _modules():
        for value in vars(importlib.import_module(name)).values():
            if (inspect.isclass(value) and issubclass(value, BaseException)
                    and value.__module__.startswith(datadog_case_actions.__name__ + ".")):
                found[f"{value.__module__}.{value.__qualname__}"] = value
    return [found[key] for key in sorted(found)]


CLASSES = _error_classes()


def _parameters(cls: type) -> list[inspect.Parameter]:
    """The constructor's parameters, following ``**kwargs`` to the base class that takes them."""
    try:
        params = list(inspect.signature(cls).parameters.values())
    except ValueError:  # a builtin __init__
        return [inspect.Parameter("message", inspect.Parameter.POSITIONAL_ONLY)]
    out = [p for p in params if p.kind not in (p.VAR_POSITIONAL, p.VAR_KEYWORD)]
    if any(p.kind is p.VAR_KEYWORD for p in params):
        base = next(b for b in cls.__mro__[1:] if "__init__" in vars(b))
        out += [p for p in _parameters(base) if p.name not in {q.name for q in out}
                and p.kind is not p.POSITIONAL_ONLY]
    if not out and any(p.kind is p.VAR_POSITIONAL for p in params):
        out = [inspect.Parameter("message", inspect.Parameter.POSITIONAL_ONLY)]
    return out


def _instance(cls: type[BaseException], samples: dict[str, Any] = SAMPLES) -> BaseException:
    args: list[Any] = []
    kwargs: dict[str, Any] = {}
    for param in _parameters(cls):
        assert param.name in samples, f"{cls.__qualname__} takes {param.name!r}: add a sample value to SAMPLES"
        if param.kind is param.POSITIONAL_ONLY:
            args.append(samples[param.name])
        else:
            kwargs[param.name] = samples[param.name]
    return cls(*args, **kwargs)


def test_the_discovery_finds_the_error_tree_and_the_sandbox_errors() -> None:
    names = {cls.__qualname__ for cls in CLASSES}
    assert {name for name in errors.__all__ if name.endswith("Error")} <= names
    assert {"ApiFailure", "ConnectionDropped", "UnknownActionError"} <= names


@pytest.mark.parametrize("cls", CLASSES, ids=[f"{c.__module__.split('.', 1)[1]}.{c.__qualname__}" for c in CLASSES])
@pytest.mark.parametrize("how", ["pickle", "deepcopy", "copy"])
@pytest.mark.parametrize("samples", [SAMPLES, FLIPPED], ids=["samples", "flipped"])
def test_every_error_class_round_trips_with_its_fields(cls: type[BaseException], how: str,
                                                      samples: dict[str, Any]) -> None:
    original = _instance(cls, samples)
    original.add_note("a note added on the way up")
    copies = {
        "pickle": lambda e: pickle.loads(pickle.dumps(e, protocol=pickle.HIGHEST_PROTOCOL)),
        "deepcopy": copy.deepcopy,
        "copy": copy.copy,
    }
    again = copies[how](original)
    assert type(again) is cls
    assert again.args == original.args
    assert str(again) == str(original)
    assert vars(again) == vars(original)  # every field: status, body, violations, retry_after...
    if isinstance(original, errors.ActionError):
        assert again.to_dict() == original.to_dict()  # type: ignore[attr-defined]
    if how == "deepcopy":
        for name, value in vars(original).items():
            if isinstance(value, (dict, list)) and value:
                assert getattr(again, name) is not value, f"{name} shared with the original"


def _raise_sample(name: str) -> None:
    raise _instance(getattr(errors, name))


@pytest.fixture
def server_url() -> Any:
    server, url = start_server_in_thread(Sandbox(":memory:"))
    try:
        yield url
    finally:
        server.stop()


def test_a_worker_pool_hands_back_input_and_api_errors_and_stays_usable(server_url: str) -> None:
    connection = Connection(api_key="k", app_key="a", base_url=server_url)
    # spawn: the errors really cross into another interpreter, as on macOS and Windows
    with concurrent.futures.ProcessPoolExecutor(max_workers=1, mp_context=multiprocessing.get_context("spawn")) as pool:
        bad_input = pool.submit(prepare, "get_case", {"case_id": ".", "colour": "red"})
        missing = pool.submit(functools.partial(run, "get_case", {"case_id": "NOPE-404"}, connection=connection))
        rate_limited = pool.submit(_raise_sample, "RateLimitedError")
        input_error = bad_input.exception(timeout=60)
        not_found = missing.exception(timeout=60)
        limited = rate_limited.exception(timeout=60)
        # the pool survived all three
        assert pool.submit(prepare, "get_case", {"case_id": "OPS-1"}).result(timeout=60).path == "/api/v2/cases/OPS-1"

    assert isinstance(input_error, errors.InputError)
    assert {v.field for v in input_error.violations} == {"case_id", "colour"}
    assert input_error.action_id == "datadog.get_case"
    assert isinstance(not_found, errors.NotFoundError)
    assert not_found.status == 404 and not_found.messages and not_found.action_id == "datadog.get_case"
    assert isinstance(limited, errors.RateLimitedError) and limited.retry_after == SAMPLES["retry_after"]
    assert limited.body == SAMPLES["body"] and limited.status == SAMPLES["status"]
