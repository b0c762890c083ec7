"""Loading: export files -> one canonical ``orders`` table in DuckDB (+ ``customers``).

Contract (DESIGN.md, "Canonical input"):
- :func:`load` reads CSV (any delimiter, gzip), TSV, Parquet and NDJSON files, globs,
  directories and ``-`` (CSV on stdin), combines them by column name, finds the
  canonical columns, parses dates and money in the detected (or forced) locale, and
  materialises the temp table ``orders``: one row per order with customer_id, order_id,
  order_ts (TIMESTAMP in the reporting zone), order_date, amount (net), n_lines,
  is_purchase, is_refund, status and the dimension columns (taken from the order's
  first line). With a CRM file, the temp table ``customers`` holds customer_id plus the
  CRM attributes.
- Every dropped row is counted by reason in :class:`LoadReport`; rows that cannot be
  parsed are an :class:`InputDataError` naming file, column, line numbers and the fix,
  unless ``bad_rows="skip"``.
- Inputs are only read. The library never prints: warnings are returned.
- User-typed values reach SQL as bound parameters or as validated, quoted identifiers.
"""

from __future__ import annotations

import codecs
import contextlib
import datetime as dt
import glob
import gzip
import io
import os
import re
import shutil
import sys
import tempfile
import time
import zlib
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from clientela._callable import make_module_callable
from clientela.columns import (
    EXCLUDED_STATUSES,
    REQUIRED_ROLES,
    ROLE_FLAGS,
    BinOp,
    Col,
    Expr,
    Neg,
    Num,
    Preset,
    RoleChoice,
    detect_roles,
    expression_columns,
    get_preset,
    normalize,
    suggest_preset,
)
from clientela.errors import (
    ClientelaError,
    InputDataError,
    UsageError,
    raise_if_interrupted,
    resource_error,
)
from clientela.sqlfiles import quote_ident, read_sql, sql_text

if TYPE_CHECKING:
    import duckdb

DATA_EXTENSIONS = (".csv", ".tsv", ".txt", ".parquet", ".pq", ".ndjson", ".jsonl", ".json")
SNIFF_BYTES = 256 * 1024
SAMPLE_ROWS = 20_000
MAX_LINE_SIZE = 16 * 1024 * 1024


# ------------------------------------------------------------------------------ options


@dataclass
class LoadOptions:
    """Everything that shapes how inputs become the canonical ``orders`` table.

    Field names match the CLI options (``customer_col`` is ``--customer-col``).
    """

    customer_col: str | None = None
    date_col: str | None = None
    amount_col: str | None = None
    order_col: str | None = None
    status_col: str | None = None
    preset: str | None = None
    delimiter: str | None = None
    decimal: str | None = None  # "." or ","
    encoding: str | None = None  # utf-8, utf-8-sig, latin-1, cp1252
    date_format: str | None = None  # strptime format or dmy / mdy / ymd
    tz: str = "UTC"
    as_of: str | dt.date | None = None  # None = last order date; "today"; "yesterday"
    zero_orders: str = "ignore"  # "ignore" | "purchase"
    bad_rows: str = "error"  # "error" | "skip"
    duplicates: str = "drop"  # "drop" | "keep": exact duplicate rows are real transactions
    customers: str | None = None  # CRM file
    dimensions: list[str] | None = None  # None: carry every other column; else just these
    threads: int | None = None  # DuckDB worker threads (None: all cores)
    memory_limit: str | None = None  # e.g. "4GB" (None: DuckDB's default, 80% of RAM)
    temp_dir: str | None = None  # spill folder (None: a fresh folder removed at exit)

    def validate(self) -> None:
        if self.zero_orders not in ("ignore", "purchase"):
            raise UsageError(f"--zero-orders {self.zero_orders!r}: use 'ignore' or 'purchase'")
        if self.duplicates not in ("drop", "keep"):
            raise UsageError(f"--duplicates {self.duplicates!r}: use 'drop' or 'keep'")
        if self.bad_rows not in ("error", "skip"):
            raise UsageError(f"--bad-rows {self.bad_rows!r}: use 'error' or 'skip'")
        if self.decimal not in (None, ".", ","):
            raise UsageError(f"--decimal {self.decimal!r}: use '.' or ','")
        if self.delimiter is not None:
            d = _unescape_delimiter(self.delimiter)
            if len(d) != 1:
                raise UsageError(
                    f"--delimiter {self.delimiter!r}: give one character (',' ';' '\\t' '|')"
                )
        if self.threads is not None and self.threads < 1:
            raise UsageError(f"--threads {self.threads}: give 1 or more")
        if self.memory_limit is not None and parse_size(self.memory_limit) < 64 * 2**20:
            raise UsageError(f"--memory-limit {self.memory_limit}: give at least 64MB")
        if (
            self.temp_dir is not None
            and Path(self.temp_dir).exists()
            and not Path(self.temp_dir).is_dir()
        ):
            raise UsageError(f"--temp-dir {self.temp_dir}: is a file; give a folder")
        if self.encoding is not None:
            try:
                codecs.lookup(self.encoding)
            except LookupError:
                raise UsageError(
                    f"--encoding {self.encoding!r}: unknown encoding; use utf-8, latin-1 or cp1252"
                ) from None


def _unescape_delimiter(d: str) -> str:
    return {"\\t": "\t", "tab": "\t", "TAB": "\t", "semicolon": ";", "comma": ","}.get(d, d)


# ------------------------------------------------------------------------------- report


@dataclass
class FileInfo:
    """One input file as read."""

    path: str
    format: str  # csv | parquet | ndjson
    size: int
    compression: str | None = None
    encoding: str | None = None
    delimiter: str | None = None
    rows: int = 0
    columns: list[str] = field(default_factory=list)


@dataclass
class LoadWarning:
    code: str
    message: str


@dataclass
class LoadReport:
    """What happened while loading: mapping, dialect and every count (inspect shows this)."""

    files: list[FileInfo]
    mapping: dict[str, RoleChoice]
    dimensions: list[str]
    dialect: dict[str, str]
    preset: str | None
    suggested_preset: str | None
    as_of: dt.date | None
    tz: str
    rows: dict[str, int]  # read, no_customer, duplicate, bad_*, used
    orders: dict[str, Any]
    warnings: list[LoadWarning]
    crm: dict[str, int] | None = None
    #: columns that look personal (``clientela inspect`` only): name, kind, reason, basis, file
    personal: list[dict[str, str]] = field(default_factory=list)

    def to_dict(self) -> dict[str, Any]:
        return {
            "files": [vars(f) for f in self.files],
            "mapping": {
                r: {"source": c.source, "reason": c.reason} for r, c in self.mapping.items()
            },
            "dimensions": self.dimensions,
            "dialect": self.dialect,
            "preset": self.preset,
            "suggested_preset": self.suggested_preset,
            "as_of": self.as_of.isoformat() if self.as_of else None,
            "tz": self.tz,
            "rows": self.rows,
            "orders": self.orders,
            "crm": self.crm,
            "personal_columns": self.personal,
            "warnings": [vars(w) for w in self.warnings],
        }


@dataclass
class Loaded:
    """The result of :func:`load`: a DuckDB connection holding ``orders`` (and ``customers``)."""

    con: duckdb.DuckDBPyConnection
    report: LoadReport

    @property
    def as_of(self) -> dt.date | None:
        return self.report.as_of


# --------------------------------------------------------------------------- utilities


_SPILL_DIRS: list[str] = []
#: share of --memory-limit given to DuckDB's buffer manager (see connect)
DUCKDB_SHARE = 0.75
#: with --memory-limit, memory DuckDB frees goes back to the system sooner: the allocator is
#: flushed after a task holding over 32 MB (DuckDB's default: 128 MB) and after a bulk free
#: over 64 MB (512 MB), and purges in background threads. At 100M order lines under 4GB the
#: process then peaked at 3,232-3,233 MiB instead of 3,615 MiB (two runs each of cohorts),
#: in the same time; without it one run of 8 went above the cap (docs/benchmarks.md).
ALLOCATOR_SETTINGS = (
    "allocator_flush_threshold = '32MB'",
    "allocator_bulk_deallocation_flush_threshold = '64MB'",
    "allocator_background_threads = true",
)
#: up to this many distinct order statuses are aggregated as small integers (see _load)
MAX_CODED_STATUSES = 100  # codes 1..100 stay below the 128 of the tie-break key
#: order times in [PACKED_FROM, PACKED_TO) fit the packed (time, status code) BIGINT of the
#: lines -> orders step: (microseconds since PACKED_FROM) * 128 + 127 < 2**63 up to the year 4083
PACKED_FROM = dt.datetime(1800, 1, 1)
PACKED_TO = dt.datetime(4000, 1, 1)
#: the lines table goes to a database file of its own when its estimated size is over this
#: share of DuckDB's memory limit (see _lines_on_disk)
LINES_ON_DISK_SHARE = 0.5
#: estimated bytes per line of the lines table, for Parquet inputs whose size says little
#: (measured: 131 bytes per line at 10M lines loaded with dimension columns, as the Python
#: API does; the commands' table is narrower)
LINE_BYTES = 100
#: a gzip CSV/NDJSON file is taken to hold this many times its size in text
GZIP_RATIO = 4
#: the name the lines table's database file is attached under
LINES_DB = "_clientela_lines"
#: the name the orders table's database file is attached under, when the lines went to a
#: file too (see _orders_to_file); it stays attached until the next load on the connection
ORDERS_DB = "_clientela_orders"
#: compression methods left out while the load writes its database files: the light ones
#: that stay (constant, RLE, dictionary, bit-packing) cost little to try, while analysing a
#: column for FSST, ALP, Chimp, Patas or zstd took most of the write's CPU. At 100M order
#: lines under --memory-limit 4GB, `status` wrote its lines in 25.2-27.6 s instead of
#: 34.5 s this way (docs/benchmarks.md, Scale, session 11)
FILE_COMPRESSION_OFF = ("fsst", "alp", "alprd", "chimp", "patas", "zstd", "dict_fsst")
_UNITS = {"b": 1, "kb": 10**3, "mb": 10**6, "gb": 10**9, "tb": 10**12,
          "kib": 2**10, "mib": 2**20, "gib": 2**30, "tib": 2**40}  # fmt: skip


def parse_size(text: str) -> int:
    """Bytes of a size such as ``4GB``, ``512MiB`` or ``1.5 GB`` (validated by LoadOptions)."""
    m = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([A-Za-z]+)\s*", text)
    if m is None or m.group(2).lower() not in _UNITS:
        raise UsageError(f"--memory-limit {text!r}: give a size such as 4GB or 512MB")
    return int(float(m.group(1)) * _UNITS[m.group(2).lower()])


