"""Data-subject requests on export files (LGPD): erase one person's rows, or export them.

Contract (issue 9):
- :func:`forget` writes copies of the inputs without any row of the given customers, in the
  same format: CSV/TSV keep their dialect because kept records are copied byte for byte
  (header, delimiter, quoting, encoding, BOM, line endings, decimal commas untouched; gzip
  in, gzip out); NDJSON keeps its kept lines verbatim; Parquet keeps its schema and values
  (pyarrow, same compression codec). A row belongs to a customer when its customer column
  equals one of the ids after :func:`clientela.pii.normalize_id` (trim; e-mails lower-cased;
  leading zeros kept), or when one of its e-mail columns equals one of the e-mail ids.
  ``in_place`` replaces each changed input atomically (temporary file + rename in the same
  folder); nothing of the removed rows is kept. A receipt (JSON) records the ids hashed,
  the files, rows removed per file and the sha256 of every input and output.
- :func:`subject_export` writes every row of every input that belongs to one person,
  grouped by file with the original text values, to a JSON file (never stdout), atomically
  and readable only by its owner.
- Inputs are only read unless ``in_place``; every output is complete or absent (all files
  are written to temporary files first and renamed at the end; a failure removes them).
- Column detection reuses the loader's: :func:`clientela.load.resolve_inputs` and
  ``_inspect_file`` (format, encoding, delimiter, gzip), the customer-id synonyms of
  :mod:`clientela.columns`, and :func:`clientela.pii.detect_personal_columns` for e-mails.

Nothing is printed; problems are :class:`~clientela.errors.ClientelaError` subclasses.
"""

from __future__ import annotations

import codecs
import contextlib
import csv
import datetime as dt
import gzip
import hashlib
import json
import os
import re
import secrets
import shutil
import struct
import tempfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO, TYPE_CHECKING, Any, cast

from clientela.columns import _candidates, normalize
from clientela.errors import InputDataError, OutputError, UsageError, raise_if_interrupted
from clientela.fsutil import sha256_file
from clientela.pii import PersonalColumn, normalize_id

if TYPE_CHECKING:
    import duckdb

    from clientela.load import LoadOptions, _Source, _TempFiles

RECEIPT_PATTERN = re.compile(r"forget-receipt-.*\.json$")
SAMPLE_TABLE = "_lgpd_sample"
_BATCH = 65_536


# --------------------------------------------------------------------------------- ids


@dataclass(frozen=True)
class SubjectId:
    """One identifier of a data subject, and where it was given (never printed itself)."""

    value: str  # as given, stripped
    key: str  # normalize_id(value): what rows are compared with
    label: str  # "--customer #2" or "ids.txt:4"


def read_ids(customer: str | Sequence[str] | None, from_file: str | None = None) -> list[SubjectId]:
    """The ids of ``--customer`` (repeatable) and of ``--from-file`` (one per line, blank
    lines ignored), de-duplicated after normalisation."""
    given: list[tuple[str, str]] = []
    items = [customer] if isinstance(customer, str) else list(customer or [])
    for i, raw in enumerate(items, start=1):
        given.append((raw, f"--customer #{i}"))
    if from_file is not None:
        path = Path(from_file)
        try:
            text = path.read_bytes().decode("utf-8-sig")
        except FileNotFoundError:
            raise UsageError(f"--from-file {from_file}: no such file") from None
        except IsADirectoryError:
            raise UsageError(f"--from-file {from_file}: is a folder; give a text file") from None
        except OSError as e:
            raise UsageError(f"--from-file {from_file}: cannot be read ({e.strerror})") from None
        except UnicodeDecodeError:
            raise UsageError(
                f"--from-file {from_file}: not UTF-8 text; save it as UTF-8, one id per line"
            ) from None
        for n, line in enumerate(text.splitlines(), start=1):
            if line.strip():
                given.append((line, f"{from_file}:{n}"))
    if not given:
        raise UsageError("no customer given; name one with --customer ID or --from-file FILE")
    out: list[SubjectId] = []
    seen: set[str] = set()
    for raw, label in given:
        value = raw.strip()
        if not value:
            raise UsageError(f"{label} is empty; give a customer id or e-mail")
        key = normalize_id(value)
        if key not in seen:
            seen.add(key)
            out.append(SubjectId(value, key, label))
    return out


def _id_text(value: Any) -> str | None:
    """A cell as the text an id is compared with (numbers as the loader writes them)."""
    if value is None or isinstance(value, bool):
        return None
    if isinstance(value, str):
        return value
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, bytes):
        return value.decode("utf-8", "replace")
    return str(value)


