"""The one exception tree of the package.

    ActionError                      every failure an action can raise
    ├── InputError                   inputs refused before any request (lists every violation)
    ├── ConfigurationError           no credentials, unknown site, bad option (before any request)
    ├── UnknownActionError           no installed action has that id (also a LookupError)
    ├── ApiError                     the API answered with an error status
    │   ├── AuthenticationError      401 and 403
    │   ├── NotFoundError            404
    │   ├── ConflictError            400, 409 and 422: the API refused the request as sent
    │   ├── RateLimitedError         429                                (retryable)
    │   ├── ServerError              5xx                                (retryable)
    │   └── UnexpectedResponseError  a success status whose body is not JSON
    └── TransportError               no usable answer: connect error, reset, timeout (retryable)
        └── TimeoutError             the read/connect timeout or the total deadline ran out

``retryable`` is decided by the class, not by the call site, so every adapter
(CLI, Airflow, Prefect, chat, MCP) maps failures the same way.  Messages never
contain credentials: they are built from the action id, the status and the API's
own error texts, never from request headers.
"""

from __future__ import annotations

TYPE_CHECKING = False  # not typing.TYPE_CHECKING: the registry imports this module on the cold listing path
if TYPE_CHECKING:
    from typing import Any

__all__ = [
    "ActionError",
    "InputError",
    "ConfigurationError",
    "UnknownActionError",
    "ApiError",
    "AuthenticationError",
    "NotFoundError",
    "ConflictError",
    "RateLimitedError",
    "ServerError",
    "UnexpectedResponseError",
    "TransportError",
    "TimeoutError",
    "Violation",
    "error_for_status",
    "api_messages",
    "safe_to_retry",
    "reduce_exception",
]


def _restore(cls: type[BaseException], args: tuple[Any, ...]) -> BaseException:
    """*cls* with *args*, made without calling its ``__init__`` (its fields come from the pickled state)."""
    error = cls.__new__(cls, *args)
    error.args = args
    return error


def reduce_exception(error: BaseException) -> tuple[Any, ...]:
    """``__reduce__`` for exceptions whose ``__init__`` does not take ``self.args`` back.

    ``BaseException.__reduce__`` rebuilds with ``cls(*self.args)``: an ``__init__``
    taking other arguments (``InputError(violations)``, keyword-only fields) then
    fails or builds a different error, and a worker pool that unpickles it breaks.
    Rebuilding without ``__init__`` and restoring ``__dict__`` keeps every field.
    """
    return _restore, (type(error), error.args), dict(vars(error))


class ActionError(Exception):
    """Base class: something went wrong running an action."""

    retryable: bool = False
    #: exit code used by the command line for this family of errors
    exit_code: int = 1

    def __init__(self, message: str, *, action_id: str | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.action_id = action_id

    # pickle and copy.deepcopy keep every field, whatever a subclass's __init__ takes
    __reduce__ = reduce_exception

    def __str__(self) -> str:
        prefix = f"{self.action_id}: " if self.action_id else ""
        return prefix + self.message

    def to_dict(self) -> dict[str, Any]:
        """A JSON-serialisable description (for CLI, XCom, chat and MCP replies)."""
        return {
            "error": type(self).__name__,
            "action_id": self.action_id,
            "message": self.message,
            "retryable": self.retryable,
        }


class Violation(dict):  # type: ignore[type-arg]
    """One input violation: ``{"field": "a.b[0]", "message": "...", "validator": "enum"}``."""

    @property
    def field(self) -> str:
        return str(self["field"])

    @property
    def text(self) -> str:
        return str(self["message"])


class InputError(ActionError):
    """Inputs do not match the action's input schema; nothing was sent."""

    exit_code = 2

    def __init__(self, violations: list[Violation], *, action_id: str | None = None) -> None:
        self.violations = violations
        summary = "; ".join(f"{v.field or '(inputs)'}: {v.text}" for v in violations[:5])
        more = f" (+{len(violations) - 5} more)" if len(violations) > 5 else ""
        noun = "violation" if len(violations) == 1 else "violations"
        super().__init__(f"invalid input, {len(violations)} {noun}: {summary}{more}", action_id=action_id)

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "violations": [dict(v) for v in self.violations]}


class ConfigurationError(ActionError):
    """The connection cannot be used as configured (missing keys, unknown site...)."""

    exit_code = 2


class UnknownActionError(ActionError, LookupError):
    """No installed action has that id; the message lists close matches."""

    exit_code = 2


