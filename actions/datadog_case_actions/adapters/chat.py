"""Chat-ops: one chat line in, one action call and a short reply out, for any bot framework.

    chat = ChatOps(Runner(Connection.from_env()), defaults={"type_id": "<your case type>"})
    reply = chat.handle('case create "DB is down" priority=P1 project=OPS')
    reply.text      # 'Created OPS-12: DB is down (P1, OPEN)'

Grammar (``case`` is the configurable prefix; quotes group words):

    case help [VERB]                       what you can say, or the inputs of one verb
    case create "TITLE" [key=value...]     create_case (project=KEY or project_id=..., type_id from defaults)
    case show CASE                         get_case                 (CASE: a key like OPS-12 or an id)
    case comment CASE "TEXT"               comment_case
    case priority CASE P1..P5|urgent|high|...   update_priority (words: ``chatwords.py``)
    case status CASE open|in progress|done|...  update_status
    case ack|close|resolve|reopen CASE     update_status, the status in the verb
    case assign CASE USER  /  case unassign CASE   (USER: me, @name, or a user UUID)
    case title CASE "TEXT"  /  case archive CASE  /  case unarchive CASE
    case search [WORDS...]                 search_cases (p1, open, mine... filter; other words are text)
    case timeline CASE                     list_case_timeline: the latest comments
    case run ACTION [key=value...]         any of the 75 actions by id
    case --yes VERB ...                    confirm a destructive action

``me`` and ``@name`` become Datadog user ids through the bot's *users* mapping
(chat user -> user UUID, a dict or a callable); a user the mapping does not know
is refused in the reply and nothing is sent.  List replies show the first few
items and say how many more there are.

Arguments are coerced by the action's input schema (``coerce.py``) and
validated by the runtime; enum values are case-insensitive.  Destructive
actions (their manifest's effect) answer with a request for confirmation
unless ``confirm=True`` or the line holds ``--yes`` (or ``--confirm``) as a word
of its own before any free text: free text (a title, a comment...) is never
read for flags, so ``case comment OPS-1 please confirm`` comments exactly that.
Given a *conversation* key, a bare ``yes`` replying to the confirmation
request runs the action it asked about.  Replies are plain text or Slack
mrkdwn; errors are replies too (never a traceback, never a key).  Standard
library and the runtime only.
"""
from __future__ import annotations

import difflib
import re
import shlex
import threading
import time
from collections.abc import Callable, Hashable, Mapping
from typing import Any, NamedTuple

from .. import registry
from ..coerce import parse_assignments
from ..runtime.errors import ActionError, InputError, Violation
from .chatwords import search_filter, vocabulary, word_value

__all__ = ["ChatOps", "Reply", "VERBS", "SHORTCUTS", "UserMap"]

#: chat user -> Datadog user UUID: a mapping, or a callable answering None (or raising
#: LookupError) for a user it does not know
UserMap = Mapping[str, str] | Callable[[str], str | None]


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
    "list": ("search_cases", ("filter",)),
    "timeline": ("list_case_timeline", ("case_id",)),
    "projects": ("get_projects", ()),
}
#: verb -> (the verb it stands for, the inputs it fills): ``case ack OPS-1`` is ``case status OPS-1 in_progress``
SHORTCUTS: dict[str, tuple[str, dict[str, str]]] = {
    **{verb: ("status", {"status": "IN_PROGRESS"}) for verb in ("ack", "acknowledge")},
    **{verb: ("status", {"status": "CLOSED"}) for verb in ("close", "resolve", "done")},
    "reopen": ("status", {"status": "OPEN"}),
}
#: friendlier key names accepted in key=value pairs
ALIASES = {"project": "project_id", "assignee": "assignee_id", "type": "type_id", "case": "case_id",
           "user": "user_uuid"}