def _lines_estimate(con: duckdb.DuckDBPyConnection, sources: Sequence[_Source]) -> int:
    """Estimated bytes of the lines table: text inputs by their (uncompressed) size,
    Parquet by its row count (from the files' footers) times LINE_BYTES."""
    total = 0
    parquet = [str(s.path) for s in sources if s.info.format == "parquet"]
    if parquet:
        row = con.execute(
            "SELECT coalesce(sum(num_rows), 0) FROM parquet_file_metadata($p)", {"p": parquet}
        ).fetchone()
        total += int(row[0] if row else 0) * LINE_BYTES
    for s in sources:
        if s.info.format != "parquet":
            total += s.info.size * (GZIP_RATIO if s.gzip or s.info.compression else 1)
    return total


def _lines_on_disk(con: duckdb.DuckDBPyConnection, estimate: int) -> bool:
    """Whether the lines table should go to a database file (in the temp directory) rather
    than stay a temporary table: when it would take more than LINES_ON_DISK_SHARE of
    DuckDB's memory limit. A temporary table larger than memory is spilled, and each of the
    load's four scans reads it back, most likely spilling it again as it goes (the counts
    pass took 12.4 s at 100M lines, 2.4 s with the table in a file); a table in a file is
    written once, compressed, and read from there. At 100M lines under --memory-limit 4GB
    `status` took 150.5 s instead of 167.5 s that way; at 10M lines, which fit, the file
    cost 2-3 s (docs/benchmarks.md), hence the threshold."""
    row = con.execute("SELECT current_setting('memory_limit')").fetchone()
    try:  # DuckDB shows it rounded ("2.7 GiB"), which is close enough here
        limit = parse_size(str(row[0])) if row else 0
    except UsageError:
        return False
    return limit > 0 and estimate > LINES_ON_DISK_SHARE * limit


def _light_compression(con: duckdb.DuckDBPyConnection) -> None:
    """Leave out FILE_COMPRESSION_OFF for the database files written next (those this
    DuckDB knows; undone by :func:`_default_compression`)."""
    import duckdb

    kept: list[str] = []
    for method in FILE_COMPRESSION_OFF:
        try:
            con.execute(f"SET disabled_compression_methods = '{','.join([*kept, method])}'")
        except duckdb.Error:  # an older DuckDB without this method
            continue
        kept.append(method)
    if not kept:
        con.execute("RESET disabled_compression_methods")


