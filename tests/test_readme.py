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


# -- install lines ----------------------------------------------------------------------------------------------

ROOT = Path(__file__).resolve().parent.parent
UNPUBLISHED = {"datadog-case-actions", "datadog_case_actions"}  # not on any package index yet


def _install_lines() -> list[tuple[str, str]]:
    sources = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md")), *sorted((ROOT / "docs").rglob("*.py"))]
    return [(f"{path.relative_to(ROOT)}:{number}", line)
            for path in sources
            for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), 1)
            if "pip install" in line]


def _requirements(line: str) -> list[str]:
    """The requirement arguments of every `pip install` in a line (options and comments left out)."""
    found: list[str] = []
    for command in re.findall(r"pip install ([^#&|;]*)", line):
        found += [token.strip("'\"`") for token in command.split() if not token.startswith("-")]
    return found


def test_every_install_line_installs_something_that_exists() -> None:
    import tomllib

    project = tomllib.loads((ROOT / "pyproject.toml").read_text(encoding="utf-8"))["project"]
    extras = set(project["optional-dependencies"])
    lines = _install_lines()
    assert len(lines) >= 5
    for where, line in lines:
        for requirement in _requirements(line):
            name, _, extra = requirement.partition("[")
            for wanted in filter(None, extra.rstrip("]").split(",")):
                assert wanted in extras, f"{where}: no extra {wanted!r} in pyproject.toml: {line}"
            if name in (".", "") or name.startswith(("./", "/")):
                continue
            if name.endswith(".whl"):
                assert f"-{project['version']}-" in name, f"{where}: the wheel named is not this version: {line}"
                continue
            assert name.split("=")[0].split("<")[0].split(">")[0] not in UNPUBLISHED, (
                f"{where}: {name!r} is not published on a package index; install from a clone or a wheel: {line}")


def test_the_install_line_check_catches_the_published_name() -> None:
    assert _requirements("pip install 'datadog-case-actions[mcp]'") == ["datadog-case-actions[mcp]"]
    assert _requirements("python -m venv .venv && pip install -q -e '.[test]' && pytest") == [".[test]"]
