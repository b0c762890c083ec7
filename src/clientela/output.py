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
- Presentation hints (:class:`WriteOptions`) change how the readable formats show a value,
  never the value: ``percent_columns`` hold fractions shown as ``45.2%`` in the table and
  markdown (one decimal) and typed as percentages in xlsx; ``heat_columns`` are coloured by
  value (background colours on a terminal, a colour scale in xlsx); a ``marked_cell_column``
  names, per row, the column whose cell is marked (``*`` in the table and markdown, italic
  grey in xlsx), explained by the ``footnote``; ``summary_row`` rows are bold;
  ``section_column`` separates blocks of rows in the table; ``hidden_columns`` (such as the
  column naming the marked cell) are left out of the table and markdown. CSV, TSV, JSON,
  Parquet and xlsx ignore the text hints: machines get the plain values.
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

from clientela.errors import OutputError, UsageError, first_line
from clientela.fsutil import atomic_path
from clientela.sqlfiles import quote_ident

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
    # presentation hints for the readable formats (table, markdown, xlsx); see the docstring
    percent_columns: list[str] = field(default_factory=list)  # fractions: 0.452 -> 45.2%
    heat_columns: list[str] = field(default_factory=list)  # coloured by value
    heat_base_column: str | None = None  # table: colour by cell / this column of the row
    marked_cell_column: str | None = None  # per row: the name of the column to mark
    section_column: str | None = None  # table: a rule where this column's value changes
    summary_row: tuple[str, str] | None = None  # (column, value): bold total/average rows
    footnote: str | None = None  # under the table and the markdown table
    hidden_columns: list[str] = field(default_factory=list)  # table, markdown: used, not shown


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
    percent: frozenset[int] = frozenset(),
    raw: Sequence[int] = (),
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
    ``percent``: these (1-based) numeric columns as text percentages with one decimal
    (``0.4521`` -> ``45.2%``). ``raw``: these (1-based) columns appended again as DOUBLE.
    """
    parts = []
    for i, (name, typ) in enumerate(cols, start=1):
        ref = f"{_T}._c{i}"
        t = typ.upper()
        if i in percent and _is_numeric(t):
            # rounded as a decimal: half away from zero on the value shown, never "-0.0"
            expr = (
                f"coalesce(CAST(round(TRY_CAST({ref} AS DECIMAL(38, 10)) * 100, 1) AS VARCHAR), "
                f"CAST(CAST({ref} AS DOUBLE) * 100 AS VARCHAR)) || '%'"
            )
        elif t in _TIMESTAMP_TYPES:
            if ts_format is None:
                expr = f"CAST({ref} AS TIMESTAMP)" if "Z" in t else ref
            else:
                expr = f"strftime(CAST({ref} AS TIMESTAMP), '{ts_format}')"
        elif defuse and _is_text(t):
            v = f"CAST({ref} AS VARCHAR)"
            # strpos in the six characters, not `left(v, 1) IN (...)`: DuckDB plans an IN
            # list of six constants as a join, and with a join under the COPY a CSV file's
            # rows came out in another order on every run once the table spanned several
            # vectors (the same input must give a byte-identical file)
            expr = (
                f"CASE WHEN strpos('=+-@' || chr(9) || chr(13), left({v}, 1)) > 0 "
                f"AND {v} <> '' THEN '''' || {v} ELSE {v} END"
            )
        elif decimal_comma and _is_fractional(t):
            expr = f"replace(CAST({ref} AS VARCHAR), '.', ',')"
        elif json_safe and t in ("DOUBLE", "FLOAT"):
            expr = f"CASE WHEN isfinite({ref}) THEN {ref} END"
        elif all_text:
            expr = f"CAST({ref} AS VARCHAR)"
        else:
            expr = ref
        parts.append(f"{expr} AS {quote_ident(_defuse_name(name) if defuse else name)}")
    parts += [f"TRY_CAST({_T}._c{i} AS DOUBLE) AS _raw{n}" for n, i in enumerate(raw)]
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
        raise OutputError(f"-o {dest}: cannot write it: {first_line(e)}") from e
    return WriteResult(dest, f, rows)




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
    percent: frozenset[int] = frozenset(),
    raw: Sequence[int] = (),
) -> Iterator[tuple[Any, ...]]:
    """The rows, in batches: typed (xlsx) or as text exactly as the CSV writes them
    (``percent`` columns as percentages; ``raw`` columns appended as numbers)."""
    q = (
        _projection(cols, sql, all_text=True, percent=percent, raw=raw)
        if as_text
        else _projection(cols, sql, ts_format=None)
    )
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
        write_sheet(wb, opts.sheet_name, names, types, rows, hints=opts)
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
    wb: Any,
    name: str,
    names: list[str],
    types: list[str],
    rows: Iterable[Sequence[Any]],
    *,
    hints: WriteOptions | None = None,
) -> Any:
    """One typed sheet: bold frozen header, typed cells, widths from the content.

    Numbers (int, float, Decimal) are numeric cells, dates and timestamps date cells,
    booleans boolean cells, anything else a string cell (never a formula). ``hints``
    (:class:`WriteOptions`): percent columns get a ``0.0%`` number format, heat columns a
    colour-scale conditional format (unless coloured relative to a base column, which a
    spreadsheet scale cannot express), marked cells are italic grey, summary rows bold.
    """
    ws = wb.add_worksheet(name[:31])
    bold = wb.add_format({"bold": True, "bottom": 1})
    date_fmt = wb.add_format({"num_format": "yyyy-mm-dd"})
    ts_fmt = wb.add_format({"num_format": "yyyy-mm-dd hh:mm:ss"})
    widths = [max(8, min(60, len(n) + 2)) for n in names]
    h = hints or WriteOptions()
    index = {n: j for j, n in enumerate(names)}
    percent = {index[c] for c in h.percent_columns if c in index}
    marker = index.get(h.marked_cell_column) if h.marked_cell_column else None
    summary = (index.get(h.summary_row[0]), h.summary_row[1]) if h.summary_row else None
    styles: dict[tuple[bool, bool, bool], Any] = {}

    def style(pct: bool, strong: bool, marked: bool) -> Any:
        key = (pct, strong, marked)
        if key not in styles:
            spec: dict[str, Any] = {}
            if pct:
                spec["num_format"] = "0.0%"
            if strong:
                spec["bold"] = True
            if marked:
                spec.update(italic=True, font_color="#7F7F7F")
            styles[key] = wb.add_format(spec) if spec else None
        return styles[key]

    for j, n in enumerate(names):
        ws.write_string(0, j, n, bold)
    last = 0
    for i, row in enumerate(rows, start=1):
        last = i
        marked_j = None
        if marker is not None and row[marker] is not None:
            marked_j = index.get(str(row[marker]))
        strong = summary is not None and summary[0] is not None and (
            row[summary[0]] == summary[1]
        )  # fmt: skip
        for j, v in enumerate(row):
            if v is None:
                continue
            if isinstance(v, bool):
                ws.write_boolean(i, j, v)
            elif isinstance(v, (int, float, decimal.Decimal)):
                if math.isfinite(v):
                    ws.write_number(i, j, v, style(j in percent, strong, j == marked_j))
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
                ws.write_string(i, j, s[:XLSX_MAX_TEXT], style(False, strong, False))
                if i <= 1000:
                    widths[j] = max(widths[j], min(60, len(s) + 2))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    heat = sorted(index[c] for c in h.heat_columns if c in index)
    if heat and last and h.heat_base_column is None:
        from xlsxwriter.utility import xl_range

        ranges = [xl_range(1, a, last, b) for a, b in _runs(heat)]
        ws.conditional_format(
            1, heat[0], last, heat[-1],
            {"type": "2_color_scale", "min_color": "#FFFFFF", "max_color": "#63BE7B",
             "multi_range": " ".join(ranges)},
        )  # fmt: skip
    del types
    return ws


def _runs(indexes: list[int]) -> list[tuple[int, int]]:
    """Sorted indexes as runs of consecutive values: [1, 2, 3, 5] -> (1, 3), (5, 5)."""
    out: list[tuple[int, int]] = []
    for i in indexes:
        if out and out[-1][1] == i - 1:
            out[-1] = (out[-1][0], i)
        else:
            out.append((i, i))
    return out


def _md_cell(v: Any) -> str:
    s = cell_text(v).replace("\\", "\\\\").replace("|", "\\|")
    return s.replace("\r\n", " ").replace("\n", " ").replace("\r", " ")


def _write_markdown(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    cols = _columns(con, sql, params)
    hints = _Hints(cols, opts)
    shown = hints.shown
    n = 0
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("| " + " | ".join(_md_cell(cols[j][0]) for j in shown) + " |\n")
        fh.write("|" + "|".join("---:" if _is_numeric(cols[j][1]) else "---" for j in shown))
        fh.write("|\n")
        for row in _fetch(con, sql, params, cols, as_text=True, percent=hints.percent):
            cells = [_md_cell(v) for v in row]
            marked = hints.marked(row)
            if marked is not None and row[marked] is not None:
                cells[marked] += "\\*"
            if hints.is_summary(row):
                cells = [f"**{c}**" if c else c for c in cells]
            fh.write("| " + " | ".join(cells[j] for j in shown) + " |\n")
            n += 1
        if opts.footnote:
            note = _md_cell(opts.footnote)
            fh.write("\n" + ("\\" + note if note.startswith(("*", "-", "+", "#")) else note) + "\n")
    return n


class _Hints:
    """The presentation hints of :class:`WriteOptions`, as column positions of ``cols``."""

    def __init__(self, cols: list[tuple[str, str]], opts: WriteOptions) -> None:
        self.index = {name: j for j, (name, _) in enumerate(cols)}
        idx = self.index
        #: 1-based, as _projection takes them
        self.percent = frozenset(
            idx[c] + 1 for c in opts.percent_columns if c in idx and _is_numeric(cols[idx[c]][1])
        )
        self.heat = [idx[c] for c in opts.heat_columns if c in idx and _is_numeric(cols[idx[c]][1])]
        base = opts.heat_base_column
        self.base = idx.get(base) if base is not None else None
        marker = opts.marked_cell_column
        self.marker = idx.get(marker) if marker is not None else None
        summary = opts.summary_row
        self.summary = (idx.get(summary[0]), summary[1]) if summary is not None else None
        section = opts.section_column
        self.section = idx.get(section) if section is not None else None
        hidden = set(opts.hidden_columns)
        #: positions of the columns the table and markdown show
        self.shown = [j for j, (name, _) in enumerate(cols) if name not in hidden]

    def marked(self, row: Sequence[Any]) -> int | None:
        """The position of the row's marked cell (rows fetched as text)."""
        if self.marker is None or row[self.marker] is None:
            return None
        return self.index.get(cell_text(row[self.marker]))

    def is_summary(self, row: Sequence[Any]) -> bool:
        return (
            self.summary is not None
            and self.summary[0] is not None
            and row[self.summary[0]] == self.summary[1]
        )


