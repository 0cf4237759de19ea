"""A one-line progress counter on stderr, shown on a terminal only (never in a pipe, a log or CI)."""

from __future__ import annotations

import time
from typing import Any, Iterable, Iterator, TextIO, TypeVar

__all__ = ["Progress"]

T = TypeVar("T")


class Progress:
    """``\\r  340 items, 2.1 s`` redrawn at most ten times a second; erased when done."""

    def __init__(self, err: TextIO, noun: str = "items", *, total: int | None = None,
                 clock: Any = time.monotonic) -> None:
        try:
            self.enabled = bool(err.isatty())
        except (AttributeError, ValueError):
            self.enabled = False
        self.err, self.noun, self.total, self.clock = err, noun, total, clock
        self.start = self.clock()
        self._drawn = 0.0
        self._width = 0

    def update(self, done: int, failed: int = 0, *, force: bool = False) -> None:
        if not self.enabled:
            return
        now = self.clock()
        if not force and now - self._drawn < 0.1:
            return
        self._drawn = now
        of = f"/{self.total}" if self.total is not None else ""
        bad = f", {failed} failed" if failed else ""
        text = f"  {done}{of} {self.noun}{bad}, {now - self.start:.1f} s"
        self.err.write("\r" + text.ljust(self._width))
        self.err.flush()
        self._width = len(text)

    def close(self) -> None:
        if self.enabled and self._width:
            self.err.write("\r" + " " * self._width + "\r")
            self.err.flush()

    def count(self, items: Iterable[T]) -> Iterator[T]:
        """*items*, counted on the way through."""
        done = 0
        try:
            for done, item in enumerate(items, 1):
                self.update(done)
                yield item
        finally:
            self.close()
