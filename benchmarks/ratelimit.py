"""Many worker processes, one rate limit: cases created, lost and duplicated, 429s, elapsed against the ideal.

    python benchmarks/ratelimit.py [--processes 4] [--creates 30] [--concurrency 8] [--limit 20] [--period 2]
    .venv-bench/bin/python benchmarks/ratelimit.py     # with the official SDK beside it (benchmarks/run builds it)

A loopback server in this process (``tests/reliability/windowed.py``, the one the
reliability tests use) enforces a Datadog-style FIXED window (windows of
``--period`` seconds from the server's start, ``--limit`` requests each, 429
beyond) and answers every request with the five ``X-RateLimit-*`` headers
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
import multiprocessing
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))  # windowed.py: the server the reliability tests use too
KEYS = {"api_key": "bench-api-key", "app_key": "bench-app-key"}
TYPE_ID = "00000000-0000-0000-0000-000000000001"
PROJECT_ID = "00000000-0000-0000-0000-000000000002"


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
    from windowed import WindowedServer

    state = WindowedServer(limit, period, document=json.loads(canned_bodies()["POST"]))
    url = state.url
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
    state.stop()
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
