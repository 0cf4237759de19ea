"""Build the vcrpy cassettes under ``cassettes/`` from the API reference's own examples.

    python tools/make_cassettes.py            # (re)write every cassette
    python tools/make_cassettes.py --check    # exit 1 listing cassettes that are missing or stale

Each action gets, in ``cassettes/<action id>/``:

* ``success.yaml``: its first manifest example, sent as the runtime builds it
  (method, URL on api.datadoghq.com, query, JSON body), answered with the
  reference's documented success example (an empty body for 204);
* ``error_<status>.yaml``: the same request answered with the reference's
  documented error example: 404 for actions that name a resource in their
  path, else 400 (or 403 when the reference documents no 400).

A few more cassettes vary the shape of what comes back, as the live API does
(``VARIANTS``): extra fields and an undocumented enum value in a success, JSON:API
error objects, a plain-text 5xx, a bare JSON string, a 429 with rate-limit headers.

No credential is ever written: request headers are limited to Accept and
Content-Type.  Output is deterministic (sorted keys, no dates), so ``--check``
compares bytes.  Re-recording against a real account is described in
docs/cassettes.md.
"""

from __future__ import annotations

import argparse
import copy
import json
import sys
from pathlib import Path
from typing import Any
from urllib.parse import urlencode

import yaml

ROOT = Path(__file__).resolve().parent.parent
for _path in (ROOT / "actions", ROOT):  # the package's source root, then tools/
    if str(_path) not in sys.path:
        sys.path.insert(0, str(_path))

from datadog_case_actions.runtime.request import prepare  # noqa: E402

CASSETTES = ROOT / "cassettes"
DIGEST = json.loads((ROOT / "tests" / "reference_digest.json").read_text(encoding="utf-8"))["operations"]
BASE = "https://api.datadoghq.com"
REASONS = {200: "OK", 201: "Created", 204: "No Content", 400: "Bad Request", 401: "Unauthorized",
           403: "Forbidden", 404: "Not Found", 409: "Conflict", 429: "Too Many Requests",
           500: "Internal Server Error", 502: "Bad Gateway", 503: "Service Unavailable"}


def _manifests() -> list[dict[str, Any]]:
    return [json.loads(p.read_text(encoding="utf-8")) for p in sorted((ROOT / "manifests").glob("datadog.*.json"))]


def _json(value: Any) -> str:
    return json.dumps(value, separators=(",", ":"), ensure_ascii=False, sort_keys=True)


def _interaction(manifest: dict[str, Any], status: int, body: str, content_type: str = "application/json",
                 headers: dict[str, str] | None = None) -> dict[str, Any]:
    request = prepare(manifest, manifest["examples"][0]["input"])
    uri = BASE + request.path + ("?" + urlencode(request.params) if request.params else "")
    request_headers = {"accept": ["application/json"]}
    if request.body is not None:
        request_headers["content-type"] = ["application/json"]
    response_headers = {k.lower(): [v] for k, v in (headers or {}).items()}
    if body:
        response_headers["content-type"] = [content_type]
    return {
        "request": {"body": None if request.body is None else _json(request.body), "headers": request_headers,
                    "method": request.method, "uri": uri},
        "response": {"body": {"string": body}, "headers": response_headers,
                     "status": {"code": status, "message": REASONS.get(status, "")}},
    }


def _document(interaction: dict[str, Any]) -> str:
    return yaml.safe_dump({"interactions": [interaction], "version": 1}, sort_keys=True, allow_unicode=True,
                          width=120)


def _example(op: dict[str, Any], status: int) -> Any:
    return (op["responses"].get(str(status)) or {}).get("example")


def _error_status(manifest: dict[str, Any], op: dict[str, Any]) -> int:
    if manifest["request"]["path"] and "404" in op["responses"]:
        return 404
    return 400 if "400" in op["responses"] else 403


