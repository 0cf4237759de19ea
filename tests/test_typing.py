"""The typed surface as type checkers see it: the snippets in ``tests/typing`` under mypy --strict and basedpyright.

``ok_*.py`` must check clean, with the exact types asserted (``assert_type``: ``Any`` would fail it);
``errors.py`` carries one expected error per bad line as an ignore comment, and both checkers report an
unneeded ignore, so a mistake that stops being caught fails the run.  Each run uses a fresh cache (a few seconds).
"""

from __future__ import annotations

import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
SNIPPETS = ROOT / "tests" / "typing"
PACKAGE = ROOT / "actions" / "datadog_case_actions"


def mypy(tmp_path: Path, config: Path) -> subprocess.CompletedProcess[str]:
    files = sorted(str(p) for p in SNIPPETS.glob("*.py"))
    return subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(config), "--cache-dir", str(tmp_path / "cache"), *files],
        capture_output=True, text=True, cwd=ROOT,
    )


def test_mypy_strict_sees_exactly_the_expected_errors(tmp_path: Path) -> None:
    done = mypy(tmp_path, SNIPPETS / "mypy.ini")
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Success: no issues found in 3 source files" in done.stdout


def test_a_literal_lost_from_the_generated_code_fails_the_check(tmp_path: Path) -> None:
    """The check can fail: with ``priority`` typed ``str`` the wrong-literal lines are no longer errors."""
    copy = tmp_path / "actions" / "datadog_case_actions"
    shutil.copytree(PACKAGE, copy, ignore=shutil.ignore_patterns("__pycache__"))
    client = copy / "client.py"
    text, count = re.subn(r'priority: Literal\["NOT_DEFINED", [^\]]*\]', "priority: str", client.read_text())
    assert count >= 6  # create_case and update_priority, three overloads and the implementation each, twice
    client.write_text(text)
    config = tmp_path / "mypy.ini"
    config.write_text((SNIPPETS / "mypy.ini").read_text().replace("$MYPY_CONFIG_FILE_DIR/../..", str(tmp_path)))
    done = mypy(tmp_path, config)
    assert done.returncode == 1, done.stdout
    unused = re.findall(r"errors\.py:(\d+): error: Unused \"type: ignore\" comment", done.stdout)
    lines = (SNIPPETS / "errors.py").read_text().splitlines()
    assert unused and all('priority="P9"' in lines[int(n) - 1] for n in unused), done.stdout


@pytest.mark.skipif(shutil.which("basedpyright", path=str(Path(sys.executable).parent)) is None,
                    reason="basedpyright is not installed (pip install -e '.[typing]'; .ci/typing runs it)")
def test_basedpyright_sees_exactly_the_expected_errors() -> None:
    done = subprocess.run(
        [str(Path(sys.executable).parent / "basedpyright"), "-p", str(SNIPPETS / "pyrightconfig.json"), str(SNIPPETS)],
        capture_output=True, text=True, cwd=SNIPPETS,
    )
    assert done.returncode == 0, done.stdout + done.stderr
    assert "0 errors" in done.stdout


def test_the_readme_examples_check_as_their_comments_say(tmp_path: Path) -> None:
    """The README's facade example checks clean, and each line of its "what they catch" block is an error."""
    blocks = re.findall(r"```python\n(.*?)```", (ROOT / "README.md").read_text(encoding="utf-8"), re.S)
    usage = next(b for b in blocks if "with CaseManagement(" in b)
    mistakes = next(b for b in blocks if "# error:" in b)
    header = ("from datadog_case_actions import CaseManagement\n"
              "from datadog_case_actions.types import GetCaseResult\n\n\n"
              "def usage() -> None:\n")
    source = header + _indent(usage) + (
        "\n\ndef mistakes(dd: CaseManagement, cid: str, t: str, p: str, case: GetCaseResult) -> None:\n"
        + _indent(mistakes))
    lines = source.splitlines()
    (tmp_path / "readme_example.py").write_text(source)
    done = subprocess.run(
        [sys.executable, "-m", "mypy", "--config-file", str(SNIPPETS / "mypy.ini"), "--cache-dir",
         str(tmp_path / "cache"), str(tmp_path / "readme_example.py")],
        capture_output=True, text=True, cwd=ROOT,
    )
    reported = {int(n) for n in re.findall(r"readme_example\.py:(\d+): error:", done.stdout)}
    expected = {i for i, line in enumerate(lines, 1) if "# error:" in line}
    assert len(expected) == 4
    assert reported == expected, done.stdout


def _indent(block: str) -> str:
    return "".join(f"    {line}\n" for line in block.splitlines())
