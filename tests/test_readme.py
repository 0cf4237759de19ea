"""The README's runnable examples run as written (those that need no account)."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = (Path(__file__).resolve().parent.parent / "README.md").read_text(encoding="utf-8")


def _python_blocks(containing: str) -> list[str]:
    return [b for b in re.findall(r"```python\n(.*?)```", README, re.S) if containing in b]


def test_the_chat_example_prints_what_its_comment_says() -> None:
    (block,) = _python_blocks("ChatOps(")
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(block, "README.md", "exec"), {})
    expected = re.search(r"# (Created .*)", block)
    assert expected and out.getvalue().strip() == expected.group(1).strip()
