"""Fidelity: the sandbox answers like the live Datadog API, fact by fact.

Each fact below is something the live Case Management API was recorded doing
(``../shared/reference/live-api-notes.md``, from the official Python client's
recorded scenarios), stated in words with the scenario it comes from, and
checked against an in-process sandbox.  The facts are restated, never copied:
no recorded request or response is part of this project.  Where a fact is an
inference rather than a recording, its source says so.
"""

from __future__ import annotations

import datetime as dt
import json
import re
from dataclasses import dataclass
from typing import Any, Callable

import httpx
import pytest

from datadog_case_actions.sandbox import Sandbox, SandboxTransport

AUTH = {"DD-API-KEY": "k", "DD-APPLICATION-KEY": "fidelity"}
STANDARD = "00000000-0000-0000-0000-000000000001"
ERROR_TRACKING = "00000000-0000-0000-0000-000000000005"
UNKNOWN = "67d80aa3-36ff-44b9-a694-c501a7591737"  # well formed, never created
ASSIGNEE = "06fe1d45-8040-47eb-b161-837f416635e7"
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


class Live:
    """A client of an in-process sandbox, with the calls the scenarios make."""

    def __init__(self, sb: Sandbox) -> None:
        self.http = httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox.local", headers=AUTH)
        self._project: str | None = None

    def call(self, method: str, path: str, body: Any = None, **params: Any) -> httpx.Response:
        return self.http.request(method, path, json=body, params=params or None)

    def ok(self, method: str, path: str, body: Any = None, status: int = 200, **params: Any) -> Any:
        response = self.call(method, path, body, **params)
        assert response.status_code == status, (response.status_code, response.text)
        return response.json() if response.content else None

    @property
    def project(self) -> str:
        if self._project is None:
            body = {"data": {"type": "project", "attributes": {"key": "DDFC", "name": "Fidelity"}}}
            self._project = self.ok("POST", "/api/v2/cases/projects", body, 201)["data"]["id"]
        return self._project

    def create_case(self, type_id: str = STANDARD, project: str | None = None, **attributes: Any) -> dict[str, Any]:
        body = {"data": {"type": "case", "attributes": {"title": "My new case", "type_id": type_id,
                                                       "priority": "P4", **attributes},
                         "relationships": {"project": {"data": {"id": project or self.project, "type": "project"}}}}}
        return self.ok("POST", "/api/v2/cases", body, 201)  # type: ignore[no-any-return]

    def case_op(self, case_id: str, op: str, **attributes: Any) -> Any:
        """POST ``/api/v2/cases/{case_id}/{op}`` with *attributes*; expects 200."""
        return self.ok("POST", f"/api/v2/cases/{case_id}/{op}", {"data": {"type": "case", "attributes": attributes}})

    def case_type(self, name: str = "Investigation", **attributes: Any) -> dict[str, Any]:
        body = {"data": {"type": "case_type", "attributes": {"name": name, **attributes}}}
        return self.ok("POST", "/api/v2/cases/types", body, 201)["data"]  # type: ignore[no-any-return]

    def config(self, type_id: str, key: str = "region_1", kind: str = "TEXT", **attributes: Any) -> httpx.Response:
        body = {"data": {"type": "custom_attribute", "attributes": {
            "display_name": "AWS Region", "is_multi": True, "key": key, "type": kind, **attributes}}}
        return self.call("POST", f"/api/v2/cases/types/{type_id}/custom_attributes", body)

    def configured_case(self) -> tuple[str, str, str]:
        """``(case type id, config key, case id)``: a case of a created type that has one TEXT config."""
        type_id = self.case_type()["id"]
        assert self.config(type_id, "attribute_1").status_code == 201
        return type_id, "attribute_1", self.create_case(type_id)["data"]["id"]


def _nanoseconds(stamp: str) -> int:
    """An RFC 3339 UTC stamp as integer nanoseconds (datetime would cut the fraction to microseconds)."""
    whole, _, fraction = stamp.rstrip("Z").partition(".")
    seconds = int(dt.datetime.fromisoformat(whole).replace(tzinfo=dt.timezone.utc).timestamp())
    return seconds * 10**9 + int(fraction.ljust(9, "0"))


def error(response: httpx.Response) -> dict[str, Any]:
    """The single JSON:API error object of *response* (live answers always hold exactly one)."""
    errors = response.json()["errors"]
    assert len(errors) == 1 and isinstance(errors[0], dict), errors
    return errors[0]  # type: ignore[no-any-return]


@dataclass(frozen=True)
class Fact:
    scenario: str  # the recorded scenario (or the notes' section) the fact comes from
    statement: str
    check: Callable[[Live], None]


FACTS: list[Fact] = []


def fact(scenario: str, statement: str) -> Callable[[Callable[[Live], None]], Callable[[Live], None]]:
    def register(check: Callable[[Live], None]) -> Callable[[Live], None]:
        FACTS.append(Fact(scenario, statement, check))
        return check

    return register


# -- 0. transport --------------------------------------------------------------------------------------

