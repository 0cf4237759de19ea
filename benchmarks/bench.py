"""Benchmarks: the action runner beside a bare httpx client and the official SDK.

    python benchmarks/run             # creates .venv-bench (package + datadog-api-client), runs this
    python benchmarks/bench.py [--quick] [--only percall,cold,fanout,paging]

Prints one table.  Every figure is a median over interleaved rounds, measured
in one run on this machine against a keep-alive loopback server (so the
clients, not the network, are compared).  Ratios matter, not absolute times.
Targets (from the project's issue): per call <= 1.10x bare httpx; cold listing
<= 0.5x importing the SDK's case module; cold single action <= 1.0x that
import; async fan-out >= 1.5x the SDK's async throughput; paging 50,000 cases
grows peak memory by <= 50 MB.
"""

from __future__ import annotations

import argparse
import asyncio
import gc
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Any, Callable, Iterator

ROOT = Path(__file__).resolve().parent.parent
#: the catalogue size, from the generated index
ACTION_COUNT = len(json.loads((ROOT / "manifests" / "index.json").read_text(encoding="utf-8"))["actions"])
PY = sys.executable
KEYS = {"DD_API_KEY": "bench-api-key", "DD_APP_KEY": "bench-app-key"}
CREATE_INPUTS = {"title": "Disk full on db-1", "type_id": "00000000-0000-0000-0000-000000000001",
                 "project_id": "00000000-0000-0000-0000-000000000002", "priority": "P2",
                 "description": "Disk usage above 95% for 10 minutes"}


@contextmanager
def _server_process(argv: list[str], tries: int = 500) -> Iterator[str]:
    """Run a server in its own process (its own core on a 2-core machine) that writes its port to
    the file named by the ``{port_file}`` placeholder in *argv*; yield its URL."""
    with tempfile.TemporaryDirectory() as tmp:
        port_file = Path(tmp) / "port"
        proc = subprocess.Popen([a.replace("{port_file}", str(port_file)) for a in argv],
                                env={**os.environ, "PYTHONPATH": str(ROOT)})
        try:
            for _ in range(tries):
                if port_file.exists() and port_file.read_text():
                    break
                time.sleep(0.02)
            yield f"http://127.0.0.1:{port_file.read_text()}"
        finally:
            proc.terminate()
            proc.wait()


def loopback_server() -> Any:
    """The canned keep-alive server."""
    return _server_process([PY, str(ROOT / "benchmarks" / "loopback.py"), "{port_file}"])


def sandbox_server(path: str) -> Any:
    """The sandbox's HTTP server on the database at *path*."""
    code = ("import sys; from datadog_case_actions.sandbox import Sandbox, SandboxServer\n"
            f"sb = Sandbox({path!r}); server = SandboxServer(sb, '127.0.0.1', 0)\n"
            "open(sys.argv[1], 'w').write(str(server.server_address[1]))\n"
            "server.serve_forever(poll_interval=0.05)\n")
    return _server_process([PY, "-c", code, "{port_file}"])


def per_call(fn: Callable[[], Any], calls: int) -> float:
    started = time.perf_counter()
    for _ in range(calls):
        fn()
    return (time.perf_counter() - started) / calls


def interleaved(contenders: dict[str, Callable[[], Any]], calls: int, rounds: int) -> dict[str, list[float]]:
    """Seconds per call of each contender in every round.  Rounds are interleaved, and every other
    round runs the contenders in reverse order, so drift and warm-up hit all alike."""
    samples: dict[str, list[float]] = {name: [] for name in contenders}
    for fn in contenders.values():  # warm up: connections open, caches filled
        per_call(fn, 50)
    names = list(contenders)
    for index in range(rounds):
        for name in (names if index % 2 == 0 else names[::-1]):
            gc.collect()
            samples[name].append(per_call(contenders[name], calls))
    return samples


