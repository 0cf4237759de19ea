"""The sandbox's behaviour: keys, timestamps, statuses, search, counts, bulk, timeline, persistence, errors, faults."""

from __future__ import annotations

import asyncio
import datetime as dt
import io
import json
import re
import threading
from pathlib import Path
from typing import Any

import httpx
import pytest

from datadog_case_actions.sandbox import (
    AsyncSandboxTransport,
    ConnectionDropped,
    Faults,
    Sandbox,
    SandboxTransport,
    default_db_path,
)

AUTH = {"DD-API-KEY": "sandbox-api", "DD-APPLICATION-KEY": "sandbox-app"}
#: RFC 3339 in UTC, fraction trimmed of trailing zeros (and dropped when zero), as live writes it
ISO = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d*[1-9])?Z$")
STANDARD = "00000000-0000-0000-0000-000000000001"
# user ids are UUIDs: live refuses anything else as an assignee
ALICE, BOB, CAROL = ("a11ce000-0000-4000-8000-000000000001", "b0b00000-0000-4000-8000-000000000002",
                     "ca501000-0000-4000-8000-000000000003")


def detail(response: httpx.Response) -> str:
    """The ``detail`` of the first JSON:API error object of *response*."""
    return str(response.json()["errors"][0].get("detail", ""))


class Api:
    """A thin client over an in-process sandbox, with helpers for the common set-ups."""

    def __init__(self, sb: Sandbox) -> None:
        self.sb = sb
        self.http = httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox.local", headers=AUTH)

    def close(self) -> None:
        self.http.close()

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.http.request(method, path, json=body, params=params or None)

    def ok(self, method: str, path: str, body: Any = None, **params: Any) -> Any:
        response = self.call(method, path, body, **params)
        assert response.status_code < 300, (response.status_code, response.text)
        return response.json() if response.content else None

    def project(self, key: str = "OPS", name: str = "Operations") -> dict[str, Any]:
        body = {"data": {"type": "project", "attributes": {"key": key, "name": name}}}
        return self.ok("POST", "/api/v2/cases/projects", body)["data"]

    def case(self, project_id: str, title: str = "DB is down", **attributes: Any) -> dict[str, Any]:
        extra_rel = {}
        if "assignee_id" in attributes:
            extra_rel["assignee"] = {"data": {"id": attributes.pop("assignee_id"), "type": "user"}}
        body = {"data": {"type": "case",
                         "attributes": {"title": title, "type_id": attributes.pop("type_id", STANDARD),
                                        **attributes},
                         "relationships": {"project": {"data": {"id": project_id, "type": "project"}},
                                           **extra_rel}}}
        return self.ok("POST", "/api/v2/cases", body)["data"]

    def case_op(self, case_id: str, op: str, **attributes: Any) -> dict[str, Any]:
        body = {"data": {"type": "case", "attributes": attributes}}
        return self.ok("POST", f"/api/v2/cases/{case_id}/{op}", body)["data"]

    def search(self, **params: Any) -> dict[str, Any]:
        return self.ok("GET", "/api/v2/cases", **params)  # type: ignore[no-any-return]

    def keys(self, **params: Any) -> list[str]:
        return [c["attributes"]["key"] for c in self.search(**params)["data"]]


@pytest.fixture
def sb() -> Any:
    sandbox = Sandbox(":memory:")
    yield sandbox
    sandbox.close()


@pytest.fixture
def api(sb: Sandbox) -> Any:
    client = Api(sb)
    yield client
    client.close()


# -- keys, timestamps, statuses --------------------------------------------------------------------

def test_case_keys_count_per_project_and_ids_or_keys_resolve(api: Api) -> None:
    ops, sec = api.project("OPS"), api.project("sec", "Security")
    assert sec["attributes"]["key"] == "SEC"
    made = [api.case(ops["id"]), api.case(ops["id"]), api.case(sec["id"]), api.case(ops["id"])]
    assert [c["attributes"]["key"] for c in made] == ["OPS-1", "OPS-2", "SEC-1", "OPS-3"]
    first = made[0]
    assert re.fullmatch(r"[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}", first["id"])
    assert api.ok("GET", f"/api/v2/cases/{first['id']}")["data"]["attributes"]["key"] == "OPS-1"
    assert api.ok("GET", "/api/v2/cases/ops-1")["data"]["id"] == first["id"]
    assert first["relationships"]["project"]["data"] == {"id": ops["id"], "type": "project"}
    assert api.call("POST", "/api/v2/cases/projects",
                    {"data": {"type": "project", "attributes": {"key": "OPS", "name": "again"}}}).status_code == 409
    assert api.call("POST", "/api/v2/cases/projects",
                    {"data": {"type": "project", "attributes": {"key": "CASE", "name": "no"}}}).status_code == 400


def test_timestamps_and_status_groups_follow_the_lifecycle() -> None:
    moments = iter(dt.datetime(2025, 1, 1, 12, 0, i, tzinfo=dt.timezone.utc) for i in range(60))
    with Sandbox(":memory:", clock=lambda: next(moments)) as sb:
        api = Api(sb)
        case = api.case(api.project()["id"])
        attrs = case["attributes"]
        assert attrs["created_at"] == "2025-01-01T12:00:01Z" and "modified_at" not in attrs  # fresh: never modified
        assert ISO.match(attrs["created_at"])
        assert (attrs["status"], attrs["status_name"], attrs["status_group"]) == ("OPEN", "Open", "SG_OPEN")
        assert attrs["priority"] == "NOT_DEFINED" and "closed_at" not in attrs and "archived_at" not in attrs

        moved = api.case_op("OPS-1", "status", status="IN_PROGRESS")["attributes"]
        assert (moved["status"], moved["status_name"], moved["status_group"]) == ("IN_PROGRESS", "In Progress",
                                                                                 "SG_IN_PROGRESS")
        assert moved["modified_at"] == "2025-01-01T12:00:02Z" and moved["created_at"] == attrs["created_at"]

        closed = api.case_op("OPS-1", "status", status_name="Closed")["attributes"]
        assert (closed["status"], closed["status_group"], closed["closed_at"]) == ("CLOSED", "SG_CLOSED",
                                                                                  "2025-01-01T12:00:03Z")
        reopened = api.case_op("OPS-1", "status", status_name="open")["attributes"]
        assert reopened["status"] == "OPEN" and "closed_at" not in reopened

        archived = api.ok("POST", "/api/v2/cases/OPS-1/archive", {"data": {"type": "case"}})["data"]["attributes"]
        assert archived["archived_at"] == "2025-01-01T12:00:05Z"
        again = api.ok("POST", "/api/v2/cases/OPS-1/archive", {"data": {"type": "case"}})["data"]["attributes"]
        assert again["archived_at"] == archived["archived_at"]  # archiving twice keeps the first time
        unarchived = api.ok("POST", "/api/v2/cases/OPS-1/unarchive", {"data": {"type": "case"}})["data"]
        assert "archived_at" not in unarchived["attributes"]

        bad = api.call("POST", "/api/v2/cases/OPS-1/status", {"data": {"type": "case", "attributes": {}}})
        assert bad.status_code == 400 and "status_name" in detail(bad)
        bad = api.call("POST", "/api/v2/cases/OPS-1/status",
                       {"data": {"type": "case", "attributes": {"status_name": "Resolved"}}})
        # not a status of the Standard type: the live "Generic Error" shape, naming the statuses the type has
        assert bad.status_code == 400 and bad.json()["errors"][0]["title"] == "Generic Error"
        assert "Resolved" in detail(bad) and "Open, In Progress, Closed" in detail(bad)
        api.close()