_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
#: flags that confirm a destructive action, as words of their own outside free text
_FLAGS = {"--yes", "--confirm"}
#: a whole line that answers a confirmation request (with a conversation key)
_REPLIES = {"yes", "y", "confirm", *_FLAGS}
#: seconds a confirmation request waits for its reply
CONFIRM_WINDOW = 300.0
#: free-text inputs: as the last positional argument they take the rest of the words
_TEXT_FIELDS = {"title", "comment", "description", "filter"}
#: inputs said in words (``in progress``, ``not defined``): as the last positional they take the rest too
_WORD_FIELDS = {"status", "priority"}
#: inputs that hold a Datadog user id: ``me`` and ``@name`` are resolved, anything else must be a UUID
_USER_FIELDS = {"assignee_id", "user_uuid"}
#: ``assignee:me`` / ``assignee:@bob`` in a search query
_ASSIGNEE_TERM = re.compile(r"(?<!\S)(-?assignee(?:_id)?:)(me|@\S+|<@[^>\s]+>)(?!\S)", re.IGNORECASE)
#: a Slack mention as bots receive it: <@U024BE7LH> or <@U024BE7LH|bob>
_SLACK_MENTION = re.compile(r"^<@([^|>]+)(?:\|[^>]*)?>$")
#: timeline cells fetched to say how many more there are (the API's page maximum)
_TIMELINE_PAGE = 100
#: characters of a comment shown in a timeline reply
_SNIPPET = 120