class ApiError(ActionError):
    """The API answered with an error status; ``messages`` holds its own error texts."""

    exit_code = 3

    def __init__(
        self,
        message: str,
        *,
        action_id: str | None = None,
        status: int | None = None,
        messages: list[str] | None = None,
        body: Any = None,
        headers: dict[str, str] | None = None,
    ) -> None:
        super().__init__(message, action_id=action_id)
        self.status = status
        self.messages = messages or []
        self.body = body
        self.headers = headers or {}

    def to_dict(self) -> dict[str, Any]:
        return {**super().to_dict(), "status": self.status, "messages": self.messages, "body": self.body}


class AuthenticationError(ApiError):
    """401 or 403: missing, wrong or insufficient credentials."""


class NotFoundError(ApiError):
    """404: the case, project or other resource does not exist."""


class ConflictError(ApiError):
    """400, 409 or 422: the API refused the request as sent."""


class RateLimitedError(ApiError):
    """429: rate limited; ``retry_after`` is the wait the headers asked for, in seconds."""

    retryable = True

    def __init__(self, message: str, *, retry_after: float | None = None, **kwargs: Any) -> None:
        super().__init__(message, **kwargs)
        self.retry_after = retry_after


class ServerError(ApiError):
    """5xx: the API failed; retrying may help."""

    retryable = True


class UnexpectedResponseError(ApiError):
    """A success status with a body that is not JSON (an HTML page from a proxy...)."""

    retryable = True


class TransportError(ActionError):
    """No usable answer: connection refused or reset, DNS failure, timeout."""

    retryable = True
    exit_code = 4

    def __init__(self, message: str, *, action_id: str | None = None, sent: bool | None = None) -> None:
        super().__init__(message, action_id=action_id)
        #: False when the request surely never reached the server (connect failed)
        self.sent = sent


class TimeoutError(TransportError):  # noqa: A001 - the package's own, exported by name
    """A connect/read timeout, or the total deadline over all attempts, ran out."""


def api_messages(body: Any) -> list[str]:
    """The human-readable error texts of an error body, in whatever shape it came.

    The API answers ``{"errors": ["text"]}``, JSON:API error objects
    (``{"errors": [{"status", "title", "detail", ...}]}``), a bare string, or
    something else again; read all of them and prefer ``detail`` over ``title``.
    """
    if body is None:
        return []
    if isinstance(body, str):
        text = body.strip()
        return [text[:500]] if text else []
    if isinstance(body, dict):
        errors = body.get("errors", body.get("error"))
        if errors is None:
            message = body.get("message") or body.get("detail") or body.get("title")
            return [str(message)] if message else []
        if not isinstance(errors, list):
            errors = [errors]
        out: list[str] = []
        for item in errors:
            if isinstance(item, dict):
                detail = item.get("detail") or item.get("title") or item.get("message") or item.get("code")
                if detail:
                    out.append(str(detail))
            elif item is not None:
                out.append(str(item))
        return out
    if isinstance(body, list):
        return [str(x) for x in body if x is not None][:20]
    return [str(body)]


_BY_STATUS: dict[int, type[ApiError]] = {
    400: ConflictError,
    401: AuthenticationError,
    403: AuthenticationError,
    404: NotFoundError,
    409: ConflictError,
    422: ConflictError,
    429: RateLimitedError,
}


def error_for_status(
    status: int,
    body: Any,
    *,
    action_id: str | None,
    headers: dict[str, str] | None = None,
    retry_after: float | None = None,
) -> ApiError:
    """The exception for an error *status*, carrying the API's own messages."""
    cls = _BY_STATUS.get(status) or (ServerError if status >= 500 else ApiError)
    messages = api_messages(body)
    text = "; ".join(messages) if messages else "(no error message in the response)"
    message = f"HTTP {status}: {text}"
    if cls is RateLimitedError:
        return RateLimitedError(
            message, action_id=action_id, status=status, messages=messages, body=body, headers=headers,
            retry_after=retry_after,
        )
    return cls(message, action_id=action_id, status=status, messages=messages, body=body, headers=headers)


def safe_to_retry(error: BaseException | None, idempotent: bool) -> bool:
    """Whether an orchestrator may run the action again after *error* (Airflow and Prefect retries).

    Only errors whose class says ``retryable``, and for an action that is not
    idempotent only when the request surely was not applied (a 429, or a
    transport error before anything was sent): retrying a create after a 500 or
    a read timeout could make a second case.  The transport applies the same
    rule to its own retries.
    """
    if not isinstance(error, ActionError) or not error.retryable:
        return False
    if idempotent:
        return True
    return isinstance(error, RateLimitedError) or (isinstance(error, TransportError) and error.sent is False)
