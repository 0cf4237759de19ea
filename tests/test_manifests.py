"""Manifests: generated, up to date, valid JSON Schema, examples that validate, stdlib-readable."""

from __future__ import annotations

import json
import re
import subprocess
import sys
from pathlib import Path

import pytest
from jsonschema import Draft202012Validator

from datadog_case_actions.runtime.request import validate
from tools import generate
from datadog_case_actions.manifest import load_index

ROOT = Path(__file__).resolve().parent.parent

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])
MANIFESTS = sorted(p for p in (ROOT / "manifests").glob("*.json") if p.name != "index.json")
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))


def test_generated_files_are_up_to_date() -> None:
    stale = generate.stale_files()
    assert not stale, f"run `python tools/generate.py`; out of date: {stale}"


def test_one_manifest_per_reference_operation() -> None:
    ids = {json.loads(p.read_text())["operation_id"] for p in MANIFESTS}
    assert ids == set(DIGEST["operations"])
    assert len(MANIFESTS) == ACTIONS


@pytest.mark.parametrize("path", MANIFESTS, ids=lambda p: p.stem)
def test_manifest_is_complete_and_valid(path: Path) -> None:
    manifest = json.loads(path.read_text(encoding="utf-8"))
    op = DIGEST["operations"][manifest["operation_id"]]
    assert manifest["id"] == path.stem == "datadog." + re.sub(r"(?<!^)(?=[A-Z])", "_", manifest["operation_id"]).lower()
    for key in ("title", "description", "method", "path", "effect", "input_schema", "output_schema", "examples"):
        assert manifest[key], key
    assert manifest["effect"] in {"read", "write", "destructive"}
    assert isinstance(manifest["idempotent"], bool) and isinstance(manifest["preview"], bool)
    assert manifest["scope"] == op["scope"]
    for schema in (manifest["input_schema"], manifest["output_schema"]):
        assert schema["$schema"] == "https://json-schema.org/draft/2020-12/schema"
        Draft202012Validator.check_schema(schema)
    assert manifest["input_schema"]["additionalProperties"] is False
    assert manifest["examples"][0]["summary"] == "The API reference's example"
    for example in manifest["examples"]:
        validate(manifest, example["input"])  # raises InputError when an example is invalid


def test_effects_follow_from_methods_unless_declared() -> None:
    manifests = [json.loads(p.read_text()) for p in MANIFESTS]
    reads = {m["id"] for m in manifests if m["effect"] == "read"}
    assert all(m["method"] in {"GET", "POST"} for m in manifests if m["id"] in reads)
    assert {m["id"] for m in manifests if m["method"] == "GET"} <= reads
    assert "datadog.delete_project" in {m["id"] for m in manifests if m["effect"] == "destructive"}
    assert all(m["idempotent"] for m in manifests if m["method"] in {"GET", "PUT"})


def test_manifests_are_readable_without_the_runtime() -> None:
    code = (
        "import json, sys, pathlib\n"
        "from datadog_case_actions import manifest\n"
        "m = manifest.load_manifest('datadog.create_case'); idx = manifest.load_index()\n"
        f"assert m['input_schema']['properties']['title'] and len(idx['actions']) == {len(MANIFESTS)}\n"
        "heavy = {'httpx', 'pydantic', 'jsonschema'} & set(sys.modules)\n"
        "assert not heavy, heavy\n"
    )
    subprocess.run([sys.executable, "-c", code], check=True, cwd=ROOT)


def test_drift_is_detected(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    """Editing a manifest by hand makes the drift check fail."""
    copy = tmp_path / "manifests"
    copy.mkdir()
    for path in (ROOT / "manifests").glob("*.json"):
        (copy / path.name).write_text(path.read_text())
    target = copy / "datadog.get_case.json"
    target.write_text(target.read_text().replace('"Get the details of a case"', '"Get a case (edited)"'))
    monkeypatch.setattr(generate, "MANIFESTS", copy)
    assert any("datadog.get_case.json" in name for name in generate.stale_files())
