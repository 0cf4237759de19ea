"""The package's layers point one way: read and test them bottom up.

    manifest, runtime/ (errors, request, connection, backends, transport, runner), registry, declare, catalog/
        ^ used by
    sandbox/ (the emulator; reaches the runtime only as a site backend, runtime/backends.py)
    typed, facade and types
        ^ used by
    adapters/, cli, demo, export

Checked on the source (every import, lazy ones inside functions too, but not those
under ``if TYPE_CHECKING:``), so a cycle cannot hide behind a function-level import.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parent.parent / "actions" / "datadog_case_actions"
NAME = "datadog_case_actions"


def _module(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_module(p): p for p in PACKAGE.rglob("*.py")}


def _imports(module: str) -> set[str]:
    path = MODULES[module]
    package = module.split(".") if path.name == "__init__.py" else module.split(".")[:-1]
    found: set[str] = set()
    tree = ast.parse(path.read_text(encoding="utf-8"))
    for block in ast.walk(tree):  # imports only a type checker follows are no dependency at run time
        if isinstance(block, ast.If) and isinstance(block.test, ast.Name) and block.test.id == "TYPE_CHECKING":
            block.body = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Import):
            found |= {alias.name for alias in node.names}
        elif isinstance(node, ast.ImportFrom):
            base = ".".join(package[: len(package) - node.level + 1] + ([node.module] if node.module else [])) \
                if node.level else (node.module or "")
            for alias in node.names:  # `from . import cases` imports the submodule, not the package
                found.add(f"{base}.{alias.name}" if f"{base}.{alias.name}" in MODULES else base)
    return {name for name in found if name in MODULES and name != module}


GRAPH = {module: _imports(module) for module in MODULES}


def _area(module: str) -> str:
    parts = module.split(".")
    return parts[1] if len(parts) > 1 else ""


FORBIDDEN = {
    "runtime": {"sandbox", "adapters", "cli", "demo", "export", "typed", "facade", "types", "coerce", "batch",
                "output", "progress", "completion", "client", "_facade"},
    "sandbox": {"adapters", "cli", "demo", "export", "typed", "facade", "types"},
    "registry": {"sandbox", "adapters", "cli", "typed", "facade", "types"},
    "manifest": {"runtime", "registry", "sandbox", "adapters", "cli", "declare", "catalog"},
    "catalog": {"sandbox", "adapters", "cli", "typed", "facade", "types"},
}


@pytest.mark.parametrize("area", sorted(FORBIDDEN))
def test_lower_layers_do_not_import_higher_ones(area: str) -> None:
    wrong = sorted(f"{m} -> {t}" for m, targets in GRAPH.items() if _area(m) == area
                   for t in targets if _area(t) in FORBIDDEN[area])
    assert not wrong, wrong


def test_no_import_cycle_between_modules() -> None:
    # package __init__ files that only re-export their own submodules are left out: importing the
    # package is importing them, which is no dependency of theirs on the package.
    graph = {m: {t for t in ts if t != NAME and not (MODULES[t].name == "__init__.py" and m.startswith(t + "."))}
             for m, ts in GRAPH.items() if m != NAME}
    state: dict[str, int] = {}
    path: list[str] = []

    def visit(node: str) -> None:
        state[node] = 1
        path.append(node)
        for target in sorted(graph.get(node, ())):
            if state.get(target) == 1:
                raise AssertionError("import cycle: " + " -> ".join(path[path.index(target):] + [target]))
            if target not in state:
                visit(target)
        path.pop()
        state[node] = 2

    for module in sorted(graph):
        if module not in state:
            visit(module)


def test_the_checker_sees_lazy_imports() -> None:
    # transport reaches the sandbox through the backends seam, found by name at run time
    assert f"{NAME}.runtime.backends" in GRAPH[f"{NAME}.runtime.transport"]
    assert f"{NAME}.runtime.runner" in GRAPH[f"{NAME}.sandbox.app"]  # a lazy import inside Sandbox.runner()
