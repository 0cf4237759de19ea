"""Replay every cassette through the real runner: the exact request, then the parsed result or the error.

Cassettes are replay-only here (``record_mode="none"``): a request the cassette
does not hold fails the test, and nothing reaches the network.  To re-record
against a real account see docs/cassettes.md (``DD_CASSETTES_RECORD=1``).
"""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
import vcr
import yaml

from datadog_case_actions import Connection, RetryPolicy, Runner
from datadog_case_actions.runtime.errors import (
    AuthenticationError,
    ConflictError,
    NotFoundError,
    RateLimitedError,
    ServerError,
)

ROOT = Path(__file__).resolve().parent.parent
CASSETTES = sorted((ROOT / "cassettes").glob("*/*.yaml"))
MANIFESTS = {p.stem: json.loads(p.read_text(encoding="utf-8")) for p in (ROOT / "manifests").glob("datadog.*.json")}
SENTINELS = ("SENTINEL-API-KEY-CASSETTE", "SENTINEL-APP-KEY-CASSETTE")
RECORD = os.environ.get("DD_CASSETTES_RECORD") == "1"
ERRORS = {400: ConflictError, 401: AuthenticationError, 403: AuthenticationError, 404: NotFoundError,
          409: ConflictError, 429: RateLimitedError, 500: ServerError}


def _json_body(r1: Any, r2: Any) -> None:
    """Bodies match when they hold the same JSON (key order and spacing do not matter)."""
    def parse(body: Any) -> Any:
        if body in (None, b"", ""):
            return None
        return json.loads(body.decode() if isinstance(body, bytes) else body)

    assert parse(r1.body) == parse(r2.body), "request bodies differ"


def _vcr() -> vcr.VCR:
    recorder = vcr.VCR(
        record_mode="all" if RECORD else "none",
        match_on=["method", "scheme", "host", "port", "path", "query", "json_body"],
        filter_headers=["DD-API-KEY", "DD-APPLICATION-KEY", "Authorization", "Cookie", "Set-Cookie"],
        decode_compressed_response=True,
    )
    recorder.register_matcher("json_body", _json_body)
    return recorder


def _connection() -> Connection:
    if RECORD:
        return Connection.from_env(retry=RetryPolicy.none())
    return Connection(api_key=SENTINELS[0], app_key=SENTINELS[1], retry=RetryPolicy.none())


def _expected_messages(body: Any) -> list[str]:
    """The error texts a user should see, read independently of the runtime's own parser."""
    if isinstance(body, str):
        return [body]
    out = []
    for item in body.get("errors", []):
        out.append(item.get("detail") or item.get("title") if isinstance(item, dict) else item)
    return out


@pytest.mark.parametrize("path", CASSETTES, ids=[f"{p.parent.name}/{p.stem}" for p in CASSETTES])
def test_cassette_replays_the_exact_request_and_its_outcome(path: Path) -> None:
    action_id = path.parent.name
    manifest = MANIFESTS[action_id]
    recorded = yaml.safe_load(path.read_text(encoding="utf-8"))["interactions"][0]
    status = recorded["response"]["status"]["code"]
    text = recorded["response"]["body"]["string"]
    content_type = (recorded["response"]["headers"].get("content-type") or [""])[0]
    body = json.loads(text) if text and content_type == "application/json" else text

    with _vcr().use_cassette(str(path), allow_playback_repeats=False) as cassette:
        with Runner(_connection()) as runner:
            if 200 <= status < 300:
                result = runner.run(action_id, manifest["examples"][0]["input"])
                assert result == (body if text else {})
            else:
                with pytest.raises(ERRORS[status]) as info:
                    runner.run(action_id, manifest["examples"][0]["input"])
                assert info.value.status == status
                assert info.value.messages == _expected_messages(body)
                if status == 429:
                    assert info.value.retry_after == float(recorded["response"]["headers"]["x-ratelimit-reset"][0])
        assert cassette.play_count == 1 and cassette.all_played


def test_every_action_has_a_success_and_an_error_cassette() -> None:
    by_action: dict[str, set[str]] = {}
    for path in CASSETTES:
        by_action.setdefault(path.parent.name, set()).add(path.stem.split("_")[0])
    assert set(by_action) == set(MANIFESTS)
    assert all({"success", "error"} <= kinds for kinds in by_action.values())


def test_no_cassette_holds_a_credential() -> None:
    for path in CASSETTES:
        text = path.read_text(encoding="utf-8")
        assert not any(s in text for s in SENTINELS) and "bearer " not in text.lower(), path
        for interaction in yaml.safe_load(text)["interactions"]:
            names = {h.lower() for h in interaction["request"]["headers"]}
            assert not names & {"dd-api-key", "dd-application-key", "authorization", "cookie"}, path


def test_cassettes_are_up_to_date_with_the_reference_and_manifests() -> None:
    out = subprocess.run([sys.executable, str(ROOT / "tools" / "make_cassettes.py"), "--check"],
                         capture_output=True, text=True)
    assert out.returncode == 0, out.stdout + out.stderr
