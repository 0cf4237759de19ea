"""An MCP server offering every action as a tool (75, where Datadog's own MCP server offers 9 case tools).

    python -m datadog_case_actions.adapters.mcp            # stdio; credentials from DD_* variables
    python -m datadog_case_actions.adapters.mcp --sandbox  # on the embedded sandbox
    dd-cases mcp [--profile all|read-only|additive] [--group G,...] [--tools NAME,...]
                 [--output-schema compact|full|none] [--list-tools] [--sandbox [--sandbox-path FILE]]

Each tool is named after the action (``create_case``), with a description
generated from its manifest, its input schema and an output schema (what each
part holds, and why it is that size: ``mcp_tools``), and the annotations
read-only / idempotent from the manifest's effect and destructive from its
``overwrites`` (true for anything but a purely additive write).  The options
choose which tools are served (a tool left out is refused as unknown) and how
much output schema each declares: by default only the result's member names,
so that all 75 tools cost an agent under 20k tokens (docs/mcp.md).  Failures
come back as tool errors (``isError``) carrying the error's JSON description,
never a key.  Built on the ``mcp`` package (extra ``[mcp]``), version 2.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import sys
from collections.abc import Mapping, Sequence
from typing import Any

from mcp import types
from mcp.server.lowlevel import Server

from .. import __version__, registry
from ..runtime.connection import Connection
from ..runtime.errors import ActionError
from ..runtime.runner import Runner
from . import mcp_tools
from .mcp_tools import (
    OUTPUT_SCHEMAS,
    PROFILES,
    describe_tool,
    describe_tools,
    input_schema,
    overwrites,
    select,
    tool_name,
)

__all__ = ["build_server", "tool_for", "served_manifests", "list_tools_result", "main"]


def tool_for(manifest: Mapping[str, Any], output_schema: str = "compact", description: str | None = None) -> types.Tool:
    """The MCP tool of one action manifest (*description*: from ``describe_tools`` of all the served ones)."""
    return types.Tool(
        name=tool_name(manifest),
        title=manifest["title"],
        description=description if description is not None else describe_tool(manifest, {}),
        input_schema=input_schema(manifest),
        output_schema=mcp_tools.output_schema(manifest, output_schema),
        # openWorldHint is left to its default (true) and the title is the tool's own: tokens saved per tool
        annotations=types.ToolAnnotations(
            read_only_hint=manifest["effect"] == "read",
            # MCP reserves false for purely additive writes: clients auto-approve those.
            destructive_hint=overwrites(manifest),
            idempotent_hint=bool(manifest["idempotent"]),
        ),
    )


def served_manifests(profile: str = "all", groups: Sequence[str] = (),
                     tools: Sequence[str] = ()) -> dict[str, Mapping[str, Any]]:
    """Tool name -> manifest of the installed actions a server with these options serves."""
    manifests = [registry.describe(info.id) for info in registry.list_actions()]
    return {tool_name(m): m for m in select(manifests, profile, groups, tools)}


def list_tools_result(served: Mapping[str, Mapping[str, Any]], output_schema: str = "compact") -> types.ListToolsResult:
    """The ``tools/list`` answer for the *served* manifests."""
    descriptions = describe_tools(served)
    return types.ListToolsResult(tools=[tool_for(m, output_schema, descriptions[name]) for name, m in served.items()])


def build_server(runner: Runner, *, profile: str = "all", groups: Sequence[str] = (), tools: Sequence[str] = (),
                 output_schema: str = "compact") -> Server[Any]:
    """A low-level MCP server whose tools (chosen by *profile*, *groups* and *tools*) run through *runner*."""
    served = served_manifests(profile, groups, tools)
    listing = list_tools_result(served, output_schema)

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return listing

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        manifest = served.get(params.name)
        if manifest is None:  # also a tool this profile leaves out: it is not served, whatever the client asks
            return _error({"error": "UnknownTool", "message": f"no tool named {params.name!r}"})
        try:
            result = await runner.arun(manifest["id"], dict(params.arguments or {}))
        except ActionError as exc:
            return _error(exc.to_dict())
        structured = result if isinstance(result, dict) else {"result": result}
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(structured))],
                                    structured_content=structured)

    return Server("datadog-case-actions", version=__version__, title="Datadog Case Management actions",
                  instructions=INSTRUCTIONS, on_list_tools=list_tools, on_call_tool=call_tool)


#: sent once per session: what every tool description would otherwise repeat
INSTRUCTIONS = ("Datadog Case Management API operations as tools. Case ids accept keys like OPS-12. Results are "
                "JSON:API documents (data.id, data.attributes, data.relationships). Tools that change or delete "
                "existing data are destructive: confirm with the user first.")


def _error(payload: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(payload))], is_error=True)


async def _serve_stdio(runner: Runner, **options: Any) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(runner, **options)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def _names(text: str) -> list[str]:
    return [name.strip() for name in text.split(",") if name.strip()]


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="dd-cases mcp",
        description="Serve Case Management actions as MCP tools over stdio. Credentials come from "
                    "DD_API_KEY/DD_APP_KEY (or DD_ACCESS_TOKEN) and DD_SITE, as for every other door. "
                    "--profile, --group and --tools all apply: a tool is served when it passes each one given.",
        epilog="examples: dd-cases mcp --profile read-only | dd-cases mcp --group cases,projects | "
               "dd-cases mcp --tools get_case,search_cases --output-schema full. "
               "Token figures per option: docs/mcp.md.")
    parser.add_argument("--sandbox", action="store_true", help="serve the tools on the embedded sandbox")
    parser.add_argument("--sandbox-path", metavar="FILE", help="the sandbox database (default: the per-user file)")
    parser.add_argument("--site", help="Datadog site (overrides DD_SITE)")
    parser.add_argument("--profile", choices=list(PROFILES), default="all",
                        help="all (default) tools; read-only: only reads; additive: reads and writes that "
                             "only add (no update, remove or delete)")
    groups = sorted({info.group for info in registry.list_actions()})
    parser.add_argument("--group", type=_names, default=[], metavar="G[,G...]",
                        help="only the tools of these groups: " + ", ".join(groups))
    parser.add_argument("--tools", type=_names, default=[], metavar="NAME[,NAME...]",
                        help="only these tools (get_case,search_cases,...)")
    parser.add_argument("--output-schema", choices=list(OUTPUT_SCHEMAS), default="compact",
                        help="compact (default): the member names of each result, two levels deep; full: the "
                             "whole (loosened) schema, for clients that want it; none: no output schema")
    parser.add_argument("--list-tools", action="store_true",
                        help="print the tools/list answer as JSON and exit (no connection needed)")
    args = parser.parse_args(argv)
    try:
        served = served_manifests(args.profile, args.group, args.tools)
    except ValueError as exc:
        parser.error(str(exc))
    if args.list_tools:
        # as the server writes it to the wire
        text = list_tools_result(served, args.output_schema).model_dump_json(by_alias=True, exclude_unset=True,
                                                                             exclude_none=True)
        try:
            print(text, flush=True)
        except BrokenPipeError:  # `| head`: the reader has what it wanted; exit's flush must not fail again
            os.dup2(os.open(os.devnull, os.O_WRONLY), sys.stdout.fileno())
        return 0
    options: dict[str, Any] = {}
    if args.site:
        options["site"] = args.site
    if args.sandbox:
        options["site"] = "sandbox"
    if args.sandbox_path:
        options["sandbox_path"] = args.sandbox_path
    try:
        connection = Connection.from_env(**options)
        connection.check()
    except ActionError as exc:
        print(f"dd-cases mcp: {exc}", file=sys.stderr)
        return 2
    runner = Runner(connection)
    try:
        asyncio.run(_serve_stdio(runner, profile=args.profile, groups=args.group, tools=args.tools,
                                 output_schema=args.output_schema))
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
