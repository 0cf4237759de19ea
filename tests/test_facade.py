"""The generated facade (``client.py``) and types (``types.py``): one typed method per action, run through ``Runner``.

What a type checker makes of them is in ``tests/typing`` (checked by ``tests/test_typing.py``); here the facade is
held to the manifests at run time and exercised on the sandbox, and the output types to live documents.
"""

from __future__ import annotations

import asyncio
import inspect
import json
import subprocess
import sys
import typing
from pathlib import Path
from typing import Any, cast

import pytest

from datadog_case_actions import (
    NOT_GIVEN,
    AsyncCaseManagement,
    CaseManagement,
    Connection,
    InputError,
    NotFoundError,
    Runner,
    types,
)
from datadog_case_actions.manifest import load_index, load_manifest

ROOT = Path(__file__).resolve().parent.parent
MANIFESTS = {action_id: load_manifest(action_id) for action_id in load_index()["actions"]}
STANDARD = "00000000-0000-0000-0000-000000000001"
FACADES = (CaseManagement, AsyncCaseManagement)
OWN = {"self", "dry_run", "max_items", "max_pages"}


def short(action_id: str) -> str:
    return action_id.split(".", 1)[1]


def keyword_params(fn: Any) -> dict[str, inspect.Parameter]:
    return {name: p for name, p in inspect.signature(fn).parameters.items() if name not in OWN}


def test_every_action_has_a_method_and_every_paginated_one_an_iterator() -> None:
    for facade in FACADES:
        methods = {name for name in vars(facade) if not name.startswith("_")}
        paginated = {f"iter_{short(a)}" for a, m in MANIFESTS.items() if m.get("pagination")}
        expected = {short(a) for a in MANIFESTS} | paginated
        assert methods == expected, facade
    assert any(m.get("pagination") for m in MANIFESTS.values())


@pytest.mark.parametrize("action_id", sorted(MANIFESTS))
def test_signatures_match_the_input_schema(action_id: str) -> None:
    schema = MANIFESTS[action_id]["input_schema"]
    required, optional = set(schema.get("required", [])), set(schema["properties"]) - set(schema.get("required", []))
    for facade in FACADES:
        method = getattr(facade, short(action_id))
        signatures = [method, *typing.get_overloads(method)]
        if MANIFESTS[action_id].get("pagination"):
            signatures.append(getattr(facade, f"iter_{short(action_id)}"))
        assert len(signatures) >= 4  # the implementation and three dry_run overloads (+ the iterator)
        for fn in signatures:
            params = keyword_params(fn)
            assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
            assert {n for n, p in params.items() if p.default is inspect.Parameter.empty} == required
            assert {n for n, p in params.items() if p.default is NOT_GIVEN} == optional
        assert asyncio.iscoroutinefunction(method) is (facade is AsyncCaseManagement)


@pytest.mark.parametrize("action_id", sorted(MANIFESTS))
def test_docstring_says_what_and_what_it_changes(action_id: str) -> None:
    manifest = MANIFESTS[action_id]
    doc = inspect.getdoc(getattr(CaseManagement, short(action_id))) or ""
    assert doc.startswith(" ".join(manifest["description"].split())[:60])
    assert f"Effect: {manifest['effect']} (" in doc
    assert ("Preview API" in doc) is manifest["preview"]
    assert f"``{manifest['method']} {manifest['path']}``" in doc


def test_round_trip_on_the_sandbox() -> None:
    with CaseManagement(Connection.sandbox(":memory:")) as dd:
        project = dd.create_project(name="Operations", key="OPS")
        case = dd.create_case(title="DB is down", type_id=STANDARD, project_id=project["data"]["id"], priority="P1")
        fetched = dd.get_case(case_id=case["data"]["id"])
        assert fetched["data"]["attributes"]["title"] == "DB is down"
        assert fetched["data"]["attributes"]["priority"] == "P1"
        comment = dd.comment_case(case_id=case["data"]["id"], comment="on it")
        assert comment["data"][0]["attributes"]["cell_content"] == {"message": "on it"}
        keys = [c["attributes"]["key"] for c in dd.iter_search_cases(filter="project:OPS", page_size=1)]
        assert keys == ["OPS-1"]
    assert dd.runner.transport._client is None  # closed at the end of the block


def test_async_round_trip_on_the_sandbox() -> None:
    async def flow() -> list[str]:
        async with AsyncCaseManagement(Connection.sandbox(":memory:")) as dd:
            project = await dd.create_project(name="Operations", key="OPS")
            case = await dd.create_case(title="DB is down", type_id=STANDARD, project_id=project["data"]["id"])
            fetched = await dd.get_case(case_id=case["data"]["id"])
            assert fetched["data"]["id"] == case["data"]["id"]
            await dd.comment_case(case_id=case["data"]["id"], comment="on it")
            return [c["attributes"]["title"] async for c in dd.iter_search_cases(filter="project:OPS", max_items=5)]

    assert asyncio.run(flow()) == ["DB is down"]


