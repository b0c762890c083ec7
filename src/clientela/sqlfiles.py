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


#: the analyses whose SQL ``clientela sql ANALYSIS`` prints, and their files' name prefixes
#: (inputs first: customer_days.sql is what churn and the status history start from)
ANALYSES: dict[str, tuple[str, ...]] = {
    "load": ("load_",),
    "rfm": ("rfm_",),
    "btyd": ("btyd_",),
    "cohorts": ("cohort",),
    "status": ("customer_days", "status"),
    "churn": ("customer_days", "churn"),
    "clv": ("btyd_", "clv"),
}


def analysis_files(analysis: str) -> list[Path]:
    """The SQL files an analysis runs: by prefix in the order of :data:`ANALYSES`, then in
    name order."""
    prefixes = ANALYSES[analysis]

    def rank(p: Path) -> int:
        return next(i for i, pre in enumerate(prefixes) if p.name.startswith(pre))

    found = (p for p in sql_dir().glob("*.sql") if p.name.startswith(prefixes))
    return sorted(found, key=lambda p: (rank(p), p.name))


def parameters(text: str) -> list[str]:
    """The named parameters (``$name``) a SQL text binds, in order of first use."""
    import re

    body = "\n".join(line.split("--", 1)[0] for line in text.splitlines())
    return list(dict.fromkeys(re.findall(r"\$([A-Za-z_][A-Za-z0-9_]*)", body)))


def render_analysis(analysis: str) -> str:
    """The SQL of an analysis as one text: each file with a header naming it and its
    parameters, ready to read or to paste into a warehouse (bind the parameters)."""
    parts = []
    for path in analysis_files(analysis):
        text = path.read_text(encoding="utf-8").rstrip()
        params = parameters(text)
        shown = ", ".join(f"${p}" for p in params) if params else "none"
        parts.append(f"-- ===== sql/{path.name} (parameters: {shown})\n{text}\n")
    return "\n".join(parts)


def quote_ident(name: str) -> str:
    """A column or table name as a quoted SQL identifier (quotes doubled)."""
    return '"' + name.replace('"', '""') + '"'


def sql_text(value: str) -> str:
    """A text value as a SQL string literal (quotes doubled; never user SQL)."""
    return "'" + value.replace("'", "''") + "'"
