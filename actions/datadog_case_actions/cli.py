"""The ``dd-cases`` command: list, describe and run Case Management actions.

Exit codes: 0 success, 2 bad input or configuration (nothing was sent),
3 the API answered with an error, 4 no usable answer (network, timeout),
5 some lines of a bulk run failed, 1 anything else.  Errors go to stderr as one
line plus details; results go to stdout (a table on a terminal, else JSON).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any, Sequence, TextIO

from . import registry
from .coerce import parse_assignments

EPILOG = """\
credentials come from the environment, never from flags (flags end up in shell
history and process lists):
  DD_API_KEY + DD_APP_KEY   API key and application key, or
  DD_ACCESS_TOKEN           an OAuth access token
  DD_SITE                   datadoghq.com (default), us3.datadoghq.com, us5.datadoghq.com,
                            datadoghq.eu, ap1.datadoghq.com, ap2.datadoghq.com,
                            ddog-gov.com, us2.ddog-gov.com, or another Datadog site
  DD_BASE_URL               an explicit API URL instead of a site
  DD_SITE=sandbox           the embedded sandbox (no account, no network), like --sandbox;
                            DD_SANDBOX_PATH picks its database file

examples:
  dd-cases demo                                  an incident workflow on the sandbox
  dd-cases list --group cases
  dd-cases describe create_case
  dd-cases run get_case case_id=CASEM-12
  dd-cases run create_case title="DB is down" type_id=... project_id=... priority=P1 --dry-run
  dd-cases run search_cases filter=status:open --all-pages --max-items 500
  dd-cases run update_attributes @inputs.json
  dd-cases run create_project key=OPS name=Operations --sandbox
  dd-cases serve --port 8126                     the sandbox over HTTP for curl and other SDKs
