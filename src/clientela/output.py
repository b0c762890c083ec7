"""One writer registry: csv, tsv, parquet, json, ndjson, xlsx, markdown and a terminal table.

Contract:
- :func:`write` takes a DuckDB query (SQL + bound parameters) and a destination, and
  writes every row in the chosen format. CSV/TSV/Parquet/JSON/NDJSON are written by
  DuckDB (``COPY ... TO``, streaming); xlsx, markdown and the terminal table fetch rows.
- Files are written atomically (temporary file beside the target, then rename); a
  failure leaves no file and an existing target untouched. An output path equal to an
  input path (a file, a file matched by an input glob, or a file inside an input
  directory) is refused by :func:`check_not_input`.
- Every text format shows a value the same way: timestamps ``YYYY-MM-DD HH:MM:SS`` in
  the session time zone (``T`` between date and time in JSON), dates ``YYYY-MM-DD``,
  everything else as DuckDB casts it to text. The terminal table and markdown take their
  cells from the same SQL projection, so they agree with the CSV cell for cell (except
  for the ``'`` that defuses formulas, which only CSV/TSV need).
- Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR are prefixed with ``'``
  in CSV/TSV (header names included) so that spreadsheets never run them as formulas;
  xlsx cells are typed (strings are never formulas, numbers and decimals are numbers,
  dates and timestamps are dates).
- ``csv_locale="pt-BR"`` writes ``;``-separated CSV with decimal commas, UTF-8 with BOM
  (so Excel in Portuguese opens it right).
- JSON never holds ``NaN``/``Infinity`` (not JSON): non-finite floats are written as null.
- The writers never print messages; the terminal table goes to the given stream, laid
  out for the terminal's width on a terminal and at its natural width otherwise (output
  to a pipe or file never depends on the terminal). When the reader of stdout goes away
  (``| head``) the write stops quietly.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import decimal
import glob
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any

from clientela.errors import OutputError, UsageError
from clientela.fsutil import atomic_path

if TYPE_CHECKING:
    import duckdb

FORMATS: tuple[str, ...] = ("csv", "tsv", "parquet", "json", "ndjson", "xlsx", "markdown", "table")
EXTENSIONS: dict[str, str] = {
    ".csv": "csv",
    ".tsv": "tsv",
    ".txt": "tsv",
    ".parquet": "parquet",
    ".pq": "parquet",
    ".json": "json",
    ".ndjson": "ndjson",
    ".jsonl": "ndjson",
    ".xlsx": "xlsx",
    ".md": "markdown",
    ".markdown": "markdown",
}
XLSX_MAX_ROWS = 1_048_576  # including the header row
XLSX_MAX_COLS = 16_384
XLSX_MAX_TEXT = 32_767  # characters in one cell
TERMINAL_ROWS = 40
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")
TEXT_TIMESTAMP = "%Y-%m-%d %H:%M:%S"
JSON_TIMESTAMP = "%Y-%m-%dT%H:%M:%S"
FETCH_BATCH = 10_000
_NATURAL_WIDTH = 1_000_000  # off a terminal the table takes its natural width, never folds
_T = "_clientela_t"  # alias of the wrapped query; its columns are renamed _c1.._cN

_TIMESTAMP_TYPES = frozenset(
    {
        "TIMESTAMP",
        "TIMESTAMP_S",
        "TIMESTAMP_MS",
        "TIMESTAMP_NS",
        "TIMESTAMP WITH TIME ZONE",
        "TIMESTAMPTZ",
        "DATETIME",
    }
)
_NUMERIC_TYPES = frozenset(
    {
        "DOUBLE",
        "FLOAT",
        "BIGINT",
        "INTEGER",
        "HUGEINT",
        "SMALLINT",
        "TINYINT",
        "UBIGINT",
        "UINTEGER",
        "UHUGEINT",
        "USMALLINT",
        "UTINYINT",
        "BIGNUM",
        "VARINT",
    }
)


@dataclass
class WriteOptions:
    csv_locale: str = "en"  # "en" or "pt-BR"
    metadata: dict[str, Any] = field(default_factory=dict)  # Parquet KV / xlsx sheet
    sheet_name: str = "data"
    title: str | None = None  # terminal table title
    max_terminal_rows: int = TERMINAL_ROWS


@dataclass
class WriteResult:
    path: str  # "-" for stdout
    format: str
    rows: int
    truncated_to: int | None = None  # terminal table: rows shown when fewer than rows


def resolve_format(dest: str | None, fmt: str | None, stdout_is_tty: bool) -> str:
    """The format for ``dest``: ``--format`` wins, then the extension, then the default."""
    suffixes = [] if dest is None or dest == "-" else [s.lower() for s in Path(dest).suffixes]
    if suffixes and suffixes[-1] == ".gz":  # even with --format: it would not be gzip
        raise UsageError(f"-o {dest}: compressed output is not supported; drop the .gz")
    if fmt is not None:
        f = {"md": "markdown", "terminal": "table"}.get(fmt.lower(), fmt.lower())
        if f not in FORMATS:
            raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        return f
    if dest is None or dest == "-":
        return "table" if dest is None and stdout_is_tty else "csv"
    ext = suffixes[-1] if suffixes else ""
    if ext not in EXTENSIONS:
        raise UsageError(
            f"-o {dest}: cannot tell the format from the extension {ext or '(none)'!r}; "
            f"use --format with one of {', '.join(f for f in FORMATS if f != 'table')}"
        )
    return EXTENSIONS[ext]


def check_not_input(dest: str | None, inputs: Sequence[str]) -> None:
    """Refuse to write over an input: a named file, a file a glob matches, or into an
    input directory (a later run would read the output as input)."""
    if dest is None or dest == "-":
        return
    target = Path(dest).resolve()
    for item in inputs:
        if item == "-":
            continue
        p = Path(item)
        if p.is_dir():
            if p.resolve() == target or p.resolve() in target.parents:
                raise OutputError(
                    f"-o {dest}: it is inside the input directory {item}; a later run would "
                    "read it as input. Write it elsewhere"
                )
            continue
        if p.exists():
            matches = [p]
        elif any(ch in item for ch in "*?["):
            matches = [Path(m) for m in glob.glob(item, recursive=True)]
        else:
            continue
        for m in matches:
            if _same_file(m, target):
                via = "" if m is p else f" (matched by {item})"
                raise OutputError(
                    f"-o {dest}: that is an input file{via}; inputs are never overwritten, "
                    "choose another output path"
                )


def _same_file(a: Path, b: Path) -> bool:
    if a.resolve() == b:
        return True
    try:
        return os.path.samefile(a, b)  # hard links, case-insensitive file systems
    except OSError:
        return False


def _query_text(sql: str) -> str:
    """The query without trailing ``;`` (it is always wrapped between newlines, so a
    trailing ``-- comment`` is harmless)."""
    text = sql.strip()
    while text.endswith(";"):
        text = text[:-1].rstrip()
    return text


def _columns(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]
) -> list[tuple[str, str]]:
    """(name, type) of the result; duplicate names made unique as ``COPY`` writes them."""
    rows = con.execute(f"DESCRIBE SELECT * FROM (\n{sql}\n)", list(params)).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _is_text(t: str) -> bool:
    t = t.upper()
    return t in ("VARCHAR", "JSON") or t.startswith(("VARCHAR(", "ENUM("))


def _is_fractional(t: str) -> bool:
    t = t.upper()
    return t in ("DOUBLE", "FLOAT") or t.startswith("DECIMAL")


def _is_numeric(t: str) -> bool:
    t = t.upper()
    return t in _NUMERIC_TYPES or t.startswith("DECIMAL")


def _defuse_name(name: str) -> str:
    return "'" + name if name.startswith(FORMULA_START) else name


def _projection(
    cols: list[tuple[str, str]],
    sql: str,
    *,
    defuse: bool = False,
    decimal_comma: bool = False,
    all_text: bool = False,
    ts_format: str | None = TEXT_TIMESTAMP,
    json_safe: bool = False,
) -> str:
    """``SELECT ... FROM (sql)``: the one projection every writer uses, so formats agree.

    Columns are referenced by position (the subquery's columns are renamed), so duplicate
    or odd names in the query never pick the wrong column.
    ``ts_format``: timestamps of any precision or zone as text in that format; None keeps
    them typed (TIMESTAMPTZ becomes a plain TIMESTAMP in the session time zone).
    ``defuse``: formula-looking text and header names prefixed with ``'``.
    ``decimal_comma``: floats and decimals written with ``,``.
    ``all_text``: every cell as text, as DuckDB writes it in a CSV.
    ``json_safe``: non-finite floats become null.
    """
    parts = []
    for i, (name, typ) in enumerate(cols, start=1):
        ref = f"{_T}._c{i}"
        t = typ.upper()
        if t in _TIMESTAMP_TYPES:
            if ts_format is None:
                expr = f"CAST({ref} AS TIMESTAMP)" if "Z" in t else ref
            else:
                expr = f"strftime(CAST({ref} AS TIMESTAMP), '{ts_format}')"
        elif defuse and _is_text(t):
            v = f"CAST({ref} AS VARCHAR)"
            expr = (
                f"CASE WHEN left({v}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
                f"THEN '''' || {v} ELSE {v} END"
            )
        elif decimal_comma and _is_fractional(t):
            expr = f"replace(CAST({ref} AS VARCHAR), '.', ',')"
        elif json_safe and t in ("DOUBLE", "FLOAT"):
            expr = f"CASE WHEN isfinite({ref}) THEN {ref} END"
        elif all_text:
            expr = f"CAST({ref} AS VARCHAR)"
        else:
            expr = ref
        parts.append(f"{expr} AS {_qi(_defuse_name(name) if defuse else name)}")
    aliases = ", ".join(f"_c{i}" for i in range(1, len(cols) + 1))
    return f"SELECT {', '.join(parts)} FROM (\n{sql}\n) AS {_T}({aliases})"


def write(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any] = (),
    dest: str | None = None,
    fmt: str | None = None,
    options: WriteOptions | None = None,
    *,
    stdout: IO[str] | None = None,
    stdout_is_tty: bool | None = None,
) -> WriteResult:
    """Write the rows of ``sql`` to ``dest`` (a path, ``-`` for stdout, None for default)."""
    opts = options or WriteOptions()
    if opts.csv_locale not in ("en", "pt-BR"):
        raise UsageError(f"--csv-locale {opts.csv_locale!r}: use 'en' or 'pt-BR'")
    out = stdout if stdout is not None else sys.stdout
    tty = _isatty(out) if stdout_is_tty is None else stdout_is_tty
    f = resolve_format(dest, fmt, tty)
    query = _query_text(sql)
    if dest is None or dest == "-":
        if f in ("parquet", "xlsx"):
            raise UsageError(
                f"{f} cannot be written to the terminal or a pipe; give a file with -o"
            )
    elif f == "table":
        raise UsageError(
            f"-o {dest}: --format table is for the terminal; for a text table in a file "
            "use --format markdown"
        )
    with _engine_settings(con, _WRITE_SETTINGS):
        if f == "table":
            return _write_table(con, query, params, out, opts, tty)
        if dest is None or dest == "-":
            return _write_stdout(con, query, params, f, out, opts)
        return _write_file(con, query, params, f, dest, opts)


# While writing: no progress bar (the library never prints), and no asynchronous file
# writes: with them DuckDB 2.0 can hang for ever when the query fails in the middle of a
# COPY (an error raised after the first rows reached the file), instead of raising.
_WRITE_SETTINGS: dict[str, Any] = {"enable_progress_bar": False, "async_threads": 0}


@contextlib.contextmanager
def _engine_settings(con: duckdb.DuckDBPyConnection, settings: dict[str, Any]) -> Iterator[None]:
    """Apply DuckDB ``settings`` for the duration of a write, then restore them.

    A setting this DuckDB version does not know is skipped.
    """
    import duckdb

    saved: dict[str, Any] = {}
    for name, value in settings.items():
        try:
            row = con.execute(f"SELECT current_setting('{name}')").fetchone()
            saved[name] = row[0] if row else None
            con.execute(f"SET {name} = {_setting_literal(value)}")
        except duckdb.Error:
            saved.pop(name, None)
    try:
        yield
    finally:
        for name, value in saved.items():
            with contextlib.suppress(duckdb.Error):
                con.execute(f"SET {name} = {_setting_literal(value)}")


def _setting_literal(value: Any) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return "'" + _sql_str(str(value)) + "'"


def _isatty(out: IO[str]) -> bool:
    try:
        return out.isatty()
    except (AttributeError, ValueError):
        return False


def _write_stdout(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    f: str,
    out: IO[str],
    opts: WriteOptions,
) -> WriteResult:
    # written whole to a temporary file first, so an error never leaves half a table
    fd, name = tempfile.mkstemp(prefix="clientela-stdout-", suffix=f".{f}")
    os.close(fd)
    tmp = Path(name)
    try:
        rows = WRITERS[f](con, sql, params, tmp, opts)
        with tmp.open("rb") as fh:
            _copy_to_stdout(fh, out)
    finally:
        with contextlib.suppress(FileNotFoundError):
            tmp.unlink()
    return WriteResult("-", f, rows)


def _write_file(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    f: str,
    dest: str,
    opts: WriteOptions,
) -> WriteResult:
    target = Path(dest)
    parent = target.parent
    if not parent.exists():
        raise OutputError(f"-o {dest}: the folder {parent} does not exist")
    if not parent.is_dir():
        raise OutputError(f"-o {dest}: {parent} is not a folder")
    if target.is_dir():
        raise OutputError(f"-o {dest}: that is a folder; give a file name inside it")
    import duckdb

    try:
        with atomic_path(target) as tmp:
            rows = WRITERS[f](con, sql, params, tmp, opts)
    except OSError as e:  # permission denied, disk full...: the target is left as it was
        raise OutputError(f"-o {dest}: cannot write it: {e.strerror or e}") from e
    except duckdb.IOException as e:  # the same, met by DuckDB's COPY
        raise OutputError(f"-o {dest}: cannot write it: {_first_line(e)}") from e
    return WriteResult(dest, f, rows)


def _first_line(e: BaseException) -> str:
    text = str(e).strip()
    return text.splitlines()[0] if text else type(e).__name__


def _copy_to_stdout(fh: IO[bytes], out: IO[str]) -> None:
    try:
        out.flush()
        buffer = getattr(out, "buffer", None)
        if buffer is not None:
            shutil.copyfileobj(fh, buffer)
            buffer.flush()
        else:  # a text-only stream (tests): decode
            out.write(fh.read().decode("utf-8"))
            out.flush()
    except BrokenPipeError:
        _reader_gone(out)


def _reader_gone(out: IO[str]) -> None:
    """The reader of ``out`` went away (``| head``): stop quietly.

    What is still buffered, and anything written later, goes to the null device, so
    neither this write nor Python's final flush reports a broken pipe.
    """
    with contextlib.suppress(AttributeError, OSError, ValueError):
        fd = out.fileno()
        devnull = os.open(os.devnull, os.O_WRONLY)
        try:
            os.dup2(devnull, fd)
        finally:
            os.close(devnull)


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> int:
    row = con.execute(f"SELECT count(*) FROM (\n{sql}\n)", list(params)).fetchone()
    return int(row[0]) if row else 0


def _copy(
    con: duckdb.DuckDBPyConnection, select: str, params: Sequence[Any], path: Path, options: str
) -> int:
    """``COPY (select) TO path``; returns the number of rows written, as COPY reports it
    (the query runs once: no second pass to count). ``path`` is already a temporary file,
    so DuckDB's own temporary file (``tmp_NAME``) is not wanted."""
    row = con.execute(
        f"COPY ({select}) TO '{_sql_str(str(path))}' ({options}, USE_TMP_FILE false)",
        list(params),
    ).fetchone()
    return int(row[0]) if row else 0


def _sql_str(s: str) -> str:
    return s.replace("'", "''")


def _write_csv(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    path: Path,
    opts: WriteOptions,
    delim: str = ",",
) -> int:
    cols = _columns(con, sql, params)
    pt = opts.csv_locale == "pt-BR" and delim == ","
    sep = ";" if pt else delim
    select = _projection(cols, sql, defuse=True, decimal_comma=pt)
    sep_sql = "\\t" if sep == "\t" else sep
    copy_options = f"FORMAT csv, HEADER true, DELIMITER '{sep_sql}', DATEFORMAT '%Y-%m-%d'"
    if not pt:
        return _copy(con, select, params, path, copy_options)
    # UTF-8 BOM so that Excel in Portuguese reads accents right: COPY writes the body
    # beside the file, the file gets the BOM and the body, the body goes (even on error)
    body = path.with_name(path.name + ".body")
    try:
        rows = _copy(con, select, params, body, copy_options)
        with body.open("rb") as src, path.open("wb") as dst:
            dst.write(b"\xef\xbb\xbf")
            shutil.copyfileobj(src, dst)
    finally:
        with contextlib.suppress(FileNotFoundError):
            body.unlink()
    return rows


def _write_tsv(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    return _write_csv(con, sql, params, path, opts, delim="\t")


def _write_parquet(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    kv = ""
    if opts.metadata:
        items = ", ".join(
            f"'{_sql_str(str(k))}': '{_sql_str(_meta_text(v))}'" for k, v in opts.metadata.items()
        )
        kv = f", KV_METADATA {{{items}}}"
    select = f"SELECT * FROM (\n{sql}\n)"
    return _copy(con, select, params, path, f"FORMAT parquet, COMPRESSION zstd{kv}")


def _meta_text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, default=str)


def _write_json(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    path: Path,
    opts: WriteOptions,
    array: bool = True,
) -> int:
    cols = _columns(con, sql, params)
    select = _projection(cols, sql, ts_format=JSON_TIMESTAMP, json_safe=True)
    return _copy(
        con,
        select,
        params,
        path,
        f"FORMAT json, ARRAY {'true' if array else 'false'}, DATEFORMAT '%Y-%m-%d'",
    )


def _write_ndjson(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    return _write_json(con, sql, params, path, opts, array=False)


def _fetch(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    cols: list[tuple[str, str]],
    *,
    as_text: bool,
    limit: int | None = None,
) -> Iterator[tuple[Any, ...]]:
    """The rows, in batches: typed (xlsx) or as text exactly as the CSV writes them."""
    q = _projection(cols, sql, all_text=True) if as_text else _projection(cols, sql, ts_format=None)
    if limit is not None:
        q += f" LIMIT {int(limit)}"
    cur = con.execute(q, list(params))
    while batch := cur.fetchmany(FETCH_BATCH):
        yield from batch


def _write_xlsx(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    n = _count(con, sql, params)
    if n + 1 > XLSX_MAX_ROWS:
        raise OutputError(
            f"{n:,} rows do not fit in an xlsx sheet (at most {XLSX_MAX_ROWS - 1:,}); write "
            "CSV or Parquet instead (-o FILE.csv / FILE.parquet)"
        )
    cols = _columns(con, sql, params)
    if len(cols) > XLSX_MAX_COLS:
        raise OutputError(
            f"{len(cols):,} columns do not fit in an xlsx sheet (at most {XLSX_MAX_COLS:,}); "
            "write CSV or Parquet instead (-o FILE.csv / FILE.parquet)"
        )
    import xlsxwriter

    wb = xlsxwriter.Workbook(
        str(path),
        {
            "strings_to_formulas": False,
            "strings_to_numbers": False,
            "strings_to_urls": False,
            "constant_memory": True,
            "default_date_format": "yyyy-mm-dd",
        },
    )
    try:
        names = [c[0] for c in cols]
        types = [c[1] for c in cols]
        rows = _fetch(con, sql, params, cols, as_text=False)
        write_sheet(wb, opts.sheet_name, names, types, rows)
        if opts.metadata:
            meta = wb.add_worksheet("metadata")
            bold = wb.add_format({"bold": True})
            meta.write_string(0, 0, "key", bold)
            meta.write_string(0, 1, "value", bold)
            for i, (k, v) in enumerate(opts.metadata.items(), start=1):
                meta.write_string(i, 0, str(k))
                meta.write_string(i, 1, _meta_text(v)[:XLSX_MAX_TEXT])
            meta.set_column(0, 0, 24)
            meta.set_column(1, 1, 80)
    finally:
        wb.close()
    return n


def write_sheet(
    wb: Any, name: str, names: list[str], types: list[str], rows: Iterable[Sequence[Any]]
) -> Any:
    """One typed sheet: bold frozen header, typed cells, widths from the content.

    Numbers (int, float, Decimal) are numeric cells, dates and timestamps date cells,
    booleans boolean cells, anything else a string cell (never a formula).
    """
    ws = wb.add_worksheet(name[:31])
    bold = wb.add_format({"bold": True, "bottom": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ts_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    widths = [max(8, min(60, len(n) + 2)) for n in names]
    for j, n in enumerate(names):
        ws.write_string(0, j, n, bold)
    for i, row in enumerate(rows, start=1):
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float, decimal.Decimal)):
                if math.isfinite(v):
                    ws.write_number(i, j, v)
                else:
                    ws.write_string(i, j, str(v))
                if i <= 1000:
                    widths[j] = max(widths[j], min(60, len(str(v)) + 2))
            elif isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v.replace(tzinfo=None), ts_fmt)
                widths[j] = max(widths[j], 20)
            elif isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_fmt)
                widths[j] = max(widths[j], 12)
            else:
                s = str(v) if not isinstance(v, (list, dict)) else json.dumps(v, default=str)
                ws.write_string(i, j, s[:XLSX_MAX_TEXT])
                if i <= 1000:
                    widths[j] = max(widths[j], min(60, len(s) + 2))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    del types
    return ws


def _md_cell(v: Any) -> str:
    s = cell_text(v).replace("\\", "\\\\").replace("|", "\\|")
    return s.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _write_markdown(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    cols = _columns(con, sql, params)
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("| " + " | ".join(_md_cell(name) for name, _ in cols) + " |\n")
        fh.write("|" + "|".join("---:" if _is_numeric(t) else "---" for _, t in cols) + "|\n")
        for row in _fetch(con, sql, params, cols, as_text=True):
            fh.write("| " + " | ".join(_md_cell(v) for v in row) + " |\n")
            n += 1
    return n


def cell_text(v: Any) -> str:
    """A value as the terminal shows it: the same text the CSV writer puts in the cell.

    The table and markdown writers fetch cells already as text (DuckDB's own conversion,
    the one the CSV writer uses), so this only turns NULL into an empty cell for them;
    for Python values it follows the CSV for the common types (bool, timestamps, dates,
    numbers, text).
    """
    if v is None:
        return ""
    if isinstance(v, str):
        return v
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.strftime(TEXT_TIMESTAMP)
    return str(v)


def _write_table(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    out: IO[str],
    opts: WriteOptions,
    tty: bool,
) -> WriteResult:
    from rich.console import Console
    from rich.table import Table
    from rich.text import Text

    n = _count(con, sql, params)
    cols = _columns(con, sql, params)
    # every cell is Text, never markup: "[b]" or ":smile:" in the data shows as it is
    table = Table(
        title=Text(opts.title) if opts.title else None,
        header_style="bold",
        show_edge=False,
        pad_edge=False,
    )
    for name, t in cols:
        table.add_column(Text(name), justify="right" if _is_numeric(t) else "left", overflow="fold")
    shown = 0
    for row in _fetch(con, sql, params, cols, as_text=True, limit=opts.max_terminal_rows):
        table.add_row(*(Text(cell_text(v)) for v in row))
        shown += 1
    console = Console(
        file=out,
        force_terminal=tty,  # escape codes only on a terminal, whatever FORCE_COLOR says
        width=None if tty else _NATURAL_WIDTH,  # off a terminal: never folded to COLUMNS
        no_color=bool(os.environ.get("NO_COLOR")) or None,
        highlight=False,
        markup=False,
        emoji=False,
        soft_wrap=False,
    )
    try:
        console.print(table)
        out.flush()
    except BrokenPipeError:
        _reader_gone(out)
    return WriteResult("-", "table", n, truncated_to=shown if shown < n else None)


Writer = Callable[["duckdb.DuckDBPyConnection", str, Sequence[Any], Path, WriteOptions], int]

WRITERS: dict[str, Writer] = {
    "csv": _write_csv,
    "tsv": _write_tsv,
    "parquet": _write_parquet,
    "json": _write_json,
    "ndjson": _write_ndjson,
    "xlsx": _write_xlsx,
    "markdown": _write_markdown,
}  # "table" is rendered by _write_table to a stream, not to a file
