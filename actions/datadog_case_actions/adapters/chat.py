"""Chat-ops: one chat line in, one action call and a short reply out, for any bot framework.

    chat = ChatOps(Runner(Connection.from_env()), defaults={"type_id": "<your case type>"})
    reply = chat.handle('case create "DB is down" priority=P1 project=OPS')
    reply.text      # 'Created OPS-12: DB is down (P1, OPEN)'

Grammar (``case`` is the configurable prefix; quotes group words):

    case help [VERB]                       what you can say, or the inputs of one verb
    case create "TITLE" [key=value...]     create_case (project=KEY or project_id=..., type_id from defaults)
    case show CASE                         get_case                 (CASE: a key like OPS-12 or an id)
    case comment CASE "TEXT"               comment_case
    case priority CASE P1..P5              update_priority
    case status CASE open|in_progress|closed
    case assign CASE USER_ID   /  case unassign CASE
    case title CASE "TEXT"  /  case archive CASE  /  case unarchive CASE
    case search [FILTER...]                search_cases, first 10
    case run ACTION [key=value...]         any of the 75 actions by id
    ... --yes                              confirm a destructive action

Arguments are coerced by the action's input schema (``coerce.py``) and
validated by the runtime; enum values are case-insensitive.  Destructive
actions (their manifest's effect) answer with a request for confirmation
unless ``confirm=True`` or the line ends with ``--yes``.  Replies are plain
text or Slack mrkdwn; errors are replies too (never a traceback, never a key).
Standard library and the runtime only.
"""

from __future__ import annotations

import difflib
import re
import shlex
from typing import Any, Mapping, NamedTuple

from .. import registry
from ..coerce import parse_assignments
from ..runtime.errors import ActionError, InputError, Violation

__all__ = ["ChatOps", "Reply", "VERBS"]


class Reply(NamedTuple):
    text: str
    ok: bool
    action_id: str | None = None
    result: Any = None
    needs_confirmation: bool = False


