"""Discovery through entry points, including another distribution's actions."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from datadog_case_actions import registry
from datadog_case_actions.declare import Action
from datadog_case_actions.manifest import load_index

ROOT = Path(__file__).resolve().parent.parent

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])


def test_all_actions_are_discovered_through_entry_points() -> None:
    actions = registry.list_actions()
    ours = [a for a in actions if a.distribution == "datadog-case-actions"]
    assert len(ours) == ACTIONS
    assert {a.group for a in ours} == {
        "cases", "projects", "favorites", "notification_rules", "automation_rules",
        "maintenance_windows", "views", "links", "integrations", "case_types", "custom_attributes",
    }


def test_every_entry_point_loads_its_declaration() -> None:
    for action_id in registry.discover():
        if not action_id.startswith("datadog."):
            continue
        action = registry.load(action_id)
        assert isinstance(action, Action) and action.id == action_id
        assert action.manifest["id"] == action_id


@pytest.mark.parametrize("name", ["create_case", "datadog.create_case", "CreateCase"])
def test_resolve_accepts_short_full_and_official_names(name: str) -> None:
    assert registry.resolve(name) == "datadog.create_case"


def test_unknown_action_suggests_close_names() -> None:
    with pytest.raises(registry.UnknownActionError, match="did you mean create_case"):
        registry.resolve("create_cas")


def test_listing_imports_no_action_code_nor_httpx() -> None:
    code = (
        "import sys\n"
        "from datadog_case_actions import registry\n"
        "actions = registry.list_actions()\n"
        f"assert len(actions) >= {ACTIONS}\n"
        "loaded = [m for m in sys.modules if m.startswith('datadog_case_actions.catalog.')]\n"
        "heavy = {'httpx', 'pydantic', 'jsonschema'} & set(sys.modules)\n"
        "assert not loaded and not heavy, (loaded, heavy)\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def _install_plugin(site: Path) -> None:
    """A second distribution, installed the way pip lays one out: a package plus its dist-info."""
    pkg = site / "acme_case_plugin"
    pkg.mkdir()
    (pkg / "__init__.py").write_text(textwrap.dedent('''
        from datadog_case_actions.runtime.request import build

        class EscalateCase:
            id = "acme.escalate_case"
            manifest = {
                "id": "acme.escalate_case", "title": "Escalate a case to P1", "group": "acme",
                "description": "Raise a case to P1.", "effect": "write", "preview": False, "idempotent": True,
                "method": "POST", "path": "/api/v2/cases/{case_id}/priority", "scope": "cases_write",
                "success_status": 200,
                "input_schema": {"type": "object", "properties": {"case_id": {"type": "string"}},
                                 "required": ["case_id"], "additionalProperties": False},
                "output_schema": {"type": "object"},
                "examples": [{"summary": "x", "input": {"case_id": "OPS-1"}}],
                "request": {"path": ["case_id"], "query": {}, "body": {},
                            "body_template": {"data": {"type": "case", "attributes": {"priority": "P1"}}}},
            }

        escalate_case = EscalateCase()
    '''))
    dist = site / "acme_case_plugin-1.0.dist-info"
    dist.mkdir()
    (dist / "METADATA").write_text("Metadata-Version: 2.1\nName: acme-case-plugin\nVersion: 1.0\n")
    (dist / "entry_points.txt").write_text(
        "[datadog_case_actions.actions]\nacme.escalate_case = acme_case_plugin:escalate_case\n"
    )


def test_an_action_of_another_distribution_is_discovered_described_and_run(tmp_path: Path) -> None:
    _install_plugin(tmp_path)
    code = (
        "import json\n"
        "from datadog_case_actions import registry\n"
        "from datadog_case_actions.runtime.runner import run\n"
        "found = {a.id: a for a in registry.list_actions()}\n"
        "a = found['acme.escalate_case']\n"
        "assert a.distribution == 'acme-case-plugin' and a.title == 'Escalate a case to P1', a\n"
        "assert registry.describe('escalate_case')['group'] == 'acme'\n"
        "print(json.dumps(run('acme.escalate_case', {'case_id': 'OPS-1'}, dry_run=True)))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path), "DD_API_KEY": "k", "DD_APP_KEY": "a"}
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    request = json.loads(out.stdout)
    assert request["method"] == "POST" and request["url"].endswith("/api/v2/cases/OPS-1/priority")
    assert request["body"] == {"data": {"type": "case", "attributes": {"priority": "P1"}}}


def test_the_fast_scan_finds_exactly_what_importlib_metadata_finds(tmp_path: Path) -> None:
    """discover() reads dist-info folders itself (cold-start speed); it must agree with importlib.metadata."""
    _install_plugin(tmp_path)
    code = (
        "import json\n"
        "from importlib.metadata import entry_points\n"
        "from datadog_case_actions import registry\n"
        "ours = {n: [ep.value, ep.dist_name] for n, ep in registry.discover().items()}\n"
        "ref = {}\n"
        "for ep in entry_points(group=registry.GROUP):\n"
        "    ref.setdefault(ep.name, [ep.value, ep.dist.name])\n"
        "print(json.dumps([ours, ref]))\n"
    )
    env = {**os.environ, "PYTHONPATH": str(tmp_path)}
    out = subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT, env=env, capture_output=True, text=True)
    ours, ref = json.loads(out.stdout)
    assert ours == ref and "acme.escalate_case" in ours and len(ours) == ACTIONS + 1
