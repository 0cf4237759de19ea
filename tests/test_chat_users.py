"""Chat-ops names people: ``me`` and ``@name`` through the bot's user mapping, never a raw name sent as an id."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from datadog_case_actions import Connection, Runner
from datadog_case_actions.adapters.chat import ChatOps

CASE_TYPE = "00000000-0000-0000-0000-000000000001"
ALICE = "00000000-0000-4000-8000-00000000a11c"
BOB = "00000000-0000-4000-8000-000000000b0b"
RAW = "00000000-0000-4000-8000-0000000000ff"
#: the bot's mapping: chat user (a Slack id, or a name) -> Datadog user UUID
USERS = {"U-ALICE": ALICE, "bob": BOB, "dave": "dave@example.com"}


class Spy:
    """A runner that records every action it is asked to run."""

    def __init__(self, runner: Runner) -> None:
        self.runner = runner
        self.calls: list[tuple[str, dict[str, Any]]] = []

    def run(self, action: str, inputs: dict[str, Any] | None = None) -> Any:
        self.calls.append((action.rsplit(".", 1)[-1], dict(inputs or {})))
        return self.runner.run(action, inputs)

    def sent(self, action: str) -> list[dict[str, Any]]:
        return [inputs for name, inputs in self.calls if name == action]


@pytest.fixture()
def spy() -> Iterator[Spy]:
    runner = Runner(Connection.sandbox(":memory:"))
    project = runner.run("create_project", {"key": "OPS", "name": "Operations"})["data"]["id"]
    runner.run("create_case", {"title": "DB is down", "type_id": CASE_TYPE, "project_id": project,
                               "priority": "P1"})
    yield Spy(runner)
    runner.close()


def _assignee(spy: Spy) -> Any:
    case = spy.runner.run("get_case", {"case_id": "OPS-1"})["data"]
    return (((case.get("relationships") or {}).get("assignee") or {}).get("data") or {}).get("id")


def _watchers(spy: Spy) -> set[str]:
    found = spy.runner.run("list_case_watchers", {"case_id": "OPS-1"})["data"]
    return {w["relationships"]["user"]["data"]["id"] for w in found}


NOBODY_MAPPED = "the bot's user mapping has no entry for them. Nothing was changed."
CASE = "OPS-1: DB is down (P1, OPEN)"


def test_me_and_at_names_go_through_the_mapping_and_unknown_ones_are_never_sent(spy: Spy) -> None:
    chat = ChatOps(spy, defaults={"type_id": CASE_TYPE}, users=USERS)
    # (chat user, line, reply ok, reply text, the assignee afterwards)
    table: list[tuple[str | None, str, bool, str, str | None]] = [
        ("U-ALICE", "case assign OPS-1 me", True, f"Assigned {CASE} to you", ALICE),
        ("U-ALICE", "case assign OPS-1 @bob", True, f"Assigned {CASE} to @bob", BOB),
        ("U-ALICE", "case assign OPS-1 me", True, f"Assigned {CASE} to you", ALICE),
        ("U-ALICE", "case assign OPS-1 bob", True, f"Assigned {CASE} to @bob", BOB),
        ("U-ALICE", "case assign OPS-1 <@U-ALICE|alice>", True, f"Assigned {CASE} to <@U-ALICE|alice>", ALICE),
        ("U-ALICE", "case assign OPS-1 @BOB", True, f"Assigned {CASE} to @BOB", BOB),  # names ignore case
        ("U-ALICE", f"case assign OPS-1 {RAW}", True, f"Assigned {CASE} to {RAW}", RAW),
        ("U-ALICE", "case run assign_case case_id=OPS-1 assignee_id=me", True, f"Assigned {CASE} to you", ALICE),
        # refused: nothing is sent, the assignee stays
        ("U-ALICE", "case assign OPS-1 @carol", False, f"I don't know who @carol is in Datadog: {NOBODY_MAPPED}",
         ALICE),
        ("U-ALICE", "case assign OPS-1 carol", False, f"I don't know who @carol is in Datadog: {NOBODY_MAPPED}",
         ALICE),
        ("U-ALICE", "case run assign_case case_id=OPS-1 assignee_id=carol", False,
         f"I don't know who @carol is in Datadog: {NOBODY_MAPPED}", ALICE),
        ("U-EVE", "case assign OPS-1 me", False,
         f"I don't know who your chat user (U-EVE) is in Datadog: {NOBODY_MAPPED}", ALICE),
        (None, "case assign OPS-1 me", False, "I can't tell who me is: the bot did not say who sent this line. "
         "Name the user (@name) or give their Datadog user id. Nothing was changed.", ALICE),
        ("U-ALICE", "case assign OPS-1 @dave", False, "The bot's user mapping gives @dave the id "
         "'dave@example.com', which is not a Datadog user id (a UUID). Nothing was changed.", ALICE),
    ]
    for user, line, ok, text, assignee in table:
        before = len(spy.sent("assign_case"))
        reply = chat.handle(line, user=user)
        assert (reply.ok, reply.text) == (ok, text), (user, line)
        assert len(spy.sent("assign_case")) == before + ok, (line, "sent" if not ok else "not sent")
        assert _assignee(spy) == assignee, line
    assert {inputs["assignee_id"] for inputs in spy.sent("assign_case")} == {ALICE, BOB, RAW}


def test_without_a_mapping_only_user_ids_are_taken(spy: Spy) -> None:
    chat = ChatOps(spy, defaults={"type_id": CASE_TYPE})
    no_mapping = "this bot has no user mapping, so give a Datadog user id (a UUID). Nothing was changed."
    table = [
        ("case assign OPS-1 me", False, f"I don't know who your chat user (U-ALICE) is in Datadog: {no_mapping}"),
        ("case assign OPS-1 @bob", False, f"I don't know who @bob is in Datadog: {no_mapping}"),
        ("case watch OPS-1 me", False, f"I don't know who your chat user (U-ALICE) is in Datadog: {no_mapping}"),
        (f"case assign OPS-1 {RAW}", True, f"Assigned {CASE} to {RAW}"),
    ]
    for line, ok, text in table:
        reply = chat.handle(line, user="U-ALICE")
        assert (reply.ok, reply.text) == (ok, text), line
    assert [inputs["assignee_id"] for inputs in spy.sent("assign_case")] == [RAW]
    assert spy.sent("watch_case") == [] and _watchers(spy) == set()


def test_the_conversation_names_who_asks_and_a_callable_mapping_works(spy: Spy) -> None:
    def lookup(name: str) -> str | None:
        if name == "broken":
            raise RuntimeError("token xoxb-SECRET expired")
        return {"U-ALICE": ALICE, "bob": BOB}[name]  # a KeyError: nobody of that name

    chat = ChatOps(spy, defaults={"type_id": CASE_TYPE}, users=lookup)
    reply = chat.handle("case assign OPS-1 me", conversation=("#ops", "U-ALICE"))
    assert reply.text == f"Assigned {CASE} to you" and _assignee(spy) == ALICE
    reply = chat.handle("case watch OPS-1 @bob", conversation=("#ops", "U-ALICE"))
    assert reply.ok and reply.text == "Watch a case: done (@bob on OPS-1)." and _watchers(spy) == {BOB}
    reply = chat.handle("case watch OPS-1 @carol", conversation=("#ops", "U-ALICE"))
    assert reply.text == f"I don't know who @carol is in Datadog: {NOBODY_MAPPED}" and _watchers(spy) == {BOB}
    reply = chat.handle("case assign OPS-1 @broken")
    assert reply.text == "Looking up @broken failed (RuntimeError). Nothing was changed." and not reply.ok
    assert len(spy.sent("assign_case")) == 1


def test_a_created_case_names_its_assignee_and_searches_resolve_people(spy: Spy) -> None:
    chat = ChatOps(spy, defaults={"type_id": CASE_TYPE}, users=USERS)
    reply = chat.handle('case create "Checkout slow" project=OPS priority=P3 assignee=@bob', user="U-ALICE")
    assert reply.text == "Created OPS-2: Checkout slow (P3, OPEN), assigned to @bob"
    assert spy.sent("create_case")[0]["assignee_id"] == BOB
    refused = chat.handle('case create "Nobody" project=OPS assignee=@carol', user="U-ALICE")
    assert not refused.ok and "@carol" in refused.text and len(spy.sent("create_case")) == 1
    chat.handle("case assign OPS-1 me", user="U-ALICE")
    assert chat.handle("case search mine", user="U-ALICE").text == f"1 case:\n• {CASE}"
    assert spy.sent("search_cases")[-1]["filter"] == f"assignee:{ALICE}"
    assert chat.handle("case search assignee:@bob", user="U-ALICE").text == \
        "1 case:\n• OPS-2: Checkout slow (P3, OPEN)"
    searches = len(spy.sent("search_cases"))
    assert not chat.handle("case search assignee:@carol", user="U-ALICE").ok
    assert len(spy.sent("search_cases")) == searches


def test_a_bulk_assignment_resolves_its_payload_and_refuses_unknown_people(spy: Spy) -> None:
    spy.runner.run("create_case", {"title": "Checkout slow", "type_id": CASE_TYPE, "project_id":
                                   spy.runner.run("get_projects")["data"][0]["id"]})
    chat = ChatOps(spy, users=USERS)
    line = ("case run bulk_update_cases case_ids:='[\"OPS-1\",\"OPS-2\"]' action=assign "
            "payload:='{{\"assignee_id\": \"{}\"}}'")
    refused = chat.handle(line.format("@carol"), user="U-ALICE")
    assert refused.text == f"I don't know who @carol is in Datadog: {NOBODY_MAPPED}"
    assert spy.sent("bulk_update_cases") == [] and _assignee(spy) is None
    assert chat.handle(line.format("me"), user="U-ALICE").ok
    assert spy.sent("bulk_update_cases")[0]["payload"] == {"assignee_id": ALICE} and _assignee(spy) == ALICE
