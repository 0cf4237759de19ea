"""The declarations of this package's actions, one module per area.

Each module holds plain ``Action(...)`` declarations; ``tools/generate.py`` turns
them into manifests and ``pyproject.toml`` registers each as an entry point.
"""

from __future__ import annotations

#: catalogue areas in display order; each is a module of this package
AREAS = (
    "cases",
    "projects",
    "favorites",
    "notification_rules",
    "automation_rules",
    "maintenance_windows",
    "views",
    "links",
    "integrations",
    "case_types",
    "custom_attributes",
)
