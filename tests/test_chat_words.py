"""Chat-ops words: status and priority synonyms, searches that filter on them, list replies with
their first items, and unknown verbs answered in chat; tables of lines and replies against the sandbox."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from datadog_case_actions import Connection, Runner
from datadog_case_actions.adapters.chat import ChatOps
from datadog_case_actions.adapters.chatwords import search_filter, vocabulary

CASE_TYPE = "00000000-0000-0000-0000-000000000001"
DOC = Path(__file__).resolve().parents[1] / "docs" / "chat.md"

#: the documented table (docs/chat.md), written out: a wrong entry in the module fails here
STATUS = {"open": "OPEN", "reopen": "OPEN", "reopened": "OPEN",
          "in progress": "IN_PROGRESS", "in_progress": "IN_PROGRESS", "In-Progress": "IN_PROGRESS",
          "ack": "IN_PROGRESS", "acked": "IN_PROGRESS", "acknowledge": "IN_PROGRESS",
          "acknowledged": "IN_PROGRESS", "working": "IN_PROGRESS",
          "closed": "CLOSED", "close": "CLOSED", "resolve": "CLOSED", "resolved": "CLOSED", "done": "CLOSED",
          "fixed": "CLOSED", "CLOSED": "CLOSED"}
PRIORITY = {"p1": "P1", "critical": "P1", "urgent": "P1", "URGENT": "P1", "sev1": "P1", "sev-1": "P1",
            "p2": "P2", "high": "P2", "sev2": "P2",
            "p3": "P3", "medium": "P3", "normal": "P3", "sev3": "P3",
            "p4": "P4", "low": "P4", "sev4": "P4",
            "p5": "P5", "info": "P5", "informational": "P5", "sev5": "P5",
            "not defined": "NOT_DEFINED", "undefined": "NOT_DEFINED"}
#: verbs that carry their status
SHORTCUTS = {"ack": "IN_PROGRESS", "acknowledge": "IN_PROGRESS", "close": "CLOSED", "resolve": "CLOSED",
             "done": "CLOSED", "reopen": "OPEN"}


class Spy:
    """A runner that records the inputs of every action it runs."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def run(self, action: str, inputs: dict[str, Any] | None = None) -> Any:
        self.calls.append((action.rsplit(".", 1)[-1], dict(inputs or {})))
        return self.runner.run(action, inputs)


@pytest.fixture()
def spy() -> Iterator[Spy]:
    """A sandbox with project OPS and seven cases: OPS-n has priority P((n-1) % 5 + 1), all open."""
    runner = Runner(Connection.sandbox(":memory:"))
    project = runner.run("create_project", {"key": "OPS", "name": "Operations"})["data"]["id"]
    titles = ["db primary down", "checkout slow", "db replica lag", "login errors", "disk low on web-1",
              "db backups failing", "cert expires"]
    for number, title in enumerate(titles):
        runner.run("create_case", {"title": title, "type_id": CASE_TYPE, "project_id": project,
                                   "priority": f"P{number % 5 + 1}"})
    yield Spy(runner)
    runner.close()


@pytest.fixture()
def chat(spy: Spy) -> ChatOps:
    return ChatOps(spy, defaults={"type_id": CASE_TYPE})


def _case(spy: Spy, key: str = "OPS-1") -> dict[str, Any]:
    return spy.runner.run("get_case", {"case_id": key})["data"]["attributes"]  # type: ignore[no-any-return]


# -- synonyms -----------------------------------------------------------------------------------

def test_every_status_word_sets_its_status(chat: ChatOps, spy: Spy) -> None:
    for word, status in STATUS.items():
        chat.handle("case status OPS-1 " + ("done" if status == "OPEN" else "open"))  # start elsewhere
        reply = chat.handle(f"case status OPS-1 {word}")
        assert reply.ok and reply.text.endswith(f", {status})"), (word, reply.text)
        assert _case(spy)["status"] == status, word


def test_every_priority_word_sets_its_priority(chat: ChatOps, spy: Spy) -> None:
    for word, priority in PRIORITY.items():
        chat.handle("case priority OPS-1 " + ("P5" if priority == "P1" else "P1"))
        reply = chat.handle(f"case priority OPS-1 {word}")
        assert reply.ok and f"({priority}, OPEN)" in reply.text, (word, reply.text)
        assert _case(spy)["priority"] == priority, word


