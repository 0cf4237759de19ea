"""The sandbox over a real loopback socket: httpx and urllib clients, keep-alive, drops, shutdown, the CLI."""

from __future__ import annotations

import http.client
import json
import os
import signal
import socket
import subprocess
import sys
import time
import urllib.error
import urllib.request
from pathlib import Path
from typing import Any, Iterator

import httpx
import pytest

from datadog_case_actions.sandbox import Sandbox, SandboxServer, serve_cli, start_server_in_thread

AUTH = {"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a"}
ROOT = Path(__file__).resolve().parent.parent


@pytest.fixture
def served() -> Iterator[tuple[Sandbox, SandboxServer, str]]:
    sb = Sandbox(":memory:")
    server, url = start_server_in_thread(sb)
    yield sb, server, url
    server.stop()
    sb.close()


def _project(client: httpx.Client, key: str = "OPS") -> dict[str, Any]:
    response = client.post("/api/v2/cases/projects",
                           json={"data": {"type": "project", "attributes": {"key": key, "name": key}}})
    assert response.status_code == 201, response.text
    return response.json()["data"]  # type: ignore[no-any-return]


def test_httpx_and_urllib_clients_share_the_state(served: tuple[Sandbox, SandboxServer, str]) -> None:
    sb, server, url = served
    assert url.startswith("http://127.0.0.1:") and server.server_address[1] != 0
    with httpx.Client(base_url=url, headers=AUTH) as client:
        pid = _project(client)["id"]
        created = client.post("/api/v2/cases", json={"data": {"type": "case", "attributes": {
            "title": "over the wire", "type_id": "00000000-0000-0000-0000-000000000001"},
            "relationships": {"project": {"data": {"id": pid, "type": "project"}}}}})
        assert created.status_code == 201 and created.headers["content-type"] == "application/vnd.api+json"  # as live
        assert created.json()["data"]["attributes"]["key"] == "OPS-1"
        assert client.delete(f"/api/v2/cases/projects/{pid}/favorites").status_code == 204

    request = urllib.request.Request(f"{url}/api/v2/cases?filter=wire&page%5Bsize%5D=5", headers=AUTH)
    with urllib.request.urlopen(request, timeout=5) as answer:
        document = json.loads(answer.read())
    assert [c["attributes"]["key"] for c in document["data"]] == ["OPS-1"]
    assert document["meta"]["page"] == {"current": 1, "size": 1, "total": 1}

    with pytest.raises(urllib.error.HTTPError) as info:
        urllib.request.urlopen(f"{url}/api/v2/cases/OPS-1", timeout=5)
    assert info.value.code == 401 and json.loads(info.value.read()) == {"errors": ["Unauthorized"]}
    info.value.close()

    body = json.dumps({"data": {"type": "case", "attributes": {"title": "renamed"}}}).encode()
    post = urllib.request.Request(f"{url}/api/v2/cases/ops-1/title", data=body, method="POST",
                                  headers={**AUTH, "Content-Type": "application/json"})
    with urllib.request.urlopen(post, timeout=5) as answer:
        assert json.loads(answer.read())["data"]["attributes"]["title"] == "renamed"


def test_keep_alive_reuses_one_connection(served: tuple[Sandbox, SandboxServer, str]) -> None:
    _, server, url = served
    with httpx.Client(base_url=url, headers=AUTH) as client:
        _project(client)
        for _ in range(5):
            assert client.get("/api/v2/cases").status_code == 200
        assert client.get("/api/v2/nowhere").status_code == 404
    assert server.accepted == 1

    host, port = server.server_address[:2]
    conn = http.client.HTTPConnection(host, port, timeout=5)  # plain http.client keeps the socket too
    try:
        bodies = []
        for _ in range(3):
            conn.request("GET", "/api/v2/cases/projects", headers=AUTH)
            answer = conn.getresponse()
            bodies.append(answer.read())
            assert answer.status == 200 and answer.getheader("Content-Length") == str(len(bodies[-1]))
            if len(bodies) == 1:
                first_socket = conn.sock
            assert conn.sock is first_socket and not answer.will_close
    finally:
        conn.close()
    assert bodies[0] == bodies[1] == bodies[2] and server.accepted == 2