_FLOAT_ID = re.compile(r"(\d+)\.0+")


class _Matcher:
    """Which of the subject's ids a row's customer and e-mail values match."""

    def __init__(self, ids: Sequence[SubjectId]) -> None:
        self.ids = list(ids)
        self.by_key = {s.key: i for i, s in enumerate(self.ids)}
        self.by_email = {s.key: i for i, s in enumerate(self.ids) if "@" in s.key}
        self.needles = [s.key.casefold() for s in self.ids]

    def customer(self, value: Any) -> int | None:
        text = _id_text(value)
        if text is None:
            return None
        key = normalize_id(text)
        hit = self.by_key.get(key)
        if hit is None and (m := _FLOAT_ID.fullmatch(key)):  # 13085.0 exported for 13085
            hit = self.by_key.get(m.group(1))
        return hit

    def email(self, value: Any) -> int | None:
        if not self.by_email:
            return None
        text = _id_text(value)
        return None if text is None else self.by_email.get(normalize_id(text))

    def row(self, cust: Any, emails: Sequence[Any]) -> set[int]:
        hits: set[int] = set()
        c = self.customer(cust)
        if c is not None:
            hits.add(c)
        for e in emails:
            m = self.email(e)
            if m is not None:
                hits.add(m)
        return hits

    def mentions(self, cells: Sequence[str]) -> bool:
        """Does any cell contain one of the ids (to refuse guessing on a malformed row)?"""
        text = "\x00".join(cells).casefold()
        return any(n in text for n in self.needles)


# ------------------------------------------------------------------------------ inputs


@dataclass
class _Input:
    path: Path  # the original file
    shown: str
    rel: Path  # output name relative to --out-dir
    src: _Source
    columns: list[str] = field(default_factory=list)
    customer_col: str | None = None
    email_cols: list[str] = field(default_factory=list)
    personal: list[PersonalColumn] = field(default_factory=list)

    @property
    def format(self) -> str:
        return self.src.info.format

    @property
    def gzip(self) -> bool:
        return self.src.info.compression == "gzip"


def _opts(delimiter: str | None, encoding: str | None) -> LoadOptions:
    from clientela.load import LoadOptions

    opts = LoadOptions(delimiter=delimiter, encoding=encoding)
    opts.validate()
    return opts


def _open_inputs(
    con: duckdb.DuckDBPyConnection,
    inputs: Sequence[str],
    opts: LoadOptions,
    temp: _TempFiles,
    *,
    command: str,
    allow_stdin: bool,
) -> list[_Input]:
    """Resolve, sniff and sample every input; keep each file's output name."""
    from clientela.load import _inspect_file, resolve_inputs

    if isinstance(inputs, str):
        inputs = [inputs]
    if not inputs:
        raise UsageError("no input given; name one or more files, a glob or a directory")
    found: list[_Input] = []
    seen: set[Path] = set()
    for item in inputs:
        if item == "-" and not allow_stdin:
            raise UsageError(
                f"-: {command} rewrites files and cannot read stdin; save the data to a file"
            )
        root = Path(item) if item != "-" and Path(item).is_dir() else None
        for path, shown in resolve_inputs([item], temp):
            if root is not None and RECEIPT_PATTERN.fullmatch(path.name):
                continue  # an earlier run's receipt, not data
            key = path.resolve()
            if key in seen:
                continue
            seen.add(key)
            rel = path.relative_to(root) if root is not None else Path(path.name)
            found.append(_Input(path, shown, rel, _inspect_file(path, shown, opts, temp)))
    for inp in found:
        _sample(con, inp)
    return found


def _sample(con: duckdb.DuckDBPyConnection, inp: _Input) -> None:
    """Read the file's columns and find its personal columns on its first rows."""
    import duckdb

    from clientela.load import _csv_error, _duck_message, _reader_sql

    sql, params = _reader_sql(inp.src)
    try:
        con.execute(
            f"CREATE OR REPLACE TEMP TABLE {SAMPLE_TABLE} AS SELECT * EXCLUDE (__clientela_file) "
            f"FROM ({sql}) LIMIT 2000",
            params,
        )
    except duckdb.Error as e:
        raise_if_interrupted(e)
        if inp.format == "csv":
            raise _csv_error(inp.src, e) from e
        if inp.format == "ndjson":  # say which line, as the full pass would
            _scan_ndjson(inp, _Matcher([]), None, collect=False)
        raise InputDataError(
            f"{inp.shown}: cannot be read as {inp.format} ({_duck_message(e)})"
        ) from e
    from clientela.pii import detect_personal_columns

    rows = con.execute(f"DESCRIBE {SAMPLE_TABLE}").fetchall()
    inp.columns = inp.src.header if inp.format == "csv" else [str(r[0]) for r in rows]
    inp.src.info.columns = list(inp.columns)
    inp.personal = detect_personal_columns(con, SAMPLE_TABLE)