def test_field_updates_assignee_attributes_custom_due_date_and_resolved_reason(api: Api) -> None:
    type_body = {"data": {"type": "case_type", "attributes": {"name": "Regional"}}}
    regional = api.ok("POST", "/api/v2/cases/types", type_body)["data"]["id"]
    config = {"data": {"type": "custom_attribute", "attributes": {"key": "regions", "display_name": "Regions",
                                                                  "is_multi": True, "type": "TEXT"}}}
    api.ok("POST", f"/api/v2/cases/types/{regional}/custom_attributes", config)
    case = api.case(api.project()["id"], assignee_id=ALICE, description="first", type_id=regional)
    assert case["relationships"]["assignee"]["data"] == {"id": ALICE, "type": "user"}
    assert api.case_op("OPS-1", "title", title="New title")["attributes"]["title"] == "New title"
    assert api.case_op("OPS-1", "description", description="second")["attributes"]["description"] == "second"
    assert api.case_op("OPS-1", "priority", priority="P2")["attributes"]["priority"] == "P2"
    assert api.case_op("OPS-1", "assign", assignee_id=BOB)["relationships"]["assignee"]["data"]["id"] == BOB
    assert "assignee" not in api.ok("POST", "/api/v2/cases/OPS-1/unassign",
                                    {"data": {"type": "case"}})["data"]["relationships"]
    attrs = api.case_op("OPS-1", "attributes", attributes={"service": ["web", "api"]})["attributes"]
    assert attrs["attributes"] == {"service": ["web", "api"]}

    body = {"data": {"type": "case", "attributes": {"is_multi": True, "type": "TEXT", "value": ["eu", "us"]}}}
    custom = api.ok("POST", "/api/v2/cases/OPS-1/custom_attributes/regions", body)["data"]["attributes"]
    assert custom["custom_attributes"]["regions"] == {"type": "TEXT", "is_multi": True, "value": ["eu", "us"]}
    body["data"]["attributes"]["value"] = "eu"  # single value while is_multi is true
    assert api.call("POST", "/api/v2/cases/OPS-1/custom_attributes/regions", body).status_code == 400
    gone = api.ok("DELETE", "/api/v2/cases/OPS-1/custom_attributes/regions")["data"]["attributes"]
    assert gone["custom_attributes"] == {}

    assert api.case_op("OPS-1", "due_date", due_date="2026-12-31")["attributes"]["due_date"] == "2026-12-31"
    assert "due_date" not in api.case_op("OPS-1", "due_date", due_date=None)["attributes"]
    bad = api.call("POST", "/api/v2/cases/OPS-1/due_date",
                   {"data": {"type": "case", "attributes": {"due_date": "31/12/2026"}}})
    assert bad.status_code == 400 and "/data/attributes/due_date" in detail(bad)
    resolved = api.case_op("OPS-1", "resolved_reason", security_resolved_reason="FALSE_POSITIVE")
    assert resolved["attributes"]["security_resolved_reason"] == "FALSE_POSITIVE"


# -- search, count, aggregate, bulk ----------------------------------------------------------------

@pytest.fixture
def corpus(api: Api) -> Api:
    ops, sec = api.project("OPS")["id"], api.project("SEC")["id"]
    api.case(ops, "Database is down", priority="P1", description="primary db", assignee_id=ALICE)  # OPS-1
    api.case(ops, "Disk full on web-1", priority="P3")  # OPS-2
    api.case(sec, "Suspicious login", priority="P1", assignee_id=BOB)  # SEC-1
    api.case(ops, "Slow checkout", priority="P2")  # OPS-3
    api.case(sec, "Leaked key in repo", description="rotate the DATABASE key")  # SEC-2
    api.case_op("OPS-2", "status", status="IN_PROGRESS")
    api.case_op("SEC-1", "status", status="CLOSED")
    api.case_op("OPS-3", "attributes", attributes={"service": ["checkout", "web"]})
    api.ok("POST", "/api/v2/cases/SEC-2/archive", {"data": {"type": "case"}})
    return api


def test_search_filters(corpus: Api) -> None:
    keys = corpus.keys
    assert keys() == ["SEC-2", "OPS-3", "SEC-1", "OPS-2", "OPS-1"]  # newest first by default
    assert keys(filter="status:open") == ["SEC-2", "OPS-3", "OPS-1"]
    assert keys(filter="status:in_progress") == ["OPS-2"]
    assert keys(filter='status:"In Progress"') == ["OPS-2"]
    assert keys(filter="status:closed") == ["SEC-1"]
    assert keys(filter="priority:p1") == ["SEC-1", "OPS-1"]
    assert keys(filter="project:SEC") == ["SEC-2", "SEC-1"]
    project_id = corpus.ok("GET", "/api/v2/cases/SEC-1")["data"]["relationships"]["project"]["data"]["id"]
    assert keys(filter=f"project:{project_id}") == ["SEC-2", "SEC-1"]
    assert keys(filter=f"assignee:{ALICE}") == ["OPS-1"]
    assert keys(filter="assignee:none") == ["SEC-2", "OPS-3", "OPS-2"]
    assert keys(filter="archived:true") == ["SEC-2"]
    assert keys(filter="archived:false project:SEC") == ["SEC-1"]
    assert keys(filter="database") == ["SEC-2", "OPS-1"]  # title or description, any case
    assert keys(filter="ops-2") == ["OPS-2"]  # the key
    assert keys(filter='"disk full"') == ["OPS-2"]
    assert keys(filter="status:open priority:P1") == ["OPS-1"]  # terms are ANDed
    assert keys(filter="-status:open") == ["SEC-1", "OPS-2"]
    assert keys(filter="status:in_progress,closed") == ["SEC-1", "OPS-2"]
    assert keys(filter="service:checkout") == ["OPS-3"]  # other fields match the case attributes
    for bad in ("status:sleeping", "priority:P9", "archived:maybe", "status:open OR status:closed", '"unclosed'):
        response = corpus.call("GET", "/api/v2/cases", filter=bad)
        assert response.status_code == 400 and detail(response).startswith("filter"), bad


