"""The sandbox as a site backend of the runtime (``runtime/backends.py``), registered as the
``sandbox`` entry point of the ``datadog_case_actions.sites`` group: the runtime asks for it by
name and never imports the sandbox."""

from __future__ import annotations

import os
from typing import Any

from .app import Sandbox
from .transport import AsyncSandboxTransport, SandboxTransport

__all__ = ["InProcessBackend", "backend"]


class InProcessBackend:
    """The sandbox as a site backend (runtime/backends.py): one ``Sandbox`` per ``Transport``, reached without a socket."""

    def __init__(self, path: str | os.PathLike[str] | None = None) -> None:
        self.sandbox = Sandbox(path)

    def transports(self) -> tuple[SandboxTransport, AsyncSandboxTransport]:
        return SandboxTransport(self.sandbox), AsyncSandboxTransport(self.sandbox)

    def close(self) -> None:
        self.sandbox.close()


def backend(connection: Any) -> InProcessBackend:
    """Entry point of the ``sandbox`` site (group ``datadog_case_actions.sites``): the connection's sandbox file."""
    return InProcessBackend(connection.sandbox_path)
