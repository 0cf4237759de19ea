"""The dd-cases command: list, describe, run, dry run, exit codes, errors on stderr."""

from __future__ import annotations

import io
import json
import os
import subprocess
import sys
from pathlib import Path

import pytest

from datadog_case_actions.cli import main
from datadog_case_actions.manifest import load_index

#: the catalogue size, derived from the generated index (tests/test_catalogue.py holds it to the references)
ACTIONS = len(load_index()["actions"])

API_KEY = "SENTINEL-API-KEY-CLI-0001"
APP_KEY = "SENTINEL-APP-KEY-CLI-0002"


@pytest.fixture(autouse=True)
def _keys(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("DD_API_KEY", API_KEY)
    monkeypatch.setenv("DD_APP_KEY", APP_KEY)
    monkeypatch.delenv("DD_SITE", raising=False)
    monkeypatch.delenv("DD_BASE_URL", raising=False)
    monkeypatch.delenv("DD_ACCESS_TOKEN", raising=False)


def cli(*argv: str, stdin: str = "") -> tuple[int, str, str]:
    out, err = io.StringIO(), io.StringIO()
    code = main(list(argv), stdout=out, stderr=err, stdin=io.StringIO(stdin))
    assert API_KEY not in out.getvalue() + err.getvalue() and APP_KEY not in out.getvalue() + err.getvalue()
    return code, out.getvalue(), err.getvalue()


def test_list_shows_the_catalogue_and_filters() -> None:
    code, out, _ = cli("list")
    assert code == 0 and out.strip().endswith(f"{ACTIONS} actions")
    code, out, _ = cli("list", "--group", "cases", "--json")
    assert len(json.loads(out)) == 29
    code, out, _ = cli("list", "--effect", "destructive")
    assert "datadog.delete_project" in out and "datadog.get_case " not in out
    code, out, _ = cli("list", "comment")
    assert "datadog.comment_case" in out and out.strip().endswith("3 actions")


def test_describe_shows_schemas_and_an_example() -> None:
    code, out, _ = cli("describe", "create_case")
    assert code == 0
    assert "POST /api/v2/cases" in out and "title: string (required)" in out
    assert "one of: NOT_DEFINED, P1, P2, P3, P4, P5" in out and "example" in out
    code, out, _ = cli("describe", "datadog.create_case", "--json")
    manifest = json.loads(out)
    assert manifest["input_schema"]["properties"]["priority"]["enum"][1] == "P1"
    assert manifest["output_schema"]["properties"]["data"]


def test_dry_run_prints_the_exact_request_with_keys_redacted() -> None:
    code, out, err = cli("run", "create_case", "title=DB is down", "type_id=t-1", "project_id=p-1",
                         "priority=P1", "--dry-run")
    assert code == 0, err
    request = json.loads(out)
    assert request["method"] == "POST" and request["url"] == "https://api.datadoghq.com/api/v2/cases"
    assert request["headers"]["DD-API-KEY"] == "****" and request["headers"]["DD-APPLICATION-KEY"] == "****"
    assert request["body"] == {"data": {"type": "case", "attributes": {"title": "DB is down", "type_id": "t-1",
                               "priority": "P1"}, "relationships": {"project": {"data": {"id": "p-1", "type": "project"}}}}}


def test_inputs_from_json_file_stdin_and_raw_json(tmp_path: Path) -> None:
    (tmp_path / "in.json").write_text(json.dumps({"case_id": "OPS-1", "attributes": {"env": ["prod"]}}))
    code, out, _ = cli("run", "update_attributes", f"@{tmp_path / 'in.json'}", "--dry-run", "--site", "datadoghq.eu")
    assert code == 0 and json.loads(out)["url"] == "https://api.datadoghq.eu/api/v2/cases/OPS-1/attributes"
    code, out, _ = cli("run", "update_attributes", "-", 'attributes:={"team":["sre"]}', "--dry-run",
                       stdin='{"case_id": "OPS-2"}')
    assert json.loads(out)["body"]["data"]["attributes"] == {"attributes": {"team": ["sre"]}}
    code, out, _ = cli("run", "search_cases", "page_size=5", "sort_asc=false", "--dry-run")
    assert json.loads(out)["url"].endswith("?page%5Bsize%5D=5&sort%5Basc%5D=false")


def test_bad_input_exits_2_and_names_every_field() -> None:
    code, out, err = cli("run", "create_case", "title=x", "priority=P9")
    assert code == 2 and out == ""
    assert err.startswith("error: datadog.create_case: invalid input")
    assert "  - priority: 'P9' is not one of" in err and "  - type_id: is required" in err
    assert "nothing was sent" in err


def test_unknown_action_and_malformed_input_exit_2() -> None:
    code, _, err = cli("run", "create_cas")
    assert code == 2 and "did you mean create_case" in err
    code, _, err = cli("run", "get_case", "case_id")
    assert code == 2 and "'case_id' is not key=value" in err
    code, _, err = cli("run", "get_case", "{not json")
    assert code == 2 and "invalid JSON" in err


def test_missing_credentials_exit_2_without_a_request(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delenv("DD_API_KEY")
    monkeypatch.delenv("DD_APP_KEY")
    code, _, err = cli("run", "get_case", "case_id=OPS-1", "--base-url", "http://127.0.0.1:9")
    assert code == 2 and "DD_API_KEY" in err


def test_help_explains_inputs_credentials_and_exit_codes() -> None:
    out = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", "run", "--help"],
                         capture_output=True, text=True, check=True, env={**os.environ}).stdout
    assert "key=value" in out and "DD_API_KEY" in out and "exit codes" in out and "--dry-run" in out


def test_every_error_is_printed_once() -> None:
    code, _, err = cli("run", "update_priority", "case_id=OPS-1", "priority=URGENT", "--dry-run")
    assert code == 2
    assert err.count("URGENT") == 1 and err.count("- priority:") == 1, err
    code, _, err = cli("run", "get_case", "case_id=NOPE-1", "--sandbox", "--sandbox-path", ":memory:")
    assert code == 3 and err.count("404") == 1, err


def test_an_unknown_action_is_an_action_error_with_exit_2() -> None:
    from datadog_case_actions import ActionError, UnknownActionError
    from datadog_case_actions.registry import resolve

    with pytest.raises(ActionError) as info:
        resolve("get_cas")
    assert isinstance(info.value, UnknownActionError) and isinstance(info.value, LookupError)
    assert "did you mean get_case" in str(info.value)
    code, _, err = cli("run", "get_cas")
    assert code == 2 and err.count("get_cas'") == 1 and "did you mean get_case" in err


def test_version() -> None:
    import datadog_case_actions

    done = subprocess.run([sys.executable, "-m", "datadog_case_actions", "--version"], capture_output=True, text=True)
    assert done.returncode == 0 and done.stdout.strip() == f"dd-cases {datadog_case_actions.__version__}"
