"""docs/cli.md is generated from --help; this test fails when it is stale.

Regenerate with: UPDATE_DOCS=1 python -m pytest tests/test_docs.py
"""

from __future__ import annotations

import os
import re

from clientela.cli import app
from tests.conftest import ROOT, run_cli

DOC = ROOT / "docs" / "cli.md"


def _commands() -> list[str]:
    return sorted(c.name or c.callback.__name__ for c in app.registered_commands)  # type: ignore[union-attr]


def render() -> str:
    parts = [
        "# Command reference\n",
        "Generated from `clientela --help` by `UPDATE_DOCS=1 python -m pytest tests/test_docs.py`;"
        " do not edit by hand.\n",
    ]
    for args in [[], *([c] for c in _commands())]:
        res = run_cli(*args, "--help", env={"COLUMNS": "100", "TERM": "dumb"})
        assert res.code == 0, res.err
        text = re.sub(r"[ \t]+\n", "\n", res.out).rstrip()
        title = " ".join(["clientela", *args])
        parts.append(f"\n## `{title}`\n\n```text\n{text}\n```\n")
    return "".join(parts)


def test_cli_reference_is_current() -> None:
    text = render()
    if os.environ.get("UPDATE_DOCS"):
        DOC.write_text(text, encoding="utf-8")
    assert DOC.read_text(encoding="utf-8") == text, "docs/cli.md is stale: see module docstring"


def test_every_command_is_in_the_readme() -> None:
    readme = (ROOT / "README.md").read_text(encoding="utf-8")
    for name in _commands():
        assert f"clientela {name}" in readme, name