def test_search_paging_and_sorting(corpus: Api) -> None:
    page = corpus.search(**{"page[size]": 2, "page[number]": 1})
    assert [c["attributes"]["key"] for c in page["data"]] == ["SEC-2", "OPS-3"]
    assert page["meta"] == {"total_cases": 5, "page": {"current": 1, "size": 2, "total": 3}}
    last = corpus.search(**{"page[size]": 2, "page[number]": 3})
    assert [c["attributes"]["key"] for c in last["data"]] == ["OPS-1"]
    assert last["meta"]["page"] == {"current": 3, "size": 1, "total": 3}
    assert corpus.search(**{"page[size]": 2, "page[number]": 4})["data"] == []
    assert corpus.keys(**{"sort[field]": "created_at", "sort[asc]": "true"}) == ["OPS-1", "OPS-2", "SEC-1", "OPS-3",
                                                                                "SEC-2"]
    assert corpus.keys(**{"sort[field]": "priority", "sort[asc]": "true"}) == ["OPS-1", "SEC-1", "OPS-3", "OPS-2",
                                                                              "SEC-2"]
    assert corpus.keys(**{"sort[field]": "status", "sort[asc]": "true"})[-1] == "SEC-1"
    for params in ({"page[size]": 101}, {"page[size]": 0}, {"page[number]": 0}, {"sort[field]": "title"},
                   {"page[size]": "ten"}, {"sort[asc]": "sometimes"}):
        response = corpus.call("GET", "/api/v2/cases", **params)
        assert response.status_code == 400, params
        assert next(iter(params)) in detail(response)


def test_count_and_aggregate_are_computed_from_the_data(corpus: Api) -> None:
    counted = corpus.ok("GET", "/api/v2/cases/count", group_bys="status,priority", query_filter="archived:false")
    assert counted["data"]["type"] == "count"
    groups = {g["group"]: {v["value"]: v["count"] for v in g["group_values"]}
              for g in counted["data"]["attributes"]["groups"]}
    assert groups == {"status": {"OPEN": 2, "IN_PROGRESS": 1, "CLOSED": 1},
                      "priority": {"P1": 2, "P2": 1, "P3": 1}}
    limited = corpus.ok("GET", "/api/v2/cases/count", group_bys="project", limit=1)
    assert limited["data"]["attributes"]["groups"] == [{"group": "project", "group_values": [{"count": 3,
                                                                                               "value": "OPS"}]}]
    aggregate = corpus.ok("POST", "/api/v2/cases/aggregate", {"data": {"type": "aggregate", "attributes": {
        "group_by": {"groups": ["status"], "limit": 10}, "query_filter": "project:OPS"}}})
    attrs = aggregate["data"]["attributes"]
    assert attrs["total"] == 3
    assert attrs["groups"] == [{"group": "OPEN", "value": [2]}, {"group": "IN_PROGRESS", "value": [1]}]
    two = corpus.ok("POST", "/api/v2/cases/aggregate", {"data": {"type": "aggregate", "attributes": {
        "group_by": {"groups": ["status", "priority"], "limit": 1}, "query_filter": ""}}})["data"]["attributes"]
    assert two["total"] == 5 and two["groups"] == [{"group": "CLOSED,P1", "value": [1]}]  # ties: by name
    missing = corpus.call("POST", "/api/v2/cases/aggregate", {"data": {"type": "aggregate", "attributes": {
        "query_filter": ""}}})
    assert missing.status_code == 400 and "/data/attributes/group_by" in detail(missing)


def test_bulk_update_applies_the_change_to_every_named_case(corpus: Api) -> None:
    def bulk(action: str, ids: list[str], **payload: str) -> httpx.Response:
        attributes: dict[str, Any] = {"case_ids": ids, "type": action}
        if payload:
            attributes["payload"] = payload
        return corpus.call("POST", "/api/v2/cases/bulk", {"data": {"type": "bulk", "attributes": attributes}})

    one = corpus.ok("GET", "/api/v2/cases/OPS-1")["data"]["id"]
    assert bulk("priority", [one, "OPS-2", "sec-1"], priority="P5").status_code == 200
    assert corpus.keys(filter="priority:P5", **{"sort[asc]": "true"}) == ["OPS-1", "OPS-2", "SEC-1"]
    assert bulk("status", ["OPS-1", "OPS-2"], status_name="Closed").status_code == 200
    assert corpus.keys(filter="status:closed", **{"sort[asc]": "true"}) == ["OPS-1", "OPS-2", "SEC-1"]
    assert bulk("assign", ["OPS-2", "OPS-3"], assignee_id=CAROL).status_code == 200
    assert corpus.keys(filter=f"assignee:{CAROL}", **{"sort[asc]": "true"}) == ["OPS-2", "OPS-3"]
    assert bulk("unassign", ["OPS-2"]).status_code == 200
    assert bulk("archive", ["OPS-1", "OPS-3"]).status_code == 200
    assert corpus.keys(filter="archived:true", **{"sort[asc]": "true"}) == ["OPS-1", "OPS-3", "SEC-2"]
    assert bulk("unarchive", ["SEC-2"]).status_code == 200
    assert bulk("update_project", ["OPS-3"], project_id="SEC").status_code == 200
    assert corpus.ok("GET", "/api/v2/cases/SEC-3")["data"]["attributes"]["title"] == "Slow checkout"

    before = corpus.search()["data"]
    response = bulk("priority", ["OPS-1", "OPS-404"], priority="P1")
    assert response.status_code == 404
    assert response.json() == {"errors": [{"code": "resource_not_found", "title": "case not found"}]}
    missing = bulk("priority", ["OPS-1"])
    assert missing.status_code == 400 and "/data/attributes/payload/priority" in detail(missing)
    assert bulk("priority", ["OPS-1"], priority="URGENT").status_code == 400
    assert bulk("explode", ["OPS-1"]).status_code == 400
    assert corpus.search()["data"] == before  # refused requests change nothing