def test_every_shortcut_verb_sets_its_status(chat: ChatOps, spy: Spy) -> None:
    for verb, status in SHORTCUTS.items():
        chat.handle("case status OPS-1 " + ("closed" if status == "OPEN" else "open"))
        reply = chat.handle(f"case {verb} OPS-1")
        assert reply.ok and reply.text == f"Updated OPS-1: db primary down (P1, {status})", (verb, reply.text)
        assert _case(spy)["status"] == status, verb


def test_words_work_in_key_value_pairs_and_bad_ones_name_the_choices(chat: ChatOps, spy: Spy) -> None:
    table = [
        ('case create "Payments down" project=OPS priority=urgent', True, "Created OPS-8: Payments down (P1, OPEN)"),
        ("case run update_status case_id=OPS-8 status=resolved", True, "Updated OPS-8: Payments down (P1, CLOSED)"),
        ("case run update_priority case_id=OPS-8 priority=low", True, "Updated OPS-8: Payments down (P4, CLOSED)"),
        ("case status OPS-8 sort of done", False, "status: 'sort of done' is not one of"),
        ("case priority OPS-8 meh", False, "priority: 'meh' is not one of"),
    ]
    for line, ok, text in table:
        reply = chat.handle(line)
        assert reply.ok is ok and text in reply.text, (line, reply.text)


def _plain(word: str) -> str:
    return re.sub(r"[\s_-]+", "", word.lower())


def test_the_words_table_is_documented_and_matches_the_module() -> None:
    said = {(field, value): set(words) for field, value, words in vocabulary()}
    for field, table in (("status", STATUS), ("priority", PRIORITY)):
        for word, value in table.items():  # every word tested above is in the table, modulo spelling
            assert _plain(word) in {_plain(w) for w in (value, *said[(field, value)])}, word
    assert sum(len(words) for words in said.values()) == 35
    doc = DOC.read_text(encoding="utf-8")
    for (field, value), words in said.items():
        row = next((line for line in doc.splitlines() if line.startswith(f"| {field} | `{value}` |")), None)
        assert row is not None, (field, value)
        assert {w.strip(" `") for w in row.split("|")[3].split(",")} == words, row


def test_the_help_lists_the_words(chat: ChatOps) -> None:
    text = chat.handle("case help words").text
    assert "• priority P2: p2, high, sev2" in text and "• status CLOSED: closed, close, resolve" in text
    assert "case ack|acknowledge|close|resolve|done|reopen CASE" in chat.handle("case help").text


# -- searches -----------------------------------------------------------------------------------

@pytest.mark.parametrize(
    ("words", "query"),
    [
        ("p1 open db", "priority:P1 status:open db"),
        ("db", "db"),
        ("urgent high", "priority:P1,P2"),
        ("in progress", "status:in_progress"),
        ("ack resolved open", "status:in_progress,closed,open"),
        ("done db p3", "priority:P3 status:closed db"),
        ("title:low", "title:low"),  # a field term stays as written
        ("-status:closed db", "-status:closed db"),
        ("'disk low'", '"disk low"'),  # a quoted phrase stays one phrase
        ("'title:disk low'", 'title:"disk low"'),
        ("mine unassigned", "assignee:me assignee:none"),
        ("", ""),
    ],
)
def test_search_words_become_a_query(words: str, query: str) -> None:
    import shlex

    assert search_filter(shlex.split(words)) == query


def test_searches_filter_on_status_and_priority_words(chat: ChatOps, spy: Spy) -> None:
    chat.handle("case ack OPS-3")
    # (line, the query sent, the reply)
    table = [
        ("case search p1 open db", "priority:P1 status:open db",
         "2 cases:\n• OPS-6: db backups failing (P1, OPEN)\n• OPS-1: db primary down (P1, OPEN)"),
        ("case search p1 open primary", "priority:P1 status:open primary",
         "1 case:\n• OPS-1: db primary down (P1, OPEN)"),
        ("case search p1 open", "priority:P1 status:open",
         "2 cases:\n• OPS-6: db backups failing (P1, OPEN)\n• OPS-1: db primary down (P1, OPEN)"),
        ("case search in progress", "status:in_progress", "1 case:\n• OPS-3: db replica lag (P3, IN_PROGRESS)"),
        ("case list high urgent db", "priority:P2,P1 db",
         "2 cases:\n• OPS-6: db backups failing (P1, OPEN)\n• OPS-1: db primary down (P1, OPEN)"),
        ("case search title:low", "title:low",
         "2 cases:\n• OPS-5: disk low on web-1 (P5, OPEN)\n• OPS-2: checkout slow (P2, OPEN)"),
        ("case search low", "priority:P4", "1 case:\n• OPS-4: login errors (P4, OPEN)"),
        ("case search closed", "status:closed", "0 cases."),
    ]
    for line, query, text in table:
        reply = chat.handle(line)
        assert spy.calls[-1] == ("search_cases", {"filter": query, "page_size": 5}), line
        assert (reply.ok, reply.text) == (True, text), line