def paired_ratio(mine: list[float], base: list[float]) -> tuple[float, float, float]:
    """Median, lower and upper quartile of the per-round ratios (each round compared with itself)."""
    ratios = sorted(m / b for m, b in zip(mine, base))
    q = statistics.quantiles(ratios, n=4) if len(ratios) >= 4 else [ratios[0], statistics.median(ratios), ratios[-1]]
    return statistics.median(ratios), q[0], q[2]


def official_api(url: str) -> Any:
    from datadog_api_client import ApiClient, Configuration
    from datadog_api_client.v2.api.case_management_api import CaseManagementApi

    config = Configuration(host=url)
    config.api_key["apiKeyAuth"] = KEYS["DD_API_KEY"]
    config.api_key["appKeyAuth"] = KEYS["DD_APP_KEY"]
    config.enable_retry = False
    return CaseManagementApi(ApiClient(config))


def official_create_body() -> Any:
    from datadog_api_client.v2.model.case_create import CaseCreate
    from datadog_api_client.v2.model.case_create_attributes import CaseCreateAttributes
    from datadog_api_client.v2.model.case_create_relationships import CaseCreateRelationships
    from datadog_api_client.v2.model.case_create_request import CaseCreateRequest
    from datadog_api_client.v2.model.case_priority import CasePriority
    from datadog_api_client.v2.model.case_resource_type import CaseResourceType
    from datadog_api_client.v2.model.project_relationship import ProjectRelationship
    from datadog_api_client.v2.model.project_relationship_data import ProjectRelationshipData
    from datadog_api_client.v2.model.project_resource_type import ProjectResourceType

    return CaseCreateRequest(data=CaseCreate(
        type=CaseResourceType.CASE,
        attributes=CaseCreateAttributes(title=CREATE_INPUTS["title"], type_id=CREATE_INPUTS["type_id"],
                                        priority=CasePriority.P2, description=CREATE_INPUTS["description"]),
        relationships=CaseCreateRelationships(project=ProjectRelationship(data=ProjectRelationshipData(
            id=CREATE_INPUTS["project_id"], type=ProjectResourceType.PROJECT))),
    ))


def bench_per_call(rows: list[tuple[str, str, str]], quick: bool) -> None:
    import httpx

    from datadog_case_actions import Connection, Runner

    calls, rounds = (200, 6) if quick else (300, 40)
    with loopback_server() as url:
        headers = {"DD-API-KEY": KEYS["DD_API_KEY"], "DD-APPLICATION-KEY": KEYS["DD_APP_KEY"],
                   "Accept": "application/json"}
        bare = httpx.Client(base_url=url, headers=headers)
        runner = Runner(Connection(api_key=KEYS["DD_API_KEY"], app_key=KEYS["DD_APP_KEY"], base_url=url))
        body = {"data": {"type": "case", "attributes": {k: CREATE_INPUTS[k] for k in
                                                         ("title", "type_id", "priority", "description")},
                         "relationships": {"project": {"data": {"id": CREATE_INPUTS["project_id"],
                                                                "type": "project"}}}}}
        contenders = {
            "GetCase: bare httpx": lambda: bare.get("/api/v2/cases/OPS-1").json(),
            "GetCase: action runner": lambda: runner.run("get_case", {"case_id": "OPS-1"}),
            "CreateCase: bare httpx": lambda: bare.post("/api/v2/cases", json=body).json(),
            "CreateCase: action runner": lambda: runner.run("create_case", CREATE_INPUTS),
        }
        try:
            api = official_api(url)
            create_body = official_create_body()
            contenders["GetCase: official SDK"] = lambda: api.get_case("OPS-1")
            contenders["CreateCase: official SDK"] = lambda: api.create_case(body=create_body)
        except ImportError:
            pass
        samples = interleaved(contenders, calls, rounds)
        runner.close()
        bare.close()
    for op in ("GetCase", "CreateCase"):
        base = samples[f"{op}: bare httpx"]
        for name, values in samples.items():
            if name.startswith(op):
                who = name.split(": ", 1)[1]
                target = "<= 1.10x" if who == "action runner" else ""
                ratio, low, high = paired_ratio(values, base)
                rows.append((f"per call, {op}, {who}",
                             f"{statistics.median(values) * 1e6:.0f} us ({ratio:.2f}x bare, IQR {low:.2f}-{high:.2f})",
                             target))


