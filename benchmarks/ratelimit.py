"""Many worker processes, one rate limit: cases created, lost and duplicated, 429s, elapsed against the ideal.

    python benchmarks/ratelimit.py [--processes 4] [--creates 30] [--concurrency 8] [--limit 20] [--period 2]
    .venv-bench/bin/python benchmarks/ratelimit.py     # with the official SDK beside it (benchmarks/run builds it)

A loopback server in this process enforces a Datadog-style FIXED window (windows
of ``--period`` seconds from the server's start, ``--limit`` requests each,
429 beyond) and answers every request with the five ``X-RateLimit-*`` headers
(``-Reset`` in whole seconds, rounded up, as the API sends it).  N worker
processes, started together, each create ``--creates`` cases with
``--concurrency`` calls in flight; the server records every request, so lost
(never created) and duplicated (created twice) cases are counted from what it
saw, not from what the clients believe.

"ideal" is the time the limit allows for the creates at its sustained rate,
``creates x period / limit``.  Configurations: this package through threads
(sync ``Runner``), through one event loop (``arun`` under ``max_concurrency``),
and the official ``datadog-api-client`` with its retries on (threads), when it
is importable (else "skipped").  Targets (from the project's issue 12): 0 lost,
0 duplicated, 429s <= 5% of requests, elapsed <= 1.25x ideal.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import math
import multiprocessing
import sys
import threading
import time
import uuid
from concurrent.futures import ThreadPoolExecutor
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
KEYS = {"api_key": "bench-api-key", "app_key": "bench-app-key"}
TYPE_ID = "00000000-0000-0000-0000-000000000001"
PROJECT_ID = "00000000-0000-0000-0000-000000000002"


class FixedWindow:
    """The server's state: the window count, every request's outcome, and the most requests in flight at once."""

    def __init__(self, limit: int, period: float) -> None:
        self.limit, self.period = limit, period
        self.lock = threading.Lock()
        self.started = time.monotonic()
        self.window = -1
        self.count = 0
        self.requests = 0
        self.limited = 0
        self.limited_at: list[tuple[int, float]] = []  # (window, seconds into it) of each 429
        self.titles: list[str] = []
        self.in_flight = 0
        self.most_in_flight = 0

    def admit(self) -> tuple[bool, dict[str, str]]:
        """Count one request in the current window; ``(allowed, headers)``."""
        with self.lock:
            now = time.monotonic() - self.started
            window = int(now // self.period)
            if window != self.window:
                self.window, self.count = window, 0
            self.count += 1
            self.requests += 1
            allowed = self.count <= self.limit
            self.limited += not allowed
            if not allowed:
                self.limited_at.append((window, round(now - window * self.period, 2)))
            reset = max(1, math.ceil((window + 1) * self.period - now))
            return allowed, {"X-RateLimit-Limit": str(self.limit), "X-RateLimit-Period": f"{self.period:g}",
                             "X-RateLimit-Remaining": str(max(0, self.limit - self.count)),
                             "X-RateLimit-Reset": str(reset), "X-RateLimit-Name": "cases"}


def make_handler(state: FixedWindow, case_document: dict[str, Any]) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def log_message(self, *args: Any) -> None:
            pass

        def do_POST(self) -> None:
            with state.lock:
                state.in_flight += 1
                state.most_in_flight = max(state.most_in_flight, state.in_flight)
            try:
                body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
                allowed, headers = state.admit()
                if allowed:
                    title = json.loads(body)["data"]["attributes"]["title"]
                    with state.lock:
                        state.titles.append(title)
                    document = json.loads(json.dumps(case_document))
                    document["data"]["id"] = str(uuid.uuid4())
                    document["data"]["attributes"]["title"] = title
                    self._answer(201, document, headers)
                else:
                    self._answer(429, {"errors": ["Too many requests"]}, headers)
            finally:
                with state.lock:
                    state.in_flight -= 1

        def _answer(self, status: int, document: Any, headers: dict[str, str]) -> None:
            payload = json.dumps(document).encode()
            self.send_response(status)
            for name, value in headers.items():
                self.send_header(name, value)
            self.send_header("Content-Type", "application/json")
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

    return Handler


# -- the workers: each a process, started together -----------------------------------------------------


def _ours_threads(url: str, titles: list[str], concurrency: int) -> list[str]:
    from datadog_case_actions import Connection, Runner

    with Runner(Connection(base_url=url, **KEYS)) as runner:
        def one(title: str) -> str:
            try:
                runner.run("create_case", {"title": title, "type_id": TYPE_ID, "project_id": PROJECT_ID})
                return ""
            except Exception as exc:  # noqa: BLE001 - a failed create is what is counted
                return f"{type(exc).__name__}: {exc}"

        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, titles))


def _ours_async(url: str, titles: list[str], concurrency: int) -> list[str]:
    from datadog_case_actions import Connection, Runner

    async def go() -> list[str]:
        async with Runner(Connection(base_url=url, **KEYS), max_concurrency=concurrency) as runner:
            async def one(title: str) -> str:
                try:
                    await runner.arun("create_case", {"title": title, "type_id": TYPE_ID, "project_id": PROJECT_ID})
                    return ""
                except Exception as exc:  # noqa: BLE001
                    return f"{type(exc).__name__}: {exc}"

            return await asyncio.gather(*(one(t) for t in titles))  # all at once: the runner bounds them

    return asyncio.run(go())


def _sdk_threads(url: str, titles: list[str], concurrency: int) -> list[str]:
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.case_management_api import CaseManagementApi
    from datadog_api_client.v2.model.case_create import CaseCreate
    from datadog_api_client.v2.model.case_create_attributes import CaseCreateAttributes
    from datadog_api_client.v2.model.case_create_relationships import CaseCreateRelationships
    from datadog_api_client.v2.model.case_create_request import CaseCreateRequest
    from datadog_api_client.v2.model.case_resource_type import CaseResourceType
    from datadog_api_client.v2.model.project_relationship import ProjectRelationship
    from datadog_api_client.v2.model.project_relationship_data import ProjectRelationshipData
    from datadog_api_client.v2.model.project_resource_type import ProjectResourceType

    config = Configuration(host=url)
    config.api_key["apiKeyAuth"] = KEYS["api_key"]
    config.api_key["appKeyAuth"] = KEYS["app_key"]
    config.enable_retry = True  # the SDK's own 429 handling: waits X-RateLimit-Reset, up to max_retries
    with ApiClient(config) as client:
        api = CaseManagementApi(client)

        def one(title: str) -> str:
            body = CaseCreateRequest(data=CaseCreate(
                type=CaseResourceType.CASE, attributes=CaseCreateAttributes(title=title, type_id=TYPE_ID),
                relationships=CaseCreateRelationships(project=ProjectRelationship(data=ProjectRelationshipData(
                    id=PROJECT_ID, type=ProjectResourceType.PROJECT)))))
            try:
                api.create_case(body=body)
                return ""
            except Exception as exc:  # noqa: BLE001
                return f"{type(exc).__name__}: {str(exc).splitlines()[0][:100]}"

        with ThreadPoolExecutor(concurrency) as pool:
            return list(pool.map(one, titles))


WORKERS = {"ours-threads": _ours_threads, "ours-async": _ours_async, "sdk-threads": _sdk_threads}


def _worker(kind: str, url: str, titles: list[str], concurrency: int, ready: Any, go: Any, out: Any) -> None:
    import datadog_case_actions  # noqa: F401 - imported before the start line, like a warm worker

    if kind == "sdk-threads":
        import datadog_api_client.v2.api.case_management_api  # noqa: F401
    ready.release()
    go.wait()
    errors = WORKERS[kind](url, titles, concurrency)
    out.put((time.monotonic(), [e for e in errors if e]))


def run_configuration(kind: str, processes: int, creates: int, concurrency: int, limit: int,
                      period: float) -> dict[str, Any]:
    """Run one configuration against a fresh server; the figures as a dict."""
    from loopback import canned_bodies

    state = FixedWindow(limit, period)
    server = ThreadingHTTPServer(("127.0.0.1", 0), make_handler(state, json.loads(canned_bodies()["POST"])))
    server.daemon_threads = True
    threading.Thread(target=server.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True).start()
    url = f"http://127.0.0.1:{server.server_address[1]}"
    context = multiprocessing.get_context("spawn")
    ready, go, out = context.Semaphore(0), context.Event(), context.Queue()
    wanted = [[f"{kind}-{p}-{i}" for i in range(creates)] for p in range(processes)]
    workers = [context.Process(target=_worker, args=(kind, url, titles, concurrency, ready, go, out))
               for titles in wanted]
    for worker in workers:
        worker.start()
    for _ in workers:
        ready.acquire()
    started = time.monotonic()
    go.set()
    results = [out.get() for _ in workers]
    for worker in workers:
        worker.join()
    server.shutdown()
    server.server_close()
    elapsed = max(finished for finished, _ in results) - started
    created = state.titles
    intended = {t for titles in wanted for t in titles}
    errors = [e for _, errs in results for e in errs]
    return {
        "kind": kind, "requests": state.requests, "limited": state.limited,
        "created": len(set(created) & intended), "lost": len(intended - set(created)),
        "duplicated": len(created) - len(set(created)), "failed_calls": len(errors),
        "first_error": errors[0] if errors else "", "elapsed": elapsed,
        "ideal": processes * creates * period / limit, "most_in_flight": state.most_in_flight,
        "limited_at": state.limited_at,
    }


def _sdk_available() -> bool:
    try:
        import datadog_api_client  # noqa: F401
    except ImportError:
        return False
    return True


LABELS = {"ours-threads": "action runner, sync Runner on 8 threads",
          "ours-async": "action runner, arun, max_concurrency=8",
          "sdk-threads": "official SDK, 8 threads, retries on"}


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--processes", type=int, default=4)
    parser.add_argument("--creates", type=int, default=30, help="creates per process")
    parser.add_argument("--concurrency", type=int, default=8, help="calls in flight per process")
    parser.add_argument("--limit", type=int, default=20, help="requests per window")
    parser.add_argument("--period", type=float, default=2.0, help="window length in seconds")
    parser.add_argument("--verbose", action="store_true", help="also print when each 429 happened")
    parser.add_argument("--only", default="ours-threads,ours-async,sdk-threads")
    args = parser.parse_args(argv)
    total = args.processes * args.creates
    print(f"python {sys.version.split()[0]}, {args.processes} processes x {args.creates} creates, "
          f"concurrency {args.concurrency} each, fixed window {args.limit} requests / {args.period:g} s "
          f"(ideal {total * args.period / args.limit:.1f} s)")
    print("| configuration | created | lost | duplicated | 429s / requests | elapsed / ideal | most in flight |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    met = True
    for kind in args.only.split(","):
        label = LABELS[kind]
        if kind.startswith("sdk") and not _sdk_available():
            print(f"| {label} | skipped (datadog-api-client not importable; benchmarks/run installs it) | | | | | |")
            continue
        r = run_configuration(kind, args.processes, args.creates, args.concurrency, args.limit, args.period)
        share = r["limited"] / r["requests"] if r["requests"] else 0.0
        ratio = r["elapsed"] / r["ideal"]
        print(f"| {label} | {r['created']} of {total} | {r['lost']} | {r['duplicated']} | "
              f"{r['limited']} / {r['requests']} ({share:.0%}) | {r['elapsed']:.1f} s ({ratio:.2f}x) | "
              f"{r['most_in_flight']} |" + (f"  first failure: {r['first_error']}" if r["first_error"] else ""),
              flush=True)
        if args.verbose:
            print("  429s at (window, seconds into it):", r["limited_at"])
        if kind.startswith("ours"):
            met = met and r["lost"] == 0 and r["duplicated"] == 0 and share <= 0.05 and ratio <= 1.25
    print("targets (this package): 0 lost, 0 duplicated, 429s <= 5% of requests, elapsed <= 1.25x ideal:",
          "met" if met else "NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