def _default_compression(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("RESET disabled_compression_methods")


def _detach_orders(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the orders table's database file of an earlier load on this connection, if
    there is one, and remove its folder (made by :func:`_orders_to_file`)."""
    path = _attached(con, ORDERS_DB)
    if path is None:
        return
    drop_relation(con, "_orders_all")  # the view over the file's table
    con.execute(f"DETACH {ORDERS_DB}")
    folder = str(Path(path).parent)
    if folder in _SPILL_DIRS:  # made by _orders_to_file, removed here instead of at exit
        _SPILL_DIRS.remove(folder)
        shutil.rmtree(folder, ignore_errors=True)


def _orders_to_file(con: duckdb.DuckDBPyConnection) -> str:
    """Attach a fresh database file for the orders table and return the table's name in it.

    Used when the lines table went to a file (it would not fit in DuckDB's memory, see
    _lines_on_disk): the orders then do not fit either. Blocks of a temporary table that
    DuckDB evicts are written to its spill files first and read back by every later pass;
    blocks of a table in a file are already on disk, smaller, and only read. At 100M order
    lines under --memory-limit 4GB this made the orders step about 10 s slower and the
    later passes over the orders of `status` 13-15 s faster (docs/benchmarks.md, Scale,
    session 11). The file is in DuckDB's temp directory, in a folder removed when the
    process exits or when the next load on the connection replaces it."""
    spill = Path(con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0])
    spill.mkdir(parents=True, exist_ok=True)
    folder = _folder_removed_at_exit("clientela-orders-", str(spill))
    con.execute(f"ATTACH $db AS {ORDERS_DB}", {"db": str(Path(folder) / "orders.duckdb")})
    return f"{ORDERS_DB}._orders_all"


def _attached(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """The file of the database attached as ``name``, or None when there is none."""
    rows = con.execute(
        "SELECT path FROM duckdb_databases() WHERE database_name = $n", {"n": name}
    ).fetchall()
    return str(rows[0][0]) if rows else None


def _detach_lines(con: duckdb.DuckDBPyConnection) -> None:
    """Detach the lines table's database file, if this load attached one (its folder is
    removed with the load's other temporary files)."""
    if _attached(con, LINES_DB) is not None:
        con.execute(f"DETACH {LINES_DB}")


def _packed_orders(
    coded: bool, fill_zero: bool, any_status: bool, times_fit: bool, null_status: int
) -> bool:
    """Whether the lines -> orders step takes an order's time and status from one packed
    BIGINT minimum (see _load): statuses coded as small integers and decided by the earliest
    line, every line's time in [PACKED_FROM, PACKED_TO), and every line with a status or none
    (a line without one does not decide an order's status, so a mix needs the pair form)."""
    return coded and not fill_zero and times_fit and (null_status == 0 or not any_status)


def _cleanup_spill_dirs() -> None:
    while _SPILL_DIRS:
        shutil.rmtree(_SPILL_DIRS.pop(), ignore_errors=True)


def _folder_removed_at_exit(prefix: str, parent: str | None = None) -> str:
    """A fresh folder (under ``parent``, else the system temp) that is removed when the
    process exits: normally, after an error, or on Ctrl-C/SIGTERM (cli runs the exit
    handlers then too)."""
    import atexit

    if not _SPILL_DIRS:
        atexit.register(_cleanup_spill_dirs)
    folder = tempfile.mkdtemp(prefix=prefix, dir=parent)
    _SPILL_DIRS.append(folder)
    return folder


def connect(opts: LoadOptions | None = None) -> duckdb.DuckDBPyConnection:
    """A DuckDB connection with clientela's settings and the resource options applied.

    Without ``temp_dir`` DuckDB spills into a fresh folder under the system temp that is
    removed when the process exits (normally, on error, or on Ctrl-C or, in the CLI,
    SIGTERM), never into ``./.tmp``.
    """
    import duckdb

    opts = opts or LoadOptions()
    con = duckdb.connect(":memory:")
    con.execute("SET TimeZone = 'UTC'")
    con.execute("SET enable_progress_bar = false")
    if opts.threads is not None:
        con.execute(f"SET threads = {int(opts.threads)}")
    if opts.memory_limit is not None:
        # the cap is for the whole process: DuckDB's buffer manager gets 3/4 of it, the rest
        # is headroom for what it allocates outside the buffer pool, Python and the writers
        budget = int(parse_size(opts.memory_limit) * DUCKDB_SHARE)
        con.execute(f"SET memory_limit = '{budget // 2**20}MiB'")
        for setting in ALLOCATOR_SETTINGS:
            con.execute(f"SET {setting}")
    if opts.temp_dir is not None:
        Path(opts.temp_dir).mkdir(parents=True, exist_ok=True)
        con.execute("SET temp_directory = $1", [str(Path(opts.temp_dir))])
    else:
        spill = _folder_removed_at_exit("clientela-spill-")
        con.execute("SET temp_directory = $1", [spill])
    return con


def _duck_message(err: Exception) -> str:
    text = str(err).strip().splitlines()[0] if str(err).strip() else type(err).__name__
    return re.sub(r"^[A-Za-z ]*Error: ", "", text)


# ------------------------------------------------------------------------ input files


@dataclass
class _Source:
    path: Path  # the file DuckDB reads (may be a transcoded temporary copy)
    shown: str  # the name users typed / see
    info: FileInfo
    header: list[str] = field(default_factory=list)  # CSV only
    gzip: bool = False  # DuckDB must decompress the file it reads


class _TempFiles:
    """Temporary files made while loading (stdin copies, transcoded CSVs, the lines table's
    database file)."""

    def __init__(self) -> None:
        self.dir: Path | None = None
        self.dirs: list[Path] = []  # folders made elsewhere (new_dir)

    def new_dir(self, parent: Path) -> Path:
        """A fresh folder under ``parent``, removed by :meth:`cleanup`."""
        parent.mkdir(parents=True, exist_ok=True)
        made = Path(tempfile.mkdtemp(prefix="clientela-", dir=parent))
        self.dirs.append(made)
        return made

    def new(self, suffix: str) -> Path:
        if self.dir is None:
            self.dir = Path(tempfile.mkdtemp(prefix="clientela-"))
        fd, name = tempfile.mkstemp(suffix=suffix, dir=self.dir)
        os.close(fd)
        return Path(name)

    def cleanup(self) -> None:
        if self.dir is not None:
            shutil.rmtree(self.dir, ignore_errors=True)
            self.dir = None
        while self.dirs:
            shutil.rmtree(self.dirs.pop(), ignore_errors=True)


def resolve_inputs(inputs: Sequence[str], temp: _TempFiles) -> list[tuple[Path, str]]:
    """Expand files, globs, directories and ``-`` into (path, shown name) pairs."""
    if not inputs:
        raise UsageError("no input given; name one or more files, a glob, a directory or -")
    out: list[tuple[Path, str]] = []
    for item in inputs:
        if item == "-":
            tmp = temp.new(".csv")
            with tmp.open("wb") as fh:
                shutil.copyfileobj(sys.stdin.buffer, fh)
            out.append((tmp, "<stdin>"))
            continue
        path = Path(item)
        if path.is_dir():
            found = sorted(
                p
                for p in path.rglob("*")
                if p.is_file()
                and _data_suffix(p) is not None
                and not p.name.startswith(".")
                and not p.name.startswith("forget-receipt-")  # clientela forget's receipts
            )
            if not found:
                raise InputDataError(
                    f"{item}: the directory holds no data files "
                    f"({', '.join(DATA_EXTENSIONS)}, optionally .gz)"
                )
            out.extend((p, str(p)) for p in found)
        elif path.exists():
            out.append((path, item))
        elif any(ch in item for ch in "*?["):
            matches = sorted(Path(m) for m in glob.glob(item, recursive=True))
            files = [m for m in matches if m.is_file()]
            if not files:
                raise UsageError(f"{item}: the pattern matches no file")
            out.extend((m, str(m)) for m in files)
        else:
            raise UsageError(f"{item}: no such file or directory")
    seen: set[Path] = set()
    unique: list[tuple[Path, str]] = []
    for p, shown in out:
        key = p.resolve()
        if key not in seen:
            seen.add(key)
            unique.append((p, shown))
    return unique


def _data_suffix(path: Path) -> str | None:
    suffixes = [s.lower() for s in path.suffixes]
    if suffixes and suffixes[-1] in (".gz", ".gzip"):
        suffixes = suffixes[:-1]
    if suffixes and suffixes[-1] in DATA_EXTENSIONS:
        return suffixes[-1]
    return None


def _read_head(path: Path, compressed: bool, n: int = SNIFF_BYTES) -> bytes:
    try:
        if compressed:
            with gzip.open(path, "rb") as fh:
                return fh.read(n)
        with path.open("rb") as fh:
            return fh.read(n)
    except (OSError, EOFError, zlib.error) as e:
        raise InputDataError(f"{path}: cannot be read ({e}); a damaged or truncated file?") from e


def _detect_encoding(head: bytes, truncated: bool) -> str:
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    try:
        head.decode("utf-8")
        return "utf-8"
    except UnicodeDecodeError as e:
        if truncated and e.start >= len(head) - 4:  # a character cut at the sniff boundary
            return "utf-8"
    try:
        head.decode("cp1252")
        return "cp1252"
    except UnicodeDecodeError:
        return "latin-1"


def _detect_delimiter(text: str) -> str:
    import csv

    lines = text.splitlines()[:200]
    if len(lines) > 1 and not text.endswith(("\n", "\r")):
        lines = lines[:-1]  # the last line may be cut
    best, best_score = ",", (0, 0.0)
    for cand in (",", ";", "\t", "|"):
        try:
            counts = [len(r) for r in csv.reader(io.StringIO("\n".join(lines)), delimiter=cand)]
        except csv.Error:
            continue
        if not counts:
            continue
        mode = max(set(counts), key=counts.count)
        consistency = counts.count(mode) / len(counts)
        if mode > 1 and consistency >= 0.8:
            score = (mode if consistency >= 0.95 else 1, consistency)
            if score > best_score:
                best, best_score = cand, score
    return best


def _inspect_file(path: Path, shown: str, opts: LoadOptions, temp: _TempFiles) -> _Source:
    try:
        size = path.stat().st_size
    except OSError as e:
        raise InputDataError(f"{shown}: cannot be read ({e.strerror})") from e
    suffix = _data_suffix(path)
    with path.open("rb") as fh:
        magic = fh.read(4)
    compressed = magic[:2] == b"\x1f\x8b"
    if size == 0:
        raise InputDataError(f"{shown}: the file is empty")
    if magic == b"PAR1" or suffix in (".parquet", ".pq"):
        if magic != b"PAR1":
            raise InputDataError(
                f"{shown}: not a Parquet file (it does not start with PAR1); if it is a CSV "
                "export, rename it to .csv"
            )
        return _Source(path, shown, FileInfo(shown, "parquet", size))
    if suffix in (".ndjson", ".jsonl", ".json"):
        head = _read_head(path, compressed, 4096)
        if b"\x00" in head:
            raise InputDataError(f"{shown}: contains NUL bytes; not a text JSON file")
        return _Source(path, shown, FileInfo(shown, "ndjson", size, "gzip" if compressed else None))
    # CSV / TSV / text
    head = _read_head(path, compressed)
    truncated = len(head) == SNIFF_BYTES
    nul = head.find(b"\x00")
    if nul >= 0 and not head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        raise InputDataError(
            f"{shown}: contains NUL bytes (first at byte {nul}); this is binary data, not a "
            "CSV export"
        )
    encoding = opts.encoding or _detect_encoding(head, truncated)
    try:
        text = head.decode(encoding.replace("utf-8-sig", "utf-8"), errors="strict")
    except UnicodeDecodeError as e:
        if not (truncated and e.start >= len(head) - 4):
            raise InputDataError(
                f"{shown}: not valid {encoding} (byte {e.start}); use --encoding latin-1, "
                "cp1252 or utf-8"
            ) from e
        text = head[: e.start].decode(encoding.replace("utf-8-sig", "utf-8"))
    text = text.lstrip("\ufeff")
    if not text.strip():
        raise InputDataError(f"{shown}: the file holds no text (only blank lines)")
    if opts.delimiter is not None:
        delim = _unescape_delimiter(opts.delimiter)
    elif suffix == ".tsv":
        delim = "\t"
    else:
        delim = _detect_delimiter(text)
    info = FileInfo(shown, "csv", size, "gzip" if compressed else None, encoding, delim)
    read_path = path
    if encoding.lower().replace("_", "-") not in ("utf-8", "utf8", "utf-8-sig", "ascii"):
        read_path = _transcode(path, shown, compressed, encoding, temp)
    return _Source(read_path, shown, info, _header(text, delim), compressed and read_path == path)


def _header(text: str, delim: str) -> list[str]:
    """The header row's names, made unique and non-empty (DuckDB needs distinct names)."""
    import csv

    first = next(csv.reader(io.StringIO(text), delimiter=delim), [])
    names: list[str] = []
    for i, raw in enumerate(first, start=1):
        name = raw.strip() or f"column{i}"
        base, n = name, 2
        while name in names:
            name, n = f"{base}_{n}", n + 1
        names.append(name)
    return names


def _transcode(path: Path, shown: str, compressed: bool, encoding: str, temp: _TempFiles) -> Path:
    """Copy a non-UTF-8 text file to a temporary UTF-8 file (streaming, 4 MB chunks)."""
    out = temp.new(".csv")
    opener: Any = gzip.open if compressed else open
    decoder = codecs.getincrementaldecoder(encoding)(errors="strict")
    offset = 0
    try:
        with opener(path, "rb") as src, out.open("w", encoding="utf-8", newline="") as dst:
            while chunk := src.read(4 * 1024 * 1024):
                dst.write(decoder.decode(chunk))
                offset += len(chunk)
            dst.write(decoder.decode(b"", final=True))
    except (OSError, EOFError, zlib.error) as e:
        raise InputDataError(f"{shown}: cannot be read ({e}); a damaged or truncated file?") from e
    except UnicodeDecodeError as e:
        if encoding.lower() == "cp1252":  # bytes undefined in cp1252: fall back to latin-1
            return _transcode(path, shown, compressed, "latin-1", temp)
        raise InputDataError(
            f"{shown}: not valid {encoding} near byte {offset + e.start}; use --encoding"
        ) from e
    return out


def _reader_sql(src: _Source, index: int = 0) -> tuple[str, list[Any]]:
    """A SELECT over one file (CSV columns as text) plus the file's index, ``__clientela_file``."""
    info = src.info
    if info.format == "parquet":
        return "SELECT *, ? AS __clientela_file FROM read_parquet(?)", [index, str(src.path)]
    if info.format == "ndjson":
        return (
            "SELECT *, ? AS __clientela_file FROM read_json(?, format='newline_delimited', "
            "records=true)",
            [index, str(src.path)],
        )
    # the header is read by Python (see _inspect_file): no sniffing surprises in DuckDB
    return (
        "SELECT *, ? AS __clientela_file FROM read_csv(?, delim=?, quote='\"', escape='\"', "
        "header=true, auto_detect=false, columns=?, max_line_size=?, null_padding=false, "
        "compression=?)",
        [
            index,
            str(src.path),
            info.delimiter,
            dict.fromkeys(src.header, "VARCHAR"),
            MAX_LINE_SIZE,
            "gzip" if src.gzip else "none",
        ],
    )


def _csv_error(src: _Source, err: Exception) -> ClientelaError:
    """The one-line error for a failed read of ``src`` (out of memory or disk is not the
    file's fault: that is a :class:`ResourceError`; an interruption is not an error of the
    file either: it is re-raised as KeyboardInterrupt)."""
    raise_if_interrupted(err)
    resource = resource_error(err)
    if resource is not None:
        return resource
    text = str(err)
    msg = _duck_message(err)
    line = re.search(r"[Ll]ine:? ?(\d+)", text)
    where = f" at line {line.group(1)}" if line else ""
    counts = re.search(r"Expected Number of Columns: (\d+) Found: (\d+)", text)
    if counts:
        return InputDataError(
            f"{src.shown}: line {line.group(1) if line else '?'} has {counts.group(2)} fields "
            f"where the header has {counts.group(1)} (delimiter {src.info.delimiter!r}); fix "
            "the quoting of that line or force --delimiter"
        )
    if "unicode" in msg.lower() or "utf" in msg.lower():
        return InputDataError(
            f"{src.shown}: not valid UTF-8{where}; use --encoding latin-1 (or cp1252)"
        )
    return InputDataError(
        f"{src.shown}: cannot be read as CSV{where} ({msg}); check the file, or force "
        "--delimiter / --encoding"
    )


# ------------------------------------------------------------------ value parsing (SQL)

_CURRENCY_RE = re.compile(r"^\s*-?\s*(R\$|US\$|\$|€|£|BRL|USD|EUR)")
_DATE_ISO = re.compile(
    r"^\d{4}-\d{1,2}-\d{1,2}([ T]\d{1,2}:\d{2}(:\d{2}(\.\d+)?)?)?\s*(Z|[+-]\d{2}:?\d{2}|UTC)?$"
)
_DATE_YMD_SLASH = re.compile(r"^\d{4}/\d{1,2}/\d{1,2}( \d{1,2}:\d{2}(:\d{2})?)?$")
_DATE_XY = re.compile(
    r"^(\d{1,2})([/.-])(\d{1,2})\2(\d{4}|\d{2})(?:[ T](\d{1,2}):(\d{2})(?::(\d{2}))?)?$"
)
_OFFSET = re.compile(r"(Z|[+-]\d{2}:?\d{2}|UTC)$")

_DATE_ALIASES = {
    "dmy": "%d/%m/%Y",
    "dd/mm/yyyy": "%d/%m/%Y",
    "dd/mm/aaaa": "%d/%m/%Y",
    "mdy": "%m/%d/%Y",
    "mm/dd/yyyy": "%m/%d/%Y",
    "ymd": "%Y-%m-%d",
    "iso": "iso",
    "yyyy-mm-dd": "%Y-%m-%d",
    "aaaa-mm-dd": "%Y-%m-%d",
}


@dataclass
class _DatePlan:
    kind: str  # "typed" | "iso" | "formats"
    formats: list[str]
    offsets: str  # "none" | "all" | "some"
    label: str
    mixed: bool = False


def _with_times(fmt: str) -> list[str]:
    """A date format plus its usual time-of-day variants."""
    if "%H" in fmt:
        return [fmt]
    return [f"{fmt} %H:%M:%S", f"{fmt} %H:%M", f"{fmt}T%H:%M:%S", fmt]


def _plan_dates(
    values: Sequence[str], forced: str | None, column: str, whole_column_max: Any
) -> _DatePlan:
    """Decide how to parse a text date column from a sample of its values."""
    vals = [v.strip() for v in values if v is not None and v.strip()]
    offsets_n = sum(1 for v in vals if _OFFSET.search(v))
    offsets = "none" if offsets_n == 0 else ("all" if offsets_n == len(vals) else "some")
    if forced:
        fmt = _DATE_ALIASES.get(forced.strip().lower(), forced)
        if fmt == "iso":
            return _DatePlan("iso", [], offsets, "ISO 8601 (forced)")
        if "%" not in fmt:
            raise UsageError(
                f"--date-format {forced!r}: give a strptime format such as %d/%m/%Y, or "
                "dmy / mdy / ymd"
            )
        return _DatePlan("formats", _with_times(fmt), offsets, f"{fmt} (forced)")
    if not vals:
        return _DatePlan("iso", [], offsets, "ISO 8601")
    iso = sum(1 for v in vals if _DATE_ISO.match(v))
    ymd_slash = sum(1 for v in vals if _DATE_YMD_SLASH.match(v))
    xy = [m for m in (_DATE_XY.match(v) for v in vals) if m]
    families = [n for n in (iso, ymd_slash, len(xy)) if n]
    mixed = len(families) > 1
    if not families:
        bad = vals[0]
        raise InputDataError(
            f"column {column!r}: cannot recognise the date format of values such as {bad!r}; "
            "give it with --date-format (e.g. --date-format '%d/%m/%Y')"
        )
    formats: list[str] = []
    labels: list[str] = []
    if xy:
        sep = xy[0].group(2)
        year = "%Y" if len(xy[0].group(4)) == 4 else "%y"
        first_max = max(int(m.group(1)) for m in xy)
        second_max = max(int(m.group(3)) for m in xy)
        if first_max <= 12 and second_max <= 12:
            first_max, second_max = whole_column_max(sep)
        if first_max > 12 and second_max > 12:
            raise InputDataError(
                f"column {column!r}: dates are written both day-first and month-first "
                f"(values up to {first_max} in the first and {second_max} in the second "
                "place); fix the export or force one order with --date-format"
            )
        if first_max > 12:
            order = f"%d{sep}%m{sep}{year}"
        elif second_max > 12:
            order = f"%m{sep}%d{sep}{year}"
        else:
            raise InputDataError(
                f"column {column!r}: the day/month order of the dates cannot be decided "
                f"(no value has a day above 12, e.g. {xy[0].group(0)!r}); give it with "
                f"--date-format '%d{sep}%m{sep}{year}' (day first) or "
                f"--date-format '%m{sep}%d{sep}{year}' (month first)"
            )
        formats += _with_times(order)
        labels.append(_format_label(order))
    if ymd_slash:
        formats += _with_times("%Y/%m/%d")
        labels.append("yyyy/mm/dd")
    if iso and not formats:
        return _DatePlan(
            "iso", [], offsets, "ISO 8601" + (" with UTC offsets" if offsets_n else ""), mixed
        )
    if iso:
        labels.append("ISO 8601")
        formats += ["iso"]
    return _DatePlan("formats", formats, offsets, " + ".join(labels), mixed)


def _format_label(fmt: str) -> str:
    """``%d/%m/%Y`` -> ``dd/mm/yyyy``."""
    for code, label in (("%d", "dd"), ("%m", "mm"), ("%Y", "yyyy"), ("%y", "yy")):
        fmt = fmt.replace(code, label)
    return fmt


_OFFSET_SQL = "'(Z|[+-]\\d{2}:?\\d{2}|UTC)$'"


def _date_sql(raw: str, plan: _DatePlan, typ: str) -> tuple[str, list[Any]]:
    """SQL turning the column ``raw`` (a quoted identifier) into a TIMESTAMP in the zone.

    Returns SQL with ``?`` placeholders and their values (``"__TZ__"`` stands for the zone).
    A value carrying a UTC offset is always converted to the reporting zone, wherever it
    appears in the column; values without one are wall-clock times in that zone already.
    """
    t = typ.upper()
    if t.startswith("TIMESTAMP WITH TIME ZONE") or t == "TIMESTAMPTZ":
        return f"timezone(?, {raw})", ["__TZ__"]
    if t.startswith("TIMESTAMP") or t == "DATE":
        return f"CAST({raw} AS TIMESTAMP)", []
    v = f"trim(CAST({raw} AS VARCHAR))"
    glued = f"regexp_replace({v}, '\\s+([+-]\\d{{2}}:?\\d{{2}})$', '\\1')"
    iso = (
        f"CASE WHEN regexp_matches({v}, {_OFFSET_SQL}) "
        f"THEN timezone(?, TRY_CAST({glued} AS TIMESTAMPTZ)) ELSE TRY_CAST({v} AS TIMESTAMP) END"
    )
    if plan.kind == "iso":
        return iso, ["__TZ__"]
    params: list[Any] = []
    parts = []
    fmts = [f for f in plan.formats if f != "iso"]
    naive = [f for f in fmts if "%z" not in f and "%Z" not in f]
    aware = [f for f in fmts if f not in naive]
    if naive:
        parts.append(f"try_strptime({v}, ?)")
        params.append(naive)
    if aware:  # strptime with %z gives a TIMESTAMPTZ: into the reporting zone
        parts.append(f"timezone(?, try_strptime({v}, ?))")
        params += ["__TZ__", aware]
    if "iso" in plan.formats:
        parts.append(iso)
        params.append("__TZ__")
    expr = parts[0] if len(parts) == 1 else f"coalesce({', '.join(parts)})"
    return expr, params


@dataclass
class _NumberPlan:
    decimal: str  # "." or ","
    currency: bool
    label: str
    symbols: list[str] = field(default_factory=list)
    guessed: bool = False  # the sample did not decide; the file's other conventions did


def _plan_number(values: Sequence[str], forced: str | None, brazilian_hint: bool) -> _NumberPlan:
    """Decimal convention of a text amount column, from a sample of its values.

    Evidence for a decimal comma: ``12,5`` / ``1.234,56``; for a decimal point: ``12.50`` /
    ``1,234.56``. Without evidence (``1.500``, ``350``), a ``;``-separated or day-first
    file (``brazilian_hint``) is read with a decimal comma, and the guess is reported.
    """
    vals = [v.strip() for v in values if v is not None and v.strip()]
    symbols = sorted({m.group(1) for v in vals if (m := _CURRENCY_RE.match(v))})
    currency = bool(symbols)
    guessed = False
    if forced:
        dec = forced
    else:
        comma = sum(
            1
            for v in vals
            if re.search(r"(^|[^,\d])-?\d+,\d{1,2}$", v)
            or re.search(r"\.\d{3},\d+$", v)
            or (re.search(r"^-?\d+,\d+$", v) and not re.search(r"^-?\d{1,3},\d{3}$", v))
        )
        dot = sum(
            1
            for v in vals
            if re.search(r"\.\d{1,2}$", v)
            or re.search(r",\d{3}\.\d+$", v)
            or (re.search(r"^-?\d+\.\d+$", v) and not re.search(r"^-?\d{1,3}\.\d{3}$", v))
        )
        if comma != dot:
            dec = "," if comma > dot else "."
        else:
            dec = "," if brazilian_hint else "."
            guessed = any(re.search(r"\d[.,]\d{3}$", v) for v in vals)
    label = "decimal comma, thousands dot (1.234,56)" if dec == "," else "decimal point"
    if currency:
        label += f", currency symbols {', '.join(symbols)}"
    return _NumberPlan(dec, currency, label, symbols, guessed)


_DECIMAL_WORDS = {",": "decimal comma (1.500 = 1500)", ".": "decimal point (1.500 = 1.5)"}
_NUMERIC_TYPES = (
    "DOUBLE", "FLOAT", "REAL", "BIGINT", "INTEGER", "SMALLINT", "TINYINT", "HUGEINT",
    "UBIGINT", "UINTEGER", "USMALLINT", "UTINYINT",
)  # fmt: skip


def _number_sql(raw: str, plan: _NumberPlan, typ: str) -> str:
    """SQL for an amount; text that does not follow the file's convention becomes NULL
    (a bad row), never a number off by a factor of 100 or 1000."""
    t = typ.upper()
    if t in _NUMERIC_TYPES or t.startswith("DECIMAL"):
        return f"CAST({raw} AS DOUBLE)"
    v = f"trim(CAST({raw} AS VARCHAR))"
    if plan.currency:
        v = f"replace(regexp_replace({v}, '(R\\$|US\\$|\\$|€|£|BRL|USD|EUR)\\s*', ''), ' ', '')"
    if plan.decimal == ",":
        pattern = "'^-?(\\d{1,3}(\\.\\d{3})+|\\d+)(,\\d+)?$'"
        clean = f"replace(replace({v}, '.', ''), ',', '.')"
    else:
        pattern = "'^-?(\\d{1,3}(,\\d{3})+|\\d+)(\\.\\d+)?([eE][+-]?\\d+)?$'"
        clean = f"replace({v}, ',', '')"
    return f"CASE WHEN regexp_full_match({v}, {pattern}) THEN TRY_CAST({clean} AS DOUBLE) END"


# ------------------------------------------------------------------------------ loading


def _detect_tz(con: duckdb.DuckDBPyConnection, tz: str) -> str:
    if tz.upper() == "UTC":
        return "UTC"
    row = con.execute(
        "SELECT name FROM pg_timezone_names() WHERE lower(name) = lower(?) LIMIT 1", [tz]
    ).fetchone()
    if row is None:
        raise UsageError(
            f"--tz {tz!r}: unknown time zone; use an IANA name such as America/Sao_Paulo or UTC"
        )
    return str(row[0])


def parse_as_of(value: str | dt.date | None, tz: str, flag: str = "--as-of") -> dt.date | None:
    """``--as-of`` (or another date option, named by ``flag``): a date, ``today``,
    ``yesterday`` (in the reporting zone) or None."""
    if value is None or isinstance(value, dt.date):
        return value
    text = value.strip().lower()
    if text in ("today", "hoje", "yesterday", "ontem"):
        from zoneinfo import ZoneInfo

        try:
            today = dt.datetime.now(ZoneInfo(tz)).date()
        except Exception:  # zoneinfo data missing: fall back to UTC
            today = dt.datetime.now(dt.timezone.utc).date()
        return today if text in ("today", "hoje") else today - dt.timedelta(days=1)
    for fmt in ("%Y-%m-%d", "%d/%m/%Y"):
        with contextlib.suppress(ValueError):
            return dt.datetime.strptime(text, fmt).date()
    raise UsageError(f"{flag} {value!r}: use a date YYYY-MM-DD, 'today' or 'yesterday'")


def _typeof(con: duckdb.DuckDBPyConnection, view: str) -> dict[str, str]:
    rows = con.execute(f"DESCRIBE {view}").fetchall()
    return {str(r[0]): str(r[1]) for r in rows}


def load(
    inputs: Sequence[str] | str,
    options: LoadOptions | None = None,
    *,
    con: duckdb.DuckDBPyConnection | None = None,
) -> Loaded:
    """Load export files into the canonical ``orders`` table. See the module docstring."""
    opts = options or LoadOptions()
    opts.validate()
    if isinstance(inputs, str):
        inputs = [inputs]
    temp = _TempFiles()
    con = con or connect(opts)
    try:
        return _load(list(inputs), opts, con, temp)
    finally:
        with contextlib.suppress(Exception):  # after an error: the file is removed below
            _detach_lines(con)
        with contextlib.suppress(Exception):  # after an error while writing the files
            _default_compression(con)
        temp.cleanup()


def _open_sources(
    con: duckdb.DuckDBPyConnection, inputs: Sequence[str], opts: LoadOptions, temp: _TempFiles
) -> tuple[list[_Source], list[str]]:
    """Inspect every file and create one view ``_src_i`` per file; return the sources and
    the union of their columns (in first-seen order)."""
    import duckdb

    sources = [_inspect_file(p, shown, opts, temp) for p, shown in resolve_inputs(inputs, temp)]
    columns: list[str] = []
    for src in sources:
        sql, params = _reader_sql(src)
        try:
            con.execute(f"CREATE OR REPLACE TEMP TABLE _probe AS {sql} LIMIT 0", params)
            cols = [c for c in _typeof(con, "_probe") if c != "__clientela_file"]
        except duckdb.Error as e:
            if src.info.format == "csv" or resource_error(e) is not None:
                raise _csv_error(src, e) from e  # (a ResourceError when out of memory)
            raise_if_interrupted(e)
            raise InputDataError(
                f"{src.shown}: cannot be read as {src.info.format} ({_duck_message(e)})"
            ) from e
        src.info.columns = cols
        for c in cols:
            if c not in columns:
                columns.append(c)
    con.execute("DROP TABLE IF EXISTS _probe")
    return sources, columns


def _load(
    inputs: Sequence[str], opts: LoadOptions, con: duckdb.DuckDBPyConnection, temp: _TempFiles
) -> Loaded:
    import duckdb

    started = time.perf_counter()
    # a connection loaded again holds no step an analysis kept from the previous load
    from clientela.cohorts import KEPT_KEY, KEPT_STEPS

    for t in (KEPT_KEY, *KEPT_STEPS):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    drop_relation(con, DAYS)
    tz = _detect_tz(con, opts.tz)
    preset: Preset | None = get_preset(opts.preset) if opts.preset else None
    sources, headers = _open_sources(con, inputs, opts, temp)
    files_shown = ", ".join(s.shown for s in sources[:3]) + (
        f" (+{len(sources) - 3} more)" if len(sources) > 3 else ""
    )
    suggested = suggest_preset(headers)
    explicit = {
        "customer_id": opts.customer_col,
        "order_ts": opts.date_col,
        "amount": opts.amount_col,
        "order_id": opts.order_col,
        "status": opts.status_col,
    }
    preset_hint = (
        f"; the header looks like the {suggested.title}: try --preset {suggested.name}"
        if suggested is not None and preset is None
        else ""
    )
    try:
        mapping = detect_roles(headers, explicit, preset)
    except UsageError as e:
        raise UsageError(f"{files_shown}: {e.message}{preset_hint}") from None
    missing = [r for r in REQUIRED_ROLES if r not in mapping]
    if missing:
        raise _missing_columns(missing, headers, files_shown, sources, suggested)

    warnings: list[LoadWarning] = []
    if preset is None and suggested is not None:
        warnings.append(
            LoadWarning(
                "preset_suggested",
                f"the header looks like the {suggested.title}; use --preset {suggested.name} to "
                "read it with that layout's rules",
            )
        )
    if "amount" not in mapping:
        warnings.append(
            LoadWarning(
                "no_amount",
                "no amount column found: money metrics are unavailable; name one with --amount-col",
            )
        )
    elif mapping["amount"].expression is None:
        amount_src = normalize(mapping["amount"].source)
        qty = [h for h in headers if normalize(h) in ("quantity", "quantidade", "qty", "qtd")]
        if amount_src in ("price", "preco", "unitprice", "precounitario") and qty:
            warnings.append(
                LoadWarning(
                    "unit_price_amount",
                    f"the amount is taken from {mapping['amount'].source!r} while a "
                    f"{qty[0]!r} column exists; if that is a unit price, use --amount-col "
                    f'"{qty[0]} * {mapping["amount"].source}"',
                )
            )

    # --- every file is planned on its own sample (files may differ in locale and types),
    # parsed in its own SELECT, and the parsed SELECTs are combined by column name
    roles_cols = {r: c.source for r, c in mapping.items() if c.expression is None}
    date_col = roles_cols["order_ts"]
    amount_choice = mapping.get("amount")
    amount_cols: list[str] = []
    if amount_choice is not None:
        amount_cols = (
            expression_columns(amount_choice.expression)
            if amount_choice.expression is not None
            else [amount_choice.source]
        )
    dims = _choose_dimensions(headers, mapping, opts.dimensions)
    fill_zero = preset is not None and preset.status_order_level
    parts: list[str] = []
    params: list[Any] = []
    date_labels: list[str] = []
    num_labels: list[str] = []
    symbols: set[str] = set()
    for index, src in enumerate(sources):
        reader, reader_params = _reader_sql(src, index)
        try:
            con.execute(
                f"CREATE OR REPLACE TEMP TABLE _raw_sample AS SELECT * FROM ({reader}) "
                f"LIMIT {SAMPLE_ROWS}",
                reader_params,
            )
        except duckdb.Error as e:
            raise _read_error([src], e) from e
        types = _typeof(con, "_raw_sample")
        plan = _FilePlan(src, index, types, reader, reader_params)
        date_plan = _plan_file_dates(con, plan, date_col, opts.date_format)
        if date_plan.mixed:
            warnings.append(
                LoadWarning(
                    "mixed_date_formats",
                    f"{src.shown}: column {date_col!r} mixes date formats ({date_plan.label}); "
                    "each value is read with the format it matches",
                )
            )
        amount_sample = [v for c in amount_cols if c in types for v in _sample_values(con, c)]
        hint = src.info.delimiter == ";" or "%d/%m" in "".join(date_plan.formats)
        num_plan = _plan_number(amount_sample, opts.decimal, hint)
        symbols.update(num_plan.symbols)
        if num_plan.guessed and amount_choice is not None:
            warnings.append(
                LoadWarning(
                    "number_format_guessed",
                    f"{src.shown}: amounts such as '1.500' could be read either way; read with "
                    f"a {_DECIMAL_WORDS[num_plan.decimal]} from the file's other conventions; "
                    "force --decimal if that is wrong",
                )
            )
        date_labels.append(date_plan.label)
        num_labels.append(num_plan.label)
        inner, inner_params = _inner_select(
            plan,
            mapping,
            preset,
            headers,
            dims,
            date_col,
            date_plan,
            num_plan,
            amount_cols,
            fill_zero,
            tz,
        )
        parts.append(f"SELECT {inner} FROM ({reader})")
        params += inner_params + reader_params
    con.execute("DROP TABLE IF EXISTS _raw_sample")
    if len(symbols) > 1:
        warnings.append(
            LoadWarning(
                "currency_mix",
                f"amounts carry several currency symbols ({', '.join(sorted(symbols))}); totals "
                "add different currencies",
            )
        )
    union_sql = " UNION ALL BY NAME ".join(f"({p})" for p in parts)
    amount_raw = [f"_r_a{i}" for i in range(len(amount_cols))]
    raw_amount = " || ' | ' || ".join(
        f"coalesce(CAST({r} AS VARCHAR), '<empty>')" for r in amount_raw
    )
    # The raw text of unreadable dates and amounts is only shown in the --bad-rows error,
    # which reads the files again; the table keeps just the parsed values (an unreadable
    # date or amount is a NULL there), so the largest table of the load stays narrow: at
    # 100M lines its size, not the reading, decides how much DuckDB spills.
    bad_ts_sql = (
        "CASE WHEN order_ts IS NULL THEN coalesce(nullif(trim(CAST(_r_ts AS VARCHAR)), ''), "
        "'<empty>') END"
    )
    bad_amount_sql = (
        f"CASE WHEN amount IS NULL THEN {raw_amount} END"
        if amount_choice is not None
        else "CAST(NULL AS VARCHAR)"
    )
    outer = [
        f"nullif({_fold_email('_cust')}, '') AS customer_id",
        "order_ts",
        "amount",
        "order_id",
        "status",
        "_cancelled",
        *(quote_ident(name) for name, _ in dims),
        "_h",
        "__clientela_file",
    ]
    lines_select = f"SELECT {', '.join(outer)} FROM ({union_sql})"
    on_disk = _lines_on_disk(con, _lines_estimate(con, sources))
    lines_table = f"{LINES_DB}._lines" if on_disk else "_lines"
    if on_disk:
        # in DuckDB's temp directory (--temp-dir, or the run's spill folder), where the user
        # put room for spilled data; removed with the load's temporary files
        spill = con.execute("SELECT current_setting('temp_directory')").fetchall()[0][0]
        db = temp.new_dir(Path(spill)) / "lines.duckdb"
        con.execute(f"ATTACH $db AS {LINES_DB}", {"db": str(db)})
        _light_compression(con)
    try:
        con.execute(
            f"CREATE OR REPLACE {'' if on_disk else 'TEMP '}TABLE "
            f"{lines_table} AS {lines_select}",
            params,
        )
    except duckdb.Error as e:
        raise _read_error(sources, e) from e
    bad_ts_cond = "order_ts IS NULL"
    bad_amount_cond = "amount IS NULL" if amount_choice is not None else "false"

    def raw_select(index: int) -> str:
        """The error's examples: file ``index`` again, with the raw text (the other files'
        branches of the union are empty: LIMIT 0 reads nothing)."""
        union = " UNION ALL BY NAME ".join(
            f"({p})" if i == index else f"(SELECT * FROM ({p}) LIMIT 0)"
            for i, p in enumerate(parts)
        )
        return (
            f"SELECT {', '.join(outer)}, {bad_ts_sql} AS _bad_ts, "
            f"{bad_amount_sql} AS _bad_amount FROM ({union})"
        )

    # --- counts per file and bad rows, and the distinct statuses, in one pass
    ok = f"customer_id IS NOT NULL AND NOT ({bad_ts_cond}) AND NOT ({bad_amount_cond})"
    dim_cols = [quote_ident(n) for n, _ in dims]
    carried = ["customer_id", "order_id", "order_ts", "amount", "status", "_cancelled", *dim_cols]
    try:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _counts AS SELECT "
            "grouping(__clientela_file, status) AS g, __clientela_file AS f, status, "
            "count(*) AS n, count(*) FILTER (WHERE customer_id IS NULL) AS no_customer, "
            f"count(*) FILTER (WHERE {bad_ts_cond} AND customer_id IS NOT NULL) AS bad_ts, "
            f"count(*) FILTER (WHERE NOT ({bad_ts_cond}) AND {bad_amount_cond} "
            "AND customer_id IS NOT NULL) AS bad_amount, min(order_ts) AS ts_min, "
            "max(order_ts) AS ts_max, count(*) FILTER (WHERE order_id IS NULL) AS no_order_id "
            f"FROM {lines_table} GROUP BY GROUPING SETS ((__clientela_file), (status))"
        )
    except duckdb.Error as e:
        raise _read_error(sources, e) from e
    per_file = con.execute(
        "SELECT f, n, no_customer, bad_ts, bad_amount FROM _counts WHERE g = 1"
    ).fetchall()
    for r in per_file:
        sources[int(r[0])].info.rows = int(r[1])
    rows_read = sum(int(r[1]) for r in per_file)
    no_customer = sum(int(r[2]) for r in per_file)
    bad_ts = sum(int(r[3]) for r in per_file)
    bad_amount = sum(int(r[4]) for r in per_file)
    if rows_read == 0:
        raise InputDataError(f"{files_shown}: the header is there but there are no data rows")
    if opts.bad_rows == "error" and (bad_ts or bad_amount):
        # the first file with such a row, from the counts (only that file is read again)
        pos = 3 if bad_ts else 4
        index = min(int(r[0]) for r in per_file if r[pos])
        bad_err = _bad_rows_error(
            con,
            sources,
            index,
            (raw_select(index), params),
            bad_ts,
            bad_amount,
            date_col,
            amount_cols,
        )
        raise InputDataError(bad_err.message + preset_hint)

    # --- exact duplicates: rows whose hash occurs more than once (a pass of its own: as a
    # grouping set of the counting pass it took 2-3x longer at 100M lines) are compared on
    # every carried value and one of each identical set is kept. (No DELETE: scans of a
    # table with deleted rows are several times slower in DuckDB 2.0.)
    duplicates = 0
    lines = f"(SELECT *, rowid AS _rid FROM {lines_table} WHERE {ok})"
    if opts.duplicates == "drop":
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE _dup_h AS SELECT _h FROM {lines_table} "
            f"WHERE {ok} GROUP BY _h HAVING count(*) > 1"
        )
    if opts.duplicates == "drop" and con.execute("SELECT count(*) FROM _dup_h").fetchall()[0][0]:
        con.execute(
            "CREATE OR REPLACE TEMP TABLE _dedup AS SELECT * FROM (SELECT *, rowid AS _rid, "
            f"row_number() OVER (PARTITION BY _h, {', '.join(carried)} ORDER BY rowid) AS _k "
            f"FROM {lines_table} WHERE {ok} AND _h IN (SELECT _h FROM _dup_h))"
        )
        duplicates = int(
            con.execute("SELECT count(*) FILTER (WHERE _k > 1) FROM _dedup").fetchall()[0][0]
        )
        lines = (
            f"(SELECT l.*, l.rowid AS _rid FROM {lines_table} AS l ANTI JOIN _dup_h USING (_h) "
            f"WHERE {ok} UNION ALL BY NAME SELECT * EXCLUDE (_k) FROM _dedup WHERE _k = 1)"
        )

    # --- lines -> orders; excluded statuses decided once per distinct status value
    excluded_set = set(EXCLUDED_STATUSES + (preset.extra_excluded if preset else ()))
    # distinct statuses in byte order (the order of DuckDB's max over text)
    statuses = sorted(
        str(r[0])
        for r in con.execute(
            "SELECT status FROM _counts WHERE g = 2 AND status IS NOT NULL"
        ).fetchall()
    )
    excluded_values = [st for st in statuses if normalize(st) in excluded_set]
    line_excluded = "(_cancelled OR coalesce(list_contains(?, status), false))"
    # A few distinct statuses travel through the aggregation as their position in the
    # sorted list (text payloads make DuckDB's aggregate several times slower once it
    # spills: 18 s of 39 s at 100M lines) and are turned back into text by the view.
    coded = len(statuses) <= MAX_CODED_STATUSES
    status_list = "[" + ", ".join(sql_text(st) for st in statuses) + "]::VARCHAR[]" if coded else ""
    status_val = f"list_position({status_list}, status)" if coded else "status"
    has_order = "order_id" in mapping
    row = con.execute(
        "SELECT coalesce(min(ts_min) >= CAST($from AS TIMESTAMP) AND max(ts_max) < "
        "CAST($to AS TIMESTAMP), false), coalesce(sum(n) FILTER (WHERE g = 2 AND status IS "
        "NULL), 0), coalesce(sum(no_order_id) FILTER (WHERE g = 1), 0) FROM _counts",
        {"from": PACKED_FROM, "to": PACKED_TO},
    ).fetchone()
    assert row is not None
    times_fit, null_status, no_order_id = row
    # a line without an order id is an order of its own (the third key is left out when
    # every line has one: a smaller key)
    order_keys = "customer_id, order_id" + (
        ", CASE WHEN order_id IS NULL THEN _rid END" if no_order_id else ""
    )
    # The earliest time and the status of the earliest line as one BIGINT minimum, the
    # (time, code) pair packed (microseconds since 1800 * 128 + code; 0 for no status), when
    # every line's time is in [1800, 4000) and the statuses are all given or all missing (the
    # status of an order is that of its earliest line with a status): a smaller aggregate
    # state than min(order_ts) and an arg_min, so at 100M lines under --memory-limit 4GB the
    # orders took 31.8 s instead of 37.4-41.2 s (docs/benchmarks.md), with identical rows.
    if has_order:  # an order is excluded when any of its lines is cancelled/voided/...
        if _packed_orders(coded, fill_zero, bool(statuses), bool(times_fit), null_status):
            base = f"epoch_us(TIMESTAMP '{PACKED_FROM.isoformat()}')"
            code = f"coalesce({status_val}, 0)"
            first = f"min((epoch_us(order_ts) - {base}) * 128 + {code}) AS _first"
            ts_out = f"make_timestamp(_first // 128 + {base})"
            st_out = "CAST(nullif(_first % 128, 0) AS INTEGER)"
        else:
            # ties on the earliest timestamp go to the smallest value, so reruns give equal
            # output; for coded statuses the (time, code) pair is one BIGINT (a STRUCT key
            # made the aggregation 40% slower): microseconds * 128 fit in it for the years
            # 1-4000, and times outside are clamped to them
            if fill_zero:
                status_agg = f"max({status_val})"
            elif coded:
                clamped = (
                    "epoch_us(least(greatest(order_ts, TIMESTAMP '0001-01-01'), "
                    "TIMESTAMP '4000-01-01'))"
                )
                status_agg = f"arg_min({status_val}, {clamped} * 128 + {status_val})"
            else:
                status_agg = "arg_min(status, (order_ts, status))"
            first = f"min(order_ts) AS _ts, {status_agg} AS _st"
            ts_out, st_out = "_ts", "_st"
        orders_sql = (
            f"SELECT customer_id, order_id, {ts_out} AS order_ts, amount, n_lines, {st_out} AS "
            f"status, _excluded{''.join(', ' + c for c in dim_cols)} FROM (SELECT customer_id, "
            f"order_id, {first}, CAST(sum(CAST(amount AS DECIMAL(38, 6))) AS DOUBLE) AS amount, "
            f"count(*) AS n_lines, bool_or({line_excluded}) AS _excluded"
            + "".join(f", arg_min({c}, (order_ts, {c})) AS {c}" for c in dim_cols)
            + f" FROM {lines} GROUP BY {order_keys})"
        )
    else:  # every line is its own order
        orders_sql = (
            f"SELECT customer_id, order_id, order_ts, amount, 1 AS n_lines, {status_val} AS "
            f"status, {line_excluded} AS _excluded{''.join(', ' + c for c in dim_cols)} "
            f"FROM {lines}"
        )
    _detach_orders(con)
    drop_relation(con, "_orders_all")
    if on_disk:  # the lines did not fit in memory: the orders go to a file too
        in_file = _orders_to_file(con)
        con.execute(f"CREATE TABLE {in_file} AS {orders_sql}", [excluded_values])
        con.execute(f"CREATE TEMP VIEW _orders_all AS SELECT * FROM {in_file}")
        _default_compression(con)
    else:
        con.execute(f"CREATE TEMP TABLE _orders_all AS {orders_sql}", [excluded_values])
    status_out = f"({status_list})[status] AS status" if coded else "status"
    for t in ("_lines", "_counts", "_dup_h", "_dedup"):
        con.execute(f"DROP TABLE IF EXISTS {t}")
    _detach_lines(con)

    last = con.execute("SELECT max(order_ts)::DATE FROM _orders_all WHERE NOT _excluded").fetchone()
    assert last is not None
    as_of = parse_as_of(opts.as_of, tz) or last[0]
    if not isinstance(as_of, dt.date):
        raise InputDataError(f"{files_shown}: no order is left to analyse after the exclusions")
    if amount_choice is not None:
        zero = "true" if opts.zero_orders == "purchase" else "false"
        purchase = f"(amount > 0 OR (amount = 0 AND {zero}))"
        refund = "coalesce(amount < 0, false)"
    else:  # no money column: every order counts as a purchase
        purchase, refund = "true", "false"
    # a view: the table is not copied; the as-of date is a date object, formatted safely
    con.execute(
        "CREATE OR REPLACE TEMP VIEW orders AS SELECT customer_id, order_id, order_ts, "
        f"CAST(order_ts AS DATE) AS order_date, amount, n_lines, {purchase} AS is_purchase, "
        f"{refund} AS is_refund, {status_out}{''.join(', ' + c for c in dim_cols)} "
        f"FROM _orders_all WHERE NOT _excluded AND CAST(order_ts AS DATE) <= "
        f"DATE '{as_of.isoformat()}'"
    )
    stats_row = con.execute(
        "SELECT count(*) FILTER (WHERE _excluded), "
        "count(*) FILTER (WHERE NOT _excluded AND CAST(order_ts AS DATE) > ?), "
        "coalesce(sum(n_lines) FILTER (WHERE _excluded), 0), "
        "coalesce(sum(n_lines) FILTER (WHERE NOT _excluded AND CAST(order_ts AS DATE) > ?), 0),"
        " coalesce(sum(n_lines), 0) FROM _orders_all",
        [as_of, as_of],
    ).fetchone()
    assert stats_row is not None
    clean_rows = int(stats_row[4])
    multi_customer_orders = 0
    if has_order:
        shared = con.execute(
            "SELECT count(*) FROM (SELECT order_id FROM _orders_all WHERE order_id IS NOT NULL "
            "GROUP BY order_id HAVING count(*) > 1)"
        ).fetchone()
        multi_customer_orders = int(shared[0]) if shared else 0

    orders_stats = _order_stats(con, amount_choice is not None)
    rows = {
        "read": rows_read,
        "no_customer": no_customer,
        "bad_date": bad_ts if opts.bad_rows == "skip" else 0,
        "bad_amount": bad_amount if opts.bad_rows == "skip" else 0,
        "duplicate": duplicates,
        "status_excluded": int(stats_row[2]),
        "after_as_of": int(stats_row[3]),
    }
    rows["used"] = rows_read - sum(v for k, v in rows.items() if k != "read")
    orders_stats["excluded_by_status"] = int(stats_row[0])
    orders_stats["after_as_of"] = int(stats_row[1])
    orders_stats["lines_clean"] = clean_rows

    if multi_customer_orders:
        warnings.append(
            LoadWarning(
                "order_id_shared",
                f"{multi_customer_orders} order ids belong to more than one customer; each "
                "(customer, order id) pair is counted as its own order",
            )
        )
    warnings.extend(_quality_warnings(con, orders_stats, opts.zero_orders == "purchase"))

    dialect = {
        "date_format": " | ".join(dict.fromkeys(date_labels)),
        "numbers": " | ".join(dict.fromkeys(num_labels)) if amount_choice is not None else "n/a",
        "tz": tz,
    }
    csvs = [s.info for s in sources if s.info.format == "csv"]
    if csvs:
        dialect["delimiter"] = ", ".join(sorted({repr(f.delimiter) for f in csvs}))
        dialect["encoding"] = ", ".join(sorted({str(f.encoding) for f in csvs}))

    crm = None
    if opts.customers:
        crm = _load_customers(con, opts, temp, mapping["customer_id"].source)
        buyers = orders_stats["customers_with_purchase"]
        if buyers and crm["buyers_not_in_crm"] > buyers / 2:
            warnings.append(
                LoadWarning(
                    "crm_no_overlap",
                    f"{crm['buyers_not_in_crm']:,} of {buyers:,} buyers are not in the CRM file "
                    f"{opts.customers}; are both files keyed the same way (id vs e-mail)?",
                )
            )
    orders_stats["load_seconds"] = round(time.perf_counter() - started, 3)
    report = LoadReport(
        files=[s.info for s in sources],
        mapping=mapping,
        dimensions=[name for name, _ in dims],
        dialect=dialect,
        preset=preset.name if preset else None,
        suggested_preset=suggested.name if suggested and not preset else None,
        as_of=as_of,
        tz=tz,
        rows=rows,
        orders=orders_stats,
        warnings=warnings,
        crm=crm,
    )
    settle(con)
    return Loaded(con, report)