COLD_PY = PY  # see --cold-python


def cold(code: str, runs: int, env: dict[str, str] | None = None) -> float:
    samples = []
    for _ in range(runs):
        started = time.perf_counter()
        subprocess.run([COLD_PY, "-c", code], check=True, env={**os.environ, **(env or {})})
        samples.append(time.perf_counter() - started)
    return statistics.median(samples)


def bench_cold(rows: list[tuple[str, str, str]], quick: bool) -> None:
    runs = 6 if quick else 21
    listing = ("from datadog_case_actions import list_actions, describe\n"
               "schemas = [describe(a.id)['input_schema'] for a in list_actions()]\n"
               "from datadog_case_actions.manifest import load_index\n"
               "assert len(schemas) == len(load_index()['actions'])")
    sdk = "import datadog_api_client.v2.api.case_management_api"
    with loopback_server() as url:
        one = ("from datadog_case_actions import run, Connection\n"
               f"run('get_case', {{'case_id': 'OPS-1'}}, connection=Connection.from_env(base_url={url!r}))")
        samples: dict[str, list[float]] = {"list": [], "sdk": [], "one": []}
        for _ in range(runs):  # interleaved, one process each
            samples["list"].append(cold(listing, 1))
            samples["one"].append(cold(one, 1, KEYS))
            try:
                samples["sdk"].append(cold(sdk, 1))
            except subprocess.CalledProcessError:
                pass
    empty = cold("pass", runs)
    medians = {k: statistics.median(v) for k, v in samples.items() if v}
    rows.append(("cold: python -c pass", f"{empty * 1e3:.0f} ms", ""))
    if "sdk" in medians:
        rows.append(("cold: import the SDK's case_management_api", f"{medians['sdk'] * 1e3:.0f} ms", ""))
        for key, label, target in (("list", f"cold: list {ACTION_COUNT} actions with input schemas", "<= 0.50x"),
                                   ("one", "cold: run one action (GetCase)", "<= 1.00x")):
            ratio, low, high = paired_ratio(samples[key], samples["sdk"])
            rows.append((label, f"{medians[key] * 1e3:.0f} ms ({ratio:.2f}x SDK import, IQR {low:.2f}-{high:.2f})",
                         target))


async def _fanout_ours(url: str, total: int, concurrency: int) -> float:
    from datadog_case_actions import Connection, Runner

    # The semaphore below sets the concurrency, as for the SDK: lift the runner's default async bound.
    async with Runner(Connection(api_key=KEYS["DD_API_KEY"], app_key=KEYS["DD_APP_KEY"], base_url=url),
                      max_concurrency=concurrency) as runner:
        await runner.arun("get_case", {"case_id": "OPS-0"})
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await runner.arun("get_case", {"case_id": f"OPS-{i}"})

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        return total / (time.perf_counter() - started)


async def _fanout_sdk(url: str, total: int, concurrency: int) -> float:
    from datadog_api_client import AsyncApiClient, Configuration
    from datadog_api_client.v2.api.case_management_api import CaseManagementApi

    config = Configuration(host=url)
    config.api_key["apiKeyAuth"] = KEYS["DD_API_KEY"]
    config.api_key["appKeyAuth"] = KEYS["DD_APP_KEY"]
    async with AsyncApiClient(config) as client:
        api = CaseManagementApi(client)
        await api.get_case("OPS-0")
        gate = asyncio.Semaphore(concurrency)

        async def one(i: int) -> None:
            async with gate:
                await api.get_case(f"OPS-{i}")

        started = time.perf_counter()
        await asyncio.gather(*(one(i) for i in range(total)))
        return total / (time.perf_counter() - started)