def _find_header(name: str, headers: Sequence[str]) -> str | None:
    if name in headers:
        return name
    hits = [h for h in headers if normalize(h) == normalize(name)]
    return hits[0] if len(hits) == 1 else None


def _as_list(value: str | Sequence[str] | None) -> list[str]:
    if value is None:
        return []
    return [value] if isinstance(value, str) else [v for v in value if v]


def _map_columns(
    found: list[_Input],
    customer_col: str | Sequence[str] | None,
    email_col: str | Sequence[str] | None,
) -> None:
    """Choose each file's customer column and e-mail columns (see :func:`forget`)."""
    cust_names, email_names = _as_list(customer_col), _as_list(email_col)
    for flag, names in (("--customer-col", cust_names), ("--email-col", email_names)):
        for name in names:
            if not any(_find_header(name, f.columns) for f in found):
                cols = ", ".join(repr(c) for c in found[0].columns[:15])
                raise UsageError(
                    f"{flag} {name!r}: no such column in the inputs; columns are: {cols}"
                )
    for inp in found:
        for name in cust_names:
            header = _find_header(name, inp.columns)
            if header is not None:
                inp.customer_col = header
                break
        else:
            hits, _ = _candidates("customer_id", inp.columns, set())
            if len(hits) > 1:
                listed = ", ".join(repr(h) for h in hits)
                raise UsageError(
                    f"{inp.shown}: two or more columns could be the customer id: {listed}; "
                    "choose one with --customer-col NAME"
                )
            if hits:
                inp.customer_col = hits[0]
        given = [h for n in email_names if (h := _find_header(n, inp.columns))]
        if given:
            inp.email_cols = list(dict.fromkeys(given))
        else:
            inp.email_cols = [
                p.name for p in inp.personal if p.kind == "email" and p.name != inp.customer_col
            ]
        if inp.customer_col is None and not inp.email_cols:
            cols = ", ".join(repr(c) for c in inp.columns[:15])
            raise InputDataError(
                f"{inp.shown}: no customer id or e-mail column found among {cols}; name it "
                "with --customer-col (or --email-col)"
            )


# ---------------------------------------------------------------------------- scanning


@dataclass
class _Scan:
    """What one pass over a file found."""

    rows: int = 0
    removed: int = 0
    per_id: dict[int, int] = field(default_factory=dict)
    matched: list[dict[str, Any]] = field(default_factory=list)  # subject-export
    lines: list[int] = field(default_factory=list)  # first line of each matched row

    def hit(self, ids: set[int], line: int) -> None:
        self.removed += 1
        for i in ids:
            self.per_id[i] = self.per_id.get(i, 0) + 1
        self.lines.append(line)


def _gzip_mtime(path: Path) -> int:
    with path.open("rb") as fh:
        head = fh.read(8)
    return int(struct.unpack("<I", head[4:8])[0]) if len(head) == 8 else 0


@contextlib.contextmanager
def _open_out(inp: _Input, dest: Path | None) -> Iterator[IO[bytes] | None]:
    """The output stream of a text file (gzip-compressed when the input is)."""
    if dest is None:
        yield None
        return
    with dest.open("wb") as raw:
        if inp.gzip:
            with gzip.GzipFile(
                filename="", mode="wb", fileobj=raw, compresslevel=6, mtime=_gzip_mtime(inp.path)
            ) as gz:
                yield cast("IO[bytes]", gz)
        else:
            yield raw


@contextlib.contextmanager
def _open_in(inp: _Input) -> Iterator[IO[bytes]]:
    opener: Any = gzip.open if inp.gzip else open
    try:
        with opener(inp.path, "rb") as fh:
            yield fh
    except (EOFError, gzip.BadGzipFile, zlib.error) as e:
        raise InputDataError(
            f"{inp.shown}: cannot be read ({e}); a damaged or truncated file?"
        ) from e