# -- list replies -------------------------------------------------------------------------------

def test_list_replies_show_the_first_items_and_how_many_more(chat: ChatOps, spy: Spy) -> None:
    for number in range(1, 8):
        chat.handle(f"case comment OPS-1 note {number}: " + ("long " * 40 if number == 7 else "short"))
    newest = "note 7: " + ("long " * 40)
    table = [
        ("case search", "7 cases:\n• OPS-7: cert expires (P2, OPEN)\n• OPS-6: db backups failing (P1, OPEN)\n"
                        "• OPS-5: disk low on web-1 (P5, OPEN)\n• OPS-4: login errors (P4, OPEN)\n"
                        "• OPS-3: db replica lag (P3, OPEN)\n… and 2 more"),
        ("case search db", "3 cases:\n• OPS-6: db backups failing (P1, OPEN)\n• OPS-3: db replica lag (P3, OPEN)\n"
                           "• OPS-1: db primary down (P1, OPEN)"),
        ("case timeline OPS-1", "7 timeline entries on OPS-1, newest first:\n"
                                f"• Sandbox User: {newest[:119]}…\n• Sandbox User: note 6: short\n"
                                "• Sandbox User: note 5: short\n• Sandbox User: note 4: short\n"
                                "• Sandbox User: note 3: short\n… and 2 more"),
        ("case timeline OPS-2", "0 timeline entries on OPS-2."),
        ("case run get_all_case_types", "Get all case types: 6 items:\n• Standard\n• Event Management\n"
                                        "• Security\n• Change Request\n• Error Tracking\n… and 1 more"),
        ("case projects", "Get all projects: 1 item:\n• OPS"),
    ]
    for line, text in table:
        reply = chat.handle(line)
        assert (reply.ok, reply.text) == (True, text), line


def test_a_full_timeline_page_says_there_may_be_more(spy: Spy) -> None:
    for number in range(101):
        spy.runner.run("comment_case", {"case_id": "OPS-2", "comment": f"c{number}"})
    chat = ChatOps(spy, show=2)
    reply = chat.handle("case timeline OPS-2", style="slack")
    assert reply.text == ("100+ timeline entries on OPS-2, newest first:\n• *Sandbox User*: c100\n"
                          "• *Sandbox User*: c99\n… and 98+ more")


# -- unknown verbs and actions ------------------------------------------------------------------

@pytest.mark.parametrize(
    ("line", "text"),
    [
        ("case frobnicate", "I don't know 'frobnicate'. Say case help for what I can do, "
                            "or case help ACTION for an action's inputs."),
        ("case asign OPS-1 me", "I don't know 'asign'. Did you mean case assign, case unassign or "
                                "case run assign_case? Say case help for what I can do, "
                                "or case help ACTION for an action's inputs."),
        ("case delete_project x", "I don't know 'delete_project'. Did you mean case run delete_project? "
                                  "Say case help for what I can do, or case help ACTION for an action's inputs."),
        ("case run no_such_action", "unknown action 'no_such_action'. Say case help for what I can do, "
                                    "or case help ACTION for an action's inputs."),
        ("case run get_cases", "unknown action 'get_cases'. Did you mean case run get_case, "
                               "case run aggregate_cases or case run get_case_view? Say case help for what I can do, "
                               "or case help ACTION for an action's inputs."),
        ("case help frobnicate", "I don't know 'frobnicate'. Say case help for what I can do, "
                                 "or case help ACTION for an action's inputs."),
    ],
)
def test_unknown_verbs_and_actions_get_a_chat_answer(chat: ChatOps, line: str, text: str) -> None:
    reply = chat.handle(line)
    assert reply.text == text
    assert not re.search(r"dd-cases|shell|command line", reply.text)


def test_unknown_verbs_in_slack_style_quote_the_suggestions(chat: ChatOps) -> None:
    assert chat.handle("case closee OPS-1", style="slack").text.startswith(
        "I don't know 'closee'. Did you mean `case close`")
