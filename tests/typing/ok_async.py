"""Correct uses of the async facade: both checkers must accept every line, with the exact types asserted."""

from __future__ import annotations

from typing import assert_type

from datadog_case_actions import AsyncCaseManagement, Connection
from datadog_case_actions.types import Case, CreateCaseResult, GetCaseResult


async def workflow(conn: Connection) -> None:
    async with AsyncCaseManagement(conn) as dd:
        assert_type(dd, AsyncCaseManagement)
        case = await dd.create_case(title="DB is down", type_id="t", project_id="p", priority="P1")
        assert_type(case, CreateCaseResult)
        fetched = await dd.get_case(case_id=case["data"]["id"])
        assert_type(fetched, GetCaseResult)
        assert_type(fetched["data"]["attributes"]["title"], str)
        async for item in dd.iter_search_cases(filter="status:open", max_pages=2):
            assert_type(item, Case)
    await dd.aclose()
