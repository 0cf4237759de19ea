"""The doors under attack: the sandbox server, the sandbox file, the module-level runner cache,
chat confirmation and MCP's destructive hints (issue 10, items 4, 7, 8, 14, 18, 19)."""

from __future__ import annotations

import asyncio
import gc
import http.client
import json
import os
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import warnings
from pathlib import Path
from typing import Any, Iterable, Iterator

import pytest

CASE_TYPE = "00000000-0000-0000-0000-000000000001"


# -- MCP: destructiveHint is false only for purely additive writes (item 18) ----------------------

#: every write that only adds data; any other write changes or removes something that exists
ADDITIVE = {
    "add_case_insights", "comment_case", "create_case", "create_case_automation_rule", "create_case_jira_issue",
    "create_case_link", "create_case_notebook", "create_case_service_now_ticket", "create_case_type", "create_case_view",
    "create_custom_attribute_config",
    "create_maintenance_window", "create_project", "create_project_notification_rule", "favorite_case_project",
    "link_incident", "link_jira_issue_to_case", "watch_case",
}
#: the tools the review found marked non-destructive although they overwrite or remove data
OVERWRITING = {
    "update_attributes", "update_case_comment", "update_case_title", "update_project", "bulk_update_cases",
    "remove_case_insights", "unlink_jira_issue", "unassign_case", "move_case_to_project", "unwatch_case",
    "unfavorite_case_project",
}


def test_mcp_destructive_hint_is_false_exactly_for_additive_writes() -> None:
    pytest.importorskip("mcp")
    from datadog_case_actions.adapters.mcp import build_server
    from datadog_case_actions.sandbox import Sandbox
    from mcp import Client

    async def tools() -> dict[str, Any]:
        with Sandbox(":memory:") as sandbox:
            runner = sandbox.runner()
            try:
                async with Client(build_server(runner)) as client:
                    return {t.name: t.annotations for t in (await client.list_tools()).tools}
            finally:
                await runner.aclose()

    annotations = asyncio.run(tools())
    writes = {name for name, a in annotations.items() if not a.read_only_hint}
    not_destructive = {name for name in writes if annotations[name].destructive_hint is False}
    assert not_destructive == ADDITIVE
    assert OVERWRITING <= writes - not_destructive
    assert all(annotations[name].destructive_hint for name in writes if name.startswith(("delete_", "update_")))


# -- chat: only a flag outside the free text confirms (item 8) ------------------------------------

@pytest.fixture()
def sandbox_runner() -> Iterator[Any]:
    from datadog_case_actions.sandbox import Sandbox

    with Sandbox(":memory:") as sandbox:
        runner = sandbox.runner()
        yield runner
        runner.close()


def _chat(runner: Any) -> Any:
    from datadog_case_actions.adapters.chat import ChatOps

    runner.run("create_project", {"key": "OPS", "name": "Operations"})
    runner.run("create_project", {"key": "OLD", "name": "Old"})
    return ChatOps(runner, defaults={"type_id": CASE_TYPE})


def _projects(runner: Any) -> set[str]:
    return {p["attributes"]["key"] for p in runner.run("get_projects")["data"]}


def _case(runner: Any, key: str) -> dict[str, Any]:
    return runner.run("get_case", {"case_id": key})["data"]["attributes"]  # type: ignore[no-any-return]


def _comments(runner: Any, key: str) -> set[str]:
    cells = runner.run("list_case_timeline", {"case_id": key})["data"]
    return {c["attributes"]["cell_content"]["message"] for c in cells if c["attributes"]["type"] == "COMMENT"}