def _lines(fh: IO[bytes], encoding: str, shown: str) -> Iterator[tuple[bytes, str]]:
    """(raw bytes, text) of each physical line, line ends included. The raw bytes are what
    the file holds, so writing them back reproduces it exactly."""
    codec = codecs.lookup(encoding).name
    if codec.startswith(("utf-16", "utf-32")):  # not ASCII-compatible: decode, re-encode
        data = fh.read()
        boms = (
            (codecs.BOM_UTF32_LE, "utf-32-le"), (codecs.BOM_UTF32_BE, "utf-32-be"),
            (codecs.BOM_UTF16_LE, "utf-16-le"), (codecs.BOM_UTF16_BE, "utf-16-be"),
        )  # fmt: skip
        bom, plain = next(
            ((b, c) for b, c in boms if data.startswith(b) and c.startswith(codec[:6])),
            (b"", codec if codec.endswith(("-le", "-be")) else codec + "-le"),
        )
        try:
            text = data[len(bom) :].decode(plain)
        except UnicodeDecodeError as e:
            raise InputDataError(f"{shown}: not valid {encoding} (byte {e.start})") from None
        for n, line in enumerate(re.split(r"(?<=\n)", text)):
            if line:
                yield (bom if n == 0 else b"") + line.encode(plain), line
        return
    first_codec = codec
    body_codec = "utf-8" if codec == "utf-8-sig" else codec
    for n, raw in enumerate(fh, start=1):
        try:
            text = raw.decode(first_codec if n == 1 else body_codec)
        except UnicodeDecodeError as e:
            if body_codec != "cp1252":
                raise InputDataError(
                    f"{shown}: line {n} is not valid {encoding} (byte {e.start}); use "
                    "--encoding latin-1 (or cp1252, utf-8)"
                ) from None
            text = raw.decode("latin-1")  # bytes cp1252 leaves undefined
        yield raw, text


def _scan_csv(inp: _Input, m: _Matcher, dest: Path | None, collect: bool) -> _Scan:
    """Parse with the csv module (the file's delimiter, RFC 4180 quoting) to decide which
    records go; copy the other records' bytes unchanged."""
    from clientela.load import MAX_LINE_SIZE

    csv.field_size_limit(max(csv.field_size_limit(), MAX_LINE_SIZE))
    header = inp.columns
    ci = header.index(inp.customer_col) if inp.customer_col is not None else None
    ei = [header.index(c) for c in inp.email_cols]
    scan = _Scan()
    pending: list[bytes] = []
    line_no = 0
    delim = inp.src.info.delimiter or ","
    encoding = inp.src.info.encoding or "utf-8"
    with _open_in(inp) as fh, _open_out(inp, dest) as out:

        def feed() -> Iterator[str]:
            nonlocal line_no
            for raw, text in _lines(fh, encoding, inp.shown):
                line_no += 1
                pending.append(raw)
                yield text

        reader = csv.reader(feed(), delimiter=delim, quotechar='"', doublequote=True)
        start, seen_header = 1, False
        try:
            for fields in reader:
                raw = b"".join(pending)
                pending.clear()
                line, start = start, line_no + 1
                if not fields or not seen_header:  # blank lines, the header
                    seen_header = seen_header or bool(fields)
                    if out is not None:
                        out.write(raw)
                    continue
                scan.rows += 1
                if len(fields) != len(header):
                    if m.mentions(fields):
                        raise InputDataError(
                            f"{inp.shown}: line {line} has {len(fields)} fields where the "
                            f"header has {len(header)} and mentions a requested customer; fix "
                            "the quoting of that line, then run again"
                        )
                    if out is not None:
                        out.write(raw)
                    continue
                hits = m.row(fields[ci] if ci is not None else None, [fields[j] for j in ei])
                if hits:
                    scan.hit(hits, line)
                    if collect:
                        scan.matched.append(dict(zip(header, fields, strict=True)))
                elif out is not None:
                    out.write(raw)
        except csv.Error as e:
            raise InputDataError(
                f"{inp.shown}: line {line_no} cannot be read as CSV ({e}); fix the quoting"
            ) from None
    return scan


