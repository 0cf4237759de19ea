"""Fill a sandbox with many cases quickly (benchmarks, load tests).

Goes through ``Sandbox.handle`` like any client, so the cases are exactly what
CreateCase would make, but in one SQLite transaction instead of one per request.
"""

from __future__ import annotations

import json
import os
from typing import Any

from .app import Sandbox

__all__ = ["seed_cases"]

_PRIORITIES = ["P1", "P2", "P3", "P4", "P5"]
_HEADERS = {"DD-API-KEY": "seed", "DD-APPLICATION-KEY": "seed", "Content-Type": "application/json"}


def seed_cases(path: str | os.PathLike[str], count: int, *, project_key: str = "LOAD") -> dict[str, Any]:
    """Create a project and *count* cases in the sandbox database at *path*; returns the project."""
    with Sandbox(path) as sandbox:
        status, _, body = sandbox.handle("POST", "/api/v2/cases/projects", headers=_HEADERS, body=json.dumps(
            {"data": {"type": "project", "attributes": {"key": project_key, "name": f"{project_key} project"}}}))
        if status != 201:
            raise RuntimeError(f"could not create the project: {status} {body[:200]!r}")
        project = json.loads(body)["data"]
        with sandbox._lock, sandbox._store.transaction():
            for i in range(count):
                payload = {"data": {"type": "case", "attributes": {
                    "title": f"Alert {i}", "type_id": "00000000-0000-0000-0000-000000000001",
                    "priority": _PRIORITIES[i % 5]},
                    "relationships": {"project": {"data": {"id": project["id"], "type": "project"}}}}}
                status, _, body = sandbox.handle("POST", "/api/v2/cases", headers=_HEADERS,
                                                 body=json.dumps(payload), apply_latency=False)
                if status != 201:
                    raise RuntimeError(f"could not create case {i}: {status} {body[:200]!r}")
    return dict(project)
