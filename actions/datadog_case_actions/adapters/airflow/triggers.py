"""``RateLimitResetTrigger``: the triggerer's wait for a rate-limit window to reset.

``DatadogCaseActionOperator`` defers with it when the API asks for a wait longer
than a task should hold a worker slot: the worker is freed, the triggerer sleeps
until the reset time, and the task resumes on a worker and calls again.  The
triggerer must have this package installed (it is, wherever the provider is).
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

from airflow.triggers.base import BaseTrigger, TriggerEvent

__all__ = ["RateLimitResetTrigger"]

#: Longest single sleep, so a triggerer's clock change or a cancellation is noticed.
_STEP = 30.0


class RateLimitResetTrigger(BaseTrigger):
    """Fires once at *moment* (seconds since the epoch), when the rate limit of *action_id* has reset.

    The event carries the operator's deferral state back (*first_limited_at*,
    *deferrals*): Airflow's ``dag.test()`` resumes a task with the event alone.
    """

    def __init__(self, moment: float, action_id: str = "", limit_name: str | None = None,
                 first_limited_at: float | None = None, deferrals: int = 0) -> None:
        super().__init__()
        self.moment = float(moment)
        self.action_id = action_id
        self.limit_name = limit_name
        self.first_limited_at = first_limited_at
        self.deferrals = deferrals

    def _fields(self) -> dict[str, Any]:
        return {"moment": self.moment, "action_id": self.action_id, "limit_name": self.limit_name,
                "first_limited_at": self.first_limited_at, "deferrals": self.deferrals}

    def serialize(self) -> tuple[str, dict[str, Any]]:
        return f"{type(self).__module__}.{type(self).__qualname__}", self._fields()

    async def run(self) -> AsyncIterator[TriggerEvent]:
        while (left := self.moment - time.time()) > 0:
            await asyncio.sleep(min(left, _STEP))
        yield TriggerEvent(self._fields())