def test_chat_free_text_keeps_its_confirm_words_and_only_flags_outside_it_confirm(sandbox_runner: Any) -> None:
    chat = _chat(sandbox_runner)
    assert chat.handle('case create "DB down" project=OPS').ok
    old = next(p["id"] for p in sandbox_runner.run("get_projects")["data"] if p["attributes"]["key"] == "OLD")
    # (line, reply ok, what the sandbox holds afterwards)
    table: list[tuple[str, bool, Any]] = [
        ("case comment OPS-1 please confirm", True, lambda: "please confirm" in _comments(sandbox_runner, "OPS-1")),
        ("case comment OPS-1 ship it --yes", True, lambda: "ship it --yes" in _comments(sandbox_runner, "OPS-1")),
        ("case comment OPS-1 --yes all good", True, lambda: "all good" in _comments(sandbox_runner, "OPS-1")),
        ("case comment OPS-1 done --confirm", True, lambda: "done --confirm" in _comments(sandbox_runner, "OPS-1")),
        ("case title OPS-1 --yes", False, lambda: _case(sandbox_runner, "OPS-1")["title"] == "DB down"),
        ("case title OPS-1 Confirm", True, lambda: _case(sandbox_runner, "OPS-1")["title"] == "Confirm"),
        ('case title OPS-1 "Needs --yes"', True, lambda: _case(sandbox_runner, "OPS-1")["title"] == "Needs --yes"),
        (f"case run delete_project project_id={old} confirm", False, lambda: "OLD" in _projects(sandbox_runner)),
        (f"case run delete_project project_id={old}", False, lambda: "OLD" in _projects(sandbox_runner)),
        (f"case --yes run delete_project project_id={old}", True, lambda: "OLD" not in _projects(sandbox_runner)),
    ]
    for line, ok, holds in table:
        reply = chat.handle(line)
        assert reply.ok is ok, (line, reply.text)
        assert holds(), (line, reply.text)


def test_chat_a_yes_reply_confirms_only_the_request_it_answers(sandbox_runner: Any) -> None:
    chat = _chat(sandbox_runner)
    ids = {p["attributes"]["key"]: p["id"] for p in sandbox_runner.run("get_projects")["data"]}
    alice, bob = ("#ops", "alice"), ("#ops", "bob")
    # (conversation, line, reply ok, needs confirmation, projects afterwards)
    table: list[tuple[Any, str, bool, bool, set[str]]] = [
        (alice, f"case run delete_project project_id={ids['OLD']}", False, True, {"OPS", "OLD"}),
        (bob, "yes", False, False, {"OPS", "OLD"}),  # someone else's request
        (None, "yes", False, False, {"OPS", "OLD"}),  # no conversation, no pending request
        (alice, "case yes", True, False, {"OPS"}),
        (alice, "yes", False, False, {"OPS"}),  # the request was answered: nothing left to confirm
        (alice, f"case run delete_project project_id={ids['OPS']}", False, True, {"OPS"}),
        (alice, "case show OPS-1", False, False, {"OPS"}),  # any other line drops the request
        (alice, "yes", False, False, {"OPS"}),
    ]
    for conversation, line, ok, asks, projects in table:
        reply = chat.handle(line, conversation=conversation)
        assert (reply.ok, reply.needs_confirmation) == (ok, asks), (conversation, line, reply.text)
        assert _projects(sandbox_runner) == projects, (conversation, line, reply.text)


# -- a damaged or impossible sandbox file is a ConfigurationError naming it (item 14) -------------

def _good_database(path: Path) -> None:
    from datadog_case_actions.sandbox import Sandbox

    with Sandbox(path) as sandbox:
        runner = sandbox.runner()
        project = runner.run("create_project", {"key": "OPS", "name": "Operations"})["data"]["id"]
        for number in range(40):
            runner.run("create_case", {"title": f"case {number} " + "x" * 400, "type_id": CASE_TYPE,
                                       "project_id": project})
        runner.close()