@fact('Get the details of a case returns "OK" / "Not Found" response',
      "Every JSON answer under /api/v2/cases, success or error, is labelled application/vnd.api+json.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    for response in (live.call("GET", f"/api/v2/cases/{case_id}"), live.call("GET", f"/api/v2/cases/{UNKNOWN}")):
        assert response.headers["Content-Type"] == "application/vnd.api+json"


@fact('Delete case comment returns "No Content" response',
      "A 204 answer has an empty body and no content type.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    cell = live.case_op(case_id, "comment", comment="Hello")["data"][0]["id"]
    response = live.call("DELETE", f"/api/v2/cases/{case_id}/comment/{cell}")
    assert response.status_code == 204 and response.content == b"" and "content-type" not in response.headers


@fact('Comment case returns "OK" response; Delete custom attribute from case returns "OK" response',
      "CommentCase answers 200, not 201; DeleteCaseCustomAttribute answers 200 with the case as body.")
def _(live: Live) -> None:
    _, key, case_id = live.configured_case()
    assert live.call("POST", f"/api/v2/cases/{case_id}/comment",
                     {"data": {"type": "case", "attributes": {"comment": "hi"}}}).status_code == 200
    deleted = live.call("DELETE", f"/api/v2/cases/{case_id}/custom_attributes/{key}")
    assert deleted.status_code == 200 and deleted.json()["data"]["id"] == case_id


# -- 1. the case resource ----------------------------------------------------------------------------------

@fact('Get the details of a case returns "OK" response',
      "A case answer is {data: {id, type 'case', attributes, relationships}, included: [users]}, with no links, "
      "and its keys come in the order id, type, attributes, relationships.")
def _(live: Live) -> None:
    document = live.create_case()
    assert list(document) == ["data", "included"]
    assert list(document["data"]) == ["id", "type", "attributes", "relationships"]
    assert document["data"]["type"] == "case" and all(u["type"] == "user" for u in document["included"])


@fact('Get the details of a case returns "OK" response (section 7.2)',
      "A case created with title, type_id, priority and project has description '', attributes {}, "
      "custom_attributes {}, insights [], comment_count 0, merge_status NOT_MERGED, creation_source MANUAL, "
      "status OPEN, status_name Open, status_group SG_OPEN, and no modified_at, modified_by or assignee.")
def _(live: Live) -> None:
    data = live.create_case()["data"]
    attributes = data["attributes"]
    expected = {"description": "", "attributes": {}, "custom_attributes": {}, "insights": [], "comment_count": 0,
                "merge_status": "NOT_MERGED", "creation_source": "MANUAL", "status": "OPEN", "status_name": "Open",
                "status_group": "SG_OPEN"}
    assert {k: attributes[k] for k in expected} == expected
    assert "modified_at" not in attributes
    assert set(data["relationships"]) == {"created_by", "project"}


@fact("all case scenarios (section 7.1)",
      "internal_id equals the case id (a UUID v4); key is <project key>-<n>; public_id is a numeric string drawn "
      "from one counter shared by every project.")
def _(live: Live) -> None:
    first = live.create_case()["data"]
    other = live.ok("POST", "/api/v2/cases/projects",
                    {"data": {"type": "project", "attributes": {"key": "ET", "name": "Other"}}}, 201)["data"]["id"]
    second = live.create_case(project=other)["data"]
    for data in (first, second):
        assert data["attributes"]["internal_id"] == data["id"] and UUID.match(data["id"])
        assert isinstance(data["attributes"]["public_id"], str) and data["attributes"]["public_id"].isdigit()
    assert (first["attributes"]["key"], second["attributes"]["key"]) == ("DDFC-1", "ET-1")
    assert int(second["attributes"]["public_id"]) == int(first["attributes"]["public_id"]) + 1


@fact('Get the details of a case returns "OK" response',
      "GetCase on a fresh case answers exactly the document CreateCase answered, included users and all.")
def _(live: Live) -> None:
    created = live.create_case()
    assert live.ok("GET", f"/api/v2/cases/{created['data']['id']}") == created


@fact('all CreateCase scenarios; Update case custom attribute returns "OK" response',
      "A case of type_id ...0001 has type STANDARD, of ...0005 ERROR_TRACKING_ISSUE, of a created case type TUNKNOWN.")
def _(live: Live) -> None:
    assert live.create_case()["data"]["attributes"]["type"] == "STANDARD"
    assert live.create_case(ERROR_TRACKING)["data"]["attributes"]["type"] == "ERROR_TRACKING_ISSUE"
    custom = live.case_type()["id"]
    attributes = live.create_case(custom)["data"]["attributes"]
    assert (attributes["type"], attributes["type_id"]) == ("TUNKNOWN", custom)


@fact("section 7.6 (key order in every recorded case)",
      "The keys directly under a case's attributes are in alphabetical order.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    attributes = live.case_op(case_id, "archive")["data"]["attributes"]
    assert list(attributes) == sorted(attributes)


@fact("section 1.2 (every recorded case)",
      "Keys without a value are left out, never sent as null (archived_at, closed_at, modified_at...).")
def _(live: Live) -> None:
    def nulls(node: Any) -> int:
        if isinstance(node, dict):
            return sum(nulls(v) for v in node.values()) + sum(v is None for v in node.values())
        return sum(nulls(v) for v in node) if isinstance(node, list) else 0

    case = live.create_case()
    attributes = case["data"]["attributes"]
    assert nulls(case) == 0 and not {"archived_at", "closed_at", "modified_at"} & set(attributes)


@fact('Search cases returns "OK" response with pagination',
      "created_by_author (type USER, content ID/name/email/handle/active) appears on cases in search results only, "
      "never in GetCase or CreateCase answers.")
def _(live: Live) -> None:
    created = live.create_case()["data"]
    assert "created_by_author" not in created["attributes"]
    found = live.ok("GET", "/api/v2/cases")["data"][0]["attributes"]["created_by_author"]
    assert found["type"] == "USER" and list(found["content"]) == ["ID", "name", "email", "handle", "active"]
    assert found["content"]["ID"] == created["relationships"]["created_by"]["data"]["id"]


@fact('Assign case returns "OK" response',
      "included holds each user the case names once: the creator (active, with email/handle/name) and, once "
      "assigned, the assignee; AssignCase adds relationships.assignee and sets modified_by.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    assigned = live.case_op(case_id, "assign", assignee_id=ASSIGNEE)
    relationships = assigned["data"]["relationships"]
    creator = relationships["created_by"]["data"]["id"]
    assert relationships["assignee"]["data"] == {"id": ASSIGNEE, "type": "user"}
    assert relationships["modified_by"]["data"]["id"] == creator
    users = {u["id"]: u["attributes"] for u in assigned["included"]}
    assert list(users) == [creator, ASSIGNEE]
    assert set(users[creator]) == {"active", "email", "handle", "name"} and users[creator]["active"] is True


@fact('Search cases returns "OK" response with pagination',
      "A user the service has no data for is included with active false and empty email, handle and name.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    users = {u["id"]: u["attributes"] for u in live.case_op(case_id, "assign", assignee_id=ASSIGNEE)["included"]}
    assert users[ASSIGNEE] == {"active": False, "email": "", "handle": "", "name": ""}


@fact('Archive case returns "OK" response',
      "ArchiveCase sets archived_at (nanosecond precision) and modified_at (microsecond precision) to the same "
      "instant, keeps status OPEN, and sets modified_by.")
def _(live: Live) -> None:
    instant = _nanoseconds("2025-12-30T13:49:45.40368576Z")
    with Sandbox(":memory:", clock=lambda: instant) as sb:
        own = Live(sb)
        case_id = own.create_case()["data"]["id"]
        archived = own.case_op(case_id, "archive")["data"]
        own.http.close()
    attributes = archived["attributes"]
    assert attributes["status"] == "OPEN" and "modified_by" in archived["relationships"]
    assert (attributes["archived_at"], attributes["modified_at"]) == ("2025-12-30T13:49:45.40368576Z",
                                                                      "2025-12-30T13:49:45.403686Z")


@fact('Unarchive case returns "OK" response; Unassign case returns "OK" response',
      "UnarchiveCase on a case never archived and UnassignCase on an unassigned case answer 200 and change "
      "nothing: no modified_at appears.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    for op in ("unarchive", "unassign"):
        assert "modified_at" not in live.case_op(case_id, op)["data"]["attributes"]


@fact('Update case status returns "OK" response',
      "UpdateStatus to IN_PROGRESS gives status_name 'In Progress' and status_group SG_IN_PROGRESS.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    attributes = live.case_op(case_id, "status", status="IN_PROGRESS")["data"]["attributes"]
    assert (attributes["status"], attributes["status_name"], attributes["status_group"]) == (
        "IN_PROGRESS", "In Progress", "SG_IN_PROGRESS")


@fact('Update case attributes returns "OK" response',
      "UpdateAttributes on a case with empty attributes answers exactly the map sent.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    sent = {"env": ["test"], "service": ["web-store", "web-api"], "team": ["engineer"]}
    assert live.case_op(case_id, "attributes", attributes=sent)["data"]["attributes"]["attributes"] == sent


@fact('Update case custom attribute returns "OK" response',
      "Setting a key configured on the case's type stores {type, is_multi, value} (in that order) under the key, "
      "sets modified_at but not modified_by.")
def _(live: Live) -> None:
    _, key, case_id = live.configured_case()
    body = {"data": {"type": "case", "attributes": {"is_multi": True, "type": "TEXT", "value": ["Abba", "The Cure"]}}}
    data = live.ok("POST", f"/api/v2/cases/{case_id}/custom_attributes/{key}", body)["data"]
    value = data["attributes"]["custom_attributes"][key]
    assert value == {"type": "TEXT", "is_multi": True, "value": ["Abba", "The Cure"]} and list(value) == [
        "type", "is_multi", "value"]
    assert "modified_at" in data["attributes"] and "modified_by" not in data["relationships"]


@fact('Delete custom attribute from case returns "OK" response',
      "Deleting a configured key that was never set answers 200 with the case unchanged (no modified_at).")
def _(live: Live) -> None:
    _, key, case_id = live.configured_case()
    data = live.ok("DELETE", f"/api/v2/cases/{case_id}/custom_attributes/{key}")["data"]
    assert data["attributes"]["custom_attributes"] == {} and "modified_at" not in data["attributes"]


@fact('Search cases returns "OK" response with pagination',
      "SearchCases answers data, meta and included; meta is {total_cases, page: {current, size, total}} where size "
      "counts the cases on this page and total the pages; results come newest first; filter=status:closed works.")
def _(live: Live) -> None:
    ids = [live.create_case()["data"]["id"] for _ in range(4)]
    for case_id in ids[1:]:
        live.case_op(case_id, "status", status="CLOSED")
    first = live.ok("GET", "/api/v2/cases", **{"page[size]": 2, "page[number]": 1, "filter": "status:closed"})
    assert list(first) == ["data", "meta", "included"]
    assert first["meta"] == {"total_cases": 3, "page": {"current": 1, "size": 2, "total": 2}}
    assert [c["id"] for c in first["data"]] == [ids[3], ids[2]]
    second = live.ok("GET", "/api/v2/cases", **{"page[size]": 2, "page[number]": 2, "filter": "status:closed"})
    assert second["meta"] == {"total_cases": 3, "page": {"current": 2, "size": 1, "total": 2}}


# -- 2. comments ---------------------------------------------------------------------------------------

@fact('Comment case returns "OK" response',
      "CommentCase answers {data: [one timeline_cell]}: the new comment only, with author {type USER, content "
      "{ID, name, email, handle, active}}, cell_content {message}, content (the same as a JSON string), created_at "
      "and type COMMENT; no modified_at, deleted_at, relationships, included or meta.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    document = live.case_op(case_id, "comment", comment="Hello World !")
    assert list(document) == ["data"] and len(document["data"]) == 1
    cell = document["data"][0]
    assert list(cell) == ["id", "type", "attributes"] and cell["type"] == "timeline_cell" and UUID.match(cell["id"])
    attributes = cell["attributes"]
    assert set(attributes) == {"author", "cell_content", "content", "created_at", "type"}
    assert attributes["type"] == "COMMENT" and attributes["cell_content"] == {"message": "Hello World !"}
    assert json.loads(attributes["content"]) == {"message": "Hello World !"}
    assert list(attributes["author"]["content"]) == ["ID", "name", "email", "handle", "active"]


@fact('Delete case comment returns "No Content" response',
      "Deleting a comment answers 204; deleting it again answers 404 {code resource_not_found, title "
      "'timeline cell not found'}.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    cell = live.case_op(case_id, "comment", comment="bye")["data"][0]["id"]
    assert live.call("DELETE", f"/api/v2/cases/{case_id}/comment/{cell}").status_code == 204
    again = live.call("DELETE", f"/api/v2/cases/{case_id}/comment/{cell}")
    assert again.status_code == 404
    assert error(again) == {"code": "resource_not_found", "title": "timeline cell not found"}


@fact('Delete case comment returns "Not Found" response',
      "Deleting a comment UUID that never existed answers 404 'failed to get timeline cell: timeline cell not found'.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    response = live.call("DELETE", f"/api/v2/cases/{case_id}/comment/{UNKNOWN}")
    assert response.status_code == 404
    assert error(response) == {"code": "resource_not_found",
                               "title": "failed to get timeline cell: timeline cell not found"}


@fact('Delete case comment returns "Bad Request" response',
      "A cell id that is not a UUID answers 400 {status, title 'Invalid Parameter', detail naming CommentID "
      "in the path and the expected type uuid}.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    response = live.call("DELETE", f"/api/v2/cases/{case_id}/comment/not-an-uuid")
    assert response.status_code == 400
    assert error(response) == {"status": "400", "title": "Invalid Parameter",
                               "detail": 'invalid parameter "CommentID" in "path"; expected type "uuid"'}


# -- 3. projects ---------------------------------------------------------------------------------------

@fact('Update a project returns "OK" response',
      "UpdateProject answers {data: {id, type project, attributes {key, name, restricted, settings {notification}}}}: "
      "no relationships, no included.")
def _(live: Live) -> None:
    body = {"data": {"type": "project", "attributes": {"name": "Updated Project Name"}}}
    document = live.ok("PATCH", f"/api/v2/cases/projects/{live.project}", body)
    assert list(document) == ["data"] and list(document["data"]) == ["id", "type", "attributes"]
    attributes = document["data"]["attributes"]
    assert list(attributes) == ["key", "name", "restricted", "settings"] and list(attributes["settings"]) == [
        "notification"]
    assert (attributes["key"], attributes["name"], attributes["restricted"]) == ("DDFC", "Updated Project Name", False)


@fact('Update a project returns "Not Found" response',
      "UpdateProject on an unknown project answers 404 'failed to get project: project not found'.")
def _(live: Live) -> None:
    body = {"data": {"type": "project", "attributes": {"name": "x"}}}
    response = live.call("PATCH", f"/api/v2/cases/projects/{UNKNOWN}", body)
    assert response.status_code == 404
    assert error(response) == {"code": "resource_not_found", "title": "failed to get project: project not found"}


@fact('Update a project returns "Bad Request" response',
      "A wrong project data.type answers 400 with detail 'got type \"<sent>\" expected one of \"project\"'.")
def _(live: Live) -> None:
    body = {"data": {"type": "invalid_type", "attributes": {"name": "x"}}}
    response = live.call("PATCH", f"/api/v2/cases/projects/{live.project}", body)
    assert response.status_code == 400
    assert error(response) == {"status": "400", "title": "Bad Request",
                               "detail": 'got type "invalid_type" expected one of "project"'}


# -- 4. case types -------------------------------------------------------------------------------------

@fact('Get all case types returns "OK" response',
      "The built-in types are listed first: ...0001 Standard to ...0005 Error Tracking and ...0007 (no ...0006), "
      "internal true, emoji '', a description, and a statuses_config (Open / In Progress / Closed; Change Request "
      "has Pending Approval, Approved, Implementing and Completed, Cancelled, Declined).")
def _(live: Live) -> None:
    listed = live.ok("GET", "/api/v2/cases/types")["data"]
    ids = [t["id"] for t in listed]
    assert ids[:5] == [f"00000000-0000-0000-0000-00000000000{n}" for n in range(1, 6)]
    assert "00000000-0000-0000-0000-000000000007" in ids and "00000000-0000-0000-0000-000000000006" not in ids
    standard = listed[0]
    assert standard["type"] == "case_type" and standard["attributes"]["name"] == "Standard"
    attributes = standard["attributes"]
    assert (attributes["internal"], attributes["emoji"]) == (True, "") and attributes["description"]
    assert list(attributes) == sorted(attributes) and "deleted_at" not in attributes
    assert [o["name"] for o in attributes["statuses_config"]["in_progress"]["status_options"]] == ["In Progress"]
    change = next(t for t in listed if t["attributes"]["name"] == "Change Request")["attributes"]["statuses_config"]
    assert [o["name"] for o in change["in_progress"]["status_options"]] == ["Pending Approval", "Approved",
                                                                          "Implementing"]
    assert change["closed"]["default"] == "Completed"


@fact('Create a case type returns "CREATED" response',
      "CreateCaseType answers 201 with the type: internal false, the default statuses_config, no deleted_at key.")
def _(live: Live) -> None:
    created = live.case_type("Investigation", description="Investigations done in case management", emoji="👑")
    attributes = created["attributes"]
    assert created["type"] == "case_type" and UUID.match(created["id"])
    assert (attributes["internal"], attributes["name"], attributes["emoji"]) == (False, "Investigation", "👑")
    assert attributes["statuses_config"]["open"] == {"status_options": [{"name": "Open"}], "default": "Open"}
    assert "deleted_at" not in attributes
    assert created["id"] in [t["id"] for t in live.ok("GET", "/api/v2/cases/types")["data"]]


@fact('Create a case type returns "Bad Request" response',
      "An emoji that is not an emoji ('notanemoji') answers 400 {status '400', title 'Bad Request'}, no detail.")
def _(live: Live) -> None:
    body = {"data": {"type": "case_type", "attributes": {"name": "x", "emoji": "notanemoji"}}}
    response = live.call("POST", "/api/v2/cases/types", body)
    assert response.status_code == 400 and error(response) == {"status": "400", "title": "Bad Request"}


@fact('Delete a case type returns "OK" response (2025-08-19); Get all case types returns "OK" response',
      "DeleteCaseType answers 204, and 204 again for the same type; the deleted type stays listed, with deleted_at.")
def _(live: Live) -> None:
    type_id = live.case_type()["id"]
    for _ in range(2):
        response = live.call("DELETE", f"/api/v2/cases/types/{type_id}")
        assert response.status_code == 204 and response.content == b""
    listed = {t["id"]: t["attributes"] for t in live.ok("GET", "/api/v2/cases/types")["data"]}
    assert listed[type_id]["deleted_at"].endswith("Z")


# -- 5. custom attribute configs ----------------------------------------------------------------------

@fact('Create custom attribute config for a case type returns "CREATED" response',
      "CreateCustomAttributeConfig answers 201 with type custom_attribute, case_type 'TUNKNOWN', case_type_id from "
      "the path, and no description key when none was sent.")
def _(live: Live) -> None:
    type_id = live.case_type()["id"]
    response = live.config(type_id, "region_34a76e3ae14c4076", "NUMBER")
    assert response.status_code == 201
    data = response.json()["data"]
    assert data["type"] == "custom_attribute" and UUID.match(data["id"])
    assert data["attributes"] == {"case_type": "TUNKNOWN", "case_type_id": type_id, "display_name": "AWS Region",
                                  "is_multi": True, "key": "region_34a76e3ae14c4076", "type": "NUMBER"}


@fact('Create custom attribute config for a case type returns "Bad Request" response',
      "A config of type FLOAT answers 400 {status, title 'Bad Request'}, no detail.")
def _(live: Live) -> None:
    response = live.config(live.case_type()["id"], kind="FLOAT")
    assert response.status_code == 400 and error(response) == {"status": "400", "title": "Bad Request"}


@fact('Create custom attribute config for a case type returns "Not Found" response',
      "A config for an unknown case type UUID answers 404 {code resource_not_found, title 'case_type not found'}.")
def _(live: Live) -> None:
    response = live.config(UNKNOWN)
    assert response.status_code == 404 and error(response) == {"code": "resource_not_found",
                                                                "title": "case_type not found"}


@fact('Get all custom attributes config of case type returns "OK" response',
      "Listing the configs of a type that has none answers 200 {data: []}.")
def _(live: Live) -> None:
    type_id = live.case_type()["id"]
    assert live.ok("GET", f"/api/v2/cases/types/{type_id}/custom_attributes") == {"data": []}


@fact('Get all custom attributes returns "OK" response; Delete custom attributes config returns "No Content" response',
      "GetAllCustomAttributes lists configs ordered by case_type_id, still lists those of deleted case types, and "
      "no longer lists a config removed with DeleteCustomAttributeConfig (204).")
def _(live: Live) -> None:
    types = [live.case_type(f"t{i}")["id"] for i in range(3)]
    configs = [live.config(t, f"key_{i}").json()["data"]["id"] for i, t in enumerate(types)]
    assert live.call("DELETE", f"/api/v2/cases/types/{types[0]}").status_code == 204
    assert live.call("DELETE", f"/api/v2/cases/types/{types[1]}/custom_attributes/{configs[1]}").status_code == 204
    listed = live.ok("GET", "/api/v2/cases/types/custom_attributes")["data"]
    assert [c["id"] for c in listed] == [c for t, c in sorted(zip(types, configs, strict=True)) if c != configs[1]]


@fact('Delete custom attributes config returns "Bad Request" response',
      "A custom_attribute_id that is not a UUID answers 400 'Invalid Parameter' naming CustomAttributeId in the path.")
def _(live: Live) -> None:
    type_id = live.case_type()["id"]
    response = live.call("DELETE", f"/api/v2/cases/types/{type_id}/custom_attributes/not-an-uuid")
    assert response.status_code == 400
    assert error(response) == {"status": "400", "title": "Invalid Parameter",
                               "detail": 'invalid parameter "CustomAttributeId" in "path"; expected type "uuid"'}


@fact('Update case custom attribute returns "Not Found" response; Delete custom attribute from case returns '
      '"Not Found" response',
      "A key not configured on the case's type (here a STANDARD case) answers 404 {code resource_not_found, title "
      "ending 'custom attribute configuration not found', meta {key}}, for setting and for deleting it.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    body = {"data": {"type": "case", "attributes": {"is_multi": True, "type": "TEXT", "value": ["x"]}}}
    for method, command in (("POST", "UpdateCustomAttribute"), ("DELETE", "RemoveCustomAttribute")):
        response = live.call(method, f"/api/v2/cases/{case_id}/custom_attributes/invalid_key",
                             body if method == "POST" else None)
        assert response.status_code == 404
        item = error(response)
        assert list(item) == ["code", "title", "meta"] and item["meta"] == {"key": "invalid_key"}
        assert item["code"] == "resource_not_found" and f"domain.{command} command" in item["title"]
        assert item["title"].endswith("custom attribute configuration not found")


@fact('Update case custom attribute returns "Bad Request" response',
      "A value of type FLOAT for a configured key answers 400 {status, title 'Bad Request'}, no detail.")
def _(live: Live) -> None:
    _, key, case_id = live.configured_case()
    body = {"data": {"type": "case", "attributes": {"is_multi": True, "type": "FLOAT", "value": [1, 2.4]}}}
    response = live.call("POST", f"/api/v2/cases/{case_id}/custom_attributes/{key}", body)
    assert response.status_code == 400 and error(response) == {"status": "400", "title": "Bad Request"}


# -- 6. errors -----------------------------------------------------------------------------------------

@fact('Archive case / Unarchive case / Unassign case returns "Bad Request" response',
      "A body whose data.type is not 'case' answers 400 {status, title 'Bad Request', detail "
      "'got type \"project\" expected one of \"case\"'}.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    for op in ("archive", "unarchive", "unassign"):
        response = live.call("POST", f"/api/v2/cases/{case_id}/{op}", {"data": {"type": "project"}})
        assert response.status_code == 400
        assert error(response) == {"status": "400", "title": "Bad Request",
                                   "detail": 'got type "project" expected one of "case"'}


@fact('Create a case returns "Bad Request" response',
      "A relationship of the wrong type answers 400 'got type \"userx\" expected one of \"user\"', checked before "
      "the project and user ids are looked up.")
def _(live: Live) -> None:
    body = {"data": {"type": "case", "attributes": {"title": "t", "type_id": STANDARD},
                     "relationships": {"project": {"data": {"id": UNKNOWN, "type": "project"}},
                                       "assignee": {"data": {"id": ASSIGNEE, "type": "userx"}}}}}
    response = live.call("POST", "/api/v2/cases", body)
    assert response.status_code == 400 and error(response)["detail"] == 'got type "userx" expected one of "user"'


@fact('Update case attributes returns "Bad Request" response',
      "An attributes map value that is a string, not a list, answers 400 with detail "
      "'error decoding attribute \"attributes\": invalid type string'.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    response = live.call("POST", f"/api/v2/cases/{case_id}/attributes",
                         {"data": {"type": "case", "attributes": {"attributes": {"env": "test"}}}})
    assert response.status_code == 400
    assert error(response) == {"status": "400", "title": "Bad Request",
                               "detail": 'error decoding attribute "attributes": invalid type string'}


@fact('Assign case / Comment case / Update case title returns "Bad Request" response',
      "A non-UUID assignee_id, an empty comment and an empty title each answer 400 {status, title 'Bad Request'}, "
      "no detail.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    for op, attributes in (("assign", {"assignee_id": "invalid-uuid"}), ("comment", {"comment": ""}),
                           ("title", {"title": ""})):
        response = live.call("POST", f"/api/v2/cases/{case_id}/{op}", {"data": {"type": "case",
                                                                               "attributes": attributes}})
        assert response.status_code == 400 and error(response) == {"status": "400", "title": "Bad Request"}, op


@fact('Update case priority returns "Bad Request" response; Update case status returns "Bad Request" response',
      "An unknown priority or status answers 400 {title 'Generic Error', detail 'invalid priority|status <value>. "
      "Must be one of ...'} with no status key; the status list is the service's fourteen statuses.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    priority = live.call("POST", f"/api/v2/cases/{case_id}/priority",
                         {"data": {"type": "case", "attributes": {"priority": "P1234"}}})
    assert priority.status_code == 400 and error(priority) == {
        "title": "Generic Error", "detail": "invalid priority P1234. Must be one of P1, P2, P3, P4, P5, NOT_DEFINED"}
    status = live.call("POST", f"/api/v2/cases/{case_id}/status",
                       {"data": {"type": "case", "attributes": {"status": "OPENED"}}})
    item = error(status)
    assert status.status_code == 400 and list(item) == ["title", "detail"] and item["title"] == "Generic Error"
    assert item["detail"].startswith("invalid status OPENED. Must be one of NOT_STARTED, IN_PROGRESS, CLOSED,")
    assert len(item["detail"].split(". Must be one of ")[1].split(", ")) == 14


@fact('the eleven "... returns "Not Found" response" scenarios of the case operations',
      "Any case operation on an unknown (well-formed) case UUID answers 404 {code resource_not_found, title "
      "'case not found'}: no status, no detail.")
def _(live: Live) -> None:
    body = {"data": {"type": "case", "attributes": {"assignee_id": ASSIGNEE, "comment": "c", "title": "t",
                                                    "description": "d", "priority": "P1", "status": "OPEN",
                                                    "attributes": {}}}}
    calls = [("GET", "", None)] + [("POST", f"/{op}", body) for op in (
        "archive", "unarchive", "assign", "unassign", "comment", "attributes", "description", "priority", "status",
        "title")]
    for method, suffix, payload in calls:
        response = live.call(method, f"/api/v2/cases/{UNKNOWN}{suffix}", payload)
        assert response.status_code == 404, suffix
        assert error(response) == {"code": "resource_not_found", "title": "case not found"}, suffix


@fact('Create a case returns "Not Found" response',
      "CreateCase with a well-formed but unknown project id answers 404 {code resource_not_found, title "
      "'project not found'}.")
def _(live: Live) -> None:
    body = {"data": {"type": "case", "attributes": {"title": "t", "type_id": STANDARD},
                     "relationships": {"project": {"data": {"id": UNKNOWN, "type": "project"}}}}}
    response = live.call("POST", "/api/v2/cases", body)
    assert response.status_code == 404 and error(response) == {"code": "resource_not_found",
                                                                "title": "project not found"}


@fact('inferred (issue 11) from "Create custom attribute config for a case type returns "Not Found" response"',
      "CreateCase with an unknown (or deleted) case type is refused with 404 'case_type not found', as the service "
      "answers for an unknown case type elsewhere; a type_id or project id that is not a UUID is a bare 400, "
      "like a non-UUID assignee_id.")
def _(live: Live) -> None:
    deleted = live.case_type()["id"]
    live.call("DELETE", f"/api/v2/cases/types/{deleted}")
    for type_id in (UNKNOWN, deleted):
        body = {"data": {"type": "case", "attributes": {"title": "t", "type_id": type_id},
                         "relationships": {"project": {"data": {"id": live.project, "type": "project"}}}}}
        response = live.call("POST", "/api/v2/cases", body)
        assert response.status_code == 404 and error(response)["title"] == "case_type not found"
    body["data"]["attributes"]["type_id"] = "t"  # type: ignore[index]
    assert error(live.call("POST", "/api/v2/cases", body)) == {"status": "400", "title": "Bad Request"}
    body["data"]["attributes"]["type_id"] = STANDARD  # type: ignore[index]
    body["data"]["relationships"]["project"]["data"]["id"] = "DDFC"  # type: ignore[index]
    assert error(live.call("POST", "/api/v2/cases", body)) == {"status": "400", "title": "Bad Request"}


@fact('Update case attributes returns "Bad Request" response (2025-07-21); Update case description returns '
      '"Bad Request" response (2025-08-20)',
      "CreateCase accepts the deprecated type STANDARD in place of type_id and answers type_id ...0001.")
def _(live: Live) -> None:
    body = {"data": {"type": "case", "attributes": {"title": "legacy", "type": "STANDARD", "priority": "P4"},
                     "relationships": {"project": {"data": {"id": live.project, "type": "project"}}}}}
    attributes = live.ok("POST", "/api/v2/cases", body, 201)["data"]["attributes"]
    assert (attributes["type_id"], attributes["type"]) == (STANDARD, "STANDARD")


@fact('Update case description returns "Bad Request" response (recorded 200)',
      "UpdateCaseDescription with a valid body answers 200 and sets modified_at.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    attributes = live.case_op(case_id, "description", description="Seems broken")["data"]["attributes"]
    assert attributes["description"] == "Seems broken" and "modified_at" in attributes


# -- 7.5 timestamps ------------------------------------------------------------------------------------

@fact("section 7.5 (every recorded timestamp)",
      "Timestamps are RFC 3339 in UTC with a Z, fractional seconds with trailing zeros trimmed: case created_at "
      "and modified_at to the microsecond, comment created_at and closed_at to the nanosecond.")
def _(live: Live) -> None:
    case_id = live.create_case()["data"]["id"]
    closed = live.case_op(case_id, "status", status="CLOSED")["data"]["attributes"]
    cell = live.case_op(case_id, "comment", comment="c")["data"][0]["attributes"]
    seconds = r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d"
    micro, nano = seconds + r"(\.\d{0,5}[1-9])?Z", seconds + r"(\.\d{0,8}[1-9])?Z"
    for value in (closed["created_at"], closed["modified_at"]):
        assert re.fullmatch(micro, value), value
    for value in (closed["closed_at"], cell["created_at"]):
        assert re.fullmatch(nano, value), value


def test_the_timestamp_format_trims_and_rounds() -> None:
    """Whole seconds drop the fraction; the microsecond form rounds the same instant the nanosecond form shows."""
    from datadog_case_actions.sandbox.app import stamp

    ns = 1767102585 * 10**9 + 403685760
    assert (stamp(ns, 9), stamp(ns, 6)) == ("2025-12-30T13:49:45.40368576Z", "2025-12-30T13:49:45.403686Z")
    assert stamp(1767102585 * 10**9, 6) == "2025-12-30T13:49:45Z"
    assert stamp(1767102585 * 10**9 + 120_000_000, 6) == "2025-12-30T13:49:45.12Z"


# -- the table -----------------------------------------------------------------------------------------

@pytest.fixture
def live() -> Any:
    with Sandbox(":memory:") as sb:
        client = Live(sb)
        yield client
        client.http.close()


@pytest.mark.parametrize("item", FACTS, ids=[f"{i:02d}" for i in range(len(FACTS))])
def test_live_fact(item: Fact, live: Live) -> None:
    try:
        item.check(live)
    except AssertionError as exc:
        raise AssertionError(f"live fact not met ({item.scenario}): {item.statement}\n{exc}") from exc


def test_every_fact_names_its_scenario_and_says_what_it_checks() -> None:
    assert len(FACTS) >= 40
    for item in FACTS:
        assert item.scenario and len(item.statement.split()) >= 8, item


def test_round_trip_create_case_with_a_type_from_get_all_case_types() -> None:
    """create_case -> get_all_case_types through the runtime: pick the Standard type, and a type of our own."""
    with Sandbox(":memory:") as sb, sb.runner() as runner:
        project = runner.run("create_project", {"key": "RT", "name": "Round trip"})["data"]["id"]
        types = runner.run("get_all_case_types")["data"]
        standard = next(t["id"] for t in types if t["attributes"]["name"] == "Standard")
        case = runner.run("create_case", {"title": "t", "type_id": standard, "project_id": project})["data"]
        assert case["attributes"]["type"] == "STANDARD"
        own = runner.run("create_case_type", {"name": "Postmortem", "emoji": "📝"})["data"]["id"]
        assert own in [t["id"] for t in runner.run("get_all_case_types")["data"]]
        runner.run("create_custom_attribute_config", {"case_type_id": own, "key": "impact", "display_name": "Impact",
                                                      "is_multi": False, "type": "NUMBER"})
        mine = runner.run("create_case", {"title": "pm", "type_id": own, "project_id": project})["data"]
        set_value = runner.run("update_case_custom_attribute", {"case_id": mine["id"], "custom_attribute_key": "impact",
                                                                "is_multi": False, "type": "NUMBER", "value": 3})
        assert set_value["data"]["attributes"]["custom_attributes"]["impact"]["value"] == 3