# -- comments, watchers, insights, links, integrations, projects ----------------------------------

def test_comments_make_a_timeline(api: Api) -> None:
    api.case(api.project()["id"])
    cells = [api.ok("POST", "/api/v2/cases/OPS-1/comment",
                    {"data": {"type": "case", "attributes": {"comment": f"note {i}"}}})["data"] for i in range(5)]
    assert all(len(c) == 1 and c[0]["type"] == "timeline_cell" for c in cells)
    first = cells[0][0]
    assert first["attributes"]["type"] == "COMMENT" and first["attributes"]["cell_content"] == {"message": "note 0"}
    assert first["attributes"]["author"]["type"] == "USER"

    def messages(**params: Any) -> list[str]:
        data = api.ok("GET", "/api/v2/cases/OPS-1/timelines", **params)["data"]
        return [c["attributes"]["cell_content"]["message"] for c in data]

    assert messages() == ["note 4", "note 3", "note 2", "note 1", "note 0"]  # newest first
    assert messages(**{"sort[ascending]": "true", "page[size]": 2, "page[number]": 1}) == ["note 2", "note 3"]
    assert messages(**{"page[size]": 2, "page[number]": 0}) == ["note 4", "note 3"]

    cell_id = first["id"]
    response = api.call("PUT", f"/api/v2/cases/OPS-1/comment/{cell_id}",
                        {"data": {"type": "case", "attributes": {"comment": "edited"}}})
    assert response.status_code == 200
    assert messages(**{"sort[ascending]": "true"})[0] == "edited"
    assert api.call("DELETE", f"/api/v2/cases/OPS-1/comment/{cell_id}").status_code == 204
    assert "edited" not in messages()
    assert api.call("DELETE", f"/api/v2/cases/OPS-1/comment/{cell_id}").status_code == 404
    assert api.call("PUT", "/api/v2/cases/OPS-1/comment/nope",  # a cell id must be a UUID (live)
                    {"data": {"type": "case", "attributes": {"comment": "x"}}}).status_code == 400
    assert api.call("PUT", f"/api/v2/cases/OPS-1/comment/{STANDARD}",
                    {"data": {"type": "case", "attributes": {"comment": "x"}}}).status_code == 404
    blank = api.call("POST", "/api/v2/cases/OPS-1/comment", {"data": {"type": "case", "attributes": {"comment": " "}}})
    assert blank.status_code == 400 and blank.json() == {"errors": [{"status": "400", "title": "Bad Request"}]}


def test_25_comments_page_through_iterate_aiterate_and_the_cli(tmp_path: Path) -> None:
    """The timeline pages zero-based; iterate, aiterate and --all-pages walk every page; comment_count follows."""
    from datadog_case_actions.cli import main

    db = str(tmp_path / "timeline.sqlite3")
    with Sandbox(db) as sandbox, sandbox.runner() as runner:
        project = runner.run("create_project", {"key": "TL", "name": "Timeline"})["data"]["id"]
        case_id = runner.run("create_case", {"title": "t", "type_id": STANDARD, "project_id": project})["data"]["id"]
        for i in range(25):
            runner.run("comment_case", {"case_id": case_id, "comment": f"note {i}"})
        newest_first = [f"note {i}" for i in reversed(range(25))]

        def messages(cells: Any) -> list[str]:
            return [c["attributes"]["cell_content"]["message"] for c in cells]

        assert messages(runner.iterate("list_case_timeline", {"case_id": case_id, "page_size": 10})) == newest_first

        async def walk() -> list[Any]:
            return [c async for c in runner.aiterate("list_case_timeline", {"case_id": case_id, "page_size": 7})]

        assert messages(asyncio.run(walk())) == newest_first
        assert runner.run("get_case", {"case_id": case_id})["data"]["attributes"]["comment_count"] == 25
    out = io.StringIO()
    assert main(["run", "list_case_timeline", f"case_id={case_id}", "page_size=10", "--all-pages", "-o", "ndjson",
                 "--sandbox",
                 "--sandbox-path", db], stdout=out) == 0
    assert messages(json.loads(line) for line in out.getvalue().splitlines()) == newest_first