def _scan_ndjson(inp: _Input, m: _Matcher, dest: Path | None, collect: bool) -> _Scan:
    """One JSON object per line: decide per line, copy kept lines unchanged."""
    scan = _Scan()
    cust, emails = inp.customer_col, inp.email_cols
    with _open_in(inp) as fh, _open_out(inp, dest) as out:
        for n, (raw, text) in enumerate(_lines(fh, "utf-8-sig", inp.shown), start=1):
            if not text.strip():
                if out is not None:
                    out.write(raw)
                continue
            try:
                obj = json.loads(text)
            except json.JSONDecodeError as e:
                raise InputDataError(
                    f"{inp.shown}: line {n} is not valid JSON ({e.msg}); give newline-delimited "
                    "JSON, one object per line"
                ) from None
            if not isinstance(obj, dict):
                raise InputDataError(f"{inp.shown}: line {n} is not a JSON object")
            scan.rows += 1
            hits = m.row(obj.get(cust) if cust is not None else None, [obj.get(c) for c in emails])
            if hits:
                scan.hit(hits, n)
                if collect:
                    scan.matched.append(obj)
            elif out is not None:
                out.write(raw)
    return scan


_CODECS = {"UNCOMPRESSED": "none", "LZ4_RAW": "lz4", "LZ4": "lz4"}


def _scan_parquet(inp: _Input, m: _Matcher, dest: Path | None, collect: bool) -> _Scan:
    """Batch by batch with pyarrow; kept rows written with the same schema and codec."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    scan = _Scan()
    try:
        pf = pq.ParquetFile(inp.path)
        codec = "snappy"
        if pf.metadata.num_row_groups and pf.metadata.num_columns:
            name = str(pf.metadata.row_group(0).column(0).compression).upper()
            codec = _CODECS.get(name, name.lower())
        writer = (
            pq.ParquetWriter(dest, pf.schema_arrow, compression=codec) if dest is not None else None
        )
        try:
            for batch in pf.iter_batches(batch_size=_BATCH):
                names = batch.schema.names
                n = batch.num_rows
                cust = (
                    batch.column(names.index(inp.customer_col)).to_pylist()
                    if inp.customer_col is not None
                    else [None] * n
                )
                mails = [batch.column(names.index(c)).to_pylist() for c in inp.email_cols]
                gone: list[int] = []
                for r in range(n):
                    hits = m.row(cust[r], [col[r] for col in mails])
                    if hits:
                        scan.hit(hits, scan.rows + r + 1)
                        gone.append(r)
                scan.rows += n
                if gone and collect:
                    scan.matched.extend(batch.take(pa.array(gone)).to_pylist())
                if writer is not None:
                    if gone:
                        mask = [True] * n
                        for r in gone:
                            mask[r] = False
                        batch = batch.filter(pa.array(mask))
                    writer.write_table(pa.Table.from_batches([batch]))
        finally:
            if writer is not None:
                writer.close()
    except (pa.ArrowException, OSError) as e:
        raise InputDataError(f"{inp.shown}: cannot be read as parquet ({e})") from e
    return scan


def _scan(inp: _Input, m: _Matcher, dest: Path | None, collect: bool = False) -> _Scan:
    """One pass over a file: count (and with ``collect`` keep) the subject's rows, and copy
    the other rows to ``dest`` when given."""
    if inp.format == "parquet":
        return _scan_parquet(inp, m, dest, collect)
    if inp.format == "ndjson":
        return _scan_ndjson(inp, m, dest, collect)
    return _scan_csv(inp, m, dest, collect)


# ----------------------------------------------------------------------------- writing


class _Staging:
    """Output files written beside their targets and renamed only when all succeeded."""

    def __init__(self) -> None:
        self.items: list[tuple[Path, Path]] = []
        self.dirs: list[Path] = []

    def mkdir(self, folder: Path) -> None:
        missing = [p for p in (folder, *folder.parents) if not p.exists()]
        try:
            folder.mkdir(parents=True, exist_ok=True)
        except OSError as e:
            raise OutputError(f"{folder}: cannot create the folder ({e.strerror})") from None
        self.dirs.extend(missing)  # deepest first: removed in this order on failure

    def new(self, target: Path, mode_of: Path | None = None) -> Path:
        self.mkdir(target.parent)
        try:
            fd, name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".tmp", dir=target.parent)
        except OSError as e:
            raise OutputError(f"{target.parent}: cannot write there ({e.strerror})") from None
        os.close(fd)
        tmp = Path(name)
        if mode_of is not None:
            shutil.copymode(mode_of, tmp)
        else:
            umask = os.umask(0)
            os.umask(umask)
            os.chmod(tmp, 0o666 & ~umask)
        self.items.append((tmp, target))
        return tmp

    def discard(self, tmp: Path) -> None:
        self.items = [(t, g) for t, g in self.items if t != tmp]
        tmp.unlink(missing_ok=True)

    def commit(self) -> None:
        for tmp, target in self.items:
            os.replace(tmp, target)
        self.items = []

    def rollback(self) -> None:
        for tmp, _ in self.items:
            with contextlib.suppress(FileNotFoundError):
                tmp.unlink()
        self.items = []
        for d in self.dirs:
            with contextlib.suppress(OSError):
                d.rmdir()


def _now() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc).replace(microsecond=0)


def _iso(t: dt.datetime) -> str:
    return t.isoformat().replace("+00:00", "Z")


# ------------------------------------------------------------------------------ forget


@dataclass
class ForgetFile:
    """One input of :func:`forget` and what became of it."""

    input: str
    output: str | None  # None: --in-place and nothing to remove (left untouched)
    format: str
    compression: str | None
    customer_column: str | None
    email_columns: list[str]
    rows: int
    rows_removed: int
    input_sha256: str
    output_sha256: str | None


@dataclass
class ForgetResult:
    """What :func:`forget` did; ``receipt`` is the JSON written to ``receipt_path``."""

    files: list[ForgetFile]
    ids: int
    unmatched: list[str]  # where each id matching nothing was given ("--customer #2")
    receipt_path: str
    receipt: dict[str, Any]

    @property
    def rows_removed(self) -> int:
        return sum(f.rows_removed for f in self.files)


def _id_hasher() -> tuple[Callable[[str], str], dict[str, Any]]:
    """How ids are written to the receipt: HMAC with the pseudonymisation key when one is
    configured (the pseudonym of --pseudonymize outputs), else SHA-256 with a random salt."""
    from clientela.pii import KEY_ENV, KEY_FILE_ENV, load_key, pseudonym

    if os.environ.get(KEY_ENV) or os.environ.get(KEY_FILE_ENV):
        key = load_key()
        return (lambda k: pseudonym(key, k)), {
            "method": "hmac-sha256",
            "note": "HMAC-SHA256 of the normalised id with the pseudonymisation key: the "
            "customer_id that --pseudonymize writes for this customer",
        }
    salt = secrets.token_bytes(16)
    return (lambda k: hashlib.sha256(salt + k.encode("utf-8")).hexdigest()), {
        "method": "sha256-salted",
        "salt": salt.hex(),
        "note": "sha256(bytes.fromhex(salt) + normalised id as UTF-8), hex; the normalised id "
        "is the id trimmed, lower-cased when it contains @",
    }


def _check_targets(
    found: list[_Input], inputs: Sequence[str], out: Path | None, in_place: bool
) -> list[Path]:
    """Each input's output path; refuse collisions and writing over or into inputs."""
    input_paths = {f.path.resolve(): f.shown for f in found}
    if in_place:
        return [f.path for f in found]
    assert out is not None
    if out.exists() and not out.is_dir():
        raise UsageError(f"--out-dir {out}: is a file; give a folder")
    resolved = out.resolve()
    for item in inputs:
        p = Path(item)
        if (
            item != "-"
            and p.is_dir()
            and (p.resolve() == resolved or p.resolve() in resolved.parents)
        ):
            raise UsageError(
                f"--out-dir {out}: it is inside the input directory {item}; a later run would "
                "read the copies as input. Choose a folder outside it"
            )
    targets: list[Path] = []
    seen: dict[Path, str] = {}
    for f in found:
        target = out / f.rel
        key = target.resolve()
        if key in input_paths:
            raise UsageError(
                f"--out-dir {out}: would overwrite the input {input_paths[key]}; choose another "
                "folder (or --in-place to rewrite the inputs)"
            )
        if key in seen:
            raise UsageError(
                f"--out-dir {out}: {seen[key]} and {f.shown} would both be written to {target}; "
                "run forget separately for each"
            )
        seen[key] = f.shown
        targets.append(target)
    return targets


