"""The named SQL files of ``sql/``: found inside an installed wheel or in a checkout.

The wheel carries the repository's top-level ``sql/`` as ``clientela/sql``; an editable
install or a checkout reads ``<repo>/sql``. Parameters are bound by the caller.
"""

from __future__ import annotations

import functools
from pathlib import Path


@functools.cache
def sql_dir() -> Path:
    """The folder holding the named SQL files."""
    here = Path(__file__).resolve().parent
    for candidate in (here / "sql", here.parent.parent / "sql"):
        if candidate.is_dir():
            return candidate
    raise FileNotFoundError(  # a broken installation, not a user error
        f"the clientela SQL files are missing (looked in {here / 'sql'})"
    )


@functools.cache
def read_sql(name: str) -> str:
    """The text of ``sql/<name>.sql``."""
    return (sql_dir() / f"{name}.sql").read_text(encoding="utf-8")