class ChatOps:
    """Turns chat lines into action calls on *runner* (a ``Runner``); ``defaults`` fill inputs users omit.

    *users* maps chat users to Datadog user UUIDs for ``me`` and ``@name``;
    *show* is how many items a list reply (search, timeline...) shows.
    """

    def __init__(self, runner: Any, *, prefix: str = "case", defaults: Mapping[str, Any] | None = None,
                 users: UserMap | None = None, show: int = 5) -> None:
        self.runner = runner
        self.prefix = prefix
        self.defaults = dict(defaults or {})
        self.users = users
        self.show = max(1, min(show, 100))
        # conversation -> (action, inputs, verb, who, asked at): the destructive call awaiting a yes
        self._pending: dict[Hashable, tuple[str, dict[str, Any], str, dict[str, str], float]] = {}
        self._pending_lock = threading.Lock()

    # -- the entry point ------------------------------------------------------------------------

    def handle(self, line: str, *, confirm: bool = False, style: str = "plain",
               conversation: Hashable | None = None, user: str | None = None) -> Reply:
        """Answer one chat line.  *style* is ``"plain"`` or ``"slack"`` (mrkdwn).

        *user* is the chat user who sent the line (``me``); without it, the second
        item of a ``(channel, user)`` *conversation*.  *conversation* lets a bare
        ``yes`` answer this conversation's last confirmation request; without it
        only ``--yes`` or ``confirm=True`` confirm.
        """
        fmt = _Format(style)
        if user is None and isinstance(conversation, tuple) and len(conversation) == 2:
            user = conversation[1]
        pending = self._take_pending(conversation)
        try:
            words = shlex.split(line)
        except ValueError as exc:
            return Reply(f"I could not read that line ({exc}); check the quotes.", False)
        if words and words[0].lower() == self.prefix:
            words = words[1:]
        if pending is not None and len(words) == 1 and words[0].lower() in _REPLIES:
            action, inputs, verb, who, _ = pending
            return self._run(registry.describe(action), inputs, verb, who, fmt)
        while words and words[0].lower() in _FLAGS:  # case --yes run delete_project ...
            confirm, words = True, words[1:]
        if not words or words[0].lower() in ("help", "?"):
            return Reply(self._help(words[1] if len(words) > 1 else None, fmt), True)
        verb = words[0].lower()
        try:
            action, inputs, flagged = self._parse(verb, words[1:], fmt)
        except _Unknown as exc:
            return Reply(str(exc), False)
        except ValueError as exc:
            return Reply(f"I could not understand that: {exc}", False)
        manifest = registry.describe(action)
        try:
            inputs, who = self._people(manifest["id"], inputs, user, fmt)
        except _Refused as exc:
            return Reply(f"{exc} Nothing was changed.", False, manifest["id"])
        if manifest["effect"] == "destructive" and not (confirm or flagged):
            how = f"Repeat with {fmt.code('--yes')} (before any text) to go ahead"
            if conversation is not None:
                with self._pending_lock:
                    self._pending[conversation] = (action, inputs, verb, who, time.monotonic())
                how += f", or reply {fmt.code('yes')}"
            return Reply(f"{fmt.code(manifest['id'])} is destructive ({manifest['title']}). {how}.",
                         False, manifest["id"], needs_confirmation=True)
        return self._run(manifest, inputs, verb, who, fmt)

    def _take_pending(self, conversation: Hashable | None
                      ) -> tuple[str, dict[str, Any], str, dict[str, str], float] | None:
        """This conversation's unanswered confirmation request, if recent; any next line consumes it."""
        if conversation is None:
            return None
        with self._pending_lock:
            pending = self._pending.pop(conversation, None)
        if pending is None or time.monotonic() - pending[-1] > CONFIRM_WINDOW:
            return None
        return pending

    def _run(self, manifest: Mapping[str, Any], inputs: dict[str, Any], verb: str, who: dict[str, str],
             fmt: _Format) -> Reply:
        action = manifest["id"]
        try:
            inputs = self._listing_size(action, self._resolve(manifest, inputs))
            result = self.runner.run(action, inputs)
        except InputError as exc:
            details = "; ".join(f"{fmt.code(v.field or 'inputs')}: {v.text}" for v in exc.violations)
            return Reply(f"{manifest['title']}: {details}. Try {fmt.code(f'{self.prefix} help {verb}')}.",
                         False, manifest["id"])
        except ActionError as exc:
            return Reply(f"{manifest['title']} failed: {exc.message}", False, manifest["id"])
        return Reply(self._summary(manifest, inputs, result, who, fmt), True, manifest["id"], result)

    # -- parsing --------------------------------------------------------------------------------

    def _parse(self, verb: str, words: list[str], fmt: _Format) -> tuple[str, dict[str, Any], bool]:
        """``(action, inputs, confirmed)`` of a line's words after the verb."""
        if verb == "run":
            if not words:
                raise ValueError(f"say which action: {self.prefix} run ACTION key=value ...")
            action = self._action(words[0], fmt)
            return (action, *self._pairs(action, words[1:], ()))
        fixed: dict[str, str] = {}
        if verb in SHORTCUTS:
            verb, fixed = SHORTCUTS[verb]
        if verb not in VERBS:
            raise _Unknown(self._unknown(verb, fmt))
        action, positional = VERBS[verb]
        inputs, confirmed = self._pairs(action, words, tuple(p for p in positional if p not in fixed))
        return action, {**inputs, **fixed}, confirmed

    def _action(self, name: str, fmt: _Format) -> str:
        """The action id for *name*, or ``_Unknown`` with the closest ones."""
        try:
            return registry.resolve(name)
        except registry.UnknownActionError:
            raise _Unknown(self._unknown(name, fmt, action=True)) from None

    def _pairs(self, action: str, words: list[str], positional: tuple[str, ...]) -> tuple[dict[str, Any], bool]:
        schema = registry.describe(action)["input_schema"]
        pairs = [w for w in words if re.match(r"^[A-Za-z_][\w.]*:?=", w)]
        takes_rest = bool(positional) and positional[-1] in _TEXT_FIELDS
        loose, confirmed = _flags_outside_text([w for w in words if w not in pairs],
                                               len(positional) - 1 if takes_rest else None)
        takes_rest = takes_rest or (bool(positional) and positional[-1] in _WORD_FIELDS)
        inputs: dict[str, Any] = {}
        if len(loose) > len(positional) and not takes_rest:
            raise ValueError(f"unexpected words: {' '.join(loose[len(positional):])} (quote text with spaces)")
        for index, name in enumerate(positional):
            if index >= len(loose):
                break
            if name == "filter":  # p1 open db -> priority:P1 status:open db
                inputs[name] = search_filter(loose[index:])
                continue
            text = " ".join(loose[index:]) if index == len(positional) - 1 else loose[index]
            inputs[name] = _in_words(name, schema["properties"].get(name, {}), text)
        renamed = []
        for pair in pairs:
            key, sep, value = re.split(r"(:?=)", pair, maxsplit=1)
            key = ALIASES.get(key, key) if key not in schema["properties"] else key
            renamed.append(f"{key}{sep}{value}")
        typed = parse_assignments(renamed, schema)
        for key, value in typed.items():
            typed[key] = _in_words(key, schema["properties"].get(key, {}), value)
        inputs.update(typed)
        for key, value in self.defaults.items():
            if key in schema["properties"] and key not in inputs:
                inputs[key] = value
        return inputs, confirmed

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

    def _listing_size(self, action: str, inputs: dict[str, Any]) -> dict[str, Any]:
        """A page big enough for the reply: search pages carry the total, timeline pages do not."""
        if "page_size" in inputs:
            return inputs
        if action == "datadog.search_cases":
            return {**inputs, "page_size": self.show}
        if action == "datadog.list_case_timeline":
            return {**inputs, "page_size": _TIMELINE_PAGE}
        return inputs

    # -- people ---------------------------------------------------------------------------------

    def _people(self, action: str, inputs: dict[str, Any], asker: Any, fmt: _Format
                ) -> tuple[dict[str, Any], dict[str, str]]:
        """*inputs* with ``me`` / ``@name`` as Datadog user ids, and who each user field names.

        Raises ``_Refused`` for a user the mapping does not know or a value that is no UUID:
        the API takes only UUIDs (400 otherwise), and a stored name would assign nobody.
        """
        out, who = dict(inputs), {}
        for name in _USER_FIELDS.intersection(inputs):
            if isinstance(inputs[name], str):
                out[name], who[name] = self._user_id(inputs[name], asker, fmt)
        for name, value in inputs.items():  # bulk_update_cases: payload={"assignee_id": ...}
            if isinstance(value, dict) and _USER_FIELDS.intersection(value):
                out[name] = {key: self._user_id(item, asker, fmt)[0]
                             if key in _USER_FIELDS and isinstance(item, str) else item
                             for key, item in value.items()}
        query = inputs.get("filter")
        if action == "datadog.search_cases" and isinstance(query, str):
            out["filter"] = _ASSIGNEE_TERM.sub(lambda m: m.group(1) + self._user_id(m.group(2), asker, fmt)[0],
                                               query)
        return out, who

    def _user_id(self, said: str, asker: Any, fmt: _Format) -> tuple[str, str]:
        """``(user UUID, how the reply names them)`` for what the line said: me, @name, a name or a UUID."""
        said = said.strip()
        if _UUID.match(said):
            return said, said
        if said.lower() == "me":
            if asker is None:
                raise _Refused(f"I can't tell who {fmt.code('me')} is: the bot did not say who sent this line. "
                               f"Name the user ({fmt.code('@name')}) or give their Datadog user id.")
            key, label, unknown = str(asker), "you", f"your chat user ({asker})"
        else:
            mention = _SLACK_MENTION.match(said)
            key = mention.group(1) if mention else said.lstrip("@")
            label = said if said.startswith("@") or mention else f"@{said}"
            unknown = label
        if not key:
            raise _Refused(f"{said!r} names nobody.")
        if self.users is None:
            raise _Refused(f"I don't know who {unknown} is in Datadog: this bot has no user mapping, so "
                           "give a Datadog user id (a UUID).")
        found = self._lookup(key, label)
        if found is None:
            raise _Refused(f"I don't know who {unknown} is in Datadog: the bot's user mapping has no entry "
                           "for them.")
        if not _UUID.match(found):
            raise _Refused(f"The bot's user mapping gives {label} the id {found!r}, which is not a Datadog "
                           "user id (a UUID).")
        return found, label

    def _lookup(self, key: str, label: str) -> str | None:
        """The Datadog user id the bot's mapping gives *key* (exactly, else ignoring case), or None."""
        users = self.users
        try:
            if isinstance(users, Mapping):
                found = users.get(key)
                if found is None:
                    found = next((v for k, v in users.items() if str(k).casefold() == key.casefold()), None)
            else:
                found = users(key) if users is not None else None
        except LookupError:
            return None
        except Exception as exc:  # the bot's lookup failed: say so, never with its message (it may hold secrets)
            raise _Refused(f"Looking up {label} failed ({type(exc).__name__}).") from None
        return str(found).strip() if found else None

    # -- replies --------------------------------------------------------------------------------

    def _summary(self, manifest: Mapping[str, Any], inputs: Mapping[str, Any], result: Any,
                 who: Mapping[str, str], fmt: _Format) -> str:
        data = result.get("data") if isinstance(result, dict) else None
        action = manifest["id"].split(".", 1)[1]
        named = {name: _display(label, inputs.get(name), result, fmt) for name, label in who.items()}
        verb = {"create_case": "Created", "get_case": "", "comment_case": "Commented on", "assign_case": "Assigned",
                "unassign_case": "Unassigned"}.get(action, "Updated" if manifest["effect"] == "write" else "")
        if isinstance(data, dict) and data.get("type") == "case":
            line = _case_line(data, fmt)
            if action == "assign_case" and "assignee_id" in named:
                line += f" to {named['assignee_id']}"
            elif "assignee_id" in named:
                line += f", assigned to {named['assignee_id']}"
            return f"{verb} {line}".strip() if verb else line
        if isinstance(data, list):
            if manifest["id"] == "datadog.comment_case":
                return f"Comment added ({len(data)} timeline cell{'s' if len(data) != 1 else ''})."
            return self._listing(manifest, inputs, result, fmt)
        done = f"{manifest['title']}: done"
        if named:  # watch_case and the like answer nothing: say whom and where
            where = f" on {inputs['case_id']}" if "case_id" in inputs else ""
            return f"{done} ({', '.join(named.values())}{where})."
        if isinstance(data, dict):
            name = data.get("attributes", {}).get("name") or data.get("attributes", {}).get("key") or data.get("id")
            return f"{done} ({fmt.bold(str(name))})." if name else f"{done}."
        return f"{done}."

    def _listing(self, manifest: Mapping[str, Any], inputs: Mapping[str, Any], result: dict[str, Any],
                 fmt: _Format) -> str:
        """The first ``show`` items of a list reply, and how many more there are."""
        items = [item for item in result["data"] if isinstance(item, dict)]
        total, plus = len(items), ""
        if manifest["id"] == "datadog.search_cases":
            counted = (result.get("meta") or {}).get("total_cases")
            total = counted if isinstance(counted, int) and counted >= len(items) else total
            head = f"{total} case{'s' if total != 1 else ''}"
        elif manifest["id"] == "datadog.list_case_timeline":
            plus = "+" if len(items) == inputs.get("page_size") else ""  # a full page: there may be more
            order = "oldest" if inputs.get("sort_ascending") else "newest"
            head = (f"{total}{plus} timeline entr{'y' if total == 1 else 'ies'} on {inputs.get('case_id')}"
                    + (f", {order} first" if total else ""))
        else:
            head = f"{manifest['title']}: {total}{plus} item{'s' if total != 1 else ''}"
        shown = [f"• {_item_line(item, fmt)}" for item in items[: self.show]]
        more = total - len(shown)
        tail = [f"… and {more}{plus} more"] if more > 0 or plus else []
        return "\n".join([head + (":" if shown else "."), *shown, *tail])

    def _unknown(self, word: str, fmt: _Format, action: bool = False) -> str:
        """A reply to a verb or action name nobody knows: the closest ones, and where help is."""
        names = [info.id.rsplit(".", 1)[-1] for info in registry.list_actions()]
        verbs = [*VERBS, *SHORTCUTS, "run", "help"]
        if word in names:  # an action said as a verb: one clear answer
            close_actions, close_verbs = [word], []
        else:
            close_actions = difflib.get_close_matches(word.lower(), names, n=3)
            close_verbs = [] if action else difflib.get_close_matches(word.lower(), verbs, n=2)
        ideas = ([fmt.code(f"{self.prefix} {v}") for v in close_verbs]
                 + [fmt.code(f"{self.prefix} run {a}") for a in close_actions])
        what = f"unknown action '{word}'." if action else f"I don't know '{word}'."
        hint = f" Did you mean {_or(ideas)}?" if ideas else ""
        return (f"{what}{hint} Say {fmt.code(f'{self.prefix} help')} for what I can do, or "
                f"{fmt.code(f'{self.prefix} help ACTION')} for an action's inputs.")

    def _help(self, verb: str | None, fmt: _Format) -> str:
        if verb is None:
            lines = [f"{fmt.bold('Case commands')} (prefix {fmt.code(self.prefix)}):"]
            for name, (verb_action, positional) in VERBS.items():
                args = " ".join(p.upper() for p in positional)
                title = registry.describe(verb_action)["title"]
                lines.append(f"• {fmt.code(f'{self.prefix} {name} {args}'.strip())}: {title}")
            shortcuts = "|".join(SHORTCUTS)
            lines.append(f"• {fmt.code(f'{self.prefix} {shortcuts} CASE')}: set the status the verb says")
            lines.append(f"• {fmt.code(f'{self.prefix} run ACTION key=value ...')}: any of "
                         f"{len(registry.list_actions())} actions")
            lines.append(f"USER is {fmt.code('me')}, {fmt.code('@name')} or a user id. "
                         f"{fmt.code(f'{self.prefix} help words')} lists the words for statuses and priorities.")
            lines.append(f"Add {fmt.code('--yes')} (before any free text) to confirm destructive actions. "
                         f"{fmt.code(f'{self.prefix} help VERB')} shows a verb's inputs.")
            return "\n".join(lines)
        if verb.lower() == "words":
            lines = [f"{fmt.bold('Words for statuses and priorities')} (also in searches: "
                     f"{fmt.code(f'{self.prefix} search p1 open db')}):"]
            lines += [f"• {field} {fmt.code(value)}: {', '.join(words)}" for field, value, words in vocabulary()]
            return "\n".join(lines)
        verb = SHORTCUTS[verb.lower()][0] if verb.lower() in SHORTCUTS else verb
        if verb.lower() in VERBS:
            action = VERBS[verb.lower()][0]
        else:
            try:
                action = registry.resolve(verb)
            except registry.UnknownActionError:
                return self._unknown(verb, fmt)
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