def forget(
    inputs: Sequence[str] | str,
    customer: str | Sequence[str] | None = None,
    *,
    from_file: str | None = None,
    out_dir: str | None = None,
    in_place: bool = False,
    receipt: str | None = None,
    strict: bool = False,
    customer_col: str | Sequence[str] | None = None,
    email_col: str | Sequence[str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> ForgetResult:
    """Erase the rows of the customers ``customer`` (and those listed in ``from_file``) from
    copies of ``inputs`` written to ``out_dir``, or from the inputs themselves with
    ``in_place``; write a receipt. Same names and defaults as ``clientela forget``.

    Per file the customer column is the first of ``customer_col`` present, else the one the
    loader would choose; e-mail columns are ``email_col`` present, else those
    :func:`clientela.pii.detect_personal_columns` calls e-mail. An id matching no row is
    listed in ``unmatched`` (an :class:`InputDataError` with ``strict``, before anything is
    written).
    """
    from clientela import __version__
    from clientela.load import _TempFiles, connect

    if in_place and out_dir is not None:
        raise UsageError("--in-place rewrites the inputs; drop --out-dir (or --in-place)")
    if not in_place and out_dir is None:
        raise UsageError("give --out-dir DIR for the cleaned copies (or --in-place)")
    if in_place and receipt is None:
        raise UsageError(
            "--in-place needs --receipt FILE: where to keep the erasure receipt (outside the "
            "data folder)"
        )
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    ids = read_ids(customer, from_file)
    opts = _opts(delimiter, encoding)
    started = _now()
    out = Path(out_dir) if out_dir is not None else None
    receipt_path = (
        Path(receipt)
        if receipt is not None
        else (out or Path(".")) / f"forget-receipt-{started.strftime('%Y%m%dT%H%M%SZ')}.json"
    )
    hasher, hashing = _id_hasher()
    temp = _TempFiles()
    con = connect()
    staging = _Staging()
    try:
        found = _open_inputs(con, inputs, opts, temp, command="forget", allow_stdin=False)
        _map_columns(found, customer_col, email_col)
        targets = _check_targets(found, inputs, out, in_place)
        _check_receipt(receipt_path, receipt is not None, found, targets, inputs, from_file)
        matcher = _Matcher(ids)
        files: list[ForgetFile] = []
        per_id: dict[int, int] = {}
        for inp, target in zip(found, targets, strict=True):
            in_sha = sha256_file(inp.path)
            tmp = staging.new(target, mode_of=inp.path)
            scan = _scan(inp, matcher, tmp)
            for i, n in scan.per_id.items():
                per_id[i] = per_id.get(i, 0) + n
            out_sha: str | None
            if scan.removed == 0 and in_place:
                staging.discard(tmp)
                written, out_sha = None, None
            else:
                if scan.removed == 0:  # nothing to remove: an exact copy
                    shutil.copyfile(inp.path, tmp)
                written, out_sha = str(target), sha256_file(tmp)
            files.append(
                ForgetFile(
                    inp.shown, written, inp.format, inp.src.info.compression, inp.customer_col,
                    list(inp.email_cols), scan.rows, scan.removed, in_sha, out_sha,
                )
            )  # fmt: skip
        unmatched = [s.label for i, s in enumerate(ids) if i not in per_id]
        if strict and unmatched:
            raise InputDataError(
                f"{len(unmatched)} of {len(ids)} ids match no row in the inputs "
                f"({', '.join(unmatched[:5])}{' ...' if len(unmatched) > 5 else ''}); nothing "
                "was written (--strict)"
            )
        doc: dict[str, Any] = {
            "receipt": "clientela forget",
            "clientela_version": __version__,
            "created_at": _iso(started),
            "mode": "in_place" if in_place else "copy",
            "out_dir": str(out) if out is not None else None,
            "ids": {
                "count": len(ids),
                "hashing": hashing,
                "subjects": [
                    {
                        "id_hash": hasher(s.key),
                        "given_as": s.label,
                        "rows_removed": per_id.get(i, 0),
                    }
                    for i, s in enumerate(ids)
                ],
            },
            "unmatched": unmatched,
            "rows_removed": sum(f.rows_removed for f in files),
            "files": [vars(f) for f in files],
        }
        tmp_receipt = staging.new(receipt_path)
        tmp_receipt.write_text(json.dumps(doc, indent=2, ensure_ascii=False) + "\n", "utf-8")
        staging.commit()
    except BaseException:
        staging.rollback()
        raise
    finally:
        temp.cleanup()
        con.close()
    return ForgetResult(files, len(ids), unmatched, str(receipt_path), doc)


def _check_receipt(
    path: Path,
    explicit: bool,
    found: list[_Input],
    targets: list[Path],
    inputs: Sequence[str],
    from_file: str | None,
) -> None:
    key = path.resolve()
    if path.exists() and path.is_dir():
        raise UsageError(f"--receipt {path}: is a folder; give a file name")
    if explicit and not path.parent.resolve().is_dir():
        raise UsageError(f"--receipt {path}: the folder {path.parent} does not exist")
    others = [f.path.resolve() for f in found] + [t.resolve() for t in targets]
    if from_file is not None:
        others.append(Path(from_file).resolve())
    if key in others:
        raise UsageError(f"--receipt {path}: that is an input or output file; choose another name")
    for item in inputs:
        p = Path(item)
        if explicit and item != "-" and p.is_dir() and p.resolve() in key.parents:
            raise UsageError(
                f"--receipt {path}: it is inside the input directory {item}; keep it elsewhere"
            )


# ---------------------------------------------------------------------- subject export


@dataclass
class SubjectExportResult:
    """What :func:`subject_export` wrote: rows per file (in input order)."""

    path: str
    rows: int
    files: list[tuple[str, int]]
    unmatched: list[str]


def _json_default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime, dt.time)):
        return value.isoformat()
    if isinstance(value, bytes):
        try:
            return value.decode("utf-8")
        except UnicodeDecodeError:
            return value.hex()
    if isinstance(value, dt.timedelta):
        return str(value)
    return str(value)  # Decimal, UUID, ...


