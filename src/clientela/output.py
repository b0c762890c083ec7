"""One writer registry: csv, tsv, parquet, json, ndjson, xlsx, markdown and a terminal table.

Contract:
- :func:`write` takes a DuckDB query (SQL + bound parameters) and a destination, and
  writes every row in the chosen format. CSV/TSV/Parquet/JSON/NDJSON are written by
  DuckDB (``COPY ... TO``, streaming); xlsx, markdown and the terminal table fetch rows.
- Files are written atomically (temporary file beside the target, then rename); a
  failure leaves no file. An output path equal to an input path is refused.
- Text cells starting with ``=``, ``+``, ``-``, ``@``, tab or CR are prefixed with ``'``
  in CSV/TSV so that spreadsheets never run them as formulas; xlsx cells are typed
  (strings are never formulas).
- ``csv_locale="pt-BR"`` writes ``;``-separated CSV with decimal commas, UTF-8 with BOM
  (so Excel in Portuguese opens it right).
- The writers never print messages; the terminal table goes to the given stream.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import json
import math
import os
import shutil
import sys
import tempfile
from collections.abc import Callable, Sequence
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
TERMINAL_ROWS = 40
FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


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
    if fmt is not None:
        f = fmt.lower().replace("md", "markdown") if fmt.lower() == "md" else fmt.lower()
        if f == "terminal":
            f = "table"
        if f not in FORMATS:
            raise UsageError(f"--format {fmt!r}: use one of {', '.join(FORMATS)}")
        return f
    if dest is None or dest == "-":
        return "table" if dest is None and stdout_is_tty else "csv"
    suffixes = [s.lower() for s in Path(dest).suffixes]
    if suffixes and suffixes[-1] == ".gz":
        raise UsageError(f"-o {dest}: compressed output is not supported; drop the .gz")
    ext = suffixes[-1] if suffixes else ""
    if ext not in EXTENSIONS:
        raise UsageError(
            f"-o {dest}: cannot tell the format from the extension {ext or '(none)'!r}; "
            f"use --format with one of {', '.join(f for f in FORMATS if f != 'table')}"
        )
    return EXTENSIONS[ext]


def check_not_input(dest: str | None, inputs: Sequence[str]) -> None:
    """Refuse to write over an input file."""
    if dest is None or dest == "-":
        return
    target = Path(dest).resolve()
    for item in inputs:
        if item == "-":
            continue
        p = Path(item)
        if p.exists() and p.resolve() == target:
            raise OutputError(
                f"-o {dest}: that is an input file; inputs are never overwritten, choose "
                "another output path"
            )
        if p.is_dir() and p.resolve() in target.parents:
            raise OutputError(
                f"-o {dest}: it is inside the input directory {item}; a later run would read "
                "it as input. Write it elsewhere"
            )


def _columns(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]
) -> list[tuple[str, str]]:
    rows = con.execute(f"DESCRIBE {sql}", list(params)).fetchall()
    return [(str(r[0]), str(r[1])) for r in rows]


def _qi(name: str) -> str:
    return '"' + name.replace('"', '""') + '"'


def _safe_select(cols: list[tuple[str, str]], fmt: str, csv_locale: str) -> str:
    """Projection for text formats: formula-looking text defused, decimal commas for pt-BR."""
    parts = []
    for name, typ in cols:
        q = _qi(name)
        t = typ.upper()
        if t == "VARCHAR":
            parts.append(
                f"CASE WHEN left({q}, 1) IN ('=', '+', '-', '@', chr(9), chr(13)) "
                f"THEN '''' || {q} ELSE {q} END AS {q}"
            )
        elif csv_locale == "pt-BR" and (t in ("DOUBLE", "FLOAT") or t.startswith("DECIMAL")):
            parts.append(f"replace(CAST({q} AS VARCHAR), '.', ',') AS {q}")
        else:
            parts.append(q)
    return ", ".join(parts)


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
    tty = out.isatty() if stdout_is_tty is None else stdout_is_tty
    f = resolve_format(dest, fmt, tty)
    if f == "table":
        return _write_table(con, sql, params, out, opts)
    writer = WRITERS[f]
    if dest is None or dest == "-":
        if f in ("parquet", "xlsx"):
            raise UsageError(
                f"{f} cannot be written to the terminal or a pipe; give a file with -o"
            )
        # written whole to a temporary file first, so an error never leaves half a table
        fd, name = tempfile.mkstemp(prefix="clientela-stdout-", suffix=f".{f}")
        os.close(fd)
        tmp = Path(name)
        try:
            rows = writer(con, sql, params, tmp, opts)
            with tmp.open("rb") as fh:
                _copy_to_stdout(fh, out)
        finally:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        return WriteResult("-", f, rows)
    parent = Path(dest).parent
    if not parent.exists():
        raise OutputError(f"-o {dest}: the folder {parent} does not exist")
    with atomic_path(dest) as tmp:
        rows = writer(con, sql, params, tmp, opts)
    return WriteResult(dest, f, rows)


def _copy_to_stdout(fh: IO[bytes], out: IO[str]) -> None:
    out.flush()
    buffer = getattr(out, "buffer", None)
    if buffer is not None:
        shutil.copyfileobj(fh, buffer)
        buffer.flush()
    else:  # a text-only stream (tests): decode
        out.write(fh.read().decode("utf-8"))
        out.flush()


def _count(con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any]) -> int:
    row = con.execute(f"SELECT count(*) FROM ({sql})", list(params)).fetchone()
    return int(row[0]) if row else 0


def _copy(
    con: duckdb.DuckDBPyConnection, select: str, params: Sequence[Any], path: Path, options: str
) -> None:
    con.execute(f"COPY ({select}) TO '{_sql_str(str(path))}' ({options})", list(params))


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
    select = f"SELECT {_safe_select(cols, 'csv', 'pt-BR' if pt else 'en')} FROM ({sql})"
    sep_sql = "\\t" if sep == "\t" else sep
    _copy(
        con,
        select,
        params,
        path,
        f"FORMAT csv, HEADER true, DELIMITER '{sep_sql}', DATEFORMAT '%Y-%m-%d', "
        "TIMESTAMPFORMAT '%Y-%m-%d %H:%M:%S'",
    )
    if pt:  # UTF-8 BOM so that Excel in Portuguese reads accents right
        body = path.with_name(path.name + ".body")
        path.rename(body)
        with body.open("rb") as src, path.open("wb") as dst:
            dst.write(b"\xef\xbb\xbf")
            shutil.copyfileobj(src, dst)
        body.unlink()
    return _count(con, sql, params)


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
    _copy(con, f"SELECT * FROM ({sql})", params, path, f"FORMAT parquet, COMPRESSION zstd{kv}")
    return _count(con, sql, params)


def _meta_text(v: Any) -> str:
    return v if isinstance(v, str) else json.dumps(v, default=str)


def _write_json(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    _copy(
        con,
        f"SELECT * FROM ({sql})",
        params,
        path,
        "FORMAT json, ARRAY true, DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S'",
    )
    return _count(con, sql, params)


def _write_ndjson(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    _copy(
        con,
        f"SELECT * FROM ({sql})",
        params,
        path,
        "FORMAT json, DATEFORMAT '%Y-%m-%d', TIMESTAMPFORMAT '%Y-%m-%dT%H:%M:%S'",
    )
    return _count(con, sql, params)


def _fetch(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], limit: int | None = None
) -> tuple[list[str], list[str], list[tuple[Any, ...]]]:
    cols = _columns(con, sql, params)
    q = f"SELECT * FROM ({sql})" + (f" LIMIT {int(limit)}" if limit is not None else "")
    rows = con.execute(q, list(params)).fetchall()
    return [c[0] for c in cols], [c[1] for c in cols], rows


def _write_xlsx(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    n = _count(con, sql, params)
    if n + 1 > XLSX_MAX_ROWS:
        raise OutputError(
            f"{n:,} rows do not fit in an xlsx sheet (at most {XLSX_MAX_ROWS - 1:,}); write "
            "CSV or Parquet instead (-o FILE.csv / FILE.parquet)"
        )
    import xlsxwriter

    names, types, rows = _fetch(con, sql, params)
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
        write_sheet(wb, opts.sheet_name, names, types, rows)
        if opts.metadata:
            meta = wb.add_worksheet("metadata")
            bold = wb.add_format({"bold": True})
            meta.write_string(0, 0, "key", bold)
            meta.write_string(0, 1, "value", bold)
            for i, (k, v) in enumerate(opts.metadata.items(), start=1):
                meta.write_string(i, 0, str(k))
                meta.write_string(i, 1, v if isinstance(v, str) else json.dumps(v, default=str))
            meta.set_column(0, 0, 24)
            meta.set_column(1, 1, 80)
    finally:
        wb.close()
    return n


def write_sheet(
    wb: Any, name: str, names: list[str], types: list[str], rows: Sequence[Sequence[Any]]
) -> Any:
    """One typed sheet: bold frozen header, typed cells, widths from the content."""
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
            elif isinstance(v, (int, float)):
                if isinstance(v, float) and not math.isfinite(v):
                    ws.write_string(i, j, str(v))
                else:
                    ws.write_number(i, j, v)
            elif isinstance(v, dt.datetime):
                ws.write_datetime(i, j, v.replace(tzinfo=None), ts_fmt)
                widths[j] = max(widths[j], 20)
            elif isinstance(v, dt.date):
                ws.write_datetime(i, j, dt.datetime(v.year, v.month, v.day), date_fmt)
                widths[j] = max(widths[j], 12)
            else:
                s = str(v) if not isinstance(v, (list, dict)) else json.dumps(v, default=str)
                ws.write_string(i, j, s[:32767])
                if i <= 1000:
                    widths[j] = max(widths[j], min(60, len(s) + 2))
    for j, w in enumerate(widths):
        ws.set_column(j, j, w)
    ws.freeze_panes(1, 0)
    del types
    return ws


def _md_cell(v: Any) -> str:
    if v is None:
        return ""
    s = v.isoformat(sep=" ") if isinstance(v, dt.datetime) else str(v)
    return s.replace("\\", "\\\\").replace("|", "\\|").replace("\n", " ").replace("\r", " ")


def _write_markdown(
    con: duckdb.DuckDBPyConnection, sql: str, params: Sequence[Any], path: Path, opts: WriteOptions
) -> int:
    names, types, rows = _fetch(con, sql, params)
    numeric = [_is_numeric(t) for t in types]
    with path.open("w", encoding="utf-8", newline="\n") as fh:
        fh.write("| " + " | ".join(_md_cell(n) for n in names) + " |\n")
        fh.write("|" + "|".join("---:" if num else "---" for num in numeric) + "|\n")
        for row in rows:
            fh.write("| " + " | ".join(_md_cell(v) for v in row) + " |\n")
    return len(rows)


def _is_numeric(t: str) -> bool:
    t = t.upper()
    return t in (
        "DOUBLE",
        "FLOAT",
        "BIGINT",
        "INTEGER",
        "HUGEINT",
        "SMALLINT",
        "TINYINT",
        "UBIGINT",
        "UINTEGER",
    ) or t.startswith("DECIMAL")


def cell_text(v: Any) -> str:
    """A value as the terminal shows it: the same text the CSV writer puts in the cell."""
    if v is None:
        return ""
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, dt.datetime):
        return v.strftime("%Y-%m-%d %H:%M:%S")
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return repr(v)
    return str(v)


def _write_table(
    con: duckdb.DuckDBPyConnection,
    sql: str,
    params: Sequence[Any],
    out: IO[str],
    opts: WriteOptions,
) -> WriteResult:
    from rich.console import Console
    from rich.table import Table

    n = _count(con, sql, params)
    names, types, rows = _fetch(con, sql, params, limit=opts.max_terminal_rows)
    table = Table(title=opts.title, header_style="bold", show_edge=False, pad_edge=False)
    for name, t in zip(names, types, strict=True):
        table.add_column(name, justify="right" if _is_numeric(t) else "left", overflow="fold")
    for row in rows:
        table.add_row(*(cell_text(v) for v in row))
    console = Console(
        file=out,
        no_color=bool(os.environ.get("NO_COLOR")) or None,
        highlight=False,
        soft_wrap=False,
    )
    console.print(table)
    shown = len(rows)
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
