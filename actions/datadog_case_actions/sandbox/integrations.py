"""Handlers of the integration relationships: Jira, ServiceNow, notebook, incidents.

The sandbox completes every integration at once (``status: COMPLETED``) and
invents the remote identifiers; nothing leaves the process.
"""

from __future__ import annotations

import re
import uuid
from typing import Any

from .context import Ctx, Result, case_document, handler
from .errors import ApiFailure

ATTR = "/data/attributes"


def new_jira_issue(ctx: Ctx) -> dict[str, Any]:
    """A Jira issue the sandbox pretends to have created: ``SANDBOX-<n>``."""
    number = ctx.store.next_value("jira_issue")
    key = f"SANDBOX-{number}"
    return {
        "status": "COMPLETED",
        "result": {
            "issue_id": str(10000 + number),
            "issue_key": key,
            "issue_url": f"https://sandbox.atlassian.net/browse/{key}",
            "project_key": "SANDBOX",
        },
    }


def new_service_now_ticket(instance_name: str) -> dict[str, Any]:
    sys_id = uuid.uuid4().hex
    return {
        "status": "COMPLETED",
        "result": {"sys_target_link": f"https://{instance_name}.service-now.com/nav_to.do?uri=incident.do?sys_id={sys_id}"},
    }


@handler("CreateCaseJiraIssue")
def create_jira_issue(ctx: Ctx) -> Result:
    case = ctx.case(ctx.inputs["case_id"])
    if case.get("jira_issue"):
        raise ApiFailure(409, f"case {case['key']} already has a Jira issue")
    for name, pointer in (("issue_type_id", f"{ATTR}/issue_type_id"), ("jira_account_id", f"{ATTR}/jira_account_id"),
                          ("jira_project_id", f"{ATTR}/project_id")):
        ctx.text(name, pointer=pointer)
    case["jira_issue"] = new_jira_issue(ctx)
    case["jira_request"] = {k: ctx.inputs.get(k) for k in ("issue_type_id", "jira_account_id", "jira_project_id",
                                                           "fields")}
    ctx.save_case(case)
    return 202, None


_JIRA_URL = re.compile(r"^https?://[^/\s]+/(?:.*/)?browse/(?P<key>(?P<project>[A-Za-z][A-Za-z0-9_]*)-(?P<n>\d+))/?$")


@handler("LinkJiraIssueToCase")
def link_jira_issue(ctx: Ctx) -> Result:
    case = ctx.case(ctx.inputs["case_id"])
    url = ctx.inputs["jira_issue_url"].strip()
    found = _JIRA_URL.match(url)
    if not found:
        raise ApiFailure(400, f"{ATTR}/jira_issue_url: {url!r} is not a Jira issue URL "
                              "(https://<site>/browse/<KEY>-<number>)", pointer=f"{ATTR}/jira_issue_url")
    if case.get("jira_issue"):
        raise ApiFailure(409, f"case {case['key']} is already linked to a Jira issue")
    case["jira_issue"] = {
        "status": "COMPLETED",
        "result": {
            "issue_id": str(10000 + ctx.store.next_value("jira_issue")),
            "issue_key": found.group("key").upper(),
            "issue_url": url,
            "project_key": found.group("project").upper(),
        },
    }
    ctx.save_case(case)
    return 204, None


@handler("UnlinkJiraIssue")
def unlink_jira_issue(ctx: Ctx) -> Result:
    case = ctx.case(ctx.inputs["case_id"])
    if not case.get("jira_issue"):
        raise ApiFailure(404, f"case {case['key']} has no linked Jira issue")
    case.pop("jira_issue", None)
    case.pop("jira_request", None)
    ctx.save_case(case)
    return 204, None


@handler("CreateCaseServiceNowTicket")
def create_service_now_ticket(ctx: Ctx) -> Result:
    case = ctx.case(ctx.inputs["case_id"])
    instance = ctx.text("instance_name", pointer=f"{ATTR}/instance_name")
    if not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9-]*", instance or ""):
        raise ApiFailure(400, f"{ATTR}/instance_name: {instance!r} is not a ServiceNow instance name",
                         pointer=f"{ATTR}/instance_name")
    if case.get("service_now_ticket"):
        raise ApiFailure(409, f"case {case['key']} already has a ServiceNow ticket")
    case["service_now_ticket"] = new_service_now_ticket(instance)  # type: ignore[arg-type]
    if ctx.inputs.get("assignment_group"):
        case["service_now_assignment_group"] = ctx.inputs["assignment_group"]
    ctx.save_case(case)
    return 202, None


@handler("CreateCaseNotebook")
def create_notebook(ctx: Ctx) -> Result:
    case = ctx.case(ctx.inputs["case_id"])
    if case.get("notebook_id"):
        raise ApiFailure(409, f"case {case['key']} already has a notebook")
    case["notebook_id"] = str(1000000 + ctx.store.next_value("notebook"))
    ctx.save_case(case)
    return 204, None


@handler("LinkIncident")
def link_incident(ctx: Ctx) -> Result:
    case = ctx.case(ctx.inputs["case_id"])
    incident = ctx.text("incident_id", pointer="/data/id")
    incidents = case.setdefault("incidents", [])
    if incident not in incidents:
        incidents.append(incident)
        ctx.save_case(case)
    return 201, case_document(ctx.store, case)