def test_case_types_govern_statuses_and_custom_attributes(api: Api) -> None:
    """A type's statuses_config gives its cases' statuses; its configs say which custom attributes fit."""
    change_request = "00000000-0000-0000-0000-000000000004"
    pid = api.project()["id"]
    api.case(pid, "Rotate keys", type_id=change_request)
    pending = api.case_op("OPS-1", "status", status_name="Pending Approval")["attributes"]
    assert (pending["status"], pending["status_group"]) == ("PENDING_APPROVAL", "SG_IN_PROGRESS")
    assert api.keys(filter="status:in_progress") == ["OPS-1"]  # the group counts in the status filter
    done = api.case_op("OPS-1", "status", status_name="Completed")["attributes"]
    assert (done["status_name"], done["status_group"]) == ("Completed", "SG_CLOSED") and "closed_at" in done
    assert api.call("POST", "/api/v2/cases/OPS-1/status",
                    {"data": {"type": "case", "attributes": {"status_name": "In Progress"}}}).status_code == 400

    own = api.ok("POST", "/api/v2/cases/types", {"data": {"type": "case_type", "attributes": {
        "name": "Audit", "emoji": "🧾", "description": "first"}}})["data"]["id"]
    renamed = api.ok("PUT", f"/api/v2/cases/types/{own}", {"data": {"type": "case_type", "attributes": {
        "name": "Audit trail"}}})["data"]["attributes"]
    assert (renamed["name"], renamed["description"], renamed["emoji"]) == ("Audit trail", "first", "🧾")  # kept
    for method in ("PUT", "DELETE"):  # built-in types cannot be changed
        assert api.call(method, f"/api/v2/cases/types/{STANDARD}", {"data": {"type": "case_type", "attributes": {
            "name": "x"}}} if method == "PUT" else None).status_code == 400
    assert api.call("GET", "/api/v2/cases/types/not-a-uuid/custom_attributes").status_code == 400

    config_path = f"/api/v2/cases/types/{own}/custom_attributes"
    config = api.ok("POST", config_path, {"data": {"type": "custom_attribute", "attributes": {
        "key": "region", "display_name": "Region", "is_multi": False, "type": "TEXT"}}})["data"]["id"]
    duplicate = api.call("POST", config_path, {"data": {"type": "custom_attribute", "attributes": {
        "key": "region", "display_name": "Again", "is_multi": False, "type": "TEXT"}}})
    assert duplicate.status_code == 400
    select = api.ok("PUT", f"{config_path}/{config}", {"data": {"type": "custom_attribute", "attributes": {
        "type": "SELECT", "type_data": {"options": [{"value": "eu"}, {"value": "us"}]}}}})["data"]["attributes"]
    assert (select["type"], select["key"], select["display_name"]) == ("SELECT", "region", "Region")
    api.case(pid, "Audit Q3", type_id=own)  # OPS-2

    def set_region(value: Any, kind: str = "SELECT", multi: bool = False) -> httpx.Response:
        return api.call("POST", "/api/v2/cases/OPS-2/custom_attributes/region", {"data": {"type": "case", "attributes": {
            "is_multi": multi, "type": kind, "value": value}}})

    assert set_region("eu").status_code == 200
    assert set_region("mars").status_code == 400  # not an option
    assert set_region("eu", "TEXT").status_code == 400  # not the configured type
    assert set_region(["eu"], multi=True).status_code == 400  # not the configured multiplicity
    assert api.call("DELETE", f"{config_path}/{config}").status_code == 204
    assert set_region("eu").status_code == 404  # no longer configured
    assert api.ok("GET", config_path) == {"data": []}


def test_watchers_insights_links_and_integrations(api: Api) -> None:
    ops = api.project()["id"]
    api.case(ops)
    api.case(ops, "second")
    assert api.call("POST", "/api/v2/cases/OPS-1/watchers/u1").status_code == 201
    assert api.call("POST", "/api/v2/cases/OPS-1/watchers/u1").status_code == 201
    assert api.call("POST", "/api/v2/cases/OPS-1/watchers/u2").status_code == 201
    watchers = api.ok("GET", "/api/v2/cases/OPS-1/watchers")["data"]
    assert [w["relationships"]["user"]["data"]["id"] for w in watchers] == ["u1", "u2"]
    assert api.call("DELETE", "/api/v2/cases/OPS-1/watchers/u1").status_code == 204
    assert len(api.ok("GET", "/api/v2/cases/OPS-1/watchers")["data"]) == 1

    insight = {"ref": "/monitors/1", "resource_id": "1", "type": "MONITOR"}
    body = {"data": {"type": "case", "attributes": {"insights": [insight, {**insight, "resource_id": "2"}]}}}
    added = api.ok("PUT", "/api/v2/cases/OPS-1/insights", body)["data"]["attributes"]
    assert [i["resource_id"] for i in added["insights"]] == ["1", "2"]
    removed = api.ok("DELETE", "/api/v2/cases/OPS-1/insights",
                     {"data": {"type": "case", "attributes": {"insights": [insight]}}})["data"]["attributes"]
    assert [i["resource_id"] for i in removed["insights"]] == ["2"]
    too_many = {"data": {"type": "case", "attributes": {"insights": [
        {**insight, "resource_id": str(i)} for i in range(101)]}}}
    response = api.call("PUT", "/api/v2/cases/OPS-1/insights", too_many)
    assert response.status_code == 400
    assert response.json()["errors"][0]["source"] == {"pointer": "/data/attributes/insights"}

    link = {"parent_entity_type": "CASE", "parent_entity_id": "OPS-1", "child_entity_type": "CASE",
            "child_entity_id": "OPS-2", "relationship": "BLOCKS"}
    made = api.ok("POST", "/api/v2/cases/link", {"data": {"type": "link", "attributes": link}})["data"]
    one = api.ok("GET", "/api/v2/cases/OPS-1")["data"]["id"]
    assert made["attributes"]["parent_entity_id"] == one
    assert api.call("POST", "/api/v2/cases/link", {"data": {"type": "link", "attributes": link}}).status_code == 409
    assert len(api.ok("GET", "/api/v2/cases/link", entity_type="CASE", entity_id="OPS-2")["data"]) == 1
    assert api.ok("GET", "/api/v2/cases/link", entity_type="CASE", entity_id=one, relationship="CAUSES")["data"] == []
    assert api.call("DELETE", f"/api/v2/cases/link/{made['id']}").status_code == 204
    assert api.call("DELETE", f"/api/v2/cases/link/{made['id']}").status_code == 404

    jira = {"data": {"type": "issues", "attributes": {"issue_type_id": "1", "jira_account_id": "2", "project_id": "3"}}}
    assert api.call("POST", "/api/v2/cases/OPS-1/relationships/jira_issues", jira).status_code == 202
    issue = api.ok("GET", "/api/v2/cases/OPS-1")["data"]["attributes"]["jira_issue"]
    assert issue["status"] == "COMPLETED" and issue["result"]["issue_url"].endswith(issue["result"]["issue_key"])
    link_body = {"data": {"type": "issues", "attributes": {"jira_issue_url": "https://acme.atlassian.net/browse/PROJ-7"}}}
    conflict = api.call("PATCH", "/api/v2/cases/OPS-1/relationships/jira_issues", link_body)
    assert conflict.status_code == 409 and conflict.json()["errors"][0]["status"] == "409"
    assert api.call("DELETE", "/api/v2/cases/OPS-1/relationships/jira_issues").status_code == 204
    assert api.call("DELETE", "/api/v2/cases/OPS-1/relationships/jira_issues").status_code == 404
    assert api.call("PATCH", "/api/v2/cases/OPS-1/relationships/jira_issues", link_body).status_code == 204
    linked = api.ok("GET", "/api/v2/cases/OPS-1")["data"]["attributes"]["jira_issue"]["result"]
    assert (linked["issue_key"], linked["project_key"]) == ("PROJ-7", "PROJ")

    snow = {"data": {"type": "tickets", "attributes": {"instance_name": "acme"}}}
    assert api.call("POST", "/api/v2/cases/OPS-1/relationships/servicenow_tickets", snow).status_code == 202
    ticket = api.ok("GET", "/api/v2/cases/OPS-1")["data"]["attributes"]["service_now_ticket"]
    assert ticket["status"] == "COMPLETED" and "acme.service-now.com" in ticket["result"]["sys_target_link"]
    assert api.call("POST", "/api/v2/cases/OPS-1/relationships/notebook",
                    {"data": {"type": "notebook"}}).status_code == 204
    incident = api.call("POST", "/api/v2/cases/OPS-1/relationships/incidents", {"data": {"type": "incidents", "id": "i-1"}})
    assert incident.status_code == 201
    relationships = incident.json()["data"]["relationships"]
    assert relationships["incidents"]["data"] == [{"id": "i-1", "type": "incidents"}]
    assert relationships["notebook"]["data"]["type"] == "notebook"