exit codes: 0 ok, 2 bad input or configuration, 3 API error, 4 network/timeout, 5 some bulk lines failed, 1 other
"""


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="dd-cases",
        description="Run any Datadog Case Management API operation as a validated, self-describing action.",
        epilog=EPILOG,
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    from . import __version__

    parser.add_argument("--version", action="version", version=f"%(prog)s {__version__}")
    sub = parser.add_subparsers(dest="command", metavar="COMMAND")
    sub.required = True

    p = sub.add_parser("list", help="list the installed actions (filterable)",
                       description="List the installed actions, from the manifests, without importing any action code.")
    p.add_argument("text", nargs="?", help="only actions whose id or title contains this text")
    p.add_argument("--group", help="only this area (cases, projects, ...)")
    p.add_argument("--effect", choices=["read", "write", "destructive"], help="only actions with this effect")
    p.add_argument("--preview", action=argparse.BooleanOptionalAction, default=None,
                   help="only preview (--preview) or only stable (--no-preview) operations")
    p.add_argument("--json", action="store_true", help="print JSON instead of a table")

    p = sub.add_parser("describe", help="show an action's manifest: schemas, example, method and path",
                       description="Show an action's manifest: what it does, method and path, scope, input and "
                                   "output JSON Schemas and examples.")
    p.add_argument("action", help="action id, e.g. create_case or datadog.create_case")
    p.add_argument("--json", action="store_true", help="print the whole manifest as JSON")

    p = sub.add_parser(
        "run", help="run an action with inputs",
        description="Run an action. INPUT is key=value (coerced by the input schema), key:=<raw JSON>, "
                    "a JSON object, @file.json, or - for a JSON object on stdin; later inputs win.",
        epilog=EPILOG, formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", help="action id, e.g. create_case")
    p.add_argument("inputs", nargs="*", metavar="INPUT", help="key=value, key:=json, {...}, @file.json or -")
    p.add_argument("--dry-run", action="store_true", help="print the HTTP request that would be sent (keys redacted) and stop")
    p.add_argument("--all-pages", action="store_true", help="for paginated actions: print every item of every page")
    p.add_argument("--max-items", type=int, metavar="N", help="with --all-pages: stop after N items")
    _connection_flags(p)
    p.add_argument("-o", "--output", choices=["table", "json", "ndjson"],
                   help="table (the default on a terminal), json (the default when piped; with --all-pages one "
                        "JSON array) or ndjson (one item per line)")
    p.add_argument("--fields", metavar="A,B", help="only these fields of each item, e.g. key,title,status "
                                                   "(an item's own member, an attribute, or a dotted path)")
    p.add_argument("--compact", action="store_true", help="with -o json: print JSON on one line")
    p.add_argument("-y", "--yes", action="store_true",
                   help="confirm a destructive action (asked on a terminal; required when not interactive)")

    p = sub.add_parser(
        "bulk", help="run an action once per NDJSON input line, several at a time",
        description="Run one action per line of NDJSON (a file or stdin): each line is the inputs of ACTION, or, "
                    'without ACTION, {"action": "...", "inputs": {...}}. Prints one JSON result line per input '
                    "line (its line number, ok or the error), then a summary on stderr.",
        epilog="examples:\n  dd-cases bulk create_case @cases.ndjson --sandbox\n"
               "  jq -c '.[]' alerts.json | dd-cases bulk create_case - --concurrency 16\n"
               "exit codes: 0 every line succeeded, 5 some lines failed, 2 bad flags or an unreadable file",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("action", nargs="?", help="the action for every line (else each line names its own)")
    p.add_argument("source", nargs="?", default="-", metavar="@FILE.ndjson|-", help="the lines (default: stdin)")
    p.add_argument("--concurrency", type=int, default=8, metavar="N", help="calls in flight at once (default 8)")
    p.add_argument("-y", "--yes", action="store_true", help="confirm a destructive action for every line")
    _connection_flags(p)

    p = sub.add_parser(
        "demo", help="run an incident workflow end to end on the embedded sandbox",
        description="Open cases from a batch of alerts, triage them (priority, owner, attributes, comment), add "
                    "evidence, search and aggregate, then close and archive: every step a real action, run on the "
                    "embedded sandbox. No account and no network needed.",
        epilog="examples:\n  dd-cases demo\n  dd-cases demo --path /tmp/demo.sqlite3 --json",
        formatter_class=argparse.RawDescriptionHelpFormatter,
    )
    p.add_argument("--path", metavar="FILE",
                   help="sandbox database to use (default: the per-user file, so `run --sandbox` sees the cases "
                        "afterwards; ':memory:' for a throwaway one)")
    p.add_argument("--json", action="store_true", help="print the steps as JSON instead of text")

    p = sub.add_parser("sandbox", help="the per-user sandbox database: where it is, or reset it",
                       description="Show where the sandbox database is, or empty it.")
    p.add_argument("what", choices=["path", "reset"], help="path: print the database file; reset: forget every "
                                                          "case, project and rule in it")
    p.add_argument("--path", metavar="FILE", help="another sandbox file (default: DD_SANDBOX_PATH or the per-user file)")
    p.add_argument("-y", "--yes", action="store_true", help="with reset: do not ask (required when not interactive)")

    p = sub.add_parser("completion", help="print a shell completion script (bash, zsh or fish)",
                       description="Print a completion script for action names and their input names.",
                       epilog="examples:\n  eval \"$(dd-cases completion bash)\"          # in ~/.bashrc\n"
                              "  dd-cases completion zsh > \"${fpath[1]}/_dd-cases\"\n"
                              "  dd-cases completion fish > ~/.config/fish/completions/dd-cases.fish",
                       formatter_class=argparse.RawDescriptionHelpFormatter)
    p.add_argument("shell", choices=["bash", "zsh", "fish"])

    sub.add_parser("serve", help="serve the sandbox over HTTP on loopback (see dd-cases serve --help)",
                   add_help=False, prefix_chars="\0").add_argument("serve_args", nargs=argparse.REMAINDER)
    sub.add_parser("mcp", help="serve every action as an MCP tool over stdio (needs the [mcp] extra)",
                   add_help=False, prefix_chars="\0").add_argument("mcp_args", nargs=argparse.REMAINDER)
    sub.add_parser("export", help="the catalogue, or an OpenAPI 3.1 / Swagger 2.0 document, for low-code builders",
                   add_help=False, prefix_chars="\0").add_argument("export_args", nargs=argparse.REMAINDER)
    return parser


def _connection_flags(p: argparse.ArgumentParser) -> None:
    p.add_argument("--site", help="Datadog site (overrides DD_SITE)")
    p.add_argument("--base-url", help="explicit API base URL (overrides DD_BASE_URL)")
    p.add_argument("--timeout", type=float, metavar="SECONDS", help="connect/read timeout per attempt (default 30)")
    p.add_argument("--no-retry", action="store_true", help="do not retry rate-limited or failed requests")
    p.add_argument("--sandbox", action="store_true",
                   help="run against the embedded sandbox instead of Datadog (same as --site sandbox)")
    p.add_argument("--sandbox-path", metavar="FILE",
                   help="the sandbox's SQLite file (default: the per-user file; overrides DD_SANDBOX_PATH)")
    p.add_argument("--create", action="store_true",
                   help="with --sandbox-path: create the database file if it does not exist yet")


def _read_inputs(tokens: Sequence[str], schema: dict[str, Any], stdin: TextIO) -> dict[str, Any]:
    inputs: dict[str, Any] = {}
    pairs: list[str] = []

    def merge_json(text: str, where: str) -> None:
        try:
            value = json.loads(text)
        except json.JSONDecodeError as exc:
            raise ValueError(f"{where}: invalid JSON ({exc.msg} at line {exc.lineno} column {exc.colno})") from None
        if not isinstance(value, dict):
            raise ValueError(f"{where}: expected a JSON object of inputs, got {type(value).__name__}")
        inputs.update(value)

    for token in tokens:
        if token == "-":
            merge_json(stdin.read(), "stdin")
        elif token.startswith("@"):
            path = Path(token[1:])
            try:
                text = path.read_text(encoding="utf-8")
            except OSError as exc:
                raise ValueError(f"{token}: cannot read ({exc.strerror})") from None
            merge_json(text, token)
        elif token.lstrip().startswith("{"):
            merge_json(token, "inputs")
        else:
            pairs.append(token)
    inputs.update(parse_assignments(pairs, schema))
    return inputs


def _print_json(value: Any, compact: bool, out: TextIO) -> None:
    if compact:
        out.write(json.dumps(value, separators=(",", ":"), ensure_ascii=False) + "\n")
    else:
        out.write(json.dumps(value, indent=2, ensure_ascii=False) + "\n")


def _cmd_list(args: argparse.Namespace, out: TextIO) -> int:
    actions = registry.list_actions()
    if args.group:
        actions = [a for a in actions if a.group == args.group]
    if args.effect:
        actions = [a for a in actions if a.effect == args.effect]
    if args.preview is not None:
        actions = [a for a in actions if a.preview == args.preview]
    if args.text:
        needle = args.text.lower()
        actions = [a for a in actions if needle in a.id.lower() or needle in a.title.lower()]
    if args.json:
        _print_json([a.to_dict() for a in actions], False, out)
        return 0
    width = max((len(a.id) for a in actions), default=10)
    for a in actions:
        flags = a.effect + (", preview" if a.preview else "")
        out.write(f"{a.id:<{width}}  {a.title}  [{flags}]\n")
    out.write(f"{len(actions)} action{'s' if len(actions) != 1 else ''}\n")
    return 0


def _schema_lines(schema: dict[str, Any], indent: str = "  ") -> list[str]:
    required = set(schema.get("required", []))
    lines = []
    for name, prop in schema.get("properties", {}).items():
        kind = prop.get("type", "any")
        if "anyOf" in prop:
            kind = " | ".join(str(o.get("type", "object")) for o in prop["anyOf"])
        if isinstance(kind, list):
            kind = " | ".join(kind)
        if kind == "array" and isinstance(prop.get("items"), dict):
            kind = f"array of {prop['items'].get('type', 'object')}"
        extra = f" one of: {', '.join(map(str, prop['enum']))}." if "enum" in prop else ""
        mark = " (required)" if name in required else ""
        lines.append(f"{indent}{name}: {kind}{mark}  {prop.get('description', '')}{extra}".rstrip())
    return lines


def _cmd_describe(args: argparse.Namespace, out: TextIO) -> int:
    manifest = registry.describe(args.action)
    if args.json:
        _print_json(manifest, False, out)
        return 0
    flags = [manifest["effect"], "idempotent" if manifest["idempotent"] else "not idempotent"]
    if manifest.get("preview"):
        flags.append("preview")
    lines = [
        f"{manifest['id']}: {manifest['title']}",
        "",
        manifest["description"],
        "",
        f"  {manifest['method']} {manifest['path']}   scope: {manifest.get('scope') or '(none named)'}   [{', '.join(flags)}]",
        "",
        "inputs:",
        *_schema_lines(manifest["input_schema"]),
        "",
        "output: " + (manifest["output_schema"].get("description") or "the API's response document"),
        *_schema_lines(manifest["output_schema"]),
    ]
    for example in manifest.get("examples", []):
        lines += ["", f"example ({example['summary']}):", "  " + json.dumps(example["input"], ensure_ascii=False)]
    for note in manifest.get("notes", []):
        lines += ["", f"note: {note}"]
    lines += ["", f"full JSON Schemas: dd-cases describe {manifest['id']} --json"]
    out.write("\n".join(lines) + "\n")
    return 0


class UsageError(Exception):
    """Flags that contradict each other or cannot be honoured; nothing was sent (exit 2)."""


def _check_connection_flags(args: argparse.Namespace) -> None:
    if args.sandbox and (args.site or args.base_url):
        raise UsageError("--sandbox cannot be combined with --site or --base-url")
    if args.site and args.base_url:
        raise UsageError("give --site or --base-url, not both")
    if args.create and not args.sandbox_path:
        raise UsageError("--create only applies with --sandbox-path")


def _check_flags(args: argparse.Namespace) -> None:
    _check_connection_flags(args)
    if args.max_items is not None and not args.all_pages:
        raise UsageError("--max-items only applies with --all-pages")
    if args.max_items is not None and args.max_items < 1:
        raise UsageError("--max-items must be at least 1")
    if args.dry_run and args.all_pages:
        raise UsageError("--dry-run shows one request; it cannot be combined with --all-pages")
    if args.compact and args.output not in (None, "json"):
        raise UsageError("--compact only applies to -o json")


def _connection(args: argparse.Namespace, err: TextIO) -> Any:
    from .runtime.connection import SANDBOX_SITE, Connection, RetryPolicy

    options: dict[str, Any] = {}
    if args.site:
        options["site"] = args.site
    if args.base_url:
        options["base_url"] = args.base_url
    if args.timeout is not None:
        options["timeout"] = args.timeout
    if args.no_retry:
        options["retry"] = RetryPolicy.none()
    if args.sandbox:
        options["site"] = SANDBOX_SITE
    if args.sandbox_path:
        options["sandbox_path"] = args.sandbox_path
    connection = Connection.from_env(**options)
    if args.sandbox_path and not connection.is_sandbox:
        raise UsageError("--sandbox-path only applies to the sandbox (add --sandbox, or set DD_SITE=sandbox)")
    if connection.is_sandbox and not getattr(args, "dry_run", False):
        _check_sandbox_file(connection.sandbox_path, create=args.create, err=err)
    return connection


def _check_sandbox_file(path: str | None, *, create: bool, err: TextIO) -> None:
    """A named sandbox file must exist: a typo must not silently open an empty database."""
    if path is None or path == ":memory:" or Path(path).exists():
        return
    if not create:
        raise UsageError(f"no sandbox database at {path}; check the path, or add --create to make a new one")
    err.write(f"creating a new sandbox database at {path}\n")


def _confirm(manifest: dict[str, Any], inputs: dict[str, Any], args: argparse.Namespace, stdin: TextIO,
             err: TextIO) -> bool:
    """Destructive actions ask on a terminal and need --yes otherwise."""
    if args.yes or args.dry_run or manifest.get("effect") != "destructive":
        return True
    target = ", ".join(f"{k}={v}" for k, v in inputs.items() if isinstance(v, (str, int))) or "(no inputs)"
    if not (_isatty(stdin) and _isatty(err)):
        raise UsageError(f"{manifest['id']} is destructive ({target}); add --yes to confirm")
    err.write(f"{manifest['title']}: {target}. This cannot be undone. Continue? [y/N] ")
    err.flush()
    return stdin.readline().strip().lower() in ("y", "yes")


def _isatty(stream: Any) -> bool:
    try:
        return bool(stream.isatty())
    except (AttributeError, ValueError):
        return False


def _cmd_demo(args: argparse.Namespace, out: TextIO) -> int:
    from .demo import run_demo
    from .runtime.connection import Connection

    run_demo(Connection.sandbox(args.path), out, as_json=args.json)
    return 0


def _cmd_run(args: argparse.Namespace, out: TextIO, stdin: TextIO, err: TextIO) -> int:
    from .output import Printer
    from .runtime.runner import Runner, dry_run_request, prepare

    _check_flags(args)
    manifest = registry.describe(args.action)
    try:
        inputs = _read_inputs(args.inputs, manifest["input_schema"], stdin)
    except ValueError as exc:
        from .runtime.errors import InputError, Violation

        raise InputError([Violation(field="", message=str(exc), validator="syntax")], action_id=manifest["id"]) from None
    connection = _connection(args, err)
    if args.dry_run:
        _print_json(dry_run_request(prepare(manifest["id"], inputs), connection), args.compact, out)
        return 0
    prepare(manifest["id"], inputs)  # refuse bad inputs before asking for a confirmation
    if not _confirm(manifest, inputs, args, stdin, err):
        err.write("cancelled; nothing was sent\n")
        return 1
    fields = [f.strip() for f in args.fields.split(",") if f.strip()] if args.fields else None
    printer = Printer(out, args.output or ("table" if _isatty(out) else "json"), fields, compact=args.compact)
    with Runner(connection) as runner:
        if args.all_pages:
            from .progress import Progress

            printer.stream(Progress(err).count(runner.iterate(manifest["id"], inputs, max_items=args.max_items)))
        else:
            printer.document(runner.run(manifest["id"], inputs))
    return 0


def _cmd_bulk(args: argparse.Namespace, out: TextIO, stdin: TextIO, err: TextIO) -> int:
    import time

    from .batch import run_lines
    from .progress import Progress
    from .runtime.runner import Runner

    _check_connection_flags(args)
    if args.concurrency < 1:
        raise UsageError("--concurrency must be at least 1")
    action = None
    if args.action is not None and (args.action == "-" or args.action.startswith("@")):
        args.action, args.source = None, args.action  # `dd-cases bulk @lines.ndjson`: each line names its action
    if args.action is not None:
        manifest = registry.describe(args.action)
        action = manifest["id"]
        if manifest.get("effect") == "destructive" and not args.yes:
            raise UsageError(f"{action} is destructive; add --yes to run it for every line")
    if args.source == "-":
        lines: Any = stdin
    elif args.source.startswith("@"):
        try:
            lines = open(args.source[1:], encoding="utf-8")  # noqa: SIM115 - closed below
        except OSError as exc:
            raise UsageError(f"{args.source}: cannot read ({exc.strerror})") from None
    else:
        raise UsageError(f"the lines come from @FILE.ndjson or - (stdin), not {args.source!r}")
    connection = _connection(args, err)
    ok = failed = 0
    started = time.monotonic()
    progress = Progress(err, "lines")
    try:
        with Runner(connection) as runner:
            for outcome in run_lines(runner, lines, action=action, concurrency=args.concurrency):
                if outcome.ok:
                    ok += 1
                else:
                    failed += 1
                out.write(json.dumps(outcome.to_dict(), separators=(",", ":"), ensure_ascii=False) + "\n")
                progress.update(ok + failed, failed)
    finally:
        progress.close()
        if lines is not stdin:
            lines.close()
    elapsed = time.monotonic() - started
    err.write(f"{ok + failed} line{'s' if ok + failed != 1 else ''}: {ok} ok, {failed} failed, in {elapsed:.1f} s\n")
    return 5 if failed else 0


def _cmd_sandbox(args: argparse.Namespace, out: TextIO, stdin: TextIO, err: TextIO) -> int:
    import os

    from .sandbox.store import default_db_path

    path = args.path or os.environ.get("DD_SANDBOX_PATH") or str(default_db_path())
    if args.what == "path":
        out.write(f"{path}\n")
        return 0
    if not Path(path).exists():
        err.write(f"no sandbox database at {path}; nothing to reset\n")
        return 0
    if not args.yes:
        if not (_isatty(stdin) and _isatty(err)):
            raise UsageError(f"reset forgets every case, project and rule in {path}; add --yes to confirm")
        err.write(f"Forget every case, project and rule in {path}? [y/N] ")
        err.flush()
        if stdin.readline().strip().lower() not in ("y", "yes"):
            err.write("cancelled\n")
            return 1
    from .sandbox import Sandbox

    with Sandbox(path) as sandbox:
        sandbox.reset()
    err.write(f"reset {path}\n")
    return 0


def _report(exc: BaseException, err: TextIO) -> int:
    from .runtime.errors import ActionError, ApiError, InputError

    if isinstance(exc, UsageError):
        err.write(f"error: {exc}\n")
        return 2
    if not isinstance(exc, ActionError):
        err.write(f"error: {type(exc).__name__}: {exc}\n")
        return 1
    if isinstance(exc, InputError):
        # the message already lists the violations; print them once, one per line
        noun = "violation" if len(exc.violations) == 1 else "violations"
        err.write(f"error: {exc.action_id + ': ' if exc.action_id else ''}invalid input, "
                  f"{len(exc.violations)} {noun}:\n")
        for v in exc.violations:
            err.write(f"  - {v.field or '(inputs)'}: {v.text}\n")
        err.write("  nothing was sent; see the inputs with: dd-cases describe " + (exc.action_id or "ACTION") + "\n")
        return exc.exit_code
    err.write(f"error: {exc}\n")
    if isinstance(exc, ApiError):  # the status is in the message ("HTTP 404: ..."); add the API's other messages
        for message in exc.messages[1:]:
            err.write(f"  - {message}\n")
    if exc.retryable:
        err.write("  retrying later may help\n")
    return exc.exit_code


def main(argv: Sequence[str] | None = None, *, stdout: TextIO | None = None, stderr: TextIO | None = None,
         stdin: TextIO | None = None) -> int:
    """Entry point of ``dd-cases``; returns the exit code."""
    out, err, inp = stdout or sys.stdout, stderr or sys.stderr, stdin or sys.stdin
    try:
        return _main(argv, out, err, inp)
    except BrokenPipeError:
        return _closed_pipe(out)


def _main(argv: Sequence[str] | None, out: TextIO, err: TextIO, inp: TextIO) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    if argv[:1] == ["serve"]:  # the sandbox server owns its options and --help
        from .sandbox import serve_cli

        return serve_cli(argv[1:])
    if argv[:1] == ["mcp"]:
        try:
            from .adapters.mcp import main as mcp_main
        except ImportError:
            err.write("dd-cases mcp needs the MCP extra: pip install '.[mcp]' from a clone "
                      "(or the wheel: pip install 'datadog_case_actions-*.whl[mcp]')\n")
            return 2
        return mcp_main(argv[1:])
    if argv[:1] == ["export"]:
        from .export import main as export_main

        return export_main(argv[1:], out)
    args = _parser().parse_args(argv)
    try:
        if args.command == "list":
            return _cmd_list(args, out)
        if args.command == "describe":
            return _cmd_describe(args, out)
        if args.command == "demo":
            return _cmd_demo(args, out)
        if args.command == "bulk":
            return _cmd_bulk(args, out, inp, err)
        if args.command == "sandbox":
            return _cmd_sandbox(args, out, inp, err)
        if args.command == "completion":
            from .completion import script

            out.write(script(args.shell))
            return 0
        return _cmd_run(args, out, inp, err)
    except KeyboardInterrupt:
        err.write("interrupted\n")
        return 130
    except BrokenPipeError:
        raise  # not a failure of the action: main() ends quietly
    except Exception as exc:  # every failure ends in one readable line, never a traceback
        return _report(exc, err)


def _closed_pipe(out: TextIO) -> int:
    """The reader went away (``| head``): stop quietly, as other command-line tools do."""
    import os

    try:  # the interpreter flushes stdout at exit; point it at /dev/null so that flush cannot fail again
        os.dup2(os.open(os.devnull, os.O_WRONLY), out.fileno())
    except (AttributeError, OSError, ValueError):
        pass
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
