"""A ``dd-cases serve --rate-limit N --rate-period S`` process for the orchestrator suites' rate-limited runs.

The server logs one line per request on stderr; the statuses read back from it
count the 429s the workers met.  Loopback only, a throwaway database file.
"""

from __future__ import annotations

import re
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import IO

_URL = re.compile(r"sandbox on (http://127\.0\.0\.1:\d+)")
_STATUS = re.compile(r'"[A-Z]+ (\S+) HTTP/1\.1" (\d{3}) ')


class ServerLog:
    """The base URL of the running server and the statuses it answered so far."""

    def __init__(self) -> None:
        self.url = ""
        self.lines: list[str] = []
        self._ready = threading.Event()

    def _read(self, stream: IO[str]) -> None:
        for line in stream:
            self.lines.append(line)
            found = _URL.search(line)
            if found:
                self.url = found.group(1)
                self._ready.set()
        self._ready.set()

    @property
    def statuses(self) -> Counter[int]:
        return Counter(int(m.group(2)) for line in self.lines if (m := _STATUS.search(line)))

    def summary(self) -> str:
        statuses = self.statuses
        total = sum(statuses.values())
        share = 100.0 * statuses[429] / total if total else 0.0
        return f"{total} requests, {statuses[429]} x 429 ({share:.1f}%)"


@contextmanager
def rate_limited_server(tmp_path: Path, limit: int, period: float) -> Iterator[ServerLog]:
    """Start ``dd-cases serve --port 0 --rate-limit limit --rate-period period``; stop it on exit."""
    command = [sys.executable, "-c", "from datadog_case_actions.cli import main; raise SystemExit(main())",
               "serve", "--port", "0", "--db", str(tmp_path / "rate-limited.sqlite3"),
               "--rate-limit", str(limit), "--rate-period", str(period)]
    process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True)
    log = ServerLog()
    assert process.stderr is not None
    reader = threading.Thread(target=log._read, args=(process.stderr,), daemon=True)
    reader.start()
    try:
        log._ready.wait(60)
        assert log.url, "".join(log.lines)
        yield log
    finally:
        time.sleep(0.2)  # let the last access lines reach the log
        process.terminate()
        process.wait(30)
        reader.join(10)
        process.stderr.close()


#: Lines for the end of the pytest run (the suites' conftests import the hook below).
REPORT: list[str] = []


def pytest_terminal_summary(terminalreporter: "object") -> None:
    """Print what the rate-limited runs measured (cases, 429s) after the test results."""
    if REPORT:
        terminalreporter.section("rate-limited runs")  # type: ignore[attr-defined]
        for line in REPORT:
            terminalreporter.write_line(line)  # type: ignore[attr-defined]