def test_move_case_to_project_gives_a_new_key(api: Api) -> None:
    ops, sec = api.project("OPS")["id"], api.project("SEC")["id"]
    api.case(sec)
    case = api.case(ops)
    moved = api.ok("PATCH", f"/api/v2/cases/{case['id']}/relationships/project",
                   {"data": {"type": "project", "id": sec}})["data"]
    assert moved["attributes"]["key"] == "SEC-2" and moved["relationships"]["project"]["data"]["id"] == sec
    assert api.call("GET", "/api/v2/cases/OPS-1").status_code == 404
    assert api.case(ops)["attributes"]["key"] == "OPS-2"  # numbers are never reused
    missing = api.call("PATCH", "/api/v2/cases/SEC-2/relationships/project", {"data": {"type": "project", "id": "nope"}})
    assert missing.status_code == 404
    assert missing.json() == {"errors": [{"code": "resource_not_found", "title": "project not found"}]}


def test_projects_settings_favorites_rules_windows_views(api: Api) -> None:
    project = api.project()
    pid = project["id"]
    assert [p["id"] for p in api.ok("GET", "/api/v2/cases/projects")["data"]] == [pid]
    patch = {"data": {"type": "project", "attributes": {
        "name": "Ops team", "settings": {"auto_close_inactive_cases": {"enabled": True}}}}}
    updated = api.ok("PATCH", f"/api/v2/cases/projects/{pid}", patch)["data"]["attributes"]
    assert updated["name"] == "Ops team" and updated["key"] == "OPS"
    assert updated["settings"]["auto_close_inactive_cases"] == {"enabled": True, "max_inactive_time_in_secs": 2592000}
    assert updated["settings"]["notification"]["enabled"] is False  # untouched settings are kept

    assert api.ok("GET", "/api/v2/cases/projects/favorites")["data"] == []
    assert api.call("POST", f"/api/v2/cases/projects/{pid}/favorites").status_code == 204
    assert api.ok("GET", "/api/v2/cases/projects/favorites")["data"] == [{"id": pid, "type": "project_favorite"}]
    other_user = {"DD-API-KEY": "k", "DD-APPLICATION-KEY": "someone-else"}
    assert api.http.get("/api/v2/cases/projects/favorites", headers=other_user).json()["data"] == []
    assert api.call("DELETE", f"/api/v2/cases/projects/{pid}/favorites").status_code == 204
    assert api.ok("GET", "/api/v2/cases/projects/favorites")["data"] == []

    rule_body = {"data": {"type": "rule", "attributes": {
        "name": "auto", "action": {"type": "execute_workflow", "data": {"handle": "wf"}},
        "trigger": {"type": "case_created"}}}}
    rule = api.ok("POST", f"/api/v2/cases/projects/{pid}/rules", rule_body)["data"]
    assert rule["attributes"]["state"] == "ENABLED"
    base = f"/api/v2/cases/projects/{pid}/rules/{rule['id']}"
    assert api.ok("POST", f"{base}/disable")["data"]["attributes"]["state"] == "DISABLED"
    assert api.ok("GET", base)["data"]["attributes"]["state"] == "DISABLED"
    assert api.ok("POST", f"{base}/enable")["data"]["attributes"]["state"] == "ENABLED"
    renamed = api.ok("PUT", base, {"data": {"type": "rule", "attributes": {"name": "renamed"}}})["data"]
    assert renamed["attributes"]["name"] == "renamed" and renamed["attributes"]["trigger"] == {"type": "case_created"}
    assert len(api.ok("GET", f"/api/v2/cases/projects/{pid}/rules")["data"]) == 1
    assert api.call("DELETE", base).status_code == 204 and api.call("GET", base).status_code == 404

    nr_body = {"data": {"type": "notification_rule", "attributes": {
        "recipients": [{"type": "EMAIL", "data": {"email": "a@example.com"}}], "triggers": [{"type": "CASE_CREATED"}]}}}
    nr = api.ok("POST", f"/api/v2/cases/projects/{pid}/notification_rules", nr_body)["data"]
    nr_path = f"/api/v2/cases/projects/{pid}/notification_rules/{nr['id']}"
    assert api.call("PUT", nr_path, {"data": {"type": "notification_rule",
                                              "attributes": {"is_enabled": False}}}).status_code == 204
    listed = api.ok("GET", f"/api/v2/cases/projects/{pid}/notification_rules")["data"]
    assert listed[0]["attributes"]["is_enabled"] is False
    assert api.call("DELETE", nr_path).status_code == 204

    window_body = {"data": {"type": "maintenance_window", "attributes": {
        "name": "w", "query": "project:OPS", "start_at": "2026-06-01T00:00:00Z", "end_at": "2026-06-01T06:00:00Z"}}}
    window = api.ok("POST", "/api/v2/maintenance_windows", window_body)["data"]
    backwards = {"data": {"type": "maintenance_window", "attributes": {"end_at": "2026-05-01T00:00:00Z"}}}
    assert api.call("PUT", f"/api/v2/maintenance_windows/{window['id']}", backwards).status_code == 400
    assert len(api.ok("GET", "/api/v2/maintenance_windows")["data"]) == 1

    view_body = {"data": {"type": "view", "attributes": {"name": "Open", "project_id": pid, "query": "status:open"}}}
    view = api.ok("POST", "/api/v2/cases/views", view_body)["data"]
    assert api.ok("GET", "/api/v2/cases/views", project_id=pid)["data"][0]["id"] == view["id"]
    no_project = api.call("GET", "/api/v2/cases/views")
    assert no_project.status_code == 400 and "project_id" in detail(no_project)

    assert api.call("DELETE", f"/api/v2/cases/projects/{pid}").status_code == 204
    assert api.call("GET", f"/api/v2/cases/projects/{pid}").status_code == 404
    assert api.call("GET", f"/api/v2/cases/views/{view['id']}").status_code == 404  # owned config goes too


