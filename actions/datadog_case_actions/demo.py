"""``dd-cases demo``: an incident workflow, end to end, on the embedded sandbox.

Every step is a real action run through the public runtime (``Runner``,
validation, the JSON:API envelope, the transport) against the sandbox, so the
demo shows exactly what a DAG step would do against Datadog.  Nothing here
talks to the network; no account is needed.
"""

from __future__ import annotations

import json
from typing import Any, Callable, TextIO

from .runtime.connection import Connection
from .runtime.runner import Runner

__all__ = ["run_demo", "ALERTS"]

CASE_TYPE = "00000000-0000-0000-0000-000000000001"
ONCALL = "00000000-0000-4000-8000-0000000000a1"  # the on-call engineer's user id

#: The batch of alerts the workflow turns into cases: (title, priority, service, description).
ALERTS = [
    ("Database primary is down", "P1", "orders-db", "Monitor 4411: no heartbeat from db-primary-1 for 5 minutes"),
    ("Checkout latency above 2s", "P2", "checkout", "p99 latency 2.4s over 10 minutes on /api/checkout"),
    ("Disk 92% full on worker-7", "P3", "batch", "Disk usage crossed 90% on /var/lib/worker"),
    ("Certificate expires in 10 days", "P4", "edge", "TLS certificate for shop.example.com expires soon"),
    ("Error rate spike in payments", "P2", "payments", "5xx ratio at 3.1% for 5 minutes"),
]


class _Steps:
    """Runs actions and prints one line per step, naming the action that ran."""

    def __init__(self, runner: Runner, out: TextIO, as_json: bool) -> None:
        self.runner = runner
        self.out = out
        self.as_json = as_json
        self.log: list[dict[str, Any]] = []

    def run(self, action: str, inputs: dict[str, Any], say: Callable[[Any], str]) -> Any:
        result = self.runner.run(action, inputs)
        self.record(action, inputs, say(result))
        return result

    def record(self, action: str, inputs: dict[str, Any], line: str) -> None:
        self.log.append({"step": len(self.log) + 1, "action": f"datadog.{action}", "inputs": inputs,
                         "summary": line})
        if not self.as_json:
            self.out.write(f"{len(self.log):>3}. {action:<28} {line}\n")

    def note(self, text: str) -> None:
        if not self.as_json:
            self.out.write(f"\n{text}\n")


def _says(text: str) -> Callable[[Any], str]:
    """A step summary that does not depend on the result."""
    return lambda result: text


def _key(case: dict[str, Any]) -> str:
    return str(case["data"]["attributes"].get("key") or case["data"]["id"])


def run_demo(connection: Connection, out: TextIO, *, as_json: bool = False) -> dict[str, Any]:
    """Run the incident workflow on *connection* (a sandbox connection) and return what happened."""
    with Runner(connection) as runner:
        steps = _Steps(runner, out, as_json)
        existing = runner.run("get_projects")["data"]
        project_key = f"INC{len(existing) + 1}"

        steps.note(f"Incident workflow on {connection.url} (sandbox: {connection.sandbox_path or 'per-user file'})")
        steps.note("1. A project for the incident")
        project = steps.run("create_project", {"key": project_key, "name": "Checkout outage"},
                            lambda r: f"project {project_key} ({r['data']['id'][:8]}…)")["data"]["id"]

        steps.note("2. One case per alert")
        cases = []
        for title, priority, service, description in ALERTS:
            def opened(r: Any, t: str = title) -> str:
                return f"{_key(r)} opened: {t} [{r['data']['attributes'].get('priority')}]"

            case = steps.run("create_case", {"title": title, "type_id": CASE_TYPE, "project_id": project,
                                             "priority": priority, "description": description}, opened)
            cases.append((case["data"]["id"], _key(case), service))

        steps.note("3. Triage: priority, owner, attributes, a comment")
        db_id, db_key, _ = cases[0]
        steps.run("update_priority", {"case_id": db_id, "priority": "P1"}, lambda r: f"{db_key} stays P1")
        for case_id, key, service in cases[:3]:
            steps.run("assign_case", {"case_id": case_id, "assignee_id": ONCALL}, _says(f"{key} assigned to on-call"))
            steps.run("update_attributes", {"case_id": case_id, "attributes": {"service": [service], "env": ["prod"]}},
                      _says(f"{key} tagged service:{service} env:prod"))
        steps.run("update_status", {"case_id": db_id, "status": "IN_PROGRESS"}, lambda r: f"{db_key} in progress")
        steps.run("comment_case", {"case_id": db_id, "comment": "Failing over to db-replica-2; ETA 10 minutes."},
                  lambda r: f"{db_key} commented")

        steps.note("4. Evidence")
        steps.run("add_case_insights", {"case_id": db_id, "insights": [
            {"type": "SECURITY_SIGNAL", "ref": "/monitors/4411", "resource_id": "4411"}]},
            lambda r: f"{db_key} linked to monitor 4411")

        steps.note("5. Where do we stand?")
        query = f"project:{project_key} status:open,in_progress"
        open_cases = list(runner.iterate("search_cases", {"filter": query, "page_size": 2}))
        steps.record("search_cases", {"filter": query}, f"{len(open_cases)} open cases (walked 2 per page)")
        steps.run("count_cases", {"query_filter": f"project:{project_key}", "group_bys": "priority"},
                  lambda r: "by priority: " + ", ".join(
                      f"{v.get('value')}={v.get('count')}"
                      for group in r["data"]["attributes"].get("groups", []) for v in group.get("group_values", [])))
        steps.run("aggregate_cases", {"query_filter": f"project:{project_key}",
                                      "group_by": {"groups": ["status"], "limit": 10}},
                  lambda r: f"{r['data']['attributes'].get('total')} cases in {len(r['data']['attributes']['groups'])}"
                            " status groups")

        steps.note("6. Resolution")
        steps.run("update_status", {"case_id": db_id, "status": "CLOSED"}, lambda r: f"{db_key} closed")
        cert_id, cert_key, _ = cases[3]
        steps.run("update_status", {"case_id": cert_id, "status": "CLOSED"}, lambda r: f"{cert_key} closed")
        steps.run("archive_case", {"case_id": cert_id}, lambda r: f"{cert_key} archived")

        still_open = len(list(runner.iterate("search_cases", {"filter": query})))
        summary = {"project": project_key, "cases": len(cases), "open_after": still_open, "steps": steps.log}
        if as_json:
            out.write(json.dumps(summary, indent=2) + "\n")
        else:
            out.write(f"\nDone: {len(cases)} cases opened, {len(cases) - still_open} closed, {still_open} still open, "
                      f"{len(steps.log)} actions run.\n")
            out.write(f"Look around: dd-cases run search_cases filter=project:{project_key} --sandbox\n")
        return summary