#: heat-map colours on a terminal: light to dark (sequential blues), in 8 steps; terminals
#: with only the 16 standard colours get 4 steps that keep the text readable
_HEAT_LOW = (239, 246, 255)
_HEAT_HIGH = (8, 69, 148)
_HEAT_STEPS = 8
_HEAT_STANDARD = ("black on white", "black on bright_cyan", "black on cyan", "bright_white on blue")


def _heat_style(t: float, color_system: str | None) -> Any:
    """The style of a heat cell at position ``t`` (0..1) of the scale."""
    from rich.color import Color
    from rich.style import Style

    if color_system not in ("truecolor", "256"):
        steps = len(_HEAT_STANDARD)
        return Style.parse(_HEAT_STANDARD[min(steps - 1, max(0, int(t * steps)))])
    step = min(_HEAT_STEPS - 1, max(0, int(t * _HEAT_STEPS)))
    f = step / (_HEAT_STEPS - 1)
    rgb = [round(lo + (hi - lo) * f) for lo, hi in zip(_HEAT_LOW, _HEAT_HIGH, strict=True)]
    text = (0, 0, 0) if f < 0.5 else (255, 255, 255)
    return Style(color=Color.from_rgb(*text), bgcolor=Color.from_rgb(*rgb))


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
    hints = _Hints(cols, opts)
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
    # every cell is Text, never markup: "[b]" or ":smile:" in the data shows as it is
    table = Table(
        title=Text(opts.title) if opts.title else None,
        caption=Text(opts.footnote) if opts.footnote else None,
        caption_justify="left",
        header_style="bold",
        show_edge=False,
        pad_edge=False,
    )
    for j in hints.shown:
        name, t = cols[j]
        table.add_column(Text(name), justify="right" if _is_numeric(t) else "left", overflow="fold")
    raw = [j + 1 for j in hints.heat] + ([hints.base + 1] if hints.base is not None else [])
    rows = list(
        _fetch(con, sql, params, cols, as_text=True, limit=opts.max_terminal_rows,
               percent=hints.percent, raw=raw)
    )  # fmt: skip
    width = len(cols)
    heat: list[dict[int, float]] = []  # per row: position -> the value the colour shows
    for row in rows:
        marked = hints.marked(row)
        base = row[-1] if hints.base is not None else None
        values: dict[int, float] = {}
        for k, j in enumerate(hints.heat):
            v = row[width + k]
            if hints.base is not None:
                v = v / base if v is not None and base else None
            if v is not None and math.isfinite(v) and j != marked:
                values[j] = v
        heat.append(values)
    every = [v for values in heat for v in values.values()]
    low = min([0.0, *every])
    span = (max(every) - low) if every else 0.0
    for r, row in enumerate(rows):
        marked = hints.marked(row)
        cells = [Text(cell_text(v)) for v in row[:width]]
        if marked is not None and row[marked] is not None:
            cells[marked] = Text(cell_text(row[marked]) + "*", style="italic dim")
        for j, v in heat[r].items():
            cells[j].stylize(
                _heat_style((v - low) / span if span > 0 else 1.0, console.color_system)
            )
        if hints.is_summary(row):
            for cell in cells:
                cell.stylize("bold")
        end = (
            hints.section is not None
            and r + 1 < len(rows)
            and rows[r + 1][hints.section] != row[hints.section]
        )
        table.add_row(*(cells[j] for j in hints.shown), end_section=end)
    shown = len(rows)
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