def temp_kind(con: duckdb.DuckDBPyConnection, name: str) -> str | None:
    """'TABLE' or 'VIEW' when the connection has a temp relation ``name``, else None."""
    kinds = con.execute(
        "SELECT 'VIEW' FROM duckdb_views() WHERE temporary AND view_name = $n UNION ALL "
        "SELECT 'TABLE' FROM duckdb_tables() WHERE temporary AND table_name = $n",
        {"n": name},
    ).fetchall()
    return str(kinds[0][0]) if kinds else None


def drop_relation(con: duckdb.DuckDBPyConnection, name: str) -> None:
    """Drop the temp table or view ``name`` (either kind), if there is one."""
    kind = temp_kind(con, name)
    if kind is not None:
        con.execute(f"DROP {kind} {name}")


#: the table or view of the orders grouped by customer and day (sql/customer_days.sql)
DAYS = "_days"


def customer_days(con: duckdb.DuckDBPyConnection, materialize: bool = False) -> None:
    """Make ``_days`` (sql/customer_days.sql), the input of the churn flags and the status
    history: a view, so a command running one of them groups the orders inside its own
    query, or with ``materialize`` a table, which the report makes once for both (the
    grouping takes about 0.9 s at 10M order lines). An existing table is kept: it was made from
    this load's orders (a new load drops it)."""
    from clientela.sqlfiles import read_sql

    if temp_kind(con, DAYS) == "TABLE":
        return
    drop_relation(con, DAYS)
    kind = "TABLE" if materialize else "VIEW"
    con.execute(f"CREATE TEMP {kind} {DAYS} AS {read_sql('customer_days')}")


