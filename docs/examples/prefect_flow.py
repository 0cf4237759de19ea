"""Incident triage as a Prefect flow: each step is a Datadog Case Management action run as a Prefect task.

A batch of alerts becomes a project with one case per alert (created concurrently);
the worst one is escalated to P1, put in progress and commented; the open cases
are searched; the low-priority noise is closed.  ``incident_triage_async`` does
the same with the async tasks.

Try it on the embedded sandbox (no account, no network, Prefect's ephemeral API)::

    pip install '.[prefect]'
    python docs/examples/prefect_flow.py

Against Datadog, save a credentials block once and pass its name::

    from datadog_case_actions.adapters.prefect import DatadogCasesCredentials
    DatadogCasesCredentials(api_key="…", app_key="…", site="datadoghq.eu").save("datadog")
    incident_triage(credentials="datadog", project_key="INC42")

``tests/prefect/test_prefect.py`` runs this file's flows against a sandbox server.
"""

from __future__ import annotations

import asyncio
from typing import Any, Literal

from prefect import flow, get_run_logger, unmapped
from pydantic import BaseModel, Field

from datadog_case_actions.adapters.prefect import DatadogCasesCredentials, atasks, tasks

#: The standard case type every Case Management organization has.
CASE_TYPE = "00000000-0000-0000-0000-000000000001"

#: A block, or the name of a saved one (recommended: then no key is ever stored with the flow run).
Credentials = DatadogCasesCredentials | str


class Alert(BaseModel):
    """One alert to open a case for."""

    title: str
    priority: Literal["P1", "P2", "P3", "P4", "P5"] = "P3"
    description: str = Field(default="", description="What the monitor saw.")


ALERTS = [
    Alert(title="Database primary is down", priority="P2", description="no heartbeat from db-primary-1 for 5 min"),
    Alert(title="Checkout latency above 2s", priority="P2", description="p99 2.4s on /api/checkout"),
    Alert(title="Disk 92% full on worker-7", priority="P4", description="/var/lib/worker crossed 90%"),
    Alert(title="Certificate expires in 10 days", priority="P5", description="shop.example.com"),
]

#: Priorities closed as noise at the end of triage.
NOISE = ("P4", "P5")


def _summary(project: dict[str, Any], cases: list[dict[str, Any]], escalated: str, open_cases: list[dict[str, Any]],
             closed: list[str]) -> dict[str, Any]:
    return {
        "project_id": project["data"]["id"],
        "project_key": project["data"]["attributes"]["key"],
        "case_ids": [case["data"]["id"] for case in cases],
        "escalated": escalated,
        "open_before_closing": len(open_cases),
        "closed": closed,
    }


@flow(name="datadog-incident-triage")
def incident_triage(credentials: Credentials = "datadog", project_key: str = "INC",
                    alerts: list[Alert] = ALERTS) -> dict[str, Any]:
    """Open a project and a case per alert, escalate the first, close the noise."""
    logger = get_run_logger()
    project = tasks.create_project(credentials=credentials, key=project_key, name=f"Incident {project_key}")
    project_id = project["data"]["id"]

    # One case per alert, concurrently (.map submits one task run per alert).
    cases = tasks.create_case.map(
        credentials=unmapped(credentials),
        title=[a.title for a in alerts],
        priority=[a.priority for a in alerts],
        description=[a.description for a in alerts],
        type_id=CASE_TYPE,
        project_id=project_id,
    ).result()

    first = cases[0]["data"]["id"]
    tasks.update_priority(credentials=credentials, case_id=first, priority="P1")
    tasks.update_status(credentials=credentials, case_id=first, status="IN_PROGRESS")
    tasks.comment_case(credentials=credentials, case_id=first, comment="Escalated by the triage flow.")

    found = tasks.search_cases(credentials=credentials, filter=f"project:{project_key} status:open", page_size=100)
    open_cases = found["data"]
    noise = [c["id"] for c in open_cases if c["attributes"].get("priority") in NOISE]
    tasks.update_status.map(credentials=unmapped(credentials), case_id=noise, status="CLOSED").result()
    logger.info("%s: %d cases, %s escalated, %d closed as noise", project_key, len(cases), first, len(noise))
    return _summary(project, cases, first, open_cases, noise)


@flow(name="datadog-incident-triage-async")
async def incident_triage_async(credentials: Credentials = "datadog", project_key: str = "INCA",
                                alerts: list[Alert] = ALERTS) -> dict[str, Any]:
    """The same triage with the async tasks (``atasks``), concurrency through ``asyncio.gather``."""
    project = await atasks.create_project(credentials=credentials, key=project_key, name=f"Incident {project_key}")
    project_id = project["data"]["id"]
    cases = await asyncio.gather(*(
        atasks.create_case(credentials=credentials, title=a.title, priority=a.priority, description=a.description,
                           type_id=CASE_TYPE, project_id=project_id)
        for a in alerts))

    first = cases[0]["data"]["id"]
    await atasks.update_priority(credentials=credentials, case_id=first, priority="P1")
    await atasks.update_status(credentials=credentials, case_id=first, status="IN_PROGRESS")
    await atasks.comment_case(credentials=credentials, case_id=first, comment="Escalated by the triage flow.")

    found = await atasks.search_cases(credentials=credentials, filter=f"project:{project_key} status:open",
                                      page_size=100)
    open_cases = found["data"]
    noise = [c["id"] for c in open_cases if c["attributes"].get("priority") in NOISE]
    await asyncio.gather(*(atasks.update_status(credentials=credentials, case_id=case_id, status="CLOSED")
                           for case_id in noise))
    return _summary(project, cases, first, open_cases, noise)


if __name__ == "__main__":
    # The whole flow on a sandbox server in this process: dummy keys, a throwaway database.
    from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

    server, url = start_server_in_thread(Sandbox(":memory:"))
    try:
        sandbox = DatadogCasesCredentials(api_key="sandbox", app_key="sandbox", base_url=url)
        print(incident_triage(credentials=sandbox))
        print(asyncio.run(incident_triage_async(credentials=sandbox)))
    finally:
        server.stop()
