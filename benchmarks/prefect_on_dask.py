"""A Prefect flow on a Dask LocalCluster of processes, one rate limit: cases created, lost, duplicated, 429s, elapsed.

    benchmarks/prefect_dask [--creates 120] [--workers 4] [--threads 8] [--limit 20] [--period 2]

(``benchmarks/prefect_dask`` builds ``.venv-prefect-dask``: this package, the Prefect
of ``.ci/requirements-prefect.txt``, and ``prefect-dask`` + ``distributed`` pinned in
``.ci/requirements-prefect-dask.txt``, then runs this script with a throwaway
``PREFECT_HOME``.  Not named prefect_dask.py: its directory is first on sys.path, and
it would shadow the ``prefect_dask`` package it imports.)

One flow maps ``--creates`` ``tasks.create_case`` runs over a ``DaskTaskRunner``
backed by ``LocalCluster(processes=True, n_workers=--workers,
threads_per_worker=--threads)``, against a loopback server
(``tests/reliability/windowed.py``, as in ``benchmarks/ratelimit.py``) that
enforces a Datadog-style FIXED window (``--limit`` requests per ``--period``
seconds) and sends the five ``X-RateLimit-*`` headers.  Every create has a
unique title; lost (no case on the server) and duplicated (a title created twice)
are counted from what the server created.  "ideal" is ``creates x period / limit``;
elapsed is the mapped phase inside the flow (the cluster is already up).

Prefect runs on its ephemeral API: the parent starts it once and the Dask worker
processes are pointed at the same one (``PREFECT_API_URL``), so a Prefect global
rate limit is shared by every worker process.  Configurations: (a) the door's
default settings (a credentials block saved by name with only keys and
``base_url``); (b) the same block with ``rate_limit_name`` naming a Prefect global
concurrency limit with slot decay (``--gcl-limit`` slots, ``--gcl-decay`` a second);
and, first, a floor: the same flow against a server without a limit, what Prefect
and Dask cost on their own (not held to the targets).  "first to last request" is
the span the server saw, without the flow's start-up.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import logging
import os
import sys
import tempfile
import time
import uuid
from collections.abc import Iterator
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT / "benchmarks"))
sys.path.insert(0, str(ROOT / "tests" / "reliability"))  # windowed.py: the server the reliability tests use too

# Before anything imports prefect: its ephemeral API and a throwaway home, unless the caller set them
# (benchmarks/prefect_dask does, like .ci/suite-prefect).  Worker processes inherit this environment.
if not os.environ.get("PREFECT_HOME"):
    os.environ["PREFECT_HOME"] = tempfile.mkdtemp(prefix="prefect-home-")
os.environ.pop("PREFECT_API_URL", None)
os.environ.setdefault("PREFECT_SERVER_ALLOW_EPHEMERAL_MODE", "true")
os.environ.setdefault("PREFECT_SERVER_ANALYTICS_ENABLED", "false")
os.environ.setdefault("PREFECT_SERVER_EPHEMERAL_STARTUP_TIMEOUT_SECONDS", "120")
os.environ.setdefault("PREFECT_LOGGING_LEVEL", "ERROR")  # the table, not 120 task runs' logs

KEYS = {"api_key": "bench-api-key", "app_key": "bench-app-key"}
TYPE_ID = "00000000-0000-0000-0000-000000000001"
PROJECT_ID = "00000000-0000-0000-0000-000000000002"


@contextlib.contextmanager
def _shared_ephemeral_api() -> Iterator[None]:
    """Start Prefect's ephemeral API here and point this process and the Dask workers at it.

    Left alone, each worker process would start an ephemeral server of its own on the
    same SQLite file; one server is what a real deployment has, and what makes a global
    limit global.
    """
    from prefect.server.api.server import SubprocessASGIServer
    from prefect.settings import PREFECT_API_URL, temporary_settings

    server = SubprocessASGIServer()
    server.start()
    os.environ["PREFECT_API_URL"] = server.api_url  # inherited by the worker processes
    try:
        with temporary_settings(updates={PREFECT_API_URL: server.api_url}):  # this process
            yield
    finally:
        server.stop()


def _global_limit(name: str, limit: int, per_second: float) -> None:
    from prefect import get_client
    from prefect.client.schemas.actions import GlobalConcurrencyLimitCreate

    with get_client(sync_client=True) as client:
        client.create_global_concurrency_limit(
            GlobalConcurrencyLimitCreate(name=name, limit=limit, slot_decay_per_second=per_second))


def run_configuration(kind: str, args: argparse.Namespace) -> dict[str, Any]:
    """One flow run of configuration *kind* against a fresh server; the figures as a dict."""
    from loopback import canned_bodies
    from prefect import flow, unmapped
    from prefect_dask import DaskTaskRunner
    from windowed import WindowedServer

    from datadog_case_actions.adapters.prefect import DatadogCasesCredentials, tasks

    paced = kind == "prefect-rate-limit"
    limit = 10**9 if kind == "floor" else args.limit  # the floor: the same flow with nothing to wait for
    state = WindowedServer(limit, args.period, document=json.loads(canned_bodies()["POST"]))
    block = DatadogCasesCredentials(base_url=state.url, **KEYS)
    if paced:
        gcl = f"dd-cases-{uuid.uuid4().hex[:8]}"
        _global_limit(gcl, args.gcl_limit, args.gcl_decay)
        block = block.model_copy(update={"rate_limit_name": gcl})
    name = f"bench-{uuid.uuid4().hex[:8]}"
    block.save(name)
    titles = [f"{kind}-{i:03d}" for i in range(args.creates)]
    runner = DaskTaskRunner(cluster_class="distributed.LocalCluster", cluster_kwargs={
        "processes": True, "n_workers": args.workers, "threads_per_worker": args.threads,
        "dashboard_address": ":0", "silence_logs": logging.ERROR})

    @flow(task_runner=runner)
    def mapped_creates() -> tuple[float, list[str]]:
        started = time.monotonic()
        futures = tasks.create_case.map(credentials=unmapped(name), title=titles, type_id=TYPE_ID,
                                        project_id=PROJECT_ID)
        futures.wait()
        elapsed = time.monotonic() - started
        return elapsed, [str(f.state.message) for f in futures if not f.state.is_completed()]

    elapsed, failures = mapped_creates()
    state.stop()
    created = state.titles
    return {
        "requests": state.requests, "limited": state.limited,
        "created": len(set(created) & set(titles)), "lost": len(set(titles) - set(created)),
        "duplicated": len(created) - len(set(created)), "failed_runs": len(failures),
        "first_error": failures[0] if failures else "", "elapsed": elapsed,
        "ideal": args.creates * args.period / args.limit, "most_in_flight": state.most_in_flight,
        # first request in to last answer out, as the server saw them: the flow's time minus Prefect's start-up
        "span": max(end for _, end in state.spans) - min(start for start, _ in state.spans) if state.spans else 0.0,
    }


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--creates", type=int, default=120, help="mapped create_case task runs")
    parser.add_argument("--workers", type=int, default=4, help="Dask worker processes")
    parser.add_argument("--threads", type=int, default=8, help="threads per Dask worker")
    parser.add_argument("--limit", type=int, default=20, help="requests per window")
    parser.add_argument("--period", type=float, default=2.0, help="window length in seconds")
    parser.add_argument("--gcl-limit", type=int, default=4, help="(b): slots of the Prefect rate limit")
    parser.add_argument("--gcl-decay", type=float, default=9.0, help="(b): its slots freed per second")
    parser.add_argument("--only", default="floor,default,prefect-rate-limit")
    args = parser.parse_args(argv)
    with _shared_ephemeral_api():
        return _table(args)


def _table(args: argparse.Namespace) -> int:
    from importlib.metadata import version

    ideal = args.creates * args.period / args.limit
    print(f"python {sys.version.split()[0]}, prefect {version('prefect')}, prefect-dask {version('prefect-dask')}, "
          f"distributed {version('distributed')}; one flow mapping {args.creates} "
          f"create_case over LocalCluster(processes=True, n_workers={args.workers}, "
          f"threads_per_worker={args.threads}); fixed window {args.limit} requests / {args.period:g} s "
          f"(ideal {ideal:.1f} s)")
    import distributed  # noqa: F401 - its import sets its loggers' levels; quieten them after it

    logging.getLogger("distributed").setLevel(logging.ERROR)  # the scheduler's and nannies' chatter (this process)
    labels = {"floor": "(floor) the same flow, server without a limit",
              "default": "(a) door defaults (block by name, max_attempts=4)",
              "prefect-rate-limit": f"(b) + Prefect rate limit {args.gcl_limit} slots, {args.gcl_decay:g}/s"}
    print("| configuration | created | lost | duplicated | 429s / requests | elapsed / ideal | "
          "first to last request | failed task runs |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- |")
    met = True
    for kind in args.only.split(","):
        r = run_configuration(kind, args)
        share = r["limited"] / r["requests"] if r["requests"] else 0.0
        ratio = r["elapsed"] / r["ideal"]
        print(f"| {labels[kind]} | {r['created']} of {args.creates} | {r['lost']} | {r['duplicated']} | "
              f"{r['limited']} / {r['requests']} ({share:.0%}) | {r['elapsed']:.1f} s ({ratio:.2f}x) | "
              f"{r['span']:.1f} s | {r['failed_runs']} |"
              + (f"  first failure: {r['first_error']}" if r["first_error"] else ""), flush=True)
        if kind == "floor":
            continue
        met = met and r["lost"] == 0 and r["duplicated"] == 0 and share <= 0.05 and ratio <= 1.25
    print("targets: 0 lost, 0 duplicated, 429s <= 5% of requests, elapsed <= 1.25x ideal:",
          "met" if met else "NOT met")
    return 0 if met else 1


if __name__ == "__main__":
    sys.exit(main())