def settle(con: duckdb.DuckDBPyConnection) -> None:
    """Leave no half-fetched result on the connection.

    DuckDB 2 refuses ``con.sql(...)`` while an ``execute()`` result is not fully fetched
    (``fetchone()`` on a one-row aggregate does not finish it), so every function that
    hands a connection back to the caller ends with a fully fetched statement.
    """
    con.execute("SELECT 1").fetchall()


CANONICAL_NAMES = frozenset(
    {
        "customer_id",
        "order_ts",
        "amount",
        "order_id",
        "status",
        "order_date",
        "n_lines",
        "is_purchase",
        "is_refund",
    }
)


def _choose_dimensions(
    headers: list[str], mapping: dict[str, RoleChoice], wanted: Sequence[str] | None
) -> list[tuple[str, str]]:
    """(output name, source header) of the dimension columns carried into ``orders``.

    ``wanted=None`` carries every column not used by a role; a list carries just those
    (matched like headers are), so analyses only pay for the dimensions they use.
    """
    used = {c.source for c in mapping.values() if c.expression is None}
    free = [h for h in headers if h not in used]
    if wanted is None:
        chosen = free
    else:
        chosen = []
        by_key = {normalize(h): h for h in free}
        for w in wanted:
            h = w if w in free else by_key.get(normalize(w))
            if h is None:
                raise UsageError(
                    f"--by {w!r}: no such column among the dimensions ({', '.join(free) or 'none'})"
                )
            if h not in chosen:
                chosen.append(h)
    return [(h if h not in CANONICAL_NAMES else f"src_{h}", h) for h in chosen]


