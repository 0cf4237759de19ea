"""The words chat users say for statuses and priorities, and search lines built from them.

    word_value("status", "resolved")        # 'CLOSED'
    word_value("priority", "urgent")        # 'P1'
    search_filter(["p1", "open", "db"])     # 'priority:P1 status:open db'

Words are compared without case, spaces, dashes or underscores, so ``in progress``,
``In-Progress`` and ``in_progress`` are one word.  Standard library only.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

__all__ = ["STATUS_WORDS", "PRIORITY_WORDS", "SEARCH_WORDS", "word_value", "search_filter", "vocabulary"]

#: status -> what users say for it (the API's own name is always understood too)
STATUS_WORDS: dict[str, tuple[str, ...]] = {
    "OPEN": ("open", "reopen", "reopened"),
    "IN_PROGRESS": ("in progress", "ack", "acked", "acknowledge", "acknowledged", "working"),
    "CLOSED": ("closed", "close", "resolve", "resolved", "done", "fixed"),
}
#: priority -> what users say for it; one severity scale, most urgent first
PRIORITY_WORDS: dict[str, tuple[str, ...]] = {
    "P1": ("p1", "critical", "urgent", "sev1"),
    "P2": ("p2", "high", "sev2"),
    "P3": ("p3", "medium", "normal", "sev3"),
    "P4": ("p4", "low", "sev4"),
    "P5": ("p5", "info", "informational", "sev5"),
    "NOT_DEFINED": ("not defined", "undefined"),
}
#: search words that stand for a filter term of their own (``me`` is the user who asks)
SEARCH_WORDS: dict[str, str] = {"mine": "assignee:me", "unassigned": "assignee:none"}


def _key(text: str) -> str:
    return re.sub(r"[\s_-]+", "", text.strip().lower())


_TABLES = {
    "status": {_key(w): value for value, words in STATUS_WORDS.items() for w in (value, *words)},
    "priority": {_key(w): value for value, words in PRIORITY_WORDS.items() for w in (value, *words)},
}


def word_value(field: str, text: str) -> str | None:
    """The API value of *field* (``status`` or ``priority``) that *text* stands for, or None."""
    table = _TABLES.get(field)
    return table.get(_key(text)) if table is not None else None


def search_filter(words: Iterable[str]) -> str:
    """A search query from a chat line's words: status and priority words become filter terms.

    Words holding a ``:`` (``title:low``) or starting with ``-`` are query terms
    already and stay as written; a word with spaces (quoted in chat) stays one phrase.
    """
    words = list(words)
    picked: dict[str, list[str]] = {"priority": [], "status": []}
    terms: list[str] = []
    index = 0
    while index < len(words):
        word = words[index]
        pair = f"{word} {words[index + 1]}" if index + 1 < len(words) else None
        if pair is not None and " " not in word and word_value("status", pair):  # in progress
            picked["status"].append(str(word_value("status", pair)).lower())
            index += 2
            continue
        index += 1
        if ":" in word or word.startswith("-") or word in ("AND", "OR", "NOT"):
            terms.append(_quote_value(word))
        elif _key(word) in SEARCH_WORDS:
            terms.append(SEARCH_WORDS[_key(word)])
        elif word_value("priority", word):
            picked["priority"].append(str(word_value("priority", word)))
        elif word_value("status", word):
            picked["status"].append(str(word_value("status", word)).lower())
        elif word:
            terms.append(f'"{word}"' if " " in word else word)
    chosen = [f"{field}:{','.join(dict.fromkeys(values))}" for field, values in picked.items() if values]
    return " ".join(chosen + terms)


def _quote_value(term: str) -> str:
    """``title:disk full`` (from ``title:"disk full"`` in chat) -> ``title:"disk full"``."""
    field, sep, value = term.partition(":")
    return f'{field}:"{value}"' if sep and " " in value and not value.startswith('"') else term


def vocabulary() -> list[tuple[str, str, tuple[str, ...]]]:
    """``(field, value, words)`` for every status and priority, for help replies."""
    return ([("status", v, w) for v, w in STATUS_WORDS.items()]
            + [("priority", v, w) for v, w in PRIORITY_WORDS.items()])