def test_dry_run_returns_the_request_the_runner_would_send() -> None:
    conn = Connection.sandbox(":memory:")
    with Runner(conn) as runner:
        inputs = {"title": "t", "type_id": STANDARD, "project_id": "p", "priority": "P2"}
        request = CaseManagement(runner).create_case(title="t", type_id=STANDARD, project_id="p", priority="P2",
                                                     dry_run=True)
        assert request == runner.run("create_case", inputs, dry_run=True)
        assert request["body"]["data"]["attributes"]["priority"] == "P2"


def test_not_given_is_left_out_and_none_is_sent() -> None:
    with CaseManagement(Connection.sandbox(":memory:")) as dd:
        cleared = dd.update_case_due_date(case_id="c", due_date=None, dry_run=True)
        assert cleared["body"]["data"]["attributes"] == {"due_date": None}
        left_out = dd.create_case(title="t", type_id=STANDARD, project_id="p", priority=NOT_GIVEN, dry_run=True)
        assert "priority" not in left_out["body"]["data"]["attributes"]
        assert repr(NOT_GIVEN) == "NOT_GIVEN" and not NOT_GIVEN


def test_errors_are_the_runtimes() -> None:
    with CaseManagement(Connection.sandbox(":memory:")) as dd:
        with pytest.raises(InputError) as caught:
            dd.create_case(title="t", type_id=STANDARD, project_id="p", priority=cast(Any, "P9"), dry_run=True)
        assert caught.value.action_id == "datadog.create_case"
        assert any(v.field == "priority" for v in caught.value.violations)
        with pytest.raises(TypeError, match="case_idd"):  # a misspelt keyword fails as in any Python call
            dd.get_case(**cast(Any, {"case_id": "c", "case_idd": "c"}))
        with pytest.raises(NotFoundError):
            dd.get_case(case_id="00000000-0000-4000-8000-000000000000")


def test_a_runner_handed_in_is_left_open() -> None:
    with Runner(Connection.sandbox(":memory:")) as runner:
        with CaseManagement(runner) as dd:
            dd.get_projects()
        assert runner.transport._client is not None  # the facade did not close what it does not own
        assert dd.connection is runner.connection


def test_undocumented_fields_stay_in_the_result() -> None:
    """Types describe what is documented; the result keeps whatever the service sent (here, a live-only key)."""
    import httpx

    def answer(request: httpx.Request) -> httpx.Response:
        return httpx.Response(200, json=LIVE_CASE, headers={"Content-Type": "application/vnd.api+json"})

    conn = Connection(api_key="k" * 32, app_key="a" * 40, base_url="http://127.0.0.1:9")
    with Runner(conn, httpx_transport=httpx.MockTransport(answer)) as runner:
        case = CaseManagement(runner).get_case(case_id="0bb969fd-0864-46a1-8e6d-35434e677004")
    assert case == LIVE_CASE
    assert cast(dict[str, Any], case["data"]["attributes"])["merge_status"] == "NOT_MERGED"


def test_cold_start_imports_neither_the_facade_nor_the_types() -> None:
    code = (
        "import sys\n"
        "from datadog_case_actions import Connection, list_actions, run\n"
        "list_actions()\n"
        "run('get_projects', connection=Connection.sandbox(':memory:'))\n"
        "print(sorted(m for m in sys.modules if m.split('.')[-1] in {'client', '_facade', 'types', 'typed'}"
        " and m.startswith('datadog_case_actions')))\n"
        "from datadog_case_actions import CaseManagement\n"
        "print('datadog_case_actions.types' in sys.modules)\n"
    )
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True, cwd=ROOT)
    loaded, facade_loads_types = done.stdout.split("\n")[:2]
    assert loaded == "[]"
    assert facade_loads_types == "True"  # the probe sees the modules once they are imported


# -- output types against the live service ---------------------------------------------------------------------

LIVE_CASE = {  # `Get the details of a case returns "OK" response`: a fresh case (live-api-notes.md 1.6, 7.2)
    "data": {
        "id": "0bb969fd-0864-46a1-8e6d-35434e677004", "type": "case",
        "attributes": {
            "attributes": {}, "comment_count": 0, "created_at": "2025-12-30T13:49:45.922467Z",
            "creation_source": "MANUAL", "custom_attributes": {}, "description": "", "insights": [],
            "internal_id": "0bb969fd-0864-46a1-8e6d-35434e677004", "key": "DDFC-98808",
            "merge_status": "NOT_MERGED", "priority": "P4", "public_id": "99264", "status": "OPEN",
            "status_group": "SG_OPEN", "status_name": "Open", "title": "My new case", "type": "STANDARD",
            "type_id": "00000000-0000-0000-0000-000000000001",
        },
        "relationships": {
            "created_by": {"data": {"id": "9919ec9b-ebc7-49ee-8dc8-03626e717cca", "type": "user"}},
            "project": {"data": {"id": "d4bbe1af-f36e-42f1-87c1-493ca35c320e", "type": "project"}},
        },
    },
    "included": [{"id": "9919ec9b-ebc7-49ee-8dc8-03626e717cca", "type": "user",
                  "attributes": {"active": True, "email": "ci@example.com", "handle": "ci", "name": "CI"}}],
}
LIVE_COMMENT = {  # `Comment case returns "OK" response` (live-api-notes.md 2)
    "data": [{
        "id": "2df6429f-8148-440c-a959-e6503f42709b", "type": "timeline_cell",
        "attributes": {
            "author": {"type": "USER", "content": {"ID": "9919ec9b", "name": "CI", "email": "ci@example.com",
                                                   "handle": "ci", "active": True}},
            "cell_content": {"message": "Hello World !"}, "content": "{\"message\":\"Hello World !\"}",
            "created_at": "2025-12-30T13:49:46.968106806Z", "type": "COMMENT",
        },
    }],
}
LIVE_PROJECT = {  # `Update a project returns "OK" response` (live-api-notes.md 3)
    "data": {"id": "d4bbe1af-f36e-42f1-87c1-493ca35c320e", "type": "project",
             "attributes": {"key": "DDFC", "name": "Updated", "restricted": False,
                            "settings": {"notification": {"enabled": True, "destinations": [1]}}}},
}


