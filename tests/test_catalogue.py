"""The catalogue is complete: exactly the 75 operations of the references, each fully equipped.

66 come from the seed reference, 9 (case types and custom attribute configs) from the live API's
"Case Management Type" and "Case Management Attribute" pages (``case-types-and-attributes.md``).
"""

from __future__ import annotations

import json
import re
from pathlib import Path

import pytest

from datadog_case_actions import registry
from datadog_case_actions.runtime.request import prepare

ROOT = Path(__file__).resolve().parent.parent
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))
EXPECTED = {
    "datadog." + re.sub(r"(?<!^)(?=[A-Z])", "_", op).lower(): op for op in DIGEST["operations"]
}


def test_registry_holds_exactly_the_75_operations() -> None:
    ours = {a.id for a in registry.list_actions() if a.id.startswith("datadog.")}
    assert [(s["file"], s["operations"]) for s in DIGEST["source"]] == [
        ("003_8f27d15e2a148076.txt", 66), ("case-types-and-attributes.md", 9)]
    assert len(EXPECTED) == 75
    assert ours == set(EXPECTED)


def test_case_types_and_attributes_are_found_by_list() -> None:
    """`dd-cases list type` and `dd-cases list attribute` find the 9 operations the seed reference lacks."""
    import io

    from datadog_case_actions.cli import main

    nine = {a.id for a in registry.list_actions() if a.group in {"case_types", "custom_attributes"}}
    assert len(nine) == 9
    found = set()
    for text in ("type", "attribute"):
        out = io.StringIO()
        assert main(["list", text, "--json"], stdout=out) == 0
        found |= {a["id"] for a in json.loads(out.getvalue())}
    assert nine <= found


@pytest.mark.parametrize("action_id", sorted(EXPECTED))
def test_each_action_has_manifest_entry_point_example_and_cassettes(action_id: str) -> None:
    assert (ROOT / "manifests" / f"{action_id}.json").is_file()
    assert action_id in registry.discover()
    manifest = registry.describe(action_id)
    op = DIGEST["operations"][EXPECTED[action_id]]
    for example in manifest["examples"]:
        request = prepare(manifest, example["input"])  # validates against the input schema
        assert request.method == op["method"]
        template = re.sub(r"\{[^}]+\}", "[^/]+", op["path"])
        assert re.fullmatch(template, request.path), (request.path, op["path"])
    cassettes = list((ROOT / "cassettes" / action_id).glob("*.yaml"))
    assert any(p.name.startswith("success") for p in cassettes), "no success cassette"
    assert any(p.name.startswith("error") for p in cassettes), "no error cassette"


def test_readme_catalogue_lists_every_action_with_effect_and_preview() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for action_id in EXPECTED:
        manifest = registry.describe(action_id)
        row = next(line for line in readme.splitlines() if line.startswith(f"| `{action_id}` |"))
        assert f"| {manifest['effect']} |" in row
        assert row.rstrip().endswith("| yes |") == manifest["preview"]
