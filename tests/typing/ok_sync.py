"""Correct uses of the typed facade: both checkers must accept every line, with the exact types asserted."""

from __future__ import annotations

from typing import assert_type

from datadog_case_actions import NOT_GIVEN, CaseManagement, Connection, Runner
from datadog_case_actions.client import DryRunRequest
from datadog_case_actions.types import Case, CreateCaseParams, DeleteCaseCommentResult, GetCaseResult, TimelineCell


def workflow(conn: Connection) -> None:
    with CaseManagement(conn) as dd:
        assert_type(dd, CaseManagement)
        project = dd.create_project(name="Operations", key="OPS")
        case = dd.create_case(title="DB is down", type_id="00000000-0000-0000-0000-000000000001",
                              project_id=project["data"]["id"], priority="P1")
        fetched = dd.get_case(case_id=case["data"]["id"])
        assert_type(fetched, GetCaseResult)
        assert_type(fetched["data"], Case)
        assert_type(fetched["data"]["attributes"]["title"], str)
        assert_type(fetched["data"]["attributes"]["priority"], str)  # outputs: any value the service sends
        assert_type(fetched["data"]["attributes"]["attributes"], dict[str, list[str]])
        closed_at = fetched["data"]["attributes"].get("closed_at")  # NotRequired: read with .get
        assert_type(closed_at, str | None)
        if fetched["data"]["attributes"]["type"] == "TUNKNOWN":  # a live value the reference does not list
            pass
        comment = dd.comment_case(case_id=case["data"]["id"], comment="on it")
        assert_type(comment["data"][0], TimelineCell)
        for item in dd.iter_search_cases(filter="status:open", max_items=10):
            assert_type(item, Case)
            assert_type(item["attributes"]["key"], str)
        request = dd.get_case(case_id="x", dry_run=True)
        assert_type(request, DryRunRequest)
        assert_type(request["url"], str)
        dd.update_case_due_date(case_id="x", due_date=None)  # None clears the value...
        dd.create_case(title="t", type_id="x", project_id="p", priority=NOT_GIVEN)  # ...NOT_GIVEN leaves it out
        deleted = dd.delete_case_comment(case_id="x", cell_id="y")
        assert_type(deleted, DeleteCaseCommentResult)  # a 204: an empty document


def with_runner(runner: Runner, flag: bool) -> None:
    dd = CaseManagement(runner)
    either = dd.get_case(case_id="x", dry_run=flag)
    if "dry_run" in either:
        pass
    dd.close()


def params_as_dict() -> CreateCaseParams:
    return {"title": "DB is down", "type_id": "x", "project_id": "p", "priority": "P2"}
