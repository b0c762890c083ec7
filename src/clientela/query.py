"""User SQL over the canonical tables (``clientela sql``).

Contract: :func:`check_query` accepts exactly one read-only SELECT statement over the
loaded connection (a second statement, such as ``; COPY ... TO``, is refused before
anything runs) and raises :class:`UsageError` (naming ``--query``) when DuckDB cannot
bind it, so a typo is one clear line, not a traceback.
"""

from __future__ import annotations

import re
from typing import TYPE_CHECKING

from clientela.errors import UsageError, first_line, raise_if_interrupted

if TYPE_CHECKING:
    import duckdb


def check_query(con: duckdb.DuckDBPyConnection, query: str) -> str:
    """Validate ``query``: exactly one read-only SELECT statement that DuckDB can bind.

    Returns that statement's text, without a trailing ``;`` or comment, to run as given.
    """
    import duckdb

    text = query.strip()
    if not text.rstrip(";").strip():
        raise UsageError("--query is empty; e.g. --query 'SELECT * FROM orders'")
    try:
        statements = con.extract_statements(text)
    except duckdb.Error as e:
        raise UsageError(f"--query: {first_line(e)}") from e
    if len(statements) != 1 or statements[0].type != duckdb.StatementType.SELECT:
        raise UsageError("--query must be one read-only query (SELECT / WITH / FROM ...)")
    from clientela.pii import KEY_TABLE

    if KEY_TABLE.lower() in text.lower():  # the pseudonym key's HMAC blocks stay private
        raise UsageError(f"--query may not read {KEY_TABLE}")
    # drop a trailing "; -- comment": the statement is run inside parentheses
    clean = re.sub(r"(;\s*(--[^\n]*)?\s*)+$", "", statements[0].query.strip())
    try:
        con.execute(f"DESCRIBE (\n{clean}\n)").fetchall()
    except duckdb.Error as e:
        raise_if_interrupted(e)
        raise UsageError(f"--query: {first_line(e)}") from e
    return clean