def _flags_outside_text(loose: list[str], text_at: int | None) -> tuple[list[str], bool]:
    """*loose* words without the confirmation flags before the free text, which is positional
    *text_at* (None: no free text) and starts at its first word that is not a flag;
    ``(words, confirmed)``."""
    kept: list[str] = []
    confirmed = False
    for index, word in enumerate(loose):
        if word.lower() in _FLAGS:
            confirmed = True
        elif text_at is not None and len(kept) == text_at:
            return kept + loose[index:], confirmed  # the rest is text, flags and all
        else:
            kept.append(word)
    return kept, confirmed


class _Unknown(Exception):
    pass


class _Refused(Exception):
    """A line the bot will not send: a user it cannot name as a Datadog user id."""


class _Format:
    def __init__(self, style: str) -> None:
        self.slack = style == "slack"

    def bold(self, text: str) -> str:
        return f"*{text}*" if self.slack else text

    def code(self, text: str) -> str:
        return f"`{text}`" if self.slack else text


def _or(items: list[str]) -> str:
    return items[0] if len(items) == 1 else f"{', '.join(items[:-1])} or {items[-1]}"


def _case_line(case: Mapping[str, Any], fmt: _Format) -> str:
    attrs = case.get("attributes", {}) or {}
    key = attrs.get("key") or case.get("id", "?")
    facts = [str(attrs[k]) for k in ("priority", "status") if attrs.get(k)]
    if fmt.slack:
        return f"*{key}*: {attrs.get('title', '')}" + (f" · {' · '.join(facts)}" if facts else "")
    return f"{key}: {attrs.get('title', '')}" + (f" ({', '.join(facts)})" if facts else "")


