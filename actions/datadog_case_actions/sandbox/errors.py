"""Error answers of the sandbox, in the two shapes the live API uses.

Most endpoints answer ``{"errors": ["text"]}``.  The relationship endpoints
(Jira, ServiceNow, notebook, incident, project move) and the insight endpoints
answer JSON:API error objects ``{"errors": [{"status", "title", "detail",
"source"}]}``, as the API reference documents for them.  Authentication (401,
403), rate limiting (429), injected faults and unknown routes always use the
plain shape: they are answered before any endpoint is reached.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ..runtime.errors import reduce_exception

__all__ = ["ApiFailure", "JSONAPI_ERROR_OPERATIONS", "error_document", "plain_error"]

#: operations whose errors are JSON:API error objects (per the API reference)
JSONAPI_ERROR_OPERATIONS = frozenset({
    "AddCaseInsights",
    "RemoveCaseInsights",
    "CreateCaseJiraIssue",
    "LinkJiraIssueToCase",
    "UnlinkJiraIssue",
    "CreateCaseServiceNowTicket",
    "CreateCaseNotebook",
    "LinkIncident",
    "MoveCaseToProject",
})


def _phrase(status: int) -> str:
    try:
        return HTTPStatus(status).phrase
    except ValueError:
        return "Error"


class ApiFailure(Exception):
    """A handler's refusal: becomes an error answer with *status*."""

    def __init__(self, status: int, detail: str, *, pointer: str | None = None, parameter: str | None = None,
                 headers: dict[str, str] | None = None) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.headers = headers or {}

    __reduce__ = reduce_exception  # picklable with its fields (a worker pool re-raises it)


def plain_error(status: int, *messages: str) -> dict[str, Any]:
    return {"errors": list(messages) or [_phrase(status)]}


def error_document(failure: ApiFailure, operation: str | None) -> dict[str, Any]:
    """The error body for *failure* raised while serving *operation*."""
    if operation in JSONAPI_ERROR_OPERATIONS:
        item: dict[str, Any] = {"status": str(failure.status), "title": _phrase(failure.status), "detail": failure.detail}
        source = {}
        if failure.pointer:
            source["pointer"] = failure.pointer
        if failure.parameter:
            source["parameter"] = failure.parameter
        if source:
            item["source"] = source
        return {"errors": [item]}
    return plain_error(failure.status, failure.detail)
