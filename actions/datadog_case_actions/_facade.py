"""The hand-written base of the generated facade (``client.py``): a ``Runner`` behind typed methods.

Each generated method passes its action id and the inputs that were given to ``_run``/``_arun``; validation,
retries, dry runs and errors are the runner's, exactly as for ``run``.  ``NOT_GIVEN`` marks an optional input
that was not given, so that ``None`` (which some inputs take to clear a value) can be sent.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator, Mapping
from typing import Any, Final, Literal, Self, TypedDict

from .runtime.connection import Connection
from .runtime.runner import Runner

__all__ = ["NOT_GIVEN", "NotGiven", "DryRunRequest", "SyncFacade", "AsyncFacade"]


class NotGiven:
    """The type of ``NOT_GIVEN``: an optional input left out of the request (unlike ``None``)."""

    _instance: NotGiven | None = None

    def __new__(cls) -> NotGiven:
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __bool__(self) -> Literal[False]:
        return False

    def __repr__(self) -> str:
        return "NOT_GIVEN"

    def __reduce__(self) -> str:
        return "NOT_GIVEN"


NOT_GIVEN: Final = NotGiven()


class DryRunRequest(TypedDict):
    """What a dry run returns instead of calling the API: the request that would be sent."""

    dry_run: Literal[True]
    action_id: str
    method: str
    url: str
    headers: dict[str, str]
    body: Any


def _given(inputs: Mapping[str, Any]) -> dict[str, Any]:
    return {key: value for key, value in inputs.items() if value is not NOT_GIVEN}


class _Facade:
    def __init__(self, connection: Connection | Runner | None = None, *, max_concurrency: int | None = None) -> None:
        """*max_concurrency*: the bound on calls in flight of the runner made here (see ``Runner``)."""
        if isinstance(connection, Runner):
            if max_concurrency is not None:
                from .runtime.errors import ConfigurationError

                raise ConfigurationError("max_concurrency belongs to the Runner passed in: set it there")
            self.runner, self._owns_runner = connection, False
        else:
            self.runner, self._owns_runner = Runner(connection, max_concurrency=max_concurrency), True

    @property
    def connection(self) -> Connection:
        return self.runner.connection

    def __repr__(self) -> str:
        return f"{type(self).__name__}({self.runner.connection!r})"


class SyncFacade(_Facade):
    """Base of ``CaseManagement``: closes the runner it made on ``close()`` or at the end of a ``with`` block."""

    def _run(self, action_id: str, inputs: Mapping[str, Any], dry_run: bool) -> Any:
        return self.runner.run(action_id, _given(inputs), dry_run=dry_run)

    def _iterate(self, action_id: str, inputs: Mapping[str, Any], max_items: int | None,
                 max_pages: int | None) -> Iterator[Any]:
        return self.runner.iterate(action_id, _given(inputs), max_items=max_items, max_pages=max_pages)

    def close(self) -> None:
        """Close the connection pool, unless the runner was handed in (then its owner closes it)."""
        if self._owns_runner:
            self.runner.close()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class AsyncFacade(_Facade):
    """Base of ``AsyncCaseManagement``: closes the runner it made on ``aclose()`` or after ``async with``."""

    async def _arun(self, action_id: str, inputs: Mapping[str, Any], dry_run: bool) -> Any:
        return await self.runner.arun(action_id, _given(inputs), dry_run=dry_run)

    def _aiterate(self, action_id: str, inputs: Mapping[str, Any], max_items: int | None,
                  max_pages: int | None) -> AsyncIterator[Any]:
        return self.runner.aiterate(action_id, _given(inputs), max_items=max_items, max_pages=max_pages)

    async def aclose(self) -> None:
        """Close the connection pools, unless the runner was handed in (then its owner closes it)."""
        if self._owns_runner:
            await self.runner.aclose()

    async def __aenter__(self) -> Self:
        return self

    async def __aexit__(self, *exc: object) -> None:
        await self.aclose()
