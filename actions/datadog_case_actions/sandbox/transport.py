"""In-process httpx transports: requests reach the sandbox without a socket.

    sb = Sandbox(":memory:")
    client = httpx.Client(transport=SandboxTransport(sb), base_url="http://sandbox.local")

A dropped connection (an injected fault) surfaces as ``httpx.RemoteProtocolError``,
as it does when a real server hangs up without answering.
"""

from __future__ import annotations

import asyncio

import httpx

from .faults import ConnectionDropped

TYPE_CHECKING = False
if TYPE_CHECKING:  # the transports only call a Sandbox they are given; app.py imports this module
    from .app import Sandbox

__all__ = ["SandboxTransport", "AsyncSandboxTransport"]


def _target(request: httpx.Request) -> str:
    return request.url.raw_path.decode("ascii", "replace")


def _dropped(request: httpx.Request) -> httpx.RemoteProtocolError:
    return httpx.RemoteProtocolError("Server disconnected without sending a response.", request=request)


class SandboxTransport(httpx.BaseTransport):
    """``httpx.BaseTransport`` answering from a ``Sandbox`` (a new one at *path* when none is given)."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox  # its owner closes it

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        body = request.read()
        try:
            status, headers, content = self.sandbox.handle(request.method, _target(request), None,
                                                           dict(request.headers), body)
        except ConnectionDropped:
            raise _dropped(request) from None
        return httpx.Response(status, headers=headers, content=content, request=request)


class AsyncSandboxTransport(httpx.AsyncBaseTransport):
    """The async twin: latency is awaited (``asyncio.sleep``), never blocking the event loop."""

    def __init__(self, sandbox: Sandbox) -> None:
        self.sandbox = sandbox  # its owner closes it

    async def handle_async_request(self, request: httpx.Request) -> httpx.Response:
        body = await request.aread()
        latency = self.sandbox.faults.latency
        if latency > 0:
            await asyncio.sleep(latency)
        try:
            status, headers, content = self.sandbox.handle(request.method, _target(request), None,
                                                           dict(request.headers), body, apply_latency=False)
        except ConnectionDropped:
            raise _dropped(request) from None
        return httpx.Response(status, headers=headers, content=content, request=request)

