"""Replay the live API's recorded Case Management scenarios against the sandbox and count what matches.

    python benchmarks/live_replay.py <datadog-api-client-python checkout>/tests/v2/cassettes/test_scenarios

Reads the official Python client's vcrpy cassettes from a local checkout (they are
not part of this project and nothing of them is copied), replays every recorded
call under ``/api/v2/cases`` in order against a fresh in-memory sandbox, and
prints three counts: calls answered with the recorded status, successful
answers carrying every field path the recorded answer has (extra fields are
allowed: older recordings lack fields added later), and error answers whose
error objects have the recorded keys and title.  Ids are translated: the
project the scenarios use is the sandbox's, and every id a recorded answer
created (case, comment, case type, config) maps to the id the sandbox gave.
Calls to other APIs (users) are skipped; their ids pass through unchanged.
``--verbose`` lists each mismatch.
"""

from __future__ import annotations

import argparse
import json
import re
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import yaml

from datadog_case_actions.sandbox import Sandbox

AUTH = {"DD-API-KEY": "replay", "DD-APPLICATION-KEY": "replay"}
UUID = re.compile(r"[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}")
CASES = "/api/v2/cases"


def _paths(node: Any, prefix: str = "") -> set[str]:
    """Every key path of a JSON document; list items are merged under ``[]``."""
    out: set[str] = set()
    if isinstance(node, dict):
        for key, value in node.items():
            path = f"{prefix}.{key}" if prefix else key
            out.add(path)
            out |= _paths(value, path)
    elif isinstance(node, list):
        for item in node:
            out |= _paths(item, prefix + "[]")
    return out


def _body(interaction: dict[str, Any], side: str) -> Any:
    raw = interaction[side]["body"]
    text = raw.get("string", "") if isinstance(raw, dict) else raw
    if not text:
        return None
    try:
        return json.loads(text)
    except ValueError:
        return text


def _known_projects(interactions: list[dict[str, Any]]) -> set[str]:
    """Project ids that exist in the recorded organisation: named by a successful answer."""
    known: set[str] = set()
    for item in interactions:
        if item["response"]["status"]["code"] < 400:
            text = json.dumps(_body(item, "response"))
            known |= set(re.findall(r'"id": "(' + UUID.pattern + r')", "type": "project"', text))
    return known


def _created_ids(recorded: Any, answered: Any) -> dict[str, str]:
    """Recorded id -> sandbox id for the resources of a successful answer, matched by position."""
    pairs: dict[str, str] = {}
    rec, ans = (recorded or {}).get("data"), (answered or {}).get("data")
    if isinstance(rec, dict) and isinstance(ans, dict):
        rec, ans = [rec], [ans]
    if isinstance(rec, list) and isinstance(ans, list):
        for a, b in zip(rec, ans, strict=False):
            if isinstance(a, dict) and isinstance(b, dict) and "id" in a and "id" in b:
                pairs[a["id"]] = b["id"]
    return pairs


def _error_shape(document: Any) -> Any:
    """The keys and title of each error object (details may name ids and differ)."""
    if not isinstance(document, dict) or not isinstance(document.get("errors"), list):
        return document
    return [sorted(e) + [e.get("title")] if isinstance(e, dict) else e for e in document["errors"]]


def replay(cassette: Path, verbose: bool) -> tuple[int, int, int, int, int, int]:
    """``(calls, same status, successes, with every recorded field, errors, errors of the recorded shape)``."""
    interactions = [i for i in yaml.safe_load(cassette.read_text(encoding="utf-8"))["interactions"]
                    if urlsplit(i["request"]["uri"]).path.startswith(CASES)]
    if not interactions:
        return 0, 0, 0, 0, 0, 0
    calls = same = successes = complete = errors = shaped = 0
    with Sandbox(":memory:") as sb:
        project = json.loads(sb.handle("POST", f"{CASES}/projects", None, AUTH, json.dumps(
            {"data": {"type": "project", "attributes": {"key": "DDFC", "name": "Replay"}}}))[2])["data"]["id"]
        ids = dict.fromkeys(_known_projects(interactions), project)
        for item in interactions:
            request = item["request"]
            translate = (lambda text: UUID.sub(lambda m: ids.get(m.group(0), m.group(0)), text))
            url = urlsplit(request["uri"])
            target = translate(url.path + (f"?{url.query}" if url.query else ""))
            body = request.get("body") or ""
            status, _, raw = sb.handle(request["method"], target, None, AUTH, translate(body))
            expected = item["response"]["status"]["code"]
            recorded = _body(item, "response")
            answered = json.loads(raw) if raw else None
            calls += 1
            same += status == expected
            if status != expected and verbose:
                print(f"  {cassette.stem}: {request['method']} {url.path}: {status}, recorded {expected}")
            if 200 <= expected < 300:
                successes += 1
                missing = sorted(_paths(recorded) - _paths(answered))
                complete += not missing
                if missing and verbose:
                    print(f"  {cassette.stem}: {request['method']} {url.path}: missing {', '.join(missing[:8])}")
                if status == expected:
                    ids.update(_created_ids(recorded, answered))
            elif expected >= 400:
                errors += 1
                alike = _error_shape(recorded) == _error_shape(answered)
                shaped += alike
                if not alike and verbose:
                    print(f"  {cassette.stem}: {request['method']} {url.path}: error {_error_shape(answered)}, "
                          f"recorded {_error_shape(recorded)}")
    return calls, same, successes, complete, errors, shaped


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("cassettes", type=Path, help="the client's tests/v2/cassettes/test_scenarios directory")
    parser.add_argument("--verbose", action="store_true")
    args = parser.parse_args(argv)
    totals = [0] * 6
    scenarios = 0
    for cassette in sorted(args.cassettes.glob("*.yaml")):
        counts = replay(cassette, args.verbose)
        scenarios += counts[0] > 0
        totals = [t + c for t, c in zip(totals, counts, strict=True)]
    calls, same, successes, complete, errors, shaped = totals
    print(f"{scenarios} scenarios, {calls} Case Management calls: {same}/{calls} with the recorded status; "
          f"{complete}/{successes} successful answers carry every recorded field; "
          f"{shaped}/{errors} error answers have the recorded keys and title")
    return 0


if __name__ == "__main__":
    sys.exit(main())
