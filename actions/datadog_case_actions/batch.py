"""Run one action per input line (NDJSON), with bounded concurrency: ``dd-cases bulk``.

    for outcome in run_lines(runner, open("cases.ndjson"), action="create_case", concurrency=8):
        print(outcome.line, outcome.ok)

Each line is a JSON object: the inputs of *action*, or, when no action is given,
``{"action": "create_case", "inputs": {...}}``.  Lines are read lazily and at most
*concurrency* calls are in flight, so a file of a million lines costs the memory of
a few.  Every call goes through the same ``Runner`` (one connection pool, one
retry policy, the transport's rate-limit handling), so a bulk run is as safe as
single runs: a create is never re-sent when it may have been applied.  Outcomes
come back as they finish, each with its input line number.
"""

from __future__ import annotations

import json
from concurrent.futures import FIRST_COMPLETED, Future, ThreadPoolExecutor, wait
from typing import Any, Iterable, Iterator, NamedTuple

from .registry import resolve
from .runtime.errors import ActionError, InputError, Violation

__all__ = ["Outcome", "run_lines", "DEFAULT_CONCURRENCY"]

DEFAULT_CONCURRENCY = 8


class Outcome(NamedTuple):
    """What became of one input line."""

    line: int
    action: str | None
    ok: bool
    result: Any = None
    error: ActionError | None = None

    def to_dict(self) -> dict[str, Any]:
        out: dict[str, Any] = {"line": self.line, "action": self.action, "ok": self.ok}
        if self.ok:
            out["result"] = self.result
        else:
            out["error"] = self.error.to_dict() if self.error is not None else None
        return out


def _parse(number: int, text: str, action: str | None) -> tuple[str, dict[str, Any]]:
    """The action and inputs of one line; ``InputError`` (field ``line N``) when it is not usable."""

    def refuse(message: str) -> InputError:
        return InputError([Violation(field=f"line {number}", message=message, validator="syntax")], action_id=action)

    try:
        value = json.loads(text)
    except json.JSONDecodeError as exc:
        raise refuse(f"invalid JSON ({exc.msg} at column {exc.colno})") from None
    if not isinstance(value, dict):
        raise refuse(f"expected a JSON object, got {type(value).__name__}")
    if action is not None:
        return action, value
    if not isinstance(value.get("action"), str) or not isinstance(value.get("inputs", {}), dict):
        raise refuse('without an ACTION argument each line is {"action": "...", "inputs": {...}}')
    return value["action"], value.get("inputs", {})


def run_lines(runner: Any, lines: Iterable[str], *, action: str | None = None,
              concurrency: int = DEFAULT_CONCURRENCY) -> Iterator[Outcome]:
    """Run every non-blank line; yield one ``Outcome`` per line as calls finish (blank lines are skipped)."""
    if concurrency < 1:
        raise ValueError("concurrency must be at least 1")

    def call(number: int, text: str) -> Outcome:
        name: str | None = action
        try:
            name, inputs = _parse(number, text, action)
            name = resolve(name)  # the full id in the outcome; an unknown one fails this line only
            return Outcome(number, name, True, runner.run(name, inputs))
        except ActionError as exc:
            return Outcome(number, name, False, error=exc)

    with ThreadPoolExecutor(max_workers=concurrency, thread_name_prefix="dd-cases-bulk") as pool:
        pending: set[Future[Outcome]] = set()
        try:
            for number, text in enumerate(lines, 1):
                if not text.strip():
                    continue
                if len(pending) >= concurrency:  # read no further than the calls in flight allow
                    done, pending = wait(pending, return_when=FIRST_COMPLETED)
                    yield from (future.result() for future in done)
                pending.add(pool.submit(call, number, text))
            while pending:
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                yield from (future.result() for future in done)
        finally:  # the consumer stopped early (a closed pipe): start nothing more
            for future in pending:
                future.cancel()