def _item_line(item: Mapping[str, Any], fmt: _Format) -> str:
    """One item of a list reply: a case, a timeline entry (author: text), or anything named."""
    if item.get("type") == "case":
        return _case_line(item, fmt)
    attrs = item.get("attributes", {}) or {}
    if item.get("type") == "timeline_cell":
        author = (attrs.get("author") or {}).get("content") or {}
        name = next((str(author[k]) for k in ("name", "handle", "email", "ID", "id") if author.get(k)), "someone")
        content = attrs.get("cell_content") or {}
        text = str(content.get("message") or attrs.get("type", "")).replace("\n", " ")
        text = text if len(text) <= _SNIPPET else text[: _SNIPPET - 1] + "…"
        return f"{fmt.bold(name)}: {text}"
    user = ((item.get("relationships") or {}).get("user") or {}).get("data") or {}
    label = attrs.get("key") or attrs.get("name") or attrs.get("title") or user.get("id") or item.get("id", "?")
    status = attrs.get("status") or attrs.get("status_name")
    return f"{fmt.bold(str(label))}" + (f" ({status})" if status else "")


def _display(label: str, user_id: Any, result: Any, fmt: _Format) -> str:
    """How a reply names an assigned user: what the line said, and the Datadog name when the answer has it."""
    included = result.get("included", []) if isinstance(result, dict) else []
    name = next((str((u.get("attributes") or {}).get("name") or "") for u in included
                 if isinstance(u, dict) and u.get("id") == user_id), "")
    if label == user_id:
        return fmt.bold(name) if name else label
    return f"{fmt.bold(label)} ({name})" if name else fmt.bold(label)


def _in_words(name: str, schema: Mapping[str, Any], value: Any) -> Any:
    """A status or priority said in words (``done``, ``urgent``) as its API value; other enum
    values in the case the schema has (``closed`` -> ``CLOSED``)."""
    if isinstance(value, str) and name in _WORD_FIELDS:
        value = word_value(name, value) or value
    if isinstance(value, str) and "enum" in schema and value not in schema["enum"]:
        for option in schema["enum"]:
            if isinstance(option, str) and option.lower() == value.lower():
                return option
    return value