def subject_export(
    inputs: Sequence[str] | str,
    customer: str | Sequence[str],
    *,
    output: str,
    customer_col: str | Sequence[str] | None = None,
    email_col: str | Sequence[str] | None = None,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> SubjectExportResult:
    """Write every row of ``inputs`` that belongs to the person identified by ``customer``
    (one or more of their ids/e-mails) to the JSON file ``output``, grouped by file. Same
    names and defaults as ``clientela subject-export``; matching as in :func:`forget`.
    """
    from clientela import __version__
    from clientela.fsutil import atomic_path
    from clientela.load import _TempFiles, connect
    from clientela.output import check_not_input

    if output in ("", "-"):
        raise UsageError(
            "-o -: subject-export writes one person's personal data and never to stdout "
            "(terminal scrollback, logs); give a file such as -o subject.json"
        )
    out = Path(output)
    if out.suffix.lower() != ".json":
        raise UsageError(f"-o {output}: subject-export writes JSON; name the file *.json")
    if out.is_dir():
        raise UsageError(f"-o {output}: is a folder; give a file name")
    if not out.resolve().parent.is_dir():
        raise UsageError(f"-o {output}: the folder {out.parent} does not exist")
    inputs = [inputs] if isinstance(inputs, str) else list(inputs)
    check_not_input(output, inputs)
    ids = read_ids(customer)
    opts = _opts(delimiter, encoding)
    temp = _TempFiles()
    con = connect()
    try:
        found = _open_inputs(con, inputs, opts, temp, command="subject-export", allow_stdin=True)
        _map_columns(found, customer_col, email_col)
        matcher = _Matcher(ids)
        groups: list[dict[str, Any]] = []
        seen: set[int] = set()
        for inp in found:
            scan = _scan(inp, matcher, None, collect=True)
            seen.update(scan.per_id)
            groups.append(
                {
                    "file": inp.shown,
                    "format": inp.format,
                    "columns": inp.columns,
                    "matched_on": {
                        "customer_column": inp.customer_col,
                        "email_columns": inp.email_cols,
                    },
                    "row_count": scan.removed,
                    "line_numbers" if inp.format != "parquet" else "row_numbers": scan.lines,
                    "rows": scan.matched,
                }
            )
    finally:
        temp.cleanup()
        con.close()
    doc = {
        "export": "clientela subject-export",
        "clientela_version": __version__,
        "created_at": _iso(_now()),
        "subject_ids": [s.value for s in ids],
        "row_count": sum(g["row_count"] for g in groups),
        "files": groups,
    }
    text = json.dumps(doc, indent=2, ensure_ascii=False, default=_json_default) + "\n"
    with atomic_path(out) as tmp:
        os.chmod(tmp, 0o600)  # one person's data: readable by the owner only
        tmp.write_text(text, encoding="utf-8")
    unmatched = [s.label for i, s in enumerate(ids) if i not in seen]
    return SubjectExportResult(
        str(out), int(doc["row_count"]), [(g["file"], g["row_count"]) for g in groups], unmatched
    )


# ------------------------------------------------------------------ personal columns


def personal_columns_in_files(
    inputs: Sequence[str] | str,
    *,
    delimiter: str | None = None,
    encoding: str | None = None,
) -> dict[str, list[PersonalColumn]]:
    """The personal columns of each input file (by name and sampled content), keyed by the
    file name as shown — for manifests and ``inspect``."""
    from clientela.load import _TempFiles, connect

    opts = _opts(delimiter, encoding)
    temp = _TempFiles()
    con = connect()
    try:
        found = _open_inputs(con, inputs, opts, temp, command="inspect", allow_stdin=True)
        return {inp.shown: inp.personal for inp in found}
    finally:
        temp.cleanup()
        con.close()