def _damaged(tmp_path: Path, kind: str) -> Path:
    """A sandbox path that cannot be used, of the given *kind*."""
    if kind == "garbage":
        path = tmp_path / "garbage.sqlite3"
        path.write_bytes(bytes(range(256)) * 40)
    elif kind == "truncated":
        path = tmp_path / "truncated.sqlite3"
        _good_database(path)
        data = path.read_bytes()
        path.write_bytes(data[: len(data) // 2])
    elif kind == "cases_page":  # opens fine, fails only when the cases are read
        path = tmp_path / "cases_page.sqlite3"
        _good_database(path)
        with sqlite3.connect(path) as db:
            root = db.execute("SELECT rootpage FROM sqlite_master WHERE name = 'cases'").fetchone()[0]
            size = db.execute("PRAGMA page_size").fetchone()[0]
        db.close()
        data = bytearray(path.read_bytes())
        data[(root - 1) * size: root * size] = b"\xff" * size
        path.write_bytes(bytes(data))
    elif kind == "under_a_file":
        (tmp_path / "plain").write_text("not a folder")
        path = tmp_path / "plain" / "sandbox.sqlite3"
    else:
        path = tmp_path / "a_directory"
        path.mkdir()
    return path


DAMAGE = ["garbage", "truncated", "cases_page", "under_a_file", "directory"]


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_sandbox_file_is_a_configuration_error_from_run(tmp_path: Path, kind: str) -> None:
    from datadog_case_actions import Connection, run
    from datadog_case_actions.runtime.errors import ConfigurationError

    path = _damaged(tmp_path, kind)
    connection = Connection.sandbox(path)
    with pytest.raises(ConfigurationError) as raised:
        run("get_projects", connection=connection)
        run("search_cases", connection=connection)  # the damaged page holds the cases
    assert str(path) in str(raised.value) and raised.value.exit_code == 2

    async def via_arun() -> None:
        from datadog_case_actions.runtime.runner import Runner

        async with Runner(Connection.sandbox(path)) as runner:
            await runner.arun("search_cases")

    with pytest.raises(ConfigurationError):
        asyncio.run(via_arun())


@pytest.mark.parametrize("kind", DAMAGE)
def test_a_damaged_sandbox_file_is_one_line_and_exit_2_on_the_cli(tmp_path: Path, kind: str) -> None:
    path = _damaged(tmp_path, kind)
    env = {**os.environ, "DD_SANDBOX_PATH": str(path), "PYTHONWARNINGS": "error"}
    done = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", "run", "search_cases", "--sandbox"],
                          env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 2, done.stderr
    assert done.stderr.count("\n") == 1 and str(path) in done.stderr and "Traceback" not in done.stderr
    if kind == "cases_page":  # that one opens: the server would start and serve until stopped
        return
    served = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", "serve", "--db", str(path),
                             "--port", "0", "-q"], env=env, capture_output=True, text=True, timeout=60)
    assert served.returncode == 2, served.stderr
    assert served.stderr.count("\n") == 1 and str(path) in served.stderr


# -- the sandbox server: Host names, body caps, chunk sizes, over real sockets (item 4) ----------

AUTH = b"DD-API-KEY: k\r\nDD-APPLICATION-KEY: a\r\n"
PROJECT = json.dumps({"data": {"type": "project", "attributes": {"key": "OPS", "name": "Operations"}}}).encode()


@pytest.fixture()
def served() -> Iterator[tuple[Any, Any]]:
    from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

    with Sandbox(":memory:") as sandbox:
        server, _ = start_server_in_thread(sandbox)
        try:
            yield sandbox, server
        finally:
            server.stop()


def _exchange(server: Any, head: bytes, body: Iterable[bytes] = ()) -> tuple[int, dict[str, Any] | None]:
    """Send *head* then *body* pieces (from a thread: the server may stop reading) over one socket;
    ``(status, JSON body or None)`` of the answer."""
    sock = socket.create_connection(server.server_address[:2], timeout=20)

    def send() -> None:
        try:
            sock.sendall(head)
            for piece in body:
                sock.sendall(piece)
        except OSError:
            pass  # the server refused and stopped reading

    sender = threading.Thread(target=send, daemon=True)
    sender.start()
    try:
        answer = http.client.HTTPResponse(sock)
        answer.begin()
        content = answer.read()
        if answer.status >= 300:
            assert answer.getheader("Connection") == "close"
        return answer.status, json.loads(content) if content else None
    finally:
        sender.join(20)
        sock.close()


