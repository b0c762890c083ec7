"""User SQL over the canonical tables (``clientela sql``).

Contract: :func:`check_query` accepts one read-only SELECT-like statement over the loaded
connection and raises :class:`UsageError` (naming ``--query``) when DuckDB cannot bind
it, so a typo is one clear line, not a traceback.
"""

from __future__ import annotations

from typing import TYPE_CHECKING

from clientela.errors import UsageError

if TYPE_CHECKING:
    import duckdb

_READ_ONLY = ("select", "with", "from", "values", "table", "pivot", "unpivot", "(")


def check_query(con: duckdb.DuckDBPyConnection, query: str) -> None:
    """Validate ``query``: a single read-only statement that DuckDB can bind."""
    import duckdb

    text = query.strip().rstrip(";").strip()
    if not text:
        raise UsageError("--query is empty; e.g. --query 'SELECT * FROM orders'")
    if not text.lower().startswith(_READ_ONLY):
        raise UsageError("--query must be one read-only query (SELECT / WITH / FROM ...)")
    try:
        con.execute(f"DESCRIBE {text}")
    except duckdb.Error as e:
        first = str(e).strip().splitlines()[0]
        raise UsageError(f"--query: {first}") from e