def dimension_column(loaded: Loaded, by: str | None) -> str | None:
    """The loaded dimension ``--by`` names (matched like headers are), or None without
    ``--by``; a usage error listing the dimensions when there is no such column."""
    if by is None:
        return None
    dims = loaded.report.dimensions
    if by in dims:
        return by
    for d in dims:
        if normalize(d) == normalize(by):
            return d
    raise UsageError(f"--by {by!r}: no such column; dimensions are: {', '.join(dims) or 'none'}")


@dataclass
class _FilePlan:
    src: _Source
    index: int
    types: dict[str, str]  # column -> DuckDB type in this file
    reader: str
    reader_params: list[Any]

    def col(self, header: str) -> str:
        """The column, or NULL when this file does not have it."""
        return quote_ident(header) if header in self.types else "CAST(NULL AS VARCHAR)"

    def typ(self, header: str) -> str:
        return self.types.get(header, "VARCHAR")


def _plan_file_dates(
    con: duckdb.DuckDBPyConnection, plan: _FilePlan, date_col: str, forced: str | None
) -> _DatePlan:
    if _is_temporal(plan.typ(date_col)):
        return _DatePlan("typed", [], "none", plan.typ(date_col))
    if date_col not in plan.types:
        return _DatePlan("iso", [], "none", "ISO 8601")

    def whole_column_max(sep: str) -> tuple[int, int]:
        """Largest first and second numbers over the whole column's d/m-like values."""
        q = quote_ident(date_col)
        try:
            row = con.execute(
                f"SELECT max(TRY_CAST(split_part(trim({q}), ?, 1) AS INTEGER)), "
                f"max(TRY_CAST(split_part(trim({q}), ?, 2) AS INTEGER)) FROM ({plan.reader}) "
                f"WHERE regexp_matches(trim({q}), '^\\d{{1,2}}[/.-]\\d{{1,2}}[/.-]\\d{{2,4}}')",
                [sep, sep, *plan.reader_params],
            ).fetchall()[0]
        except duckdb.Error as e:
            raise _read_error([plan.src], e) from e
        return int(row[0] or 0), int(row[1] or 0)

    import duckdb

    try:
        return _plan_dates(_sample_values(con, date_col), forced, date_col, whole_column_max)
    except InputDataError as e:
        raise InputDataError(f"{plan.src.shown}: {e.message}") from None