def _post(host: bytes | None, body: bytes = PROJECT, framing: bytes | None = None) -> bytes:
    host_line = b"" if host is None else b"Host: " + host + b"\r\n"
    framing = framing if framing is not None else b"Content-Length: %d\r\n" % len(body)
    return (b"POST /api/v2/cases/projects HTTP/1.1\r\n" + host_line + AUTH +
            b"Content-Type: application/json\r\n" + framing + b"\r\n")


def _projects_in(sandbox: Any) -> int:
    status, _, content = sandbox.handle("GET", "/api/v2/cases/projects", headers={"DD-API-KEY": "k",
                                                                                   "DD-APPLICATION-KEY": "a"})
    return len(json.loads(content)["data"])


@pytest.mark.parametrize(("host", "status"), [
    (b"127.0.0.1:{port}", 201), (b"127.0.0.1", 201), (b"localhost:{port}", 201), (b"LocalHost", 201),
    (b"[::1]:{port}", 201), (b"localhost.:{port}", 201),
    (b"attacker.example:{port}", 421), (b"attacker.example", 421), (b"localhost.attacker.example:{port}", 421),
    (b"127.0.0.1.nip.io:{port}", 421), (b"192.168.1.20:{port}", 421), (b"[::2]:{port}", 421),
    (b"127.0.0.1:x", 421), (b"", 421), (None, 400),
])
def test_the_server_answers_only_its_own_loopback_names(served: tuple[Any, Any], host: bytes | None,
                                                         status: int) -> None:
    sandbox, server = served
    if host is not None:
        host = host.replace(b"{port}", str(server.server_address[1]).encode())
    got, document = _exchange(server, _post(host), [PROJECT])
    assert got == status, document
    assert _projects_in(sandbox) == (1 if status == 201 else 0)
    if status != 201:
        assert document is not None and document["errors"][0]["status"] == str(status)


def test_the_server_answers_the_address_it_is_bound_to() -> None:
    from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

    with Sandbox(":memory:") as sandbox:
        try:
            server, _ = start_server_in_thread(sandbox, "127.0.0.2")
        except OSError:
            pytest.skip("127.0.0.2 is not a loopback address here")
        try:
            port = str(server.server_address[1]).encode()
            assert _exchange(server, _post(b"127.0.0.2:" + port), [PROJECT])[0] == 201
            assert _exchange(server, _post(b"127.0.0.3:" + port), [PROJECT])[0] == 421
        finally:
            server.stop()


def _chunked(pieces: list[bytes]) -> list[bytes]:
    return [b"%x\r\n%s\r\n" % (len(p), p) for p in pieces] + [b"0\r\n\r\n"]


MB = 1024 * 1024
CHUNKED = b"Transfer-Encoding: chunked\r\n"


@pytest.mark.parametrize(("framing", "body", "status"), [
    (CHUNKED, _chunked([PROJECT[:10], PROJECT[10:]]), 201),  # well-formed chunks still work
    (CHUNKED, (b"%x\r\n%s\r\n" % (MB, b" " * MB) for _ in range(18)), 413),  # 18 MB in 1 MB chunks
    (CHUNKED, [b"FFFFFFFFFFFF\r\n"], 413),  # one chunk announcing 256 TB
    (CHUNKED, [b"-1\r\n" + PROJECT + b"\r\n0\r\n\r\n"], 400),  # a negative size
    (CHUNKED, [b"zz\r\n" + PROJECT + b"\r\n0\r\n\r\n"], 400),  # not hexadecimal
    (CHUNKED, [b"0x10\r\n" + PROJECT[:16] + b"\r\n0\r\n\r\n"], 400),
    (CHUNKED, [b"%x\r\n" % (len(PROJECT) - 3) + PROJECT + b"\r\n0\r\n\r\n"], 400),  # longer than announced
    (CHUNKED, [b"1" * 70000 + b"\r\n"], 400),  # an endless size line
    (b"Transfer-Encoding: gzip, chunked\r\n", _chunked([PROJECT]), 400),
    (b"Content-Length: %d\r\n" % (18 * MB), [b" " * MB] * 18, 413),
    (b"Content-Length: -5\r\n", [PROJECT], 400),
    ("Content-Length: \u00b2\r\n".encode("latin-1"), [PROJECT], 400),  # a digit to isdigit(), not to int()
    (b"Content-Length: 12\r\nContent-Length: 13\r\n", [PROJECT], 400),
])
def test_the_server_caps_and_checks_every_body(served: tuple[Any, Any], framing: bytes, body: Iterable[bytes],
                                               status: int) -> None:
    sandbox, server = served
    got, document = _exchange(server, _post(b"127.0.0.1", framing=framing), body)
    assert got == status, document
    assert _projects_in(sandbox) == (1 if status == 201 else 0)
    if status != 201:
        assert document is not None and document["errors"][0]["status"] == str(status)