def _with_surprises(document: Any) -> Any:
    """The success example plus what the live API sends and the reference does not document."""
    doc = copy.deepcopy(document)
    data = doc.get("data") if isinstance(doc, dict) else None
    if isinstance(data, dict):
        attributes = data.setdefault("attributes", {})
        attributes["undocumented_field"] = {"nested": [1, 2, 3]}
        if "status" in attributes:
            attributes["status"] = "PENDING_REVIEW"  # an enum value the reference does not list
    doc["meta"] = {"request_id": "r-0001"}
    return doc


# (action id, file name, status, body, content type, headers): shapes the live API uses besides the examples.
VARIANTS: list[tuple[str, str, int, Any, str, dict[str, str]]] = [
    ("datadog.get_case", "success_undocumented_fields", 200, "surprises", "application/json", {}),
    ("datadog.search_cases", "success_undocumented_fields", 200, "surprises", "application/json", {}),
    ("datadog.get_case", "error_404_jsonapi", 404,
     {"errors": [{"status": "404", "title": "Not Found", "detail": "Case CASE-404 not found"}]},
     "application/json", {}),
    ("datadog.create_case", "error_400_jsonapi", 400,
     {"errors": [{"status": "400", "title": "Bad Request", "detail": "project_id: project does not exist",
                  "source": {"pointer": "/data/relationships/project/data/id"}}]}, "application/json", {}),
    ("datadog.search_cases", "error_500_text", 500, "upstream connect error or disconnect/reset before headers",
     "text/plain", {}),
    ("datadog.create_project", "error_403_string", 403, "Forbidden", "application/json", {}),
    ("datadog.update_priority", "error_429_rate_limited", 429, {"errors": ["Too many requests"]},
     "application/json", {"X-RateLimit-Limit": "60", "X-RateLimit-Period": "60", "X-RateLimit-Remaining": "0",
                          "X-RateLimit-Reset": "17", "X-RateLimit-Name": "cases"}),
]


def build() -> dict[Path, str]:
    """Every cassette file's path and exact content."""
    files: dict[Path, str] = {}
    manifests = {m["id"]: m for m in _manifests()}
    for action_id, manifest in manifests.items():
        op = DIGEST[manifest["operation_id"]]
        folder = CASSETTES / action_id
        status = manifest["success_status"]
        example = _example(op, status)
        body = "" if status == 204 or example is None else _json(example)
        files[folder / "success.yaml"] = _document(_interaction(manifest, status, body))
        error = _error_status(manifest, op)
        error_body = _example(op, error) or {"errors": [REASONS[error]]}
        files[folder / f"error_{error}.yaml"] = _document(_interaction(manifest, error, _json(error_body)))
    for action_id, name, status, body, content_type, headers in VARIANTS:
        manifest = manifests[action_id]
        if body == "surprises":
            body = _with_surprises(_example(DIGEST[manifest["operation_id"]], status))
        text = body if content_type == "text/plain" else _json(body)
        files[CASSETTES / action_id / f"{name}.yaml"] = _document(
            _interaction(manifest, status, text, content_type, headers))
    return files


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description="Build the cassettes from the reference's examples.")
    parser.add_argument("--check", action="store_true", help="exit 1 if any cassette is missing or out of date")
    args = parser.parse_args(argv)
    files = build()
    existing = set(CASSETTES.glob("*/*.yaml")) if CASSETTES.exists() else set()
    if args.check:
        stale = [p for p, text in files.items() if not p.is_file() or p.read_text(encoding="utf-8") != text]
        extra = sorted(existing - set(files))
        for path in stale:
            print(f"stale or missing: {path.relative_to(ROOT)}")
        for path in extra:
            print(f"not generated (remove or add to VARIANTS): {path.relative_to(ROOT)}")
        return 1 if stale or extra else 0
    for path, text in files.items():
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    for path in existing - set(files):
        path.unlink()
    print(f"wrote {len(files)} cassettes for {len({p.parent for p in files})} actions")
    return 0


if __name__ == "__main__":
    sys.exit(main())