def test_dropped_connection_closes_the_socket_without_an_answer(served: tuple[Sandbox, SandboxServer, str]) -> None:
    sb, _, url = served
    with httpx.Client(base_url=url, headers=AUTH) as client:
        sb.set_faults(drop_next=1)
        with pytest.raises(httpx.RemoteProtocolError):
            _project(client)
        assert client.get("/api/v2/cases/projects").json() == {"data": []}  # nothing applied, server still up
        sb.set_faults(drop_next=1)
    with pytest.raises((http.client.RemoteDisconnected, ConnectionError, urllib.error.URLError)):
        urllib.request.urlopen(urllib.request.Request(f"{url}/api/v2/cases", headers=AUTH), timeout=5)


def test_rate_limit_and_injected_errors_over_the_wire(served: tuple[Sandbox, SandboxServer, str]) -> None:
    sb, _, url = served
    with httpx.Client(base_url=url, headers=AUTH) as client:
        sb.set_faults(rate_limit=1, rate_period=60)
        assert client.get("/api/v2/cases").status_code == 200
        limited = client.get("/api/v2/cases")
        assert limited.status_code == 429 and limited.headers["x-ratelimit-remaining"] == "0"
        assert int(limited.headers["x-ratelimit-reset"]) >= 1
        sb.faults = None  # type: ignore[assignment]
        sb.set_faults(fail_next=1, error_status=503)
        failed = client.get("/api/v2/cases")
        assert failed.status_code == 503 and failed.json() == {"errors": ["Service Unavailable"]}
        assert client.get("/api/v2/cases").status_code == 200


def test_server_shuts_down_cleanly_with_idle_keep_alive_connections() -> None:
    sb = Sandbox(":memory:")
    server, url = start_server_in_thread(sb)
    thread = server._thread
    client = httpx.Client(base_url=url, headers=AUTH)
    assert client.get("/api/v2/cases").status_code == 200  # leaves an idle keep-alive connection
    started = time.monotonic()
    server.stop()
    assert time.monotonic() - started < 2 and thread is not None and not thread.is_alive()
    with pytest.raises(httpx.TransportError):
        client.get("/api/v2/cases")
    client.close()
    with pytest.raises(OSError):
        socket.create_connection(server.server_address[:2], timeout=1).close()
    sb.close()


def test_refuses_non_loopback_hosts() -> None:
    with Sandbox(":memory:") as sb, pytest.raises(ValueError, match="loopback"):
        SandboxServer(sb, "0.0.0.0", 0)


def test_serve_cli_validates_its_options(capsys: pytest.CaptureFixture[str]) -> None:
    assert serve_cli(["--db", ":memory:", "--fail-rate", "2"]) == 2
    assert "error_rate" in capsys.readouterr().err
    assert serve_cli(["--db", ":memory:", "--host", "0.0.0.0", "--port", "0"]) == 2
    assert "loopback" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        serve_cli(["--help"])
    assert "--rate-limit" in capsys.readouterr().out


def test_serve_cli_runs_until_interrupted(tmp_path: Path) -> None:
    db = tmp_path / "served.sqlite3"
    code = ("import sys; from datadog_case_actions.sandbox import serve_cli; "
            "sys.exit(serve_cli(sys.argv[1:]))")
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen([sys.executable, "-c", code, "--port", "0", "--db", str(db), "--rate-limit", "100",
                             "--latency", "0.01", "-q"], stderr=subprocess.PIPE, text=True, env=env)
    try:
        banner = proc.stderr.readline()  # type: ignore[union-attr]
        url = banner.split(" on ", 1)[1].split(" ", 1)[0]
        with httpx.Client(base_url=url, headers=AUTH) as client:
            _project(client, "CLI")
            answer = client.get("/api/v2/cases/projects")
            assert answer.headers["x-ratelimit-limit"] == "100"
    finally:
        proc.send_signal(signal.SIGINT)
        assert proc.wait(timeout=10) == 0
        proc.stderr.close()  # type: ignore[union-attr]
    with Sandbox(db) as reopened:  # the data outlived the server
        status, _, body = reopened.handle("GET", "/api/v2/cases/projects", None, AUTH)
        assert [p["attributes"]["key"] for p in json.loads(body)["data"]] == ["CLI"]