def bench_fanout(rows: list[tuple[str, str, str]], quick: bool) -> None:
    total, rounds = (1000, 4) if quick else (1000, 12)
    ours: list[float] = []
    sdk: list[float] = []
    with loopback_server() as url:
        for index in range(rounds):  # alternate who goes first
            pair = [("ours", _fanout_ours), ("sdk", _fanout_sdk)]
            for who, fn in (pair if index % 2 == 0 else pair[::-1]):
                try:
                    (ours if who == "ours" else sdk).append(asyncio.run(fn(url, total, 50)))
                except ImportError:
                    pass
    mine = statistics.median(ours)
    if sdk:
        theirs = statistics.median(sdk)
        ratio, low, high = paired_ratio([1 / x for x in sdk], [1 / x for x in ours])
        rows.append(("fan-out: 1,000 GetCase, concurrency 50, official SDK async", f"{theirs:.0f} calls/s", ""))
        rows.append(("fan-out: 1,000 GetCase, concurrency 50, action runner async",
                     f"{mine:.0f} calls/s ({ratio:.2f}x SDK, IQR {low:.2f}-{high:.2f})", ">= 1.50x"))
    else:
        rows.append(("fan-out: 1,000 GetCase, concurrency 50, action runner async", f"{mine:.0f} calls/s", ""))


PAGING_CHILD = """
import resource, sys, time
from datadog_case_actions import Connection, Runner
url, expected = sys.argv[1], int(sys.argv[2])
runner = Runner(Connection(api_key="k", app_key="a", base_url=url))
runner.run("get_projects")  # everything imported, pool open
before = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
started = time.perf_counter()
count = sum(1 for _ in runner.iterate("search_cases", {"page_size": 100}))
elapsed = time.perf_counter() - started
after = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
assert count == expected, (count, expected)
print(count, (after - before) / 1024, elapsed)
"""


def bench_paging(rows: list[tuple[str, str, str]], quick: bool) -> None:
    total = 5_000 if quick else 50_000
    with tempfile.TemporaryDirectory() as tmp:
        db = str(Path(tmp) / "paging.sqlite3")
        seeded = time.perf_counter()
        from datadog_case_actions.sandbox.bulk import seed_cases

        seed_cases(db, total)
        seeded = time.perf_counter() - seeded
        with sandbox_server(db) as url:
            out = subprocess.run([PY, "-c", PAGING_CHILD, url, str(total)], check=True, capture_output=True,
                                 text=True, env={**os.environ, "PYTHONPATH": str(ROOT)}).stdout.split()
    count, grown, elapsed = int(out[0]), float(out[1]), float(out[2])
    rows.append((f"paging: iterate {count:,} cases, 100 per page, from the sandbox server",
                 f"peak RSS +{grown:.1f} MB, {elapsed:.1f} s", "<= 50 MB"))


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true", help="fewer rounds and a smaller paging set (a smoke run)")
    parser.add_argument("--only", default="percall,cold,fanout,paging", help="comma-separated sections to run")
    parser.add_argument("--cold-python", default=PY,
                        help="interpreter for the cold-start processes (benchmarks/run uses an environment with the "
                             "SDK but without its async extra, whose h2 package httpcore would import at startup)")
    args = parser.parse_args(argv)
    global COLD_PY
    COLD_PY = args.cold_python
    sections = {"percall": bench_per_call, "cold": bench_cold, "fanout": bench_fanout, "paging": bench_paging}
    rows: list[tuple[str, str, str]] = []
    for name in args.only.split(","):
        sections[name.strip()](rows, args.quick)
    import platform

    import httpx

    print(f"python {platform.python_version()}, httpx {httpx.__version__}, {os.cpu_count()} cpus, "
          f"{'quick' if args.quick else 'full'} run, cold starts with {COLD_PY}")
    width = max(len(r[0]) for r in rows)
    print(f"| {'measure'.ljust(width)} | result | target |")
    print(f"| {'-' * width} | --- | --- |")
    for measure, result, target in rows:
        print(f"| {measure.ljust(width)} | {result} | {target} |")
    return 0


if __name__ == "__main__":
    sys.exit(main())
