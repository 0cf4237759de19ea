"""A local, stateful emulator of the Datadog Case Management API (all 75 operations), answering as live.

    from datadog_case_actions.sandbox import Sandbox, SandboxTransport
    sb = Sandbox(":memory:")                      # or Sandbox() for the per-user file, Sandbox("x.sqlite3")
    runner = sb.runner()                          # a Runner wired in-process
    # or: httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox.local")
    # or over HTTP: `dd-cases serve` / serve(), then DD_BASE_URL=http://127.0.0.1:8126

Faults on demand: ``Sandbox(..., faults=Faults(rate_limit=10, fail_next=2))`` or
``sb.set_faults(drop_next=1)``.  See docs/sandbox.md.  Standard library and
httpx only.
"""

from __future__ import annotations

from .app import Response, Sandbox
from .faults import ConnectionDropped, Faults
from .server import DEFAULT_PORT, SandboxServer, serve, serve_cli, start_server_in_thread
from .store import default_db_path
from .transport import AsyncSandboxTransport, SandboxTransport

__all__ = [
    "Sandbox",
    "Response",
    "Faults",
    "ConnectionDropped",
    "SandboxTransport",
    "AsyncSandboxTransport",
    "SandboxServer",
    "serve",
    "serve_cli",
    "start_server_in_thread",
    "default_db_path",
    "DEFAULT_PORT",
]