#: verb -> (action, positional input names; the last one takes the rest of the words)
VERBS: dict[str, tuple[str, tuple[str, ...]]] = {
    "create": ("create_case", ("title",)),
    "show": ("get_case", ("case_id",)),
    "get": ("get_case", ("case_id",)),
    "comment": ("comment_case", ("case_id", "comment")),
    "priority": ("update_priority", ("case_id", "priority")),
    "status": ("update_status", ("case_id", "status")),
    "assign": ("assign_case", ("case_id", "assignee_id")),
    "unassign": ("unassign_case", ("case_id",)),
    "title": ("update_case_title", ("case_id", "title")),
    "describe": ("update_case_description", ("case_id", "description")),
    "archive": ("archive_case", ("case_id",)),
    "unarchive": ("unarchive_case", ("case_id",)),
    "watch": ("watch_case", ("case_id", "user_uuid")),
    "search": ("search_cases", ("filter",)),
    "timeline": ("list_case_timeline", ("case_id",)),
}
#: friendlier key names accepted in key=value pairs
ALIASES = {"project": "project_id", "assignee": "assignee_id", "type": "type_id", "case": "case_id",
           "user": "user_uuid"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_CONFIRM = {"--yes", "--confirm", "confirm"}
#: free-text inputs: as the last positional argument they take the rest of the words
_TEXT_FIELDS = {"title", "comment", "description", "filter"}


class ChatOps:
    """Turns chat lines into action calls on *runner* (a ``Runner``); ``defaults`` fill inputs users omit."""

    def __init__(self, runner: Any, *, prefix: str = "case", defaults: Mapping[str, Any] | None = None,
                 search_limit: int = 10) -> None:
        self.runner = runner
        self.prefix = prefix
        self.defaults = dict(defaults or {})
        self.search_limit = search_limit

    # -- the entry point ------------------------------------------------------------------------

    def handle(self, line: str, *, confirm: bool = False, style: str = "plain") -> Reply:
        """Answer one chat line.  *style* is ``"plain"`` or ``"slack"`` (mrkdwn)."""
        fmt = _Format(style)
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return Reply(f"I could not read that line ({exc}); check the quotes.", False)
        if words and words[0].lower() == self.prefix:
            words = words[1:]
        if words and words[-1].lower() in _CONFIRM:
            confirm, words = True, words[:-1]
        if not words or words[0].lower() in ("help", "?"):
            return Reply(self._help(words[1] if len(words) > 1 else None, fmt), True)
        verb = words[0].lower()
        try:
            action, inputs = self._parse(verb, words[1:])
        except _Unknown as exc:
            return Reply(str(exc), False)
        except ValueError as exc:
            return Reply(f"I could not understand that: {exc}", False)
        manifest = registry.describe(action)
        if manifest["effect"] == "destructive" and not confirm:
            return Reply(f"{fmt.code(manifest['id'])} is destructive ({manifest['title']}). "
                         f"Repeat with --yes to go ahead.", False, manifest["id"], needs_confirmation=True)
        try:
            inputs = self._resolve(manifest, inputs)
            result = self.runner.run(action, inputs)
        except InputError as exc:
            details = "; ".join(f"{fmt.code(v.field or 'inputs')}: {v.text}" for v in exc.violations)
            return Reply(f"{manifest['title']}: {details}. Try {fmt.code(f'{self.prefix} help {verb}')}.",
                         False, manifest["id"])
        except ActionError as exc:
            return Reply(f"{manifest['title']} failed: {exc.message}", False, manifest["id"])
        return Reply(self._summary(manifest, result, fmt), True, manifest["id"], result)

    # -- parsing --------------------------------------------------------------------------------

    def _parse(self, verb: str, words: list[str]) -> tuple[str, dict[str, Any]]:
        if verb == "run":
            if not words:
                raise ValueError(f"say which action: {self.prefix} run ACTION key=value ...")
            try:
                action = registry.resolve(words[0])
            except registry.UnknownActionError as exc:
                raise _Unknown(str(exc.args[0])) from None
            return action, self._pairs(action, words[1:], ())
        if verb not in VERBS:
            close = difflib.get_close_matches(verb, list(VERBS) + ["run", "help"], n=2)
            hint = f" Did you mean {' or '.join(close)}?" if close else ""
            raise _Unknown(f"I don't know '{verb}'.{hint} Say '{self.prefix} help' for what I can do.")
        action, positional = VERBS[verb]
        return action, self._pairs(action, words, positional)

    def _pairs(self, action: str, words: list[str], positional: tuple[str, ...]) -> dict[str, Any]:
        schema = registry.describe(action)["input_schema"]
        pairs = [w for w in words if re.match(r"^[A-Za-z_][\w.]*:?=", w)]
        loose = [w for w in words if w not in pairs]
        inputs: dict[str, Any] = {}
        takes_rest = bool(positional) and positional[-1] in _TEXT_FIELDS
        if len(loose) > len(positional) and not takes_rest:
            raise ValueError(f"unexpected words: {' '.join(loose[len(positional):])} (quote text with spaces)")
        for index, name in enumerate(positional):
            if index >= len(loose):
                break
            text = " ".join(loose[index:]) if index == len(positional) - 1 else loose[index]
            inputs[name] = _enum_case(schema["properties"].get(name, {}), text)
        renamed = []
        for pair in pairs:
            key, sep, value = re.split(r"(:?=)", pair, maxsplit=1)
            key = ALIASES.get(key, key) if key not in schema["properties"] else key
            renamed.append(f"{key}{sep}{value}")
        typed = parse_assignments(renamed, schema)
        for key, value in typed.items():
            typed[key] = _enum_case(schema["properties"].get(key, {}), value)
        inputs.update(typed)
        for key, value in self.defaults.items():
            if key in schema["properties"] and key not in inputs:
                inputs[key] = value
        return inputs

    def _resolve(self, manifest: Mapping[str, Any], inputs: dict[str, Any]) -> dict[str, Any]:
        """``project=OPS``: a project key becomes its id (the API wants the id)."""
        project = inputs.get("project_id")
        if isinstance(project, str) and project and not _UUID.match(project):
            projects = self.runner.run("get_projects").get("data", [])
            for item in projects:
                if str(item.get("attributes", {}).get("key", "")).lower() == project.lower():
                    return {**inputs, "project_id": item["id"]}
            raise InputError([Violation(field="project_id", validator="project",
                                        message=f"no project with key {project!r}")], action_id=manifest["id"])
        return inputs

    # -- replies --------------------------------------------------------------------------------

    def _summary(self, manifest: Mapping[str, Any], result: Any, fmt: "_Format") -> str:
        data = result.get("data") if isinstance(result, dict) else None
        verb = {"create_case": "Created", "get_case": "", "comment_case": "Commented on"}.get(
            manifest["id"].split(".", 1)[1], "Updated" if manifest["effect"] == "write" else "")
        if isinstance(data, dict) and data.get("type") == "case":
            line = _case_line(data, fmt)
            return f"{verb} {line}".strip() if verb else line
        if isinstance(data, list):
            if manifest["id"] == "datadog.search_cases":
                cases = [c for c in data if isinstance(c, dict)]
                head = f"{len(cases)} case{'s' if len(cases) != 1 else ''}"
                shown = [f"• {_case_line(c, fmt)}" for c in cases[: self.search_limit]]
                more = [f"… and {len(cases) - self.search_limit} more"] if len(cases) > self.search_limit else []
                return "\n".join([head + (":" if shown else "."), *shown, *more])
            if manifest["id"] == "datadog.comment_case":
                return f"Comment added ({len(data)} timeline cell{'s' if len(data) != 1 else ''})."
            return f"{manifest['title']}: {len(data)} item{'s' if len(data) != 1 else ''}."
        if isinstance(data, dict):
            name = data.get("attributes", {}).get("name") or data.get("attributes", {}).get("key") or data.get("id")
            return f"{manifest['title']}: done ({fmt.bold(str(name))})." if name else f"{manifest['title']}: done."
        return f"{manifest['title']}: done."

    def _help(self, verb: str | None, fmt: "_Format") -> str:
        if verb is None:
            lines = [f"{fmt.bold('Case commands')} (prefix {fmt.code(self.prefix)}):"]
            for name, (verb_action, positional) in VERBS.items():
                args = " ".join(p.upper() for p in positional)
                title = registry.describe(verb_action)["title"]
                lines.append(f"• {fmt.code(f'{self.prefix} {name} {args}'.strip())}: {title}")
            lines.append(f"• {fmt.code(f'{self.prefix} run ACTION key=value ...')}: any of "
                         f"{len(registry.list_actions())} actions ({fmt.code('dd-cases list')})")
            lines.append(f"Add {fmt.code('--yes')} to confirm destructive actions. "
                         f"{fmt.code(f'{self.prefix} help VERB')} shows a verb's inputs.")
            return "\n".join(lines)
        action = VERBS[verb][0] if verb in VERBS else None
        if action is None:
            try:
                action = registry.resolve(verb)
            except registry.UnknownActionError as exc:
                return str(exc.args[0])
        manifest = registry.describe(action)
        schema = manifest["input_schema"]
        required = set(schema.get("required", []))
        lines = [f"{fmt.bold(manifest['title'])} ({fmt.code(manifest['id'])}, {manifest['effect']})"]
        for name, prop in schema["properties"].items():
            if name in self.defaults:
                continue
            mark = " (required)" if name in required else ""
            allowed = f" one of {', '.join(map(str, prop['enum']))}" if "enum" in prop else ""
            lines.append(f"• {fmt.code(name)}{mark}{allowed}")
        return "\n".join(lines)


class _Unknown(Exception):
    pass


class _Format:
    def __init__(self, style: str) -> None:
        self.slack = style == "slack"

    def bold(self, text: str) -> str:
        return f"*{text}*" if self.slack else text

    def code(self, text: str) -> str:
        return f"`{text}`" if self.slack else text


def _case_line(case: Mapping[str, Any], fmt: _Format) -> str:
    attrs = case.get("attributes", {}) or {}
    key = attrs.get("key") or case.get("id", "?")
    facts = [str(attrs[k]) for k in ("priority", "status") if attrs.get(k)]
    if fmt.slack:
        return f"*{key}*: {attrs.get('title', '')}" + (f" · {' · '.join(facts)}" if facts else "")
    return f"{key}: {attrs.get('title', '')}" + (f" ({', '.join(facts)})" if facts else "")


def _enum_case(schema: Mapping[str, Any], value: Any) -> Any:
    """``closed`` -> ``CLOSED`` when the property is an enum that has it in another case."""
    if isinstance(value, str) and "enum" in schema and value not in schema["enum"]:
        for option in schema["enum"]:
            if isinstance(option, str) and option.lower() == value.lower():
                return option
    return value
