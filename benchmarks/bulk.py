"""How long 1,000 creates take through `dd-cases bulk` against the sandbox server, beside a shell loop.

    python benchmarks/bulk.py [--lines 1000] [--loop 20]

Starts `dd-cases serve` on a free loopback port with a fresh database, creates a project, then
times (1) one `dd-cases bulk create_case` process for all lines and (2) `--loop` separate
`dd-cases run create_case` processes (what a shell loop does), extrapolated to the same count.
Prints figures; asserts nothing about time.
"""

from __future__ import annotations

import argparse
import json
import os
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

CASE_TYPE = "00000000-0000-0000-0000-000000000001"
DD = [sys.executable, "-m", "datadog_case_actions"]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--lines", type=int, default=1000)
    parser.add_argument("--loop", type=int, default=20)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        port = probe.getsockname()[1]
    with tempfile.TemporaryDirectory() as tmp:
        server = subprocess.Popen([*DD, "serve", "--port", str(port), "--db", str(Path(tmp) / "bench.sqlite3")],
                                  stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        env = {**os.environ, "DD_API_KEY": "bench", "DD_APP_KEY": "bench", "DD_BASE_URL": f"http://127.0.0.1:{port}"}
        env.pop("DD_SITE", None)
        try:
            for _ in range(100):
                try:
                    socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
                    break
                except OSError:
                    time.sleep(0.1)
            made = subprocess.run([*DD, "run", "create_project", "key=BENCH", "name=Bench", "-o", "json"],
                                  env=env, capture_output=True, text=True, check=True)
            project = json.loads(made.stdout)["data"]["id"]
            lines = "".join(json.dumps({"title": f"alert {n}", "type_id": CASE_TYPE, "project_id": project}) + "\n"
                            for n in range(args.lines))
            start = time.perf_counter()
            bulk = subprocess.run([*DD, "bulk", "create_case", "-", "--concurrency", str(args.concurrency)],
                                  input=lines, env=env, capture_output=True, text=True)
            bulk_s = time.perf_counter() - start
            ok = sum(1 for line in bulk.stdout.splitlines() if json.loads(line)["ok"])
            start = time.perf_counter()
            for n in range(args.loop):
                subprocess.run([*DD, "run", "create_case", f"title=loop {n}", f"type_id={CASE_TYPE}",
                                f"project_id={project}", "-o", "json"], env=env, capture_output=True, check=True)
            loop_s = (time.perf_counter() - start) / args.loop * args.lines
        finally:
            server.terminate()
            server.wait(timeout=10)
    print(f"| measure | result |\n| --- | --- |")
    print(f"| dd-cases bulk, {args.lines} creates, concurrency {args.concurrency} | {bulk_s:.1f} s "
          f"({ok} ok, {args.lines / bulk_s:.0f} creates/s) |")
    print(f"| shell loop of dd-cases run, extrapolated from {args.loop} | {loop_s:.1f} s "
          f"({loop_s / bulk_s:.0f}x the bulk run) |")


if __name__ == "__main__":
    main()
