"""The wheel ships the manifests and py.typed, and the public surface stays stable."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import datadog_case_actions as pkg
from datadog_case_actions.manifest import load_index

ROOT = Path(__file__).resolve().parent.parent

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])


def test_wheel_contains_manifests_and_type_marker(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("datadog_case_actions-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "datadog_case_actions/py.typed" in names
        assert not any(n.startswith("actions/") for n in names)  # `actions/` is only the source root
        manifests = {n for n in names if n.startswith("datadog_case_actions/manifests/")}
        assert len(manifests) == ACTIONS + 1  # every action + index.json
        index = json.loads(zf.read("datadog_case_actions/manifests/index.json"))
        assert len(index["actions"]) == ACTIONS
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        assert entry_points.count("datadog_case_actions.catalog.") == ACTIONS
        assert not any(n.startswith(("tests/", "tools/", "cassettes/")) for n in names)


def test_public_names_are_stable() -> None:
    expected = {
        "run", "arun", "iterate", "aiterate", "prepare", "Runner", "Connection", "RetryPolicy", "Secret",
        "Transport", "PreparedRequest", "ActionError", "InputError", "ConfigurationError", "ApiError",
        "AuthenticationError", "NotFoundError", "ConflictError", "RateLimitedError", "ServerError",
        "UnexpectedResponseError", "TransportError", "TimeoutError", "Action", "Effect", "list_actions",
        "describe", "load", "resolve", "UnknownActionError", "input_model", "__version__",
        "CaseManagement", "AsyncCaseManagement", "NOT_GIVEN", "NotGiven",
    }
    assert set(pkg.__all__) == expected
    for name in expected - {"__version__"}:
        assert getattr(pkg, name) is not None


def test_a_project_with_its_own_actions_package_still_imports_us(tmp_path: Path) -> None:
    # Rasa bots and many Airflow dags folders have their own `actions/` package; it must not hide ours.
    (tmp_path / "actions").mkdir()
    (tmp_path / "actions" / "__init__.py").write_text("")
    done = subprocess.run(
        [sys.executable, "-c", "import actions, datadog_case_actions as p; print(p.__name__, actions.__file__)"],
        cwd=tmp_path, capture_output=True, text=True, env={"PATH": "/usr/bin:/bin"},
    )
    assert done.returncode == 0, done.stderr
    name, theirs = done.stdout.split()
    assert name == "datadog_case_actions" and theirs == str(tmp_path / "actions" / "__init__.py")
