"""Integrations: incidents, Jira issues, ServiceNow tickets and notebooks linked to a case."""

from __future__ import annotations

from ..declare import Action, Effect

link_incident = Action("LinkIncident", idempotent=True, names={"/data/id": "incident_id"})
create_case_jira_issue = Action("CreateCaseJiraIssue", names={"project_id": "jira_project_id"})
link_jira_issue_to_case = Action("LinkJiraIssueToCase", idempotent=True)
unlink_jira_issue = Action(
    "UnlinkJiraIssue",
    effect=Effect.WRITE,
    notes=("Unlinking removes only the link; the Jira issue itself is kept, so it is a write, not a destructive action.",),
)
create_case_service_now_ticket = Action("CreateCaseServiceNowTicket")
create_case_notebook = Action("CreateCaseNotebook")
