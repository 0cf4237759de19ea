"""Sentinel keys pushed through every path: zero occurrences anywhere a user or a log could see them."""

from __future__ import annotations

import io
import json
import logging
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import httpx
import pytest

from datadog_case_actions import Connection, RetryPolicy, Runner, Secret
from datadog_case_actions.cli import main
from datadog_case_actions.runtime.errors import ActionError
from datadog_case_actions.runtime.runner import prepare

ROOT = Path(__file__).resolve().parents[2]
API = "SENTINEL-API-7f3a9c"
APP = "SENTINEL-APP-51be02"
TOKEN = "SENTINEL-TOKEN-d04c11"
SENTINELS = (API, APP, TOKEN)


def clean(*texts: Any) -> None:
    for text in texts:
        blob = text if isinstance(text, str) else json.dumps(text, default=repr)
        for sentinel in SENTINELS:
            assert sentinel not in blob, f"{sentinel} leaked into: {blob[:300]}"


ANSWERS: list[Any] = [
    httpx.Response(200, json={"data": {"id": "c1", "type": "case"}}),
    httpx.Response(204),
    httpx.Response(400, json={"errors": ["bad"]}),
    httpx.Response(401, json={"errors": ["Unauthorized"]}),
    httpx.Response(403, json={"errors": [{"status": "403", "title": "Forbidden", "detail": "no access"}]}),
    httpx.Response(404, text="not found"),
    httpx.Response(409, json={"errors": ["conflict"]}),
    httpx.Response(429, headers={"X-RateLimit-Reset": "1"}, json={"errors": ["slow down"]}),
    httpx.Response(500, json={"errors": ["boom"]}),
    httpx.Response(200, text="<html>login</html>"),
    httpx.ConnectError("refused"),
    httpx.ReadTimeout("slow"),
]


@pytest.mark.parametrize("answer", ANSWERS, ids=lambda a: type(a).__name__ + str(getattr(a, "status_code", "")))
@pytest.mark.parametrize("auth", ["keys", "oauth"])
def test_every_outcome_every_object_every_log_line(answer: Any, auth: str, caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)  # every logger, httpx and httpcore included

    def handler(request: httpx.Request) -> httpx.Response:
        if isinstance(answer, Exception):
            raise answer
        return answer

    creds = {"api_key": API, "app_key": APP} if auth == "keys" else {"access_token": TOKEN}
    conn = Connection(**creds, retry=RetryPolicy(max_attempts=2, backoff_base=0.001))
    runner = Runner(conn, httpx_transport=httpx.MockTransport(handler), sleep=lambda s: None)
    seen: list[Any] = [repr(conn), str(conn), conn.redact(), repr(conn.retry), repr(runner), str(runner),
                       repr(runner.transport), repr(conn.api_key), str(conn.access_token)]
    request = prepare("get_case", {"case_id": "OPS-1"})
    seen += [repr(request), request.to_dict()]
    try:
        result = runner.run("get_case", {"case_id": "OPS-1"})
        seen.append(result)
    except ActionError as exc:
        seen += [str(exc), repr(exc), exc.to_dict(), repr(exc.__cause__), repr(exc.__context__),
                 getattr(exc, "headers", None), getattr(exc, "body", None)]
    seen.append(runner.run("get_case", {"case_id": "OPS-1"}, dry_run=True))
    runner.close()
    seen.append(caplog.text)
    clean(*seen)


def test_secret_objects() -> None:
    secret = Secret(API)
    clean(repr(secret), str(secret), f"{secret}", "%s" % secret, json.dumps({"k": str(secret)}))
    assert secret.reveal() == API


def test_command_line_output(tmp_path: Path) -> None:
    env = {**{k: v for k, v in os.environ.items() if not k.startswith("DD_")}, "DD_API_KEY": API, "DD_APP_KEY": APP}
    runs = [
        ["run", "create_case", "title=x", "type_id=t", "project_id=p", "--dry-run"],
        ["run", "get_case", "case_id=OPS-1", "--base-url", "http://127.0.0.1:9", "--timeout", "0.5", "--no-retry"],
        ["run", "update_priority", "case_id=OPS-1", "priority=URGENT"],
        ["describe", "get_case"],
    ]
    for argv in runs:
        done = subprocess.run([sys.executable, "-m", "datadog_case_actions.cli", *argv], cwd=ROOT, env=env,
                              capture_output=True, text=True, timeout=60)
        clean(done.stdout, done.stderr)


def test_command_line_in_process_with_debug_logging(monkeypatch: pytest.MonkeyPatch,
                                                    caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    monkeypatch.setenv("DD_API_KEY", API)
    monkeypatch.setenv("DD_APP_KEY", APP)
    out, err = io.StringIO(), io.StringIO()
    main(["run", "comment_case", "case_id=OPS-1", "comment=hi", "--dry-run"], stdout=out, stderr=err)
    clean(out.getvalue(), err.getvalue(), caplog.text)
    assert "****" in out.getvalue()


def test_cassettes_hold_no_key() -> None:
    for path in (ROOT / "cassettes").glob("*/*.yaml"):
        clean(path.read_text(encoding="utf-8"))