def test_a_refused_body_is_answered_to_an_ordinary_client(served: tuple[Any, Any]) -> None:
    import httpx

    sandbox, server = served
    url = f"http://127.0.0.1:{server.server_address[1]}"
    with httpx.Client(base_url=url, headers={"DD-API-KEY": "k", "DD-APPLICATION-KEY": "a"}, timeout=30) as client:
        answer = client.post("/api/v2/cases/projects", content=iter([b" " * MB] * 18))  # httpx sends it chunked
        assert answer.status_code == 413 and answer.json()["errors"][0]["status"] == "413"
        assert client.post("/api/v2/cases/projects", content=PROJECT).status_code == 201
    assert _projects_in(sandbox) == 1


# -- module-level run(): a runner another thread is using is never closed (item 7) ----------------

@pytest.mark.parametrize("cap", [None, 4])  # the real cache size, and one far below the connections
def test_module_level_run_from_24_threads_over_24_connections(served: tuple[Any, Any], cap: int | None,
                                                               monkeypatch: pytest.MonkeyPatch) -> None:
    from datadog_case_actions import Connection, run
    from datadog_case_actions.runtime import runner as runner_module

    if cap is not None:
        monkeypatch.setattr(runner_module, "_MAX_RUNNERS", cap)
    sandbox, server = served
    url = f"http://127.0.0.1:{server.server_address[1]}"
    connections = [Connection(api_key="k", app_key="a", base_url=url) for _ in range(24)]
    project = run("create_project", {"key": "OPS", "name": "Operations"}, connection=connections[0])["data"]["id"]
    failures: list[str] = []
    creates = 0
    counted = threading.Lock()

    def work(worker: int) -> None:
        nonlocal creates
        for call in range(10):
            connection = connections[(worker + call) % len(connections)]
            try:
                if call % 3 == 0:
                    run("create_case", {"title": f"{worker}-{call}", "type_id": CASE_TYPE, "project_id": project},
                        connection=connection)
                    with counted:
                        creates += 1
                else:
                    run("get_projects", connection=connection)
            except Exception as exc:  # noqa: BLE001 - every failure is the finding
                failures.append(f"{worker}-{call}: {exc!r}")

    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        threads = [threading.Thread(target=work, args=(n,)) for n in range(24)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(120)
        assert not any(thread.is_alive() for thread in threads)
        assert failures == []
        runner_module._close_idle_runners()
        gc.collect()
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert creates == 24 * 4
    found = sandbox.handle("GET", "/api/v2/cases?page[size]=100", headers={"DD-API-KEY": "k",
                                                                        "DD-APPLICATION-KEY": "a"})[2]
    assert sorted(c["attributes"]["title"] for c in json.loads(found)["data"]) == sorted(
        f"{w}-{c}" for w in range(24) for c in range(0, 10, 3))


def test_an_iterator_holds_its_runner_until_it_is_done(served: tuple[Any, Any],
                                                       monkeypatch: pytest.MonkeyPatch) -> None:
    from datadog_case_actions import Connection, iterate, run
    from datadog_case_actions.runtime import runner as runner_module

    monkeypatch.setattr(runner_module, "_MAX_RUNNERS", 1)
    sandbox, server = served
    url = f"http://127.0.0.1:{server.server_address[1]}"
    walking, other = (Connection(api_key="k", app_key="a", base_url=url) for _ in range(2))
    project = run("create_project", {"key": "OPS", "name": "Operations"}, connection=walking)["data"]["id"]
    for number in range(5):
        run("create_case", {"title": f"c{number}", "type_id": CASE_TYPE, "project_id": project}, connection=walking)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always", ResourceWarning)
        items = iterate("search_cases", {"page_size": 2}, connection=walking)
        seen = [next(items)["attributes"]["title"]]
        run("get_projects", connection=other)  # over the cap of 1: the walking runner is busy, so it stays open
        seen += [case["attributes"]["title"] for case in items]
        assert sorted(seen) == [f"c{n}" for n in range(5)]
        run("get_projects", connection=other)  # now the walk is over: its runner is idle and evicted, closed
        del items
        gc.collect()
    # a runner closed while the walk went on would have reopened a pool nobody closes
    assert [str(w.message) for w in caught if issubclass(w.category, ResourceWarning)] == []
    assert [c.connection for c in runner_module._RUNNERS.values()] == [other]
    runner_module._close_idle_runners()


# -- sandbox aggregate_cases: bounded, and never under the lock everyone waits on (item 19) -------

def _aggregate(runner: Any, groups: list[str], limit: int = 10) -> Any:
    return runner.run("aggregate_cases", {"query_filter": "", "group_by": {"groups": groups, "limit": limit}})


def _with_attributes(runner: Any, project: str, attributes: dict[str, list[str]]) -> str:
    case = runner.run("create_case", {"title": "t", "type_id": CASE_TYPE, "project_id": project})["data"]["id"]
    runner.run("update_attributes", {"case_id": case, "attributes": attributes})
    return case  # type: ignore[no-any-return]


def test_aggregate_counts_the_groups_cases_have_and_caps_them(sandbox_runner: Any) -> None:
    from datadog_case_actions.runtime.errors import ConflictError

    project = sandbox_runner.run("create_project", {"key": "OPS", "name": "Ops"})["data"]["id"]
    _with_attributes(sandbox_runner, project, {"team": ["db", "web"], "zone": ["eu"]})
    _with_attributes(sandbox_runner, project, {"team": ["db"], "zone": ["us"]})
    groups = _aggregate(sandbox_runner, ["team", "zone"])["data"]["attributes"]["groups"]
    assert groups == [{"group": "db,eu", "value": [1]}, {"group": "db,us", "value": [1]},
                      {"group": "web,eu", "value": [1]}]
    # three fields of 100 values on one case: a million groups for it alone, refused before counting
    _with_attributes(sandbox_runner, project, {name: [f"{name}{n}" for n in range(100)] for name in "abc"})
    with pytest.raises(ConflictError) as refused:
        _aggregate(sandbox_runner, ["a", "b", "c"])
    assert refused.value.status == 400 and "1000000" in str(refused.value)
    assert _aggregate(sandbox_runner, ["a", "b"])["data"]["attributes"]["groups"][0]["value"] == [1]
    # the API's bound on group_by.limit: the runner refuses 1001 before sending, and so does the sandbox itself
    from datadog_case_actions.runtime.errors import InputError
    from datadog_case_actions.sandbox import Sandbox

    with pytest.raises(InputError):
        _aggregate(sandbox_runner, ["team"], limit=1001)
    body = {"data": {"type": "aggregate", "attributes": {"query_filter": "", "group_by": {"groups": ["team"],
                                                                                          "limit": 1001}}}}
    with Sandbox(":memory:") as sandbox:
        status, _, _ = sandbox.handle("POST", "/api/v2/cases/aggregate", None,
                                      {"dd-api-key": "k", "dd-application-key": "a"}, json.dumps(body))
    assert status == 400


def test_aggregate_over_many_distinct_values_returns_at_most_the_limit(sandbox_runner: Any) -> None:
    project = sandbox_runner.run("create_project", {"key": "OPS", "name": "Ops"})["data"]["id"]
    dozen = [f"v{n}" for n in range(12)]
    # custom attributes must be configured on the case's type, as on the live API
    case_type = sandbox_runner.run("create_case_type", {"name": "Hosts", "emoji": "🖥️"})["data"]["id"]
    for key, multi in (("host", False), ("tags", True), ("zone", True)):
        sandbox_runner.run("create_custom_attribute_config", {"case_type_id": case_type, "key": key,
                                                              "display_name": key, "type": "TEXT", "is_multi": multi})
    for number in range(1500):
        sandbox_runner.run("create_case", {"title": f"t{number}", "type_id": case_type, "project_id": project,
                                           "custom_attributes": {
                                               "host": {"type": "TEXT", "is_multi": False, "value": f"host-{number}"},
                                               "tags": {"type": "TEXT", "is_multi": True, "value": dozen},
                                               "zone": {"type": "TEXT", "is_multi": True, "value": dozen}}})
    document = _aggregate(sandbox_runner, ["host", "priority"], limit=1000)["data"]["attributes"]
    assert document["total"] == 1500 and len(document["groups"]) == 1000
    assert {g["value"][0] for g in document["groups"]} == {1}
    assert len({g["group"] for g in document["groups"]}) == 1000
    assert len(_aggregate(sandbox_runner, ["host", "tags"], limit=1000)["data"]["attributes"]["groups"]) == 1000
    # 144 groups per case is fine for one case, not for 1500 of them: the bound is on the whole count
    from datadog_case_actions.runtime.errors import ConflictError

    with pytest.raises(ConflictError) as refused:
        _aggregate(sandbox_runner, ["host", "tags", "zone"], limit=1000)
    assert "216000" in str(refused.value)


def test_aggregate_keeps_other_clients_moving(sandbox_runner: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from datadog_case_actions.sandbox import cases as cases_module

    project = sandbox_runner.run("create_project", {"key": "OPS", "name": "Ops"})["data"]["id"]
    case = _with_attributes(sandbox_runner, project, {"team": ["db"]})
    counting, answered = threading.Event(), threading.Event()
    answered_while_counting: list[bool] = []
    real = cases_module.aggregate_groups

    def slow(*args: Any) -> Any:  # an aggregation that takes as long as another client needs
        counting.set()
        answered_while_counting.append(answered.wait(10))
        return real(*args)

    monkeypatch.setattr(cases_module, "aggregate_groups", slow)
    aggregating = threading.Thread(target=_aggregate, args=(sandbox_runner, ["team"]))
    aggregating.start()
    assert counting.wait(10)
    getting = threading.Thread(target=lambda: (sandbox_runner.run("get_case", {"case_id": case}), answered.set()))
    getting.start()
    getting.join(30)
    aggregating.join(30)
    assert answered_while_counting == [True]


@pytest.mark.skipif(not hasattr(os, "fork"), reason="needs fork")
def test_a_child_forked_while_another_thread_holds_the_runner_cache_can_still_run() -> None:
    from datadog_case_actions import Connection, run
    from datadog_case_actions.runtime import runner as runner_module

    holding, done = threading.Event(), threading.Event()

    def hold() -> None:  # a thread of the parent, in the middle of a run(), when another forks
        with runner_module._LOCK:
            holding.set()
            done.wait(30)

    holder = threading.Thread(target=hold)
    holder.start()
    assert holding.wait(10)
    child = os.fork()
    if child == 0:  # the child: one call through the module-level cache, then out without cleanup
        code = 1
        try:
            code = 0 if "data" in run("get_projects", connection=Connection.sandbox(":memory:")) else 1
        finally:
            os._exit(code)
    done.set()
    holder.join(10)
    for _ in range(200):
        finished, status = os.waitpid(child, os.WNOHANG)
        if finished:
            break
        time.sleep(0.1)
    else:
        os.kill(child, signal.SIGKILL)
        os.waitpid(child, 0)
        pytest.fail("the forked child hung on the runner cache's lock")
    assert os.waitstatus_to_exitcode(status) == 0