# -- persistence, concurrency, async ---------------------------------------------------------------

def test_data_persists_across_sandboxes_on_the_same_file(tmp_path: Path) -> None:
    db = tmp_path / "nested" / "sandbox.sqlite3"
    with Sandbox(db) as first:
        api = Api(first)
        pid = api.project()["id"]
        api.case(pid, "kept")
        api.ok("POST", "/api/v2/cases/OPS-1/comment", {"data": {"type": "case", "attributes": {"comment": "c"}}})
        api.close()
    assert db.is_file()
    with Sandbox(db) as second, Sandbox(db) as third:
        api2, api3 = Api(second), Api(third)
        assert api2.ok("GET", "/api/v2/cases/OPS-1")["data"]["attributes"]["title"] == "kept"
        assert api2.case(pid)["attributes"]["key"] == "OPS-2"  # the counter persisted too
        assert api3.case(pid)["attributes"]["key"] == "OPS-3"  # two live sandboxes share one file
        assert len(api3.ok("GET", "/api/v2/cases/OPS-1/timelines")["data"]) == 1
        api2.close()
        api3.close()


def test_default_path_is_per_user(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path))
    assert default_db_path() == tmp_path / "datadog-case-actions" / "sandbox.sqlite3"
    with Sandbox() as sb:
        assert sb.path == str(tmp_path / "datadog-case-actions" / "sandbox.sqlite3")
    assert (tmp_path / "datadog-case-actions" / "sandbox.sqlite3").is_file()
    monkeypatch.delenv("XDG_DATA_HOME")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert default_db_path() == tmp_path / "home" / ".local" / "share" / "datadog-case-actions" / "sandbox.sqlite3"


def test_handle_is_thread_safe(sb: Sandbox) -> None:
    api = Api(sb)
    pid = api.project()["id"]
    body = json.dumps({"data": {"type": "case", "attributes": {"title": "t", "type_id": STANDARD},
                                "relationships": {"project": {"data": {"id": pid, "type": "project"}}}}}).encode()
    keys: list[str] = []
    lock = threading.Lock()

    def work() -> None:
        for _ in range(10):
            status, _, out = sb.handle("POST", "/api/v2/cases", None, AUTH, body)
            assert status == 201
            with lock:
                keys.append(json.loads(out)["data"]["attributes"]["key"])

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert sorted(keys, key=lambda k: int(k.split("-")[1])) == [f"OPS-{i}" for i in range(1, 81)]
    api.close()


def test_handle_directly_and_the_async_transport(sb: Sandbox) -> None:
    status, headers, body = sb.handle("GET", "/api/v2/cases?page[size]=5", None, AUTH, b"")
    assert status == 200 and headers["Content-Type"] == "application/vnd.api+json"
    assert json.loads(body) == {"data": [], "meta": {"total_cases": 0, "page": {"current": 1, "size": 0, "total": 0}},
                                "included": []}
    status, _, body = sb.handle("GET", "/api/v2/cases", [("page[size]", "500")], AUTH)
    assert status == 400 and b"page[size]" in body

    async def go() -> tuple[int, int]:
        async with httpx.AsyncClient(transport=AsyncSandboxTransport(sb), base_url="http://sandbox.local",
                                     headers=AUTH) as client:
            created = await client.post("/api/v2/cases/projects", json={
                "data": {"type": "project", "attributes": {"key": "ASY", "name": "async"}}})
            listed = await client.get("/api/v2/cases/projects")
            return created.status_code, len(listed.json()["data"])

    assert asyncio.run(go()) == (201, 1)


# -- error shapes ------------------------------------------------------------------------------------

def test_authentication(sb: Sandbox) -> None:
    def status_of(headers: dict[str, str]) -> tuple[int, Any]:
        code, _, body = sb.handle("GET", "/api/v2/cases/projects", None, headers, b"")
        return code, json.loads(body)

    assert status_of({}) == (401, {"errors": ["Unauthorized"]})
    assert status_of({"DD-API-KEY": "k"}) == (403, {"errors": ["Forbidden"]})
    assert status_of({"DD-API-KEY": "k", "DD-APPLICATION-KEY": "  "}) == (403, {"errors": ["Forbidden"]})
    assert status_of({"Authorization": "Bearer "}) == (403, {"errors": ["Forbidden"]})
    assert status_of({"Authorization": "Basic abc"}) == (403, {"errors": ["Forbidden"]})
    assert status_of({"dd-api-key": "k", "dd-application-key": "a"})[0] == 200
    assert status_of({"Authorization": "Bearer token"})[0] == 200