def _inner_select(
    plan: _FilePlan,
    mapping: dict[str, RoleChoice],
    preset: Preset | None,
    headers: list[str],
    dims: list[tuple[str, str]],
    date_col: str,
    date_plan: _DatePlan,
    num_plan: _NumberPlan,
    amount_cols: list[str],
    fill_zero: bool,
    tz: str,
) -> tuple[str, list[Any]]:
    """One file's SELECT: values cast/parsed once, raw date/amount text passed through."""
    params: list[Any] = []
    cust_src = mapping["customer_id"].source
    cust_q = plan.col(cust_src)
    cust_type = plan.typ(cust_src).upper()
    if cust_type in ("DOUBLE", "FLOAT", "REAL") or cust_type.startswith("DECIMAL"):
        cust = (
            f"CASE WHEN {cust_q} = round({cust_q}) THEN CAST(CAST({cust_q} AS BIGINT) AS "
            f"VARCHAR) ELSE CAST({cust_q} AS VARCHAR) END"
        )
    else:
        cust = f"trim(CAST({cust_q} AS VARCHAR))"
    if preset is not None and preset.strip_float_suffix:
        cust = f"regexp_replace({cust}, '\\.0+$', '')"
    date_q = plan.col(date_col)
    ts_sql, ts_params = _date_sql(date_q, date_plan, plan.typ(date_col))
    params += [tz if p == "__TZ__" else p for p in ts_params]
    inner = [f"{cust} AS _cust", f"{ts_sql} AS order_ts", f"{date_q} AS _r_ts"]
    amount_choice = mapping.get("amount")
    if amount_choice is not None:

        def num(col: str) -> str:
            sql = _number_sql(plan.col(col), num_plan, plan.typ(col))
            return f"coalesce({sql}, 0)" if fill_zero else sql

        if amount_choice.expression is not None:
            amount_sql = _expr_sql(amount_choice.expression, num)
        else:
            amount_sql = num(amount_choice.source)
        refund_cols = [h for h in (preset.refund_items_col if preset else []) if h in headers]
        if refund_cols:  # "amount:12.50|reason:...|date:..." entries are subtracted
            items = f"CAST({plan.col(refund_cols[0])} AS VARCHAR)"
            amount_sql = (
                f"({amount_sql} - coalesce(list_sum(list_transform(regexp_extract_all({items}, "
                "'amount:\\s*(-?[0-9]+(?:\\.[0-9]+)?)', 1), lambda x: TRY_CAST(x AS DOUBLE))), 0))"
            )
        inner.append(f"{amount_sql} AS amount")
        inner += [f"{plan.col(c)} AS _r_a{i}" for i, c in enumerate(amount_cols)]
    else:
        inner.append("CAST(NULL AS DOUBLE) AS amount")
    for role in ("order_id", "status"):
        if role in mapping:
            inner.append(
                f"nullif(trim(CAST({plan.col(mapping[role].source)} AS VARCHAR)), '') AS {role}"
            )
        else:
            inner.append(f"CAST(NULL AS VARCHAR) AS {role}")
    cancel_cols = [h for h in (preset.cancelled_col if preset else []) if h in headers]
    if cancel_cols:
        inner.append(
            f"nullif(trim(CAST({plan.col(cancel_cols[0])} AS VARCHAR)), '') IS NOT NULL "
            "AS _cancelled"
        )
    else:
        inner.append("false AS _cancelled")
    for name, h in dims:
        inner.append(f"{plan.col(h)} AS {quote_ident(name)}")
    # exact duplicates are judged on every source column, also those not carried along
    inner.append(f"hash({', '.join(plan.col(h) for h in headers)}) AS _h")
    inner.append("__clientela_file")
    return ", ".join(inner), params


def _fold_email(expr: str) -> str:
    """Customer ids that are e-mail addresses compare case-insensitively: fold them."""
    return f"CASE WHEN contains({expr}, '@') THEN lower({expr}) ELSE {expr} END"


def _is_temporal(typ: str) -> bool:
    t = typ.upper()
    return t.startswith("TIMESTAMP") or t == "DATE"


def _sample_values(con: duckdb.DuckDBPyConnection, col: str) -> list[str]:
    q = quote_ident(col)
    rows = con.execute(
        f"SELECT DISTINCT CAST({q} AS VARCHAR) FROM _raw_sample WHERE {q} IS NOT NULL LIMIT 5000"
    ).fetchall()
    return [str(r[0]) for r in rows]