def _old_case() -> dict[str, Any]:
    """The case as recorded in July/August 2025: no `status_name`, no `status_group` (live-api-notes.md 1.2)."""
    doc = json.loads(json.dumps(LIVE_CASE))
    for key in ("status_name", "status_group"):
        del doc["data"]["attributes"][key]
    return doc


def _search_page() -> dict[str, Any]:
    """`Search cases returns "OK" response with pagination`, page 2, trimmed: a closed case, `meta` present."""
    doc = _old_case()
    doc["data"]["attributes"].update(status="CLOSED", closed_at="2025-08-21T17:21:13.882830862Z")
    return {"data": [doc["data"]], "meta": {"total_cases": 3, "page": {"current": 2, "size": 1, "total": 2}}}


def missing_required(value: Any, hint: Any, where: str = "") -> list[str]:
    """Keys a ``TypedDict`` (nested, in lists and maps too) marks ``Required`` that *value* lacks."""
    if typing.is_typeddict(hint) and isinstance(value, dict):
        hints = typing.get_type_hints(hint)
        out = [f"{where}/{key}" for key in sorted(hint.__required_keys__) if key not in value]
        for key, sub in value.items():
            if key in hints:
                out += missing_required(sub, hints[key], f"{where}/{key}")
        return out
    args = typing.get_args(hint)
    if typing.get_origin(hint) in (typing.NotRequired, typing.Required):
        return missing_required(value, args[0], where)
    if typing.get_origin(hint) is list and isinstance(value, list):
        return [m for i, v in enumerate(value) for m in missing_required(v, args[0], f"{where}/{i}")]
    if typing.get_origin(hint) is dict and isinstance(value, dict):
        return [m for k, v in value.items() for m in missing_required(v, args[1], f"{where}/{k}")]
    return [m for option in args if typing.is_typeddict(option) for m in missing_required(value, option, where)]


@pytest.mark.parametrize(("result", "document"), [
    (types.GetCaseResult, LIVE_CASE), (types.GetCaseResult, _old_case()), (types.CreateCaseResult, _old_case()),
    (types.SearchCasesResult, _search_page()), (types.CommentCaseResult, LIVE_COMMENT),
    (types.UpdateProjectResult, LIVE_PROJECT),
], ids=["case", "case-2025-08", "created", "search", "comment", "project"])
def test_output_types_promise_only_what_the_live_service_sends(result: Any, document: dict[str, Any]) -> None:
    assert missing_required(document, result) == []


def test_the_live_check_is_not_vacuous() -> None:
    doc = _old_case()
    del doc["data"]["attributes"]["title"]
    del doc["data"]["relationships"]["project"]["data"]["type"]
    assert missing_required(doc, types.GetCaseResult) == [
        "/data/attributes/title", "/data/relationships/project/data/type"]


def test_what_the_service_always_sends_is_required_and_the_rest_is_not() -> None:
    attributes = types.CaseAttributes
    assert {"title", "key", "status", "priority", "created_at", "attributes", "custom_attributes", "description",
            "type", "type_id"} <= attributes.__required_keys__
    assert {"closed_at", "modified_at", "archived_at", "status_group", "status_name", "jira_issue",
            "service_now_ticket"} <= attributes.__optional_keys__
    assert types.GetCaseResult.__required_keys__ == {"data"}
    assert types.SearchCasesResult.__optional_keys__ == {"meta", "included"}  # both may be left out
    assert typing.get_type_hints(types.SearchCasesResult)["data"] == list[types.Case]
    # an operation the live notes say nothing about: only the envelope is promised
    unrecorded = typing.get_type_hints(types.AddCaseInsightsResult)["data"]
    assert unrecorded.__required_keys__ == {"id", "type", "attributes"}
    assert typing.get_type_hints(unrecorded)["attributes"].__required_keys__ == frozenset()
