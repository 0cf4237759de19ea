"""A keep-alive HTTP/1.1 server on loopback answering canned Case Management documents.

Used by ``bench.py`` so that client overhead, not server work, is what differs
between the clients measured: every request is answered from memory with a
body captured once from the sandbox (so it is a real, schema-conforming case
document the official SDK can deserialize).

    python benchmarks/loopback.py PORT_FILE     # writes the port, serves until killed
"""

from __future__ import annotations

import asyncio
import json
import sys


def canned_bodies() -> dict[str, bytes]:
    """A case document and a created-case document, captured from the in-process sandbox."""
    from datadog_case_actions.sandbox import Sandbox

    with Sandbox(":memory:") as sandbox:
        runner = sandbox.runner()
        project = runner.run("create_project", {"key": "OPS", "name": "Operations"})["data"]["id"]
        case = runner.run("create_case", {"title": "Disk full on db-1", "type_id": "00000000-0000-0000-0000-000000000001",
                                          "project_id": project, "priority": "P2",
                                          "description": "Disk usage above 95% for 10 minutes"})
        got = runner.run("get_case", {"case_id": case["data"]["id"]})
        runner.close()
    return {"GET": json.dumps(got).encode(), "POST": json.dumps(case).encode()}


class CannedHTTP(asyncio.Protocol):
    """Minimal HTTP/1.1 keep-alive: parse head, skip the body by Content-Length, answer from memory."""

    bodies: dict[str, bytes] = {}

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]
        self.buffer = b""

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            head_end = self.buffer.find(b"\r\n\r\n")
            if head_end < 0:
                return
            head = self.buffer[:head_end].decode("latin-1")
            length = 0
            for line in head.split("\r\n")[1:]:
                name, _, value = line.partition(":")
                if name.strip().lower() == "content-length":
                    length = int(value)
            total = head_end + 4 + length
            if len(self.buffer) < total:
                return
            self.buffer = self.buffer[total:]
            method = head.split(" ", 1)[0]
            body = self.bodies["POST" if method == "POST" else "GET"]
            status = "201 Created" if method == "POST" else "200 OK"
            self.transport.write(  # type: ignore[attr-defined]
                f"HTTP/1.1 {status}\r\nContent-Type: application/json\r\nContent-Length: {len(body)}\r\n"
                f"Connection: keep-alive\r\n\r\n".encode() + body
            )


async def _serve(port_file: str) -> None:
    CannedHTTP.bodies = canned_bodies()
    loop = asyncio.get_running_loop()
    server = await loop.create_server(CannedHTTP, "127.0.0.1", 0, backlog=512)
    port = server.sockets[0].getsockname()[1]
    with open(port_file, "w", encoding="utf-8") as handle:
        handle.write(str(port))
    async with server:
        await server.serve_forever()


if __name__ == "__main__":
    asyncio.run(_serve(sys.argv[1]))
