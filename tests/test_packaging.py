"""The wheel ships the manifests and py.typed, and the public surface stays stable."""

from __future__ import annotations

import json
import subprocess
import sys
import zipfile
from pathlib import Path

import actions.datadog_cases as pkg

ROOT = Path(__file__).resolve().parent.parent


def test_wheel_contains_manifests_and_type_marker(tmp_path: Path) -> None:
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q", "-w", str(tmp_path), str(ROOT)],
        check=True, capture_output=True,
    )
    wheel = next(tmp_path.glob("datadog_case_actions-*.whl"))
    with zipfile.ZipFile(wheel) as zf:
        names = set(zf.namelist())
        assert "actions/datadog_cases/py.typed" in names
        assert "actions/__init__.py" not in names  # `actions` stays a namespace package
        manifests = {n for n in names if n.startswith("actions/datadog_cases/manifests/")}
        assert len(manifests) == 67  # 66 actions + index.json
        index = json.loads(zf.read("actions/datadog_cases/manifests/index.json"))
        assert len(index["actions"]) == 66
        entry_points = zf.read(next(n for n in names if n.endswith("entry_points.txt"))).decode()
        assert entry_points.count("actions.datadog_cases.catalog.") == 66
        assert not any(n.startswith(("tests/", "tools/", "cassettes/")) for n in names)


def test_public_names_are_stable() -> None:
    expected = {
        "run", "arun", "iterate", "aiterate", "prepare", "Runner", "Connection", "RetryPolicy", "Secret",
        "Transport", "PreparedRequest", "ActionError", "InputError", "ConfigurationError", "ApiError",
        "AuthenticationError", "NotFoundError", "ConflictError", "RateLimitedError", "ServerError",
        "UnexpectedResponseError", "TransportError", "TimeoutError", "Action", "Effect", "list_actions",
        "describe", "load", "resolve", "UnknownActionError", "input_model", "__version__",
    }
    assert set(pkg.__all__) == expected
    for name in expected - {"__version__"}:
        assert getattr(pkg, name) is not None
