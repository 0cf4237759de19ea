"""Fixtures of the Prefect suite (run by .ci/suite-prefect in its own virtual environment).

Prefect runs against its ephemeral local API: no PREFECT_API_URL, a throwaway
PREFECT_HOME (hence a fresh SQLite database).  The environment is set here, before
anything imports prefect, unless the caller set it already.  Where prefect is not
installed (the main suite) this file does nothing and the test modules skip.
"""

from __future__ import annotations

import importlib.util
import os
import sys
import tempfile
import warnings
from collections.abc import Iterator

import pytest

HAVE_PREFECT = importlib.util.find_spec("prefect") is not None

if HAVE_PREFECT:
    if not os.environ.get("PREFECT_HOME"):
        os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
    os.environ.pop("PREFECT_API_URL", None)  # the ephemeral API, never a configured server
    os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
    os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
    os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
    os.environ.setdefault("PREFECT_LOGGING_TO_API_BATCH_INTERVAL", "0.3")
    # The runtime's own logger (retries, timings) goes to Prefect's run logs too: the sweep checks it as well.
    os.environ.setdefault("PREFECT_LOGGING_EXTRA_LOGGERS", "datadog_case_actions")


#: Prefect's clients leave sockets to its temporary API server (ports 8000-8999) to the garbage collector;
#: that is Prefect's business.  Other unclosed sockets (the sandbox's, the runtime's) still fail the test.
_PREFECT_SOCKET = r"<socket\.socket .*raddr=\('127\.0\.0\.1', 8\d\d\d\)>"
_IGNORED = (
    (rf"unclosed {_PREFECT_SOCKET}", ResourceWarning),
    (rf"Exception ignored in: {_PREFECT_SOCKET}", pytest.PytestUnraisableExceptionWarning),
)


def pytest_configure(config: pytest.Config) -> None:
    # Only where Prefect is installed: the main suite's filters stay as they are.
    if not HAVE_PREFECT:
        return
    for message, category in _IGNORED:
        # For each test (pytest rebuilds its filters from the ini list)...
        ini_message = message.replace(":", ".")  # ":" separates the fields of an ini filter
        config.addinivalue_line("filterwarnings", f"ignore:{ini_message}:{category.__module__}.{category.__name__}")
        # ... and for the session's own context, already entered: sockets are also collected after the last test.
        warnings.filterwarnings("ignore", message=message, category=category)


@pytest.fixture(scope="session", autouse=True)
def _stop_the_ephemeral_api() -> Iterator[None]:
    """Stop Prefect's temporary server at the end of the session, while pytest still owns the console
    (Prefect would otherwise log its shutdown at exit into a closed capture stream)."""
    yield
    if "prefect" not in sys.modules:
        return
    from prefect.events.worker import EventsWorker
    from prefect.logging.handlers import APILogHandler
    from prefect.server.api.server import SubprocessASGIServer

    # Deliver what is still queued (logs, events) while the server is up, then stop it.
    APILogHandler().flush()
    EventsWorker.drain_all(timeout=30)
    for server in list(getattr(SubprocessASGIServer, "_instances", {}).values()):
        server.stop()


# The suite prints what its rate-limited runs measured at the end (a pytest hook).
from tests.rate_limited_server import pytest_terminal_summary  # noqa: E402,F401