def _expr_sql(node: Expr, num: Any) -> str:
    if isinstance(node, Num):
        return repr(float(node.value))
    if isinstance(node, Col):
        return str(num(node.name))
    if isinstance(node, Neg):
        return f"(-{_expr_sql(node.operand, num)})"
    if isinstance(node, BinOp):
        op = node.op if node.op in "+-*" else "/"
        right = _expr_sql(node.right, num)
        if op == "/":
            right = f"nullif({right}, 0)"
        return f"({_expr_sql(node.left, num)} {op} {right})"
    raise TypeError(node)  # pragma: no cover


def _missing_columns(
    missing: list[str],
    headers: list[str],
    files: str,
    sources: list[_Source],
    suggested: Preset | None,
) -> InputDataError:
    roles = " and ".join(m.replace("_", " ").replace("order ts", "order date") for m in missing)
    flags = " / ".join(ROLE_FLAGS[m] for m in missing)
    cols = ", ".join(repr(h) for h in headers[:15]) + (" ..." if len(headers) > 15 else "")
    hint = f"name it with {flags}"
    if suggested is not None:
        hint = f"use --preset {suggested.name}, or {hint}"
    if len(headers) == 1:
        only = headers[0]
        for d in (";", ",", "\t", "|"):
            if d in only:
                delim = sources[0].info.delimiter
                return InputDataError(
                    f"{files}: only one column was found ({only!r}) using the delimiter "
                    f"{delim!r}; the file seems to be separated by {d!r}: use --delimiter "
                    f"{d!r}"
                )
    return InputDataError(f"{files}: no {roles} column found among {cols}; {hint}")


def _read_error(sources: list[_Source], err: Exception) -> ClientelaError:
    raise_if_interrupted(err)
    resource = resource_error(err)
    if resource is not None:
        return resource
    msg = str(err)
    for src in sources:
        if str(src.path) in msg or src.shown in msg:
            return _csv_error(src, err)
    if len(sources) == 1:
        return _csv_error(sources[0], err)
    return InputDataError(f"cannot read the input files ({_duck_message(err)})")


def _bad_rows_error(
    con: duckdb.DuckDBPyConnection,
    sources: list[_Source],
    index: int,
    raw: tuple[str, list[Any]],
    bad_ts: int,
    bad_amount: int,
    date_col: str,
    amount_cols: list[str],
) -> InputDataError:
    """Describe unparseable rows with file, column, line numbers and values; ``index`` is
    the first file with such a row, ``raw`` the SELECT (and its parameters) of its lines
    with their raw text in ``_bad_ts`` and ``_bad_amount``, read again for the examples."""
    col = "_bad_ts" if bad_ts else "_bad_amount"
    n = bad_ts or bad_amount
    what = (
        f"order date in column {date_col!r}"
        if bad_ts
        else f"amount in {' / '.join(repr(c) for c in amount_cols)}"
    )
    fix = "force --date-format" if bad_ts else "force --decimal , or --decimal ."
    raw_sql, raw_params = raw
    # each file's rows come in file order (DuckDB preserves insertion order)
    examples = con.execute(
        f"SELECT rn, v FROM (SELECT row_number() OVER () AS rn, {col} AS v, customer_id "
        f"FROM ({raw_sql})) WHERE v IS NOT NULL AND customer_id IS NOT NULL ORDER BY rn LIMIT 3",
        raw_params,
    ).fetchall()
    src = sources[index]
    header = 1 if src.info.format == "csv" else 0
    unit = "line" if src.info.format == "csv" else "row"
    shown = ", ".join(f"{unit} {int(rn) + header}: {str(v)[:40]!r}" for rn, v in examples)
    if not bad_ts and all("<empty>" in str(v) for _, v in examples):
        fix = "name the amount with --amount-col"
    if bad_ts and all(str(v) == "<empty>" for _, v in examples):
        what = f"empty order date in column {date_col!r}"
    return InputDataError(
        f"{src.shown}: {n} row{'s' if n != 1 else ''} with an unreadable {what} ({shown}); "
        f"fix the file, {fix}, or skip them with --bad-rows skip"
    )


#: inputs of the quality warnings that load_order_stats.sql returns but the report omits
_CHECK_KEYS = ("future_orders", "ancient_orders", "top_customer_orders")


def _order_stats(con: duckdb.DuckDBPyConnection, has_amount: bool) -> dict[str, Any]:
    cur = con.execute(read_sql("load_order_stats"), {"today": dt.date.today()})
    names = [d[0] for d in cur.description]
    row = cur.fetchall()[0]
    stats: dict[str, Any] = dict(zip(names, row, strict=True))
    for key in ("refund_value", "net_revenue"):
        stats[key] = round(float(stats[key]), 2) if has_amount else None
    for key in (
        "orders",
        "customers",
        "customers_with_purchase",
        "purchases",
        "refunds",
        "zero_value_orders",
    ):
        stats[key] = int(stats[key])
    return stats


def _quality_warnings(
    con: duckdb.DuckDBPyConnection, stats: dict[str, Any], zero_is_purchase: bool = False
) -> list[LoadWarning]:
    """The data-quality warnings; ``stats`` comes from :func:`_order_stats` and loses the
    keys that only feed these checks."""
    out: list[LoadWarning] = []
    today = dt.date.today()
    future, ancient, top_n = (int(stats.pop(k)) for k in _CHECK_KEYS)
    if future:
        out.append(
            LoadWarning(
                "future_dates", f"{future} orders are dated after today ({today.isoformat()})"
            )
        )
    if ancient:
        out.append(
            LoadWarning(
                "ancient_dates", f"{ancient} orders are dated before 1990 (placeholder dates?)"
            )
        )
    if stats["zero_value_orders"] and not zero_is_purchase:
        out.append(
            LoadWarning(
                "zero_value_orders",
                f"{stats['zero_value_orders']} orders have a total of 0; they are not purchases "
                "unless --zero-orders purchase",
            )
        )
    if stats["orders"] and stats["refunds"] / stats["orders"] > 0.2:
        out.append(
            LoadWarning(
                "many_refunds",
                f"{stats['refunds']} of {stats['orders']} orders have a negative total "
                "(refunds/returns); check the amount column and its sign",
            )
        )
    if stats["orders"] >= 1000 and top_n >= 100 and top_n > 0.01 * stats["orders"]:
        top = con.execute(
            "SELECT customer_id, count(*) AS n FROM orders GROUP BY customer_id "
            "ORDER BY n DESC, customer_id LIMIT 1"
        ).fetchone()
        if top is not None and int(top[1]) >= 100 and int(top[1]) > 0.01 * stats["orders"]:
            out.append(
                LoadWarning(
                    "implausible_customer",
                    f"customer {str(top[0])[:40]!r} has {top[1]} orders "
                    f"({100 * int(top[1]) / stats['orders']:.1f}% of all): a guest or test "
                    "account? exclude it before analysing",
                )
            )
    return out


def _crm_name(h: str) -> str:
    return "src_customer_id" if h == "customer_id" else h


def _load_customers(
    con: duckdb.DuckDBPyConnection, opts: LoadOptions, temp: _TempFiles, orders_key: str
) -> dict[str, int]:
    """The CRM file -> temp table ``customers`` (customer_id + attributes)."""
    import duckdb

    assert opts.customers is not None
    crm_opts = LoadOptions(encoding=opts.encoding, delimiter=opts.delimiter)
    pairs = resolve_inputs([opts.customers], temp)
    sources = [_inspect_file(p, shown, crm_opts, temp) for p, shown in pairs]
    parts, params = [], []
    for src in sources:
        sql, p = _reader_sql(src)
        parts.append(f"({sql})")
        params.extend(p)
    union_sql = " UNION ALL BY NAME ".join(parts)
    try:
        con.execute(f"CREATE OR REPLACE TEMP TABLE _crm AS {union_sql}", params)
    except duckdb.Error as e:
        raise _read_error(sources, e) from e
    headers = [c for c in _typeof(con, "_crm") if c != "__clientela_file"]
    shown = opts.customers
    same = [h for h in headers if normalize(h) == normalize(orders_key)]
    if same:  # the column named like the orders' customer column is the key
        src_col = same[0]
    else:
        try:
            found = detect_roles(headers, {})
        except UsageError as e:
            raise UsageError(
                f"{shown} (--customers): {e.message.split(';')[0]}; rename the key column "
                f"of the CRM file to {orders_key!r}, the orders' customer column"
            ) from None
        if "customer_id" not in found:
            raise InputDataError(
                f"{shown} (--customers): no customer id column found among "
                f"{', '.join(repr(h) for h in headers[:15])}; name the key column like the "
                f"orders' customer column, {orders_key!r}"
            )
        src_col = found["customer_id"].source
    q = quote_ident(src_col)
    cid = _fold_email(f"trim(CAST({q} AS VARCHAR))")
    attrs = [h for h in headers if h != src_col]
    attr_sql = "".join(
        f", any_value({quote_ident(h)}) AS {quote_ident(_crm_name(h))}" for h in attrs
    )
    con.execute(
        f"CREATE OR REPLACE TEMP TABLE customers AS SELECT nullif({cid}, '') AS customer_id"
        f"{attr_sql} FROM _crm WHERE nullif({cid}, '') IS NOT NULL GROUP BY 1 ORDER BY 1"
    )
    row = con.execute(
        "SELECT (SELECT count(*) FROM _crm), (SELECT count(*) FROM customers), "
        "(SELECT count(*) FROM customers c WHERE NOT EXISTS (SELECT 1 FROM orders o "
        "WHERE o.customer_id = c.customer_id AND o.is_purchase)), "
        "(SELECT count(DISTINCT customer_id) FROM orders o WHERE NOT EXISTS "
        "(SELECT 1 FROM customers c WHERE c.customer_id = o.customer_id))"
    ).fetchone()
    con.execute("DROP TABLE _crm")
    assert row is not None
    return {
        "rows": int(row[0]),
        "customers": int(row[1]),
        "prospects": int(row[2]),
        "buyers_not_in_crm": int(row[3]),
    }


def inspect(inputs: Sequence[str] | str, options: LoadOptions | None = None) -> LoadReport:
    """Load the inputs and return only the report (what ``clientela inspect`` shows), with
    the columns that look personal (LGPD: see :mod:`clientela.pii`)."""
    loaded = load(inputs, options)
    try:
        loaded.report.personal = personal_columns(loaded)
        return loaded.report
    finally:
        loaded.con.close()


def personal_columns(loaded: Loaded) -> list[dict[str, str]]:
    """The carried columns of ``orders`` and the CRM columns that look personal, named as
    in the input files (``file`` is ``orders`` or ``customers``)."""
    from clientela.pii import detect_personal_columns

    report = loaded.report
    source = report.mapping["customer_id"].source
    out = []
    for pc in detect_personal_columns(loaded.con, "orders", ["customer_id", *report.dimensions]):
        name = source if pc.name == "customer_id" else pc.name
        out.append({**pc.to_dict(), "name": name, "file": "orders"})
    if report.crm is not None:
        for pc in detect_personal_columns(loaded.con, "customers"):
            if pc.name != "customer_id":
                out.append({**pc.to_dict(), "file": "customers"})
    return out


make_module_callable(__name__, load)  # clientela.load(...) is the function
