"""An MCP server offering every action as a tool (75, where Datadog's own MCP server offers 9 case tools).

    python -m datadog_case_actions.adapters.mcp            # stdio; credentials from DD_* variables
    python -m datadog_case_actions.adapters.mcp --sandbox  # on the embedded sandbox
    dd-cases mcp [--sandbox [--sandbox-path FILE]]          # the same

Each tool is named after the action (``create_case``), described by its
manifest, takes the manifest's input schema and declares an output schema,
with the annotations read-only / destructive / idempotent from the manifest's
effect.  The declared output schema is the manifest's, loosened (no enums, no
required members, nullable values) because clients validate structured
results against it and the live API returns more than the reference
documents: a successful call must never be rejected for that.  Failures come
back as tool errors (``isError``) carrying the error's JSON description, never
a key.  Built on the ``mcp`` package (extra ``[mcp]``), version 2.
"""

from __future__ import annotations

import argparse
import asyncio
import copy
import json
import sys
from typing import Any, Sequence

from mcp import types
from mcp.server.lowlevel import Server

from .. import __version__, registry
from ..runtime.connection import Connection
from ..runtime.errors import ActionError
from ..runtime.runner import Runner

__all__ = ["build_server", "tool_for", "main"]


def _loosen(schema: Any) -> Any:
    """A schema every real answer satisfies: structure and descriptions kept, constraints dropped."""
    if isinstance(schema, list):
        return [_loosen(s) for s in schema]
    if not isinstance(schema, dict):
        return schema
    out: dict[str, Any] = {}
    for key, value in schema.items():
        if key in ("required", "format", "pattern", "minLength", "maxLength", "minimum", "maximum",
                   "minItems", "maxItems", "maxProperties", "const"):
            continue
        if key == "enum":
            note = "Known values: " + ", ".join(map(str, value)) + "."
            out["description"] = f"{schema.get('description', '')} {note}".strip()
            continue
        if key == "type":
            kinds = value if isinstance(value, list) else [value]
            out["type"] = kinds if "null" in kinds else [*kinds, "null"]
            continue
        if key in ("properties", "$defs"):
            out[key] = {name: _loosen(sub) for name, sub in value.items()}
        elif key in ("items", "additionalProperties", "anyOf", "oneOf", "allOf"):
            out[key] = _loosen(value)
        elif key != "description" or "description" not in out:
            out[key] = copy.deepcopy(value)
    return out


def tool_for(manifest: dict[str, Any]) -> types.Tool:
    """The MCP tool of one action manifest."""
    output = _loosen(manifest["output_schema"])
    output["type"] = "object"  # structured results are always objects ({} for a 204)
    return types.Tool(
        name=manifest["id"].split(".", 1)[1],
        title=manifest["title"],
        description=manifest["description"] + (" (preview API)" if manifest.get("preview") else ""),
        input_schema=manifest["input_schema"],
        output_schema=output,
        annotations=types.ToolAnnotations(
            title=manifest["title"],
            read_only_hint=manifest["effect"] == "read",
            destructive_hint=manifest["effect"] == "destructive",
            idempotent_hint=bool(manifest["idempotent"]),
            open_world_hint=True,
        ),
    )


def build_server(runner: Runner) -> Server[Any]:
    """A low-level MCP server whose tools run through *runner*."""
    manifests = {info.id.split(".", 1)[1]: registry.describe(info.id) for info in registry.list_actions()}
    tools = [tool_for(m) for m in manifests.values()]

    async def list_tools(ctx: Any, params: Any) -> types.ListToolsResult:
        return types.ListToolsResult(tools=tools)

    async def call_tool(ctx: Any, params: types.CallToolRequestParams) -> types.CallToolResult:
        manifest = manifests.get(params.name)
        if manifest is None:
            return _error({"error": "UnknownTool", "message": f"no tool named {params.name!r}"})
        try:
            result = await runner.arun(manifest["id"], dict(params.arguments or {}))
        except ActionError as exc:
            return _error(exc.to_dict())
        structured = result if isinstance(result, dict) else {"result": result}
        return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(structured))],
                                    structured_content=structured)

    return Server("datadog-case-actions", version=__version__, title="Datadog Case Management actions",
                  instructions="Every Datadog Case Management API operation as a tool. Case ids accept keys "
                               "like OPS-12. Destructive tools delete data: confirm with the user first.",
                  on_list_tools=list_tools, on_call_tool=call_tool)


def _error(payload: dict[str, Any]) -> types.CallToolResult:
    return types.CallToolResult(content=[types.TextContent(type="text", text=json.dumps(payload))], is_error=True)


async def _serve_stdio(runner: Runner) -> None:
    from mcp.server.stdio import stdio_server

    server = build_server(runner)
    async with stdio_server() as (read, write):
        await server.run(read, write, server.create_initialization_options())


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="dd-cases mcp",
                                     description="Serve every Case Management action as an MCP tool over stdio. "
                                                 "Credentials come from DD_API_KEY/DD_APP_KEY (or DD_ACCESS_TOKEN) "
                                                 "and DD_SITE, as for every other door.")
    parser.add_argument("--sandbox", action="store_true", help="serve the tools on the embedded sandbox")
    parser.add_argument("--sandbox-path", metavar="FILE", help="the sandbox database (default: the per-user file)")
    parser.add_argument("--site", help="Datadog site (overrides DD_SITE)")
    args = parser.parse_args(argv)
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
        asyncio.run(_serve_stdio(runner))
    except KeyboardInterrupt:
        pass
    finally:
        runner.close()
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
