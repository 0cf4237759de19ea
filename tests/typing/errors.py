"""Mistakes the typed surface must catch.  Each bad line carries the exact error it must raise: mypy runs with
``warn_unused_ignores`` and basedpyright with ``reportUnnecessaryTypeIgnoreComment`` (and ignores mypy's
comments), so a line that stops being an error fails the check as surely as a new error does."""

from __future__ import annotations

from datadog_case_actions import AsyncCaseManagement, CaseManagement, Connection
from datadog_case_actions.types import CreateCaseParams


def sync(conn: Connection) -> None:
    dd = CaseManagement(conn)
    dd.get_cases(case_id="x")  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType]
    dd.get_case(case_idd="x")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    dd.create_case(title="t", type_id="x")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    dd.create_case(title="t", type_id="x", project_id="p", priority="P9")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    dd.update_status(case_id="x", status="DONE")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    dd.get_case("x")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    case = dd.get_case(case_id="x")
    case["data"]["attributes"]["titel"]  # type: ignore[typeddict-item]  # pyright: ignore[reportGeneralTypeIssues]
    case["data"]["attributes"]["closed_at"]  # pyright: ignore[reportTypedDictNotRequiredAccess]
    title: int = case["data"]["attributes"]["title"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    for item in dd.iter_get_case(case_id="x"):  # type: ignore[attr-defined]  # pyright: ignore[reportAttributeAccessIssue, reportUnknownMemberType, reportUnknownVariableType]
        print(item)  # pyright: ignore[reportUnknownArgumentType]
    print(title)


def params() -> CreateCaseParams:
    return {"title": "t", "type_id": "x", "project_id": "p", "prority": "P1"}  # type: ignore[typeddict-unknown-key]  # pyright: ignore[reportReturnType]


async def asynchronous(conn: Connection) -> None:
    dd = AsyncCaseManagement(conn)
    await dd.get_case(case_idd="x")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue]
    await dd.create_case(title="t", type_id="x", project_id="p", priority="P9")  # type: ignore[call-overload]  # pyright: ignore[reportCallIssue, reportArgumentType]
    case = await dd.get_case(case_id="x")
    wrong: int = case["data"]["attributes"]["title"]  # type: ignore[assignment]  # pyright: ignore[reportAssignmentType]
    print(wrong)
    dd.get_case(case_id="x")  # type: ignore[unused-coroutine]  # pyright: ignore[reportUnusedCoroutine]
