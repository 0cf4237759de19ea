"""Error answers of the sandbox, in the shapes the live API uses.

Every Case Management endpoint (paths under ``/api/v2/cases``) answers
JSON:API error objects, whatever the reference documents: the live service's
recorded errors are all objects, in five key combinations (see
``../shared/reference/live-api-notes.md`` section 6 and the helpers below):

    {"status": "400", "title": "Bad Request", "detail": "..."}      malformed body
    {"status": "400", "title": "Bad Request"}                       a refused value (empty title, non-UUID id...)
    {"status": "400", "title": "Invalid Parameter", "detail": ...}  a path parameter that must be a UUID
    {"title": "Generic Error", "detail": "invalid priority ..."}    unknown priority or status
    {"code": "resource_not_found", "title": "case not found"}       404, sometimes with "meta"

The relationship and insight endpoints add ``source`` (pointer or parameter),
as the reference documents for them and no recording contradicts.  Endpoints
outside Case Management (maintenance windows), authentication (401, 403), rate
limiting (429), injected faults and unknown routes keep the plain reference
shape ``{"errors": ["text"]}``: they are answered before any endpoint is reached.
"""

from __future__ import annotations

from http import HTTPStatus
from typing import Any

from ..runtime.errors import reduce_exception

__all__ = ["ApiFailure", "JSONAPI_ERROR_OPERATIONS", "error_document", "plain_error", "bad_request",
           "invalid_parameter", "generic_error", "not_found", "CASES_PREFIX"]

#: the Case Management service: every path under it answers JSON:API error objects
CASES_PREFIX = "/api/v2/cases"

#: operations whose error objects also carry ``source`` (per the API reference)
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
    """A handler's refusal: becomes an error answer with *status*.

    *detail* is always the human text (plain answers use it); the JSON:API object
    is built from *title* (default: the status phrase), *detail* unless
    ``show_detail`` is false, ``status`` unless ``show_status`` is false, and
    *code* / *meta* when given.
    """

    def __init__(self, status: int, detail: str, *, pointer: str | None = None, parameter: str | None = None,
                 headers: dict[str, str] | None = None, title: str | None = None, code: str | None = None,
                 meta: dict[str, Any] | None = None, show_status: bool = True, show_detail: bool = True) -> None:
        super().__init__(detail)
        self.status = status
        self.detail = detail
        self.pointer = pointer
        self.parameter = parameter
        self.headers = headers or {}
        self.title = title or _phrase(status)
        self.code = code
        self.meta = meta
        self.show_status = show_status
        self.show_detail = show_detail

    __reduce__ = reduce_exception  # picklable with its fields (a worker pool re-raises it)

    def item(self, *, with_source: bool) -> dict[str, Any]:
        """The JSON:API error object, keys in the live order."""
        item: dict[str, Any] = {}
        if self.code is not None:
            item["code"] = self.code
        if self.show_status:
            item["status"] = str(self.status)
        item["title"] = self.title
        if self.show_detail:
            item["detail"] = self.detail
        if self.meta is not None:
            item["meta"] = self.meta
        source = {}
        if with_source and self.pointer:
            source["pointer"] = self.pointer
        if with_source and self.parameter:
            source["parameter"] = self.parameter
        if source:
            item["source"] = source
        return item


def bad_request(detail: str | None = None, *, pointer: str | None = None,
                parameter: str | None = None) -> ApiFailure:
    """400 "Bad Request"; without *detail* the live bare shape ``{"status", "title"}``."""
    return ApiFailure(400, detail or "Bad Request", pointer=pointer, parameter=parameter,
                      show_detail=detail is not None)


def invalid_parameter(go_name: str, expected: str = "uuid", *, parameter: str | None = None) -> ApiFailure:
    """400 "Invalid Parameter" for a path parameter of the wrong type (live: non-UUID comment or config id)."""
    return ApiFailure(400, f'invalid parameter "{go_name}" in "path"; expected type "{expected}"',
                      title="Invalid Parameter", parameter=parameter)


def generic_error(detail: str, *, pointer: str | None = None) -> ApiFailure:
    """400 "Generic Error" without ``status`` (live: unknown priority or status)."""
    return ApiFailure(400, detail, title="Generic Error", show_status=False, pointer=pointer)


def not_found(title: str, *, meta: dict[str, Any] | None = None) -> ApiFailure:
    """404 ``{"code": "resource_not_found", "title": ...}`` (+ ``meta``), no status, no detail."""
    return ApiFailure(404, title, title=title, code="resource_not_found", meta=meta, show_status=False,
                      show_detail=False)


def plain_error(status: int, *messages: str) -> dict[str, Any]:
    return {"errors": list(messages) or [_phrase(status)]}


def error_document(failure: ApiFailure, operation: str | None, path: str = CASES_PREFIX) -> dict[str, Any]:
    """The error body for *failure* raised while serving *operation* at *path* (the route template)."""
    if not path.startswith(CASES_PREFIX):
        return plain_error(failure.status, failure.detail)
    return {"errors": [failure.item(with_source=operation in JSONAPI_ERROR_OPERATIONS)]}