def test_not_found_and_bad_request_shapes(api: Api) -> None:
    """Case Management errors are JSON:API objects (live); routes the API does not have stay plain."""
    api.case(api.project()["id"])
    missing_case = api.call("GET", "/api/v2/cases/OPS-99")
    assert missing_case.json() == {"errors": [{"code": "resource_not_found", "title": "case not found"}]}
    assert missing_case.headers["Content-Type"] == "application/vnd.api+json"
    unlink = api.call("DELETE", "/api/v2/cases/OPS-99/relationships/jira_issues")
    assert unlink.status_code == 404
    assert unlink.json() == {"errors": [{"code": "resource_not_found", "title": "case not found"}]}
    assert api.call("GET", "/api/v2/nowhere").json() == {"errors": ["Not Found"]}
    assert api.call("GET", "/api/v2/cases/OPS-1/title").status_code == 405
    window = api.call("DELETE", f"/api/v2/maintenance_windows/{STANDARD}")  # not Case Management: plain, as documented
    assert window.status_code == 404 and window.json() == {"errors": ["maintenance window not found"]}

    bad_json = api.http.post("/api/v2/cases/OPS-1/title", content=b"{not json", headers={"Content-Type": "application/json"})
    assert bad_json.status_code == 400 and "not valid JSON" in detail(bad_json)
    wrong_type = api.call("POST", "/api/v2/cases/OPS-1/title", {"data": {"type": "project", "attributes": {"title": "x"}}})
    assert wrong_type.status_code == 400
    assert wrong_type.json() == {"errors": [{"status": "400", "title": "Bad Request",
                                             "detail": 'got type "project" expected one of "case"'}]}
    missing = api.call("POST", "/api/v2/cases", {"data": {"type": "case", "attributes": {"type_id": STANDARD}}})
    assert missing.status_code == 400
    assert "/data/attributes/title" in detail(missing)
    assert "/data/relationships/project/data/id" in detail(missing)
    enum = api.call("POST", "/api/v2/cases/OPS-1/priority", {"data": {"type": "case", "attributes": {"priority": "P9"}}})
    assert enum.status_code == 400 and enum.json() == {"errors": [{
        "title": "Generic Error", "detail": "invalid priority P9. Must be one of P1, P2, P3, P4, P5, NOT_DEFINED"}]}
    wrong = api.call("POST", "/api/v2/cases/OPS-1/title", {"data": {"type": "case", "attributes": {"title": 5}}})
    assert wrong.status_code == 400 and detail(wrong) == 'error decoding attribute "title": invalid type integer'
    no_body = api.call("POST", "/api/v2/cases/OPS-1/archive")
    assert no_body.status_code == 400
    insights = api.call("PUT", "/api/v2/cases/OPS-1/insights", {"data": {"type": "case", "attributes": {"insights": [
        {"ref": "r", "resource_id": "1", "type": "NOPE"}]}}})
    assert insights.json()["errors"][0]["source"] == {"pointer": "/data/attributes/insights/0/type"}


# -- faults ------------------------------------------------------------------------------------------

def _count(api: Api) -> int:
    return len(api.search()["data"])


def test_rate_limit_answers_429_with_the_headers(api: Api) -> None:
    api.sb.set_faults(rate_limit=2, rate_period=30, rate_limit_name="cases_read")
    first = api.call("GET", "/api/v2/cases")
    assert first.status_code == 200 and first.headers["X-RateLimit-Remaining"] == "1"
    assert api.call("GET", "/api/v2/cases").status_code == 200
    limited = api.call("GET", "/api/v2/cases")
    assert limited.status_code == 429 and limited.json() == {"errors": ["Too many requests"]}
    headers = limited.headers
    assert headers["X-RateLimit-Limit"] == "2" and headers["X-RateLimit-Period"] == "30"
    assert headers["X-RateLimit-Remaining"] == "0" and headers["X-RateLimit-Name"] == "cases_read"
    assert 1 <= int(headers["X-RateLimit-Reset"]) <= 30
    api.sb.clear_faults()
    assert api.call("GET", "/api/v2/cases").status_code == 200


def test_rate_window_resets(sb: Sandbox) -> None:
    sb.faults = Faults(rate_limit=1, rate_period=0.2)
    assert sb.handle("GET", "/api/v2/cases", None, AUTH)[0] == 200
    status, headers, _ = sb.handle("GET", "/api/v2/cases", None, AUTH)
    assert status == 429 and headers["X-RateLimit-Reset"] == "1"  # never below one second
    import time

    time.sleep(0.25)
    assert sb.handle("GET", "/api/v2/cases", None, AUTH)[0] == 200


def test_injected_errors_do_not_apply_the_change_unless_asked(api: Api) -> None:
    pid = api.project()["id"]
    api.sb.set_faults(fail_next=1, error_status=503)
    with pytest.raises(AssertionError):
        api.case(pid)
    assert api.sb.faults.fail_next == 0 and _count(api) == 0  # nothing was created
    api.case(pid)  # the next request goes through
    assert _count(api) == 1

    api.sb.set_faults(fail_next=1, error_status=502, fail_after_apply=True)
    response = api.call("POST", "/api/v2/cases", {"data": {
        "type": "case", "attributes": {"title": "t", "type_id": STANDARD},
        "relationships": {"project": {"data": {"id": pid, "type": "project"}}}}})
    assert response.status_code == 502 and response.json() == {"errors": ["Bad Gateway"]}
    assert _count(api) == 2  # applied, then the answer was lost
    assert api.case(pid)["attributes"]["key"] == "OPS-3"


def test_faults_can_target_operations_and_be_seeded(sb: Sandbox) -> None:
    sb.faults = Faults(fail_next=5, operations=["create_project"])
    assert sb.handle("GET", "/api/v2/cases", None, AUTH)[0] == 200  # not targeted
    body = json.dumps({"data": {"type": "project", "attributes": {"key": "A", "name": "a"}}}).encode()
    assert sb.handle("POST", "/api/v2/cases/projects", None, AUTH, body)[0] == 500
    assert sb.faults.fail_next == 4

    def draws(seed: int) -> list[int]:
        with Sandbox(":memory:", faults=Faults(error_rate=0.5, seed=seed)) as box:
            return [box.handle("GET", "/api/v2/cases", None, AUTH)[0] for _ in range(20)]

    first = draws(7)
    assert first == draws(7) and {200, 500} == set(first)
    with pytest.raises(ValueError):
        Faults(error_status=404)


def test_dropped_connections(api: Api) -> None:
    pid = api.project()["id"]
    api.sb.set_faults(drop_next=1)
    with pytest.raises(httpx.RemoteProtocolError):
        api.case(pid)
    assert _count(api) == 0
    api.sb.set_faults(drop_next=1, fail_after_apply=True)
    with pytest.raises(httpx.RemoteProtocolError):
        api.case(pid)
    assert _count(api) == 1
    api.sb.set_faults(drop_next=1, fail_after_apply=False)
    with pytest.raises(ConnectionDropped):
        api.sb.handle("GET", "/api/v2/cases", None, AUTH)


def test_latency(sb: Sandbox) -> None:
    import time

    sb.set_faults(latency=0.05)
    started = time.monotonic()
    assert sb.handle("GET", "/api/v2/cases", None, AUTH)[0] == 200
    assert time.monotonic() - started >= 0.05

    async def go() -> float:
        async with httpx.AsyncClient(transport=AsyncSandboxTransport(sb), base_url="http://s", headers=AUTH) as c:
            began = time.monotonic()
            await asyncio.gather(*(c.get("/api/v2/cases") for _ in range(4)))
            return time.monotonic() - began

    assert asyncio.run(go()) < 0.18  # awaited, not blocking: the four waits overlap
