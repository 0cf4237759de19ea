"""dd-cases for on-call: output formats, field selection, paging output, confirmations, closed pipes,
sandbox file checks, completion.  Terminal behaviour is tested on a real pseudo-terminal."""

from __future__ import annotations

import json
import os
import pty
import select
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

CASE_TYPE = "00000000-0000-0000-0000-000000000001"
DD = [sys.executable, "-m", "datadog_case_actions"]


def _env(db: Path | None = None) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("DD_")}
    env.update({"DD_API_KEY": "x", "DD_APP_KEY": "y"})
    if db is not None:
        env.update({"DD_SITE": "sandbox", "DD_SANDBOX_PATH": str(db)})
    return env


def dd(*argv: str, db: Path | None = None, stdin: str = "") -> subprocess.CompletedProcess[str]:
    return subprocess.run([*DD, *argv], capture_output=True, text=True, env=_env(db), input=stdin, timeout=60)


def on_terminal(*argv: str, db: Path, answer: str | None = None) -> tuple[int, str]:
    """Run dd-cases with stdin, stdout and stderr on a pseudo-terminal; type *answer* when it asks."""
    leader, follower = pty.openpty()
    process = subprocess.Popen([*DD, *argv], stdin=follower, stdout=follower, stderr=follower, env=_env(db))
    os.close(follower)
    screen, answered = b"", False
    while True:
        ready, _, _ = select.select([leader], [], [], 30)
        if not ready:
            process.kill()
            raise AssertionError(f"no output in 30 s: {screen!r}")
        try:
            chunk = os.read(leader, 65536)
        except OSError:  # the terminal closed: the process is done
            break
        if not chunk:
            break
        screen += chunk
        if answer is not None and not answered and b"[y/N]" in screen:
            os.write(leader, answer.encode() + b"\n")
            answered = True
    os.close(leader)
    return process.wait(timeout=30), screen.decode().replace("\r\n", "\n")


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A sandbox file with project OPS and three cases."""
    path = tmp_path_factory.mktemp("cli") / "cases.sqlite3"
    project = json.loads(dd("run", "create_project", "key=OPS", "name=Ops", "--sandbox-path", str(path), "--create",
                            db=path).stdout)["data"]["id"]
    lines = "\n".join(json.dumps({"title": f"case {n}", "type_id": CASE_TYPE, "project_id": project}) for n in (1, 2, 3))
    for line in lines.splitlines():
        assert dd("run", "create_case", "-", db=path, stdin=line).returncode == 0
    return path


def test_a_terminal_gets_a_table_and_a_pipe_gets_json(db: Path) -> None:
    code, screen = on_terminal("run", "search_cases", db=db)
    assert code == 0
    header, *rows, total = screen.strip().splitlines()
    assert header.split() == ["KEY", "TITLE", "STATUS", "PRIORITY", "CREATED_AT"]
    assert sorted(row.split()[0] for row in rows) == ["OPS-1", "OPS-2", "OPS-3"] and total == "3 items"
    piped = dd("run", "search_cases", db=db)
    assert len(json.loads(piped.stdout)["data"]) == 3


def test_fields_and_ndjson(db: Path) -> None:
    out = dd("run", "search_cases", "-o", "ndjson", "--fields", "key,status,relationships.project.data.type", db=db)
    rows = [json.loads(line) for line in out.stdout.splitlines()]
    assert sorted(r["key"] for r in rows) == ["OPS-1", "OPS-2", "OPS-3"]
    assert all(set(r) == {"key", "status", "relationships.project.data.type"} for r in rows)
    one = dd("run", "get_case", "case_id=OPS-2", "-o", "json", "--fields", "key,title", db=db)
    assert json.loads(one.stdout) == {"key": "OPS-2", "title": "case 2"}


def test_all_pages_is_one_json_array_or_ndjson_never_a_silent_switch(db: Path) -> None:
    array = dd("run", "search_cases", "page_size=1", "--all-pages", db=db)
    assert array.returncode == 0 and len(json.loads(array.stdout)) == 3
    capped = dd("run", "search_cases", "page_size=1", "--all-pages", "--max-items", "2", "--fields", "key", db=db)
    assert len(json.loads(capped.stdout)) == 2
    lines = dd("run", "search_cases", "page_size=2", "--all-pages", "-o", "ndjson", db=db).stdout.splitlines()
    assert len(lines) == 3 and all(json.loads(line)["type"] == "case" for line in lines)
    empty = dd("run", "search_cases", "filter=status:closed", "--all-pages", db=db)
    assert json.loads(empty.stdout) == []


@pytest.mark.parametrize("argv, message", [
    (["run", "search_cases", "--max-items", "5"], "--max-items only applies with --all-pages"),
    (["run", "search_cases", "--all-pages", "--dry-run"], "cannot be combined with --all-pages"),
    (["run", "get_projects", "--sandbox", "--site", "datadoghq.eu"], "--sandbox cannot be combined"),
    (["run", "get_projects", "--site", "datadoghq.eu", "--base-url", "http://127.0.0.1:1"], "not both"),
    (["run", "get_projects", "-o", "table", "--compact"], "--compact only applies to -o json"),
    (["run", "get_projects", "--sandbox-path", "/tmp/x.sqlite3", "--site", "datadoghq.com"], "only applies to the sandbox"),
])
def test_contradictory_flags_are_refused(argv: list[str], message: str) -> None:
    result = dd(*argv)
    assert result.returncode == 2 and message in result.stderr and result.stdout == ""


def test_a_mistyped_sandbox_path_is_refused_not_created(tmp_path: Path) -> None:
    typo = tmp_path / "missing" / "cases.sqlite3"
    result = dd("run", "get_projects", "--sandbox", "--sandbox-path", str(typo))
    assert result.returncode == 2 and "no sandbox database at" in result.stderr and "--create" in result.stderr
    assert not typo.parent.exists()


def test_destructive_actions_need_yes_when_not_interactive(tmp_path: Path) -> None:
    db = tmp_path / "d.sqlite3"
    project = json.loads(dd("run", "create_project", "key=DEL", "name=Del", "--sandbox-path", str(db), "--create",
                            db=db).stdout)["data"]["id"]
    refused = dd("run", "delete_project", f"project_id={project}", db=db)
    assert refused.returncode == 2 and "add --yes" in refused.stderr
    assert len(json.loads(dd("run", "get_projects", db=db).stdout)["data"]) == 1  # nothing was sent
    code, screen = on_terminal("run", "delete_project", f"project_id={project}", db=db, answer="n")
    assert code == 1 and "cancelled; nothing was sent" in screen
    assert len(json.loads(dd("run", "get_projects", db=db).stdout)["data"]) == 1
    code, screen = on_terminal("run", "delete_project", f"project_id={project}", db=db, answer="y")
    assert code == 0 and "cannot be undone" in screen
    assert json.loads(dd("run", "get_projects", db=db).stdout)["data"] == []
    assert dd("run", "create_project", "key=D2", "name=D2", db=db).returncode == 0
    project = json.loads(dd("run", "get_projects", db=db).stdout)["data"][0]["id"]
    assert dd("run", "delete_project", f"project_id={project}", "--yes", db=db).returncode == 0


def test_a_closed_pipe_ends_quietly(db: Path) -> None:
    shell = f"{' '.join(DD)} export | head -c 10; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=_env(db), timeout=60)
    assert done.returncode == 0 and done.stderr == "" and len(done.stdout) == 10
    shell = f"{' '.join(DD)} run search_cases page_size=1 --all-pages -o ndjson | head -n 1; exit ${{PIPESTATUS[0]}}"
    done = subprocess.run(["bash", "-c", shell], capture_output=True, text=True, env=_env(db), timeout=60)
    assert done.returncode == 0 and done.stderr == "" and len(done.stdout.splitlines()) == 1


def test_sandbox_path_and_reset(tmp_path: Path) -> None:
    db = tmp_path / "r.sqlite3"
    assert dd("sandbox", "path", db=db).stdout.strip() == str(db)
    assert dd("run", "create_project", "key=R", "name=R", "--sandbox-path", str(db), "--create", db=db).returncode == 0
    refused = dd("sandbox", "reset", db=db)
    assert refused.returncode == 2 and "--yes" in refused.stderr
    assert dd("sandbox", "reset", "--yes", db=db).returncode == 0
    assert json.loads(dd("run", "get_projects", db=db).stdout)["data"] == []


@pytest.mark.skipif(shutil.which("bash") is None, reason="needs bash")
def test_bash_completion_completes_actions_and_their_inputs() -> None:
    script = dd("completion", "bash").stdout

    def complete(*words: str) -> list[str]:
        line = " ".join(f"'{w}'" for w in words)
        probe = f'{script}\nCOMP_WORDS=({line}); COMP_CWORD={len(words) - 1}; _dd_cases; printf "%s\\n" "${{COMPREPLY[@]}}"'
        return subprocess.run(["bash", "-c", probe], capture_output=True, text=True, check=True).stdout.split()

    assert complete("dd-cases", "ru") == ["run"]
    assert "create_case" in complete("dd-cases", "run", "create_ca")
    assert set(complete("dd-cases", "run", "create_case", "ti")) == {"title="}
    assert "--all-pages" in complete("dd-cases", "run", "search_cases", "--all")
    fish = dd("completion", "fish").stdout
    assert "__fish_seen_subcommand_from create_case' -a '" in fish and "title=" in fish
    assert dd("completion", "zsh").stdout.startswith("#compdef dd-cases")


# -- bulk ---------------------------------------------------------------------------------------------------------


@pytest.fixture()
def served_sandbox() -> Any:
    from datadog_case_actions.sandbox import Sandbox, start_server_in_thread

    with Sandbox(":memory:") as sandbox:
        server, url = start_server_in_thread(sandbox)
        try:
            yield sandbox, url
        finally:
            server.stop()


def test_bulk_creates_each_line_once_over_http_and_reports_every_line(tmp_path: Path, served_sandbox: Any) -> None:
    sandbox, url = served_sandbox
    env = {**_env(), "DD_BASE_URL": url}
    made = subprocess.run([*DD, "run", "create_project", "key=BLK", "name=Bulk", "-o", "json"], capture_output=True,
                          text=True, env=env, timeout=60)
    project = json.loads(made.stdout)["data"]["id"]
    lines = [json.dumps({"title": f"alert {n}", "type_id": CASE_TYPE, "project_id": project}) for n in range(200)]
    lines[50] = "{not json"
    lines[120] = json.dumps({"title": "no project", "type_id": CASE_TYPE})
    lines.insert(7, "")  # blank lines are skipped, and do not shift the line numbers
    source = tmp_path / "alerts.ndjson"
    source.write_text("\n".join(lines) + "\n")
    done = subprocess.run([*DD, "bulk", "create_case", f"@{source}", "--concurrency", "16"], capture_output=True,
                          text=True, env=env, timeout=120)
    assert done.returncode == 5, done.stderr  # some lines failed
    outcomes = {o["line"]: o for o in map(json.loads, done.stdout.splitlines())}
    assert len(outcomes) == 200 and 8 not in outcomes
    failed = {line for line, o in outcomes.items() if not o["ok"]}
    assert failed == {52, 122}  # 1-based input line numbers, the blank line counted
    assert outcomes[52]["error"]["violations"][0]["field"] == "line 52"
    assert outcomes[122]["error"]["violations"][0]["field"] == "project_id"
    assert "200 lines: 198 ok, 2 failed" in done.stderr
    # exactly one case per good line: nothing lost, nothing sent twice
    keys = [o["result"]["data"]["attributes"]["title"] for o in outcomes.values() if o["ok"]]
    search = sandbox.runner().iterate("search_cases", {"filter": "project:BLK", "page_size": 100})
    assert sorted(c["attributes"]["title"] for c in search) == sorted(keys) and len(set(keys)) == 198


def test_bulk_lines_may_name_their_action_and_all_ok_exits_0(tmp_path: Path) -> None:
    db = tmp_path / "b.sqlite3"
    lines = "\n".join([json.dumps({"action": "create_project", "inputs": {"key": "A", "name": "A"}}),
                       json.dumps({"action": "get_projects", "inputs": {}})])
    done = dd("bulk", "-", "--sandbox-path", str(db), "--create", "--concurrency", "1", db=db, stdin=lines)
    assert done.returncode == 0, done.stderr
    assert [json.loads(line)["action"] for line in done.stdout.splitlines()] == [
        "datadog.create_project", "datadog.get_projects"]


def test_bulk_refuses_destructive_actions_without_yes_and_bad_flags(tmp_path: Path) -> None:
    db = tmp_path / "b.sqlite3"
    refused = dd("bulk", "delete_project", "-", db=db, stdin='{"project_id": "x"}\n')
    assert refused.returncode == 2 and "--yes" in refused.stderr and refused.stdout == ""
    assert dd("bulk", "get_projects", "-", "--concurrency", "0", db=db).returncode == 2
    assert dd("bulk", "get_projects", "cases.ndjson", db=db).returncode == 2  # a file is named @file


def test_paging_shows_progress_on_a_terminal_only(db: Path) -> None:
    code, screen = on_terminal("run", "search_cases", "page_size=1", "--all-pages", "-o", "ndjson", db=db)
    assert code == 0 and "items," in screen  # the counter, erased at the end but seen on the terminal
    piped = dd("run", "search_cases", "page_size=1", "--all-pages", "-o", "ndjson", db=db)
    assert piped.stderr == ""
