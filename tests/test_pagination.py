"""Every operation that pages is declared paged, with the right first page, and is walked to the end."""

from __future__ import annotations

import io
import json
import re
from pathlib import Path
from typing import Any

import pytest

from datadog_case_actions.cli import main
from datadog_case_actions.runtime.errors import InputError
from datadog_case_actions.sandbox import Sandbox

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "manifests").glob("datadog.*.json"))]
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))["operations"]
PAGE_PARAM = re.compile(r"^page\[(size|number|offset|limit|cursor)\]$")
STANDARD = "00000000-0000-0000-0000-000000000001"


def _paged_operations() -> dict[str, dict[str, Any]]:
    """Operations whose documented query parameters page, with those parameters' schemas."""
    out: dict[str, dict[str, Any]] = {}
    for op_id, op in DIGEST.items():
        params = {p["name"]: p["schema"] for p in op["query_params"] if PAGE_PARAM.match(p["name"])}
        if params:
            out[op_id] = params
    return out


def test_the_paged_operations_are_the_two_the_reference_pages() -> None:
    """A fixed list, so that a newly paged operation in a refreshed reference is noticed here."""
    assert set(_paged_operations()) == {"SearchCases", "ListCaseTimeline"}


@pytest.mark.parametrize("op_id", sorted(_paged_operations()))
def test_every_paged_operation_is_declared_with_its_first_page(op_id: str) -> None:
    manifest = next(m for m in MANIFESTS if m["operation_id"] == op_id)
    spec = manifest.get("pagination")
    assert spec, f"{manifest['id']} pages but declares no pagination: iterate and --all-pages would refuse it"
    query = manifest["request"]["query"]
    assert query[spec["page"]] == "page[number]" and query[spec["size"]] == "page[size]"
    number = _paged_operations()[op_id]["page[number]"]["description"]
    # the reference says "Zero-based page number" for the timeline and nothing for search (1-based, as the SDK)
    assert spec["first_page"] == (0 if "zero-based" in number.lower() else 1), number
    assert manifest["input_schema"]["properties"][spec["page"]]["minimum"] == spec["first_page"]


@pytest.fixture
def case_with_comments(tmp_path: Path) -> tuple[Path, str, list[str]]:
    db = tmp_path / "sandbox.db"
    with Sandbox(db) as sandbox:
        runner = sandbox.runner()
        project = runner.run("create_project", {"name": "Ops", "key": "OPS"})["data"]["id"]
        case = runner.run("create_case", {"title": "many comments", "type_id": STANDARD, "project_id": project})
        texts = [f"comment {i:02d}" for i in range(25)]
        for text in texts:
            runner.run("comment_case", {"case_id": case["data"]["id"], "comment": text})
    return db, case["data"]["id"], texts


def _messages(cells: list[dict[str, Any]]) -> list[str]:
    return [cell["attributes"]["cell_content"]["message"] for cell in cells]


def test_iterate_pages_through_25_comments_of_the_timeline(case_with_comments: tuple[Path, str, list[str]]) -> None:
    db, case_id, texts = case_with_comments
    with Sandbox(db) as sandbox:
        runner = sandbox.runner()
        first = runner.run("list_case_timeline", {"case_id": case_id, "page_size": 10})["data"]
        assert len(first) == 10  # one call gives one page: the cut iterate removes
        oldest_first = {"case_id": case_id, "page_size": 10, "sort_ascending": True}
        cells = list(runner.iterate("list_case_timeline", oldest_first))
        assert _messages(cells) == texts  # pages 0, 1, 2 in order, nothing twice, nothing lost
        assert len(list(runner.iterate("list_case_timeline", {"case_id": case_id}))) == 25
        assert len(list(runner.iterate("list_case_timeline", {"case_id": case_id, "page_size": 7}, max_items=12))) == 12


def test_cli_all_pages_prints_all_25_comments(case_with_comments: tuple[Path, str, list[str]]) -> None:
    db, case_id, texts = case_with_comments
    out, err = io.StringIO(), io.StringIO()
    code = main(["run", "list_case_timeline", f"case_id={case_id}", "page_size=10", "sort_ascending=true",
                 "--all-pages", "--sandbox", "--sandbox-path", str(db)], stdout=out, stderr=err)
    assert code == 0, err.getvalue()
    cells = json.loads(out.getvalue())  # one JSON array of every page's items
    assert _messages(cells) == texts


def test_an_action_that_does_not_page_is_refused_by_iterate() -> None:
    with Sandbox(":memory:") as sandbox, pytest.raises(InputError, match="no pages"):
        list(sandbox.runner().iterate("get_projects", {}))
