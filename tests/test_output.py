"""The writer registry (output.py): golden files per format, CSV injection, xlsx typing and
limits, the pt-BR dialect, stdout rules, atomic writes and a quiet ``| head``.

Everything is read back with real readers (csv, json, pyarrow, openpyxl); the only patch
is ``XLSX_MAX_ROWS`` (to test the sheet-size guard without a million rows).

Golden files live in tests/golden/. When an output change is intended, regenerate them
with ``UPDATE_GOLDEN=1 python -m pytest tests/test_output.py`` and review the diff; without
UPDATE_GOLDEN any change in the output fails the test.
"""

from __future__ import annotations

import csv
import datetime as dt
import hashlib
import io
import json
import os
import subprocess
import sys
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from decimal import Decimal
from pathlib import Path

import duckdb
import openpyxl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clientela import output
from clientela.cli import main as cli_main
from clientela.errors import OutputError, UsageError
from clientela.output import WriteOptions, cell_text, check_not_input, resolve_format, write
from tests.conftest import Result, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden"
UPDATE = os.environ.get("UPDATE_GOLDEN") == "1"

# One small fixed input: accents, a comma and a quote, formula-looking text, a refund,
# a missing value (city of order 5), and text that looks like Rich markup.
ORDERS = """order_id,customer_id,order_ts,amount,status,note,city
1,001,2025-01-03 10:00:00,10.5,paid,plain,São Paulo
2,002,2025-01-04 11:30:00,-5.25,paid,"a, ""quoted"" value",Brasília
3,003,2025-01-05 12:00:00,1234.5,paid,"=HYPERLINK(""x"")",Curitiba
4,004,2025-01-06 13:00:00,7,paid,+1,Maceió
5,005,2025-01-07 14:00:00,0.1,paid,-cmd,
6,006,2025-01-08 15:00:00,3,paid,@SUM(A1),Niterói
7,007,2025-01-09 16:45:30,42,paid,[/b] [red]not markup[/red] :smile:,Florianópolis
"""
FIXED = ("--as-of", "2025-02-01", "--tz", "UTC")
QUERY = (
    "SELECT customer_id, order_id, order_ts, order_date, amount, "
    "CAST(amount AS DECIMAL(10,2)) AS amount_dec, n_lines, is_refund, note, city "
    "FROM orders ORDER BY order_id"
)
HEADER = [
    "customer_id", "order_id", "order_ts", "order_date", "amount", "amount_dec", "n_lines",
    "is_refund", "note", "city",
]  # fmt: skip
FORMULAS = ['=HYPERLINK("x")', "+1", "-cmd", "@SUM(A1)"]
EXPECTED = [  # the rows as typed values (Parquet and xlsx read-back)
    ("001", "1", dt.datetime(2025, 1, 3, 10), dt.date(2025, 1, 3), 10.5, Decimal("10.50"), 1,
     False, "plain", "São Paulo"),
    ("002", "2", dt.datetime(2025, 1, 4, 11, 30), dt.date(2025, 1, 4), -5.25, Decimal("-5.25"),
     1, True, 'a, "quoted" value', "Brasília"),
    ("003", "3", dt.datetime(2025, 1, 5, 12), dt.date(2025, 1, 5), 1234.5, Decimal("1234.50"),
     1, False, '=HYPERLINK("x")', "Curitiba"),
    ("004", "4", dt.datetime(2025, 1, 6, 13), dt.date(2025, 1, 6), 7.0, Decimal("7.00"), 1,
     False, "+1", "Maceió"),
    ("005", "5", dt.datetime(2025, 1, 7, 14), dt.date(2025, 1, 7), 0.1, Decimal("0.10"), 1,
     False, "-cmd", None),
    ("006", "6", dt.datetime(2025, 1, 8, 15), dt.date(2025, 1, 8), 3.0, Decimal("3.00"), 1,
     False, "@SUM(A1)", "Niterói"),
    ("007", "7", dt.datetime(2025, 1, 9, 16, 45, 30), dt.date(2025, 1, 9), 42.0,
     Decimal("42.00"), 1, False, "[/b] [red]not markup[/red] :smile:", "Florianópolis"),
]  # fmt: skip

# golden name -> (extra CLI arguments, output file name or None for stdout, extra env)
GOLDEN_RUNS: dict[str, tuple[tuple[str, ...], str | None, dict[str, str]]] = {
    "orders.csv": ((), "out.csv", {}),
    "orders.tsv": ((), "out.tsv", {}),
    "orders.json": ((), "out.json", {}),
    "orders.ndjson": ((), "out.jsonl", {}),  # .jsonl is ndjson
    "orders.md": ((), "out.md", {}),
    "orders.pt-BR.csv": (("--csv-locale", "pt-BR"), "out.pt.csv", {}),
    "orders.table.txt": (("--format", "table"), None, {}),
}
OTHER_RUNS: dict[str, tuple[tuple[str, ...], str | None, dict[str, str]]] = {
    "parquet": ((), "out.parquet", {}),
    "xlsx": ((), "out.xlsx", {}),
    "stdout": (("-o", "-"), None, {}),
    "pipe-default": ((), None, {}),  # no -o, stdout is a pipe: CSV
    # a narrow terminal setting and FORCE_COLOR must not change what goes to a pipe
    "table-narrow": (("--format", "table"), None, {"COLUMNS": "40", "FORCE_COLOR": "1"}),
    # --format wins over the extension
    "format-wins": (("--format", "csv"), "forced.txt", {}),
}


class Outputs:
    """Every format of QUERY over ORDERS, produced once by the real CLI."""

    def __init__(self, folder: Path) -> None:
        self.folder = folder
        self.input = folder / "orders.csv"
        self.input.write_text(ORDERS, encoding="utf-8")
        runs = {**GOLDEN_RUNS, **OTHER_RUNS}
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {name: pool.submit(self._run, *spec) for name, spec in runs.items()}
            self.results: dict[str, Result] = {k: f.result() for k, f in futures.items()}
        self.files = {
            name: folder / spec[1] for name, spec in runs.items() if spec[1] is not None
        }

    def _run(self, extra: tuple[str, ...], out: str | None, env: dict[str, str]) -> Result:
        args = [str(self.input), *FIXED, "-q", QUERY, *extra]
        if out is not None:
            args += ["-o", str(self.folder / out)]
        return run_cli("sql", *args, env=env)

    def content(self, name: str) -> bytes:
        res = self.results[name]
        assert res.code == 0, res.err
        path = self.files.get(name)
        return path.read_bytes() if path is not None else res.out.encode("utf-8")


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return Outputs(tmp_path_factory.mktemp("outputs"))


def check_golden(name: str, actual: bytes) -> None:
    path = GOLDEN / name
    if UPDATE:
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(actual)
        return
    assert path.exists(), f"missing golden file {path}; create it with UPDATE_GOLDEN=1"
    expected = path.read_bytes()
    assert actual == expected, (
        f"{name} changed; if intended, regenerate with UPDATE_GOLDEN=1 and review the diff\n"
        f"--- expected\n{expected.decode('utf-8', 'replace')}\n"
        f"--- actual\n{actual.decode('utf-8', 'replace')}"
    )


def undefuse(cell: str) -> str:
    """A CSV cell without the ``'`` that defuses a formula."""
    return cell[1:] if cell[:1] == "'" and cell[1:2].startswith(output.FORMULA_START) else cell


def parse_table(text: str) -> tuple[list[str], list[list[str]]]:
    """Header and rows of a Rich table printed off a terminal (one line per row)."""
    lines = [line for line in text.splitlines() if line.strip()]
    header = [c.strip() for c in lines[0].split("┃")]
    assert set(lines[1]) <= set("━╇"), lines[1]
    rows = [[c.strip() for c in line.split("│")] for line in lines[2:]]
    return header, rows


def parse_markdown(text: str) -> tuple[list[str], list[list[str]]]:
    lines = text.splitlines()
    split = [[c.strip() for c in line.strip("|").split(" | ")] for line in lines]
    return split[0], split[2:]


# ---------------------------------------------------------------- golden files


@pytest.mark.parametrize("name", list(GOLDEN_RUNS))
def test_golden(outputs: Outputs, name: str) -> None:
    res = outputs.results[name]
    assert res.code == 0, res.err
    if GOLDEN_RUNS[name][1] is None:  # stdout: data only, no message
        assert res.err == ""
    else:
        assert res.out == ""
        assert res.err.startswith("wrote 7 rows to "), res.err
    check_golden(name, outputs.content(name))


def test_golden_csv_reads_back(outputs: Outputs) -> None:
    rows = list(csv.reader(io.StringIO(outputs.content("orders.csv").decode("utf-8"))))
    assert rows[0] == HEADER
    assert len(rows) == 8
    first, refund = rows[1], rows[2]
    assert first == ["001", "1", "2025-01-03 10:00:00", "2025-01-03", "10.5", "10.50", "1",
                     "false", "plain", "São Paulo"]  # fmt: skip
    assert refund[4] == "-5.25" and refund[7] == "true"  # a negative number is not defused
    assert refund[8] == 'a, "quoted" value'
    assert rows[5][9] == ""  # null


def test_golden_json_and_ndjson_read_back(outputs: Outputs) -> None:
    def strict(text: str) -> object:
        return json.loads(text, parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))

    array = strict(outputs.content("orders.json").decode("utf-8"))
    lines = outputs.content("orders.ndjson").decode("utf-8").splitlines()
    assert array == [strict(line) for line in lines]
    assert isinstance(array, list) and len(array) == 7
    assert array[1] == {
        "customer_id": "002", "order_id": "2", "order_ts": "2025-01-04T11:30:00",
        "order_date": "2025-01-04", "amount": -5.25, "amount_dec": -5.25, "n_lines": 1,
        "is_refund": True, "note": 'a, "quoted" value', "city": "Brasília",
    }  # fmt: skip
    assert array[4]["city"] is None
    assert array[2]["note"] == '=HYPERLINK("x")'  # JSON is data: nothing to defuse


def test_parquet_reads_back_typed(outputs: Outputs) -> None:
    table = pq.read_table(outputs.files["parquet"])
    assert table.column_names == HEADER
    schema = table.schema
    assert pa.types.is_timestamp(schema.field("order_ts").type)
    assert schema.field("order_date").type == pa.date32()
    assert schema.field("amount").type == pa.float64()
    assert schema.field("amount_dec").type == pa.decimal128(10, 2)
    assert schema.field("is_refund").type == pa.bool_()
    rows = [tuple(r.values()) for r in table.to_pylist()]
    assert rows == EXPECTED


def test_xlsx_reads_back_typed(outputs: Outputs) -> None:
    wb = openpyxl.load_workbook(outputs.files["xlsx"])
    ws = wb["data"]
    header = [c.value for c in ws[1]]
    assert header == HEADER
    assert all(c.font.b for c in ws[1]), "header is bold"
    assert ws.freeze_panes == "A2"
    col = {name: i for i, name in enumerate(HEADER)}
    values = [tuple(c.value for c in row) for row in ws.iter_rows(min_row=2)]
    expected = [
        tuple(
            dt.datetime(v.year, v.month, v.day) if type(v) is dt.date
            else float(v) if isinstance(v, Decimal) else v
            for v in row
        )
        for row in EXPECTED
    ]  # fmt: skip
    assert values == expected
    for row in ws.iter_rows(min_row=2):
        for name in ("amount", "amount_dec", "n_lines"):
            cell = row[col[name]]
            assert cell.data_type == "n" and isinstance(cell.value, (int, float)), cell
        for name in ("order_ts", "order_date"):
            assert row[col[name]].is_date, row[col[name]]
        assert row[col["is_refund"]].data_type == "b"
        for name in ("customer_id", "note"):
            assert row[col[name]].data_type == "s", row[col[name]]
    # formula-looking text is a string cell holding the text as it is, never a formula
    notes = [row[col["note"]] for row in ws.iter_rows(min_row=2)]
    for text in FORMULAS:
        cell = next(c for c in notes if c.value == text)
        assert cell.data_type == "s"
    assert all(c.data_type != "f" for row in ws.iter_rows() for c in row)
    # every column has a width; text columns are widened to their content
    covered: dict[int, float] = {}
    for dim in ws.column_dimensions.values():
        for i in range(dim.min, dim.max + 1):
            covered[i] = dim.width
    assert sorted(covered) == list(range(1, len(HEADER) + 1))
    assert all(w and w >= 8 for w in covered.values())
    assert covered[col["note"] + 1] > len("[/b] [red]not markup[/red] :smile:")


def test_csv_and_tsv_defuse_formulas(outputs: Outputs) -> None:
    for name, delim in (("orders.csv", ","), ("orders.tsv", "\t")):
        text = outputs.content(name).decode("utf-8")
        rows = list(csv.reader(io.StringIO(text), delimiter=delim))
        notes = [r[HEADER.index("note")] for r in rows[1:]]
        for formula in FORMULAS:
            assert "'" + formula in notes, (name, notes)
        for row in rows:
            for cell in row[:4] + row[7:]:  # the text columns (numbers may be negative)
                assert not cell.startswith(output.FORMULA_START), (name, cell)


def test_pt_br_csv(outputs: Outputs) -> None:
    raw = outputs.content("orders.pt-BR.csv")
    assert raw.startswith(b"\xef\xbb\xbf")
    text = raw.decode("utf-8-sig")
    assert text.splitlines()[0] == ";".join(HEADER)
    rows = list(csv.reader(io.StringIO(text), delimiter=";"))
    assert rows[0] == HEADER
    amounts = [(r[4], r[5]) for r in rows[1:]]
    assert amounts[:3] == [("10,5", "10,50"), ("-5,25", "-5,25"), ("1234,5", "1234,50")]
    assert rows[2][8] == 'a, "quoted" value'
    assert rows[1][9] == "São Paulo"
    assert rows[1][2] == "2025-01-03 10:00:00" and rows[1][3] == "2025-01-03"
    assert "'=HYPERLINK(\"x\")" in [r[8] for r in rows]


def test_stdout_is_csv_and_nothing_else(outputs: Outputs) -> None:
    csv_bytes = outputs.content("orders.csv")
    for name in ("stdout", "pipe-default"):
        res = outputs.results[name]
        assert res.code == 0
        assert res.err == ""
        assert res.out.encode("utf-8") == csv_bytes


def test_format_option_wins_over_extension(outputs: Outputs) -> None:
    assert outputs.content("format-wins") == outputs.content("orders.csv")


def test_table_does_not_depend_on_the_terminal(outputs: Outputs) -> None:
    narrow = outputs.content("table-narrow")
    assert b"\x1b[" not in narrow  # no escape codes in a pipe, even with FORCE_COLOR
    assert narrow == outputs.content("orders.table.txt")


def test_table_and_csv_agree_cell_for_cell(outputs: Outputs) -> None:
    header, rows = parse_table(outputs.content("orders.table.txt").decode("utf-8"))
    csv_rows = list(csv.reader(io.StringIO(outputs.content("orders.csv").decode("utf-8"))))
    assert header == csv_rows[0]
    assert rows == [[undefuse(c) for c in r] for r in csv_rows[1:]]
    md_header, md_rows = parse_markdown(outputs.content("orders.md").decode("utf-8"))
    assert md_header == header
    assert md_rows == rows


# ---------------------------------------------------------------- the Python API


@pytest.fixture
def con() -> Iterator[duckdb.DuckDBPyConnection]:
    c = duckdb.connect()
    c.execute("SET TimeZone = 'UTC'")
    yield c
    c.close()


MANY_TYPES = (
    "SELECT 1e16::DOUBLE AS big, 1.5e-7::DOUBLE AS small, 'nan'::DOUBLE AS nan, "
    "'-inf'::DOUBLE AS neg_inf, 0.1::FLOAT AS f32, -0.0::DOUBLE AS neg_zero, "
    "10.50::DECIMAL(10,2) AS dec, 12345678901234567890::HUGEINT AS huge, [1, 2] AS list, "
    "['a', 'b'] AS texts, {'x': 1, 'y': 'a'} AS struct, INTERVAL 3 DAY AS days, "
    "TIME '10:11:12' AS t, TIMESTAMP_NS '2025-01-01 10:00:00.123456789' AS ts_ns, "
    "TIMESTAMPTZ '2025-01-01 10:00:00+02' AS ts_tz, DATE '2025-01-02' AS d, true AS b, "
    "uuid '12345678-1234-5678-1234-567812345678' AS id, 'é [b]x[/b]' AS txt, NULL AS nothing"
)


def render(con: duckdb.DuckDBPyConnection, sql: str, fmt: str, **kw: object) -> str:
    buf = io.StringIO()
    write(con, sql, dest="-", fmt=fmt, stdout=buf, stdout_is_tty=False, **kw)  # type: ignore[arg-type]
    return buf.getvalue()


def test_table_markdown_and_csv_agree_for_every_type(con: duckdb.DuckDBPyConnection) -> None:
    csv_rows = list(csv.reader(io.StringIO(render(con, MANY_TYPES, "csv"))))
    header, rows = parse_table(render(con, MANY_TYPES, "table"))
    md_header, md_rows = parse_markdown(render(con, MANY_TYPES, "markdown"))
    assert header == md_header == csv_rows[0]
    assert rows == md_rows == [[undefuse(c) for c in r] for r in csv_rows[1:]]
    cells = dict(zip(header, rows[0], strict=True))
    assert cells["ts_ns"] == "2025-01-01 10:00:00"
    assert cells["ts_tz"] == "2025-01-01 08:00:00"  # in the session time zone
    assert cells["f32"] == "0.1" and cells["b"] == "true" and cells["nothing"] == ""
    assert cells["txt"] == "é [b]x[/b]"  # shown as it is, not as markup


def test_cell_text_follows_the_csv() -> None:
    assert cell_text(None) == ""
    assert cell_text(True) == "true" and cell_text(False) == "false"
    assert cell_text(dt.datetime(2025, 1, 2, 3, 4, 5, 600)) == "2025-01-02 03:04:05"
    assert cell_text(dt.date(2025, 1, 2)) == "2025-01-02"
    assert cell_text(7.0) == "7.0" and cell_text(-5.25) == "-5.25"
    assert cell_text(Decimal("10.50")) == "10.50"
    assert cell_text("=x") == "=x"


def test_json_has_no_nan(con: duckdb.DuckDBPyConnection) -> None:
    for fmt in ("json", "ndjson"):
        text = render(con, "SELECT 'nan'::DOUBLE AS a, 'inf'::FLOAT AS b, 1.5 AS c", fmt)
        data = json.loads(text.splitlines()[0] if fmt == "ndjson" else text,
                          parse_constant=lambda c: pytest.fail(f"not JSON: {c}"))
        row = data if fmt == "ndjson" else data[0]
        assert row == {"a": None, "b": None, "c": 1.5}


def test_header_names_and_tabs_are_defused(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT '\tcmd' AS \"=name\", chr(13) || 'x' AS \"@h\", 'fine' AS ok"
    for fmt, delim in (("csv", ","), ("tsv", "\t")):
        rows = list(csv.reader(io.StringIO(render(con, sql, fmt)), delimiter=delim))
        assert rows[0] == ["'=name", "'@h", "ok"]
        assert rows[1] == ["'\tcmd", "'\rx", "fine"]


def test_enum_and_json_text_are_defused(con: duckdb.DuckDBPyConnection) -> None:
    con.execute("CREATE TYPE mood AS ENUM ('=cmd()', 'ok')")
    rows = list(csv.reader(io.StringIO(render(
        con, "SELECT '=cmd()'::mood AS m, '\"=x\"'::JSON AS j, '-1'::JSON AS n"
    , "csv"))))  # fmt: skip
    assert rows[1] == ["'=cmd()", '"=x"', "'-1"]


def test_duplicate_names_trailing_semicolon_and_comment(con: duckdb.DuckDBPyConnection) -> None:
    sql = "SELECT 'a' AS x, 'b' AS x, 1 AS y -- a trailing comment\n;"
    for fmt in ("csv", "table", "markdown"):
        text = render(con, sql, fmt)
        assert "b" in text.splitlines()[-1], (fmt, text)  # the second x is not the first
    rows = list(csv.reader(io.StringIO(render(con, sql, "csv"))))
    assert rows == [["x", "x_1", "y"], ["a", "b", "1"]]


def test_parquet_key_value_metadata(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    meta = {"clientela.as_of": "2025-02-01", "cuts": {"r": [1, 2.5]}, "quote": "it's \"é\""}
    dest = tmp_path / "m.parquet"
    res = write(con, "SELECT 1 AS a", dest=str(dest), options=WriteOptions(metadata=meta))
    assert res.rows == 1 and res.format == "parquet"
    kv = pq.read_metadata(dest).metadata
    assert kv[b"clientela.as_of"] == b"2025-02-01"
    assert json.loads(kv[b"cuts"]) == {"r": [1, 2.5]}
    assert kv[b"quote"].decode("utf-8") == "it's \"é\""


def test_xlsx_metadata_sheet(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    dest = tmp_path / "m.xlsx"
    write(con, "SELECT 1 AS a", dest=str(dest),
          options=WriteOptions(metadata={"as_of": "2025-02-01", "n": 5}))
    wb = openpyxl.load_workbook(dest)
    rows = [tuple(c.value for c in r) for r in wb["metadata"].iter_rows()]
    assert rows == [("key", "value"), ("as_of", "2025-02-01"), ("n", "5")]


def test_xlsx_row_limit_boundary(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(output, "XLSX_MAX_ROWS", 6)  # header + 5 rows
    ok = tmp_path / "ok.xlsx"
    assert write(con, "SELECT * FROM range(5)", dest=str(ok)).rows == 5
    assert openpyxl.load_workbook(ok)["data"].max_row == 6
    bad = tmp_path / "bad.xlsx"
    with pytest.raises(OutputError, match=r"6 rows do not fit.*at most 5.*\.csv"):
        write(con, "SELECT * FROM range(6)", dest=str(bad))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["ok.xlsx"]


def test_write_restores_engine_settings(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    con.execute("SET enable_progress_bar = true")
    before = con.execute(
        "SELECT current_setting('enable_progress_bar'), current_setting('async_threads')"
    ).fetchone()
    write(con, "SELECT 1 AS a", dest=str(tmp_path / "a.csv"))
    with pytest.raises(duckdb.Error):
        write(con, "SELECT error('boom') AS a", dest=str(tmp_path / "b.csv"))
    after = con.execute(
        "SELECT current_setting('enable_progress_bar'), current_setting('async_threads')"
    ).fetchone()
    assert after == before


def test_table_truncates_and_reports(con: duckdb.DuckDBPyConnection) -> None:
    buf = io.StringIO()
    res = write(con, "SELECT * FROM range(100) t(i)", fmt="table", stdout=buf,
                stdout_is_tty=False, options=WriteOptions(max_terminal_rows=3))
    assert (res.rows, res.truncated_to, res.path) == (100, 3, "-")
    assert parse_table(buf.getvalue())[1] == [["0"], ["1"], ["2"]]


def test_resolve_format() -> None:
    assert resolve_format(None, None, stdout_is_tty=True) == "table"
    assert resolve_format(None, None, stdout_is_tty=False) == "csv"
    assert resolve_format("-", None, stdout_is_tty=True) == "csv"
    assert resolve_format("a/b.PARQUET", None, stdout_is_tty=False) == "parquet"
    assert resolve_format("x.jsonl", None, stdout_is_tty=False) == "ndjson"
    assert resolve_format("x.csv", "md", stdout_is_tty=False) == "markdown"
    assert resolve_format("x.csv", "terminal", stdout_is_tty=False) == "table"
    with pytest.raises(UsageError, match="--format"):
        resolve_format("x.xyz", None, stdout_is_tty=False)
    with pytest.raises(UsageError, match="--format 'html'"):
        resolve_format("x.csv", "html", stdout_is_tty=False)
    for fmt in (None, "csv"):
        with pytest.raises(UsageError, match=r"drop the \.gz"):
            resolve_format("x.csv.gz", fmt, stdout_is_tty=False)


def test_check_not_input(tmp_path: Path) -> None:
    f = tmp_path / "in.csv"
    f.write_text("x\n")
    (tmp_path / "dir").mkdir()
    check_not_input(str(tmp_path / "other.csv"), [str(f)])
    check_not_input("-", [str(f)])
    with pytest.raises(OutputError, match="input file"):
        check_not_input(str(f), [str(f)])
    with pytest.raises(OutputError, match=r"input file \(matched by"):
        check_not_input(str(f), [str(tmp_path / "*.csv")])
    with pytest.raises(OutputError, match="inside the input directory"):
        check_not_input(str(tmp_path / "dir" / "out.csv"), [str(tmp_path / "dir")])
    os.link(f, tmp_path / "hard.csv")
    with pytest.raises(OutputError, match="input file"):
        check_not_input(str(tmp_path / "hard.csv"), [str(f)])


@pytest.mark.parametrize(
    ("fmt", "locale"),
    [("csv", "en"), ("csv", "pt-BR"), ("tsv", "en"), ("json", "en"), ("ndjson", "en"),
     ("parquet", "en"), ("xlsx", "en"), ("markdown", "en")],
)  # fmt: skip
def test_failed_write_leaves_nothing(
    con: duckdb.DuckDBPyConnection, tmp_path: Path, fmt: str, locale: str
) -> None:
    # fails late, after DuckDB has already written many rows to the temporary file
    sql = "SELECT CASE WHEN i = 150000 THEN error('boom') ELSE i END AS i FROM range(200000) t(i)"
    (tmp_path / "keep.txt").write_text("unrelated")
    new = tmp_path / f"new.{fmt}"
    with pytest.raises(duckdb.Error, match="boom"):
        write(con, sql, dest=str(new), fmt=fmt, options=WriteOptions(csv_locale=locale))
    existing = tmp_path / f"existing.{fmt}"
    existing.write_bytes(b"old content")
    with pytest.raises(duckdb.Error, match="boom"):
        write(con, sql, dest=str(existing), fmt=fmt, options=WriteOptions(csv_locale=locale))
    assert existing.read_bytes() == b"old content"
    assert sorted(p.name for p in tmp_path.iterdir()) == [f"existing.{fmt}", "keep.txt"]


def test_failed_write_to_stdout_writes_nothing(con: duckdb.DuckDBPyConnection) -> None:
    buf = io.StringIO()
    with pytest.raises(duckdb.Error, match="boom"):
        write(con, "SELECT error('boom') AS x FROM range(3)", dest="-", stdout=buf)
    assert buf.getvalue() == ""


def test_api_usage_errors(con: duckdb.DuckDBPyConnection, tmp_path: Path) -> None:
    with pytest.raises(UsageError, match="give a file with -o"):
        write(con, "SELECT 1", dest="-", fmt="xlsx", stdout=io.StringIO())
    with pytest.raises(UsageError, match="--format markdown"):
        write(con, "SELECT 1", dest=str(tmp_path / "t.txt"), fmt="table")
    with pytest.raises(UsageError, match="--csv-locale"):
        write(con, "SELECT 1", dest="-", options=WriteOptions(csv_locale="fr"))
    (tmp_path / "folder.csv").mkdir()
    with pytest.raises(OutputError, match="that is a folder"):
        write(con, "SELECT 1", dest=str(tmp_path / "folder.csv"))
    assert sorted(p.name for p in tmp_path.iterdir()) == ["folder.csv"]


# ---------------------------------------------------------------- CLI error paths


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    path = tmp_path / "orders.csv"
    path.write_text(ORDERS, encoding="utf-8")
    return path


def listing(folder: Path) -> list[str]:
    return sorted(p.name for p in folder.iterdir())


def test_cli_parquet_to_stdout_is_usage_error(orders_csv: Path) -> None:
    res = run_cli("sql", str(orders_csv), *FIXED, "--format", "parquet", "-o", "-")
    assert res.code == 2
    assert res.out == ""
    assert res.err == (
        "clientela: error: parquet cannot be written to the terminal or a pipe; give a file "
        "with -o\n"
    )


def test_cli_unknown_extension_names_format(orders_csv: Path, tmp_path: Path) -> None:
    res = run_cli("sql", str(orders_csv), *FIXED, "-o", str(tmp_path / "out.xyz"))
    assert res.code == 2
    assert res.out == ""
    assert "cannot tell the format from the extension '.xyz'" in res.err
    assert "use --format with one of csv, tsv, parquet" in res.err
    assert listing(tmp_path) == ["orders.csv"]


def test_cli_refuses_to_overwrite_an_input(orders_csv: Path, tmp_path: Path) -> None:
    before = orders_csv.read_bytes()
    for given in (str(orders_csv), str(tmp_path / "*.csv")):
        res = run_cli("sql", given, *FIXED, "-o", str(orders_csv))
        assert res.code == 2, res.err
        assert res.out == ""
        assert "that is an input file" in res.err and "choose another output path" in res.err
        assert orders_csv.read_bytes() == before
        assert listing(tmp_path) == ["orders.csv"]


def test_cli_missing_folder(orders_csv: Path, tmp_path: Path) -> None:
    dest = tmp_path / "missing" / "out.csv"
    res = run_cli("sql", str(orders_csv), *FIXED, "-o", str(dest))
    assert res.code == 2
    assert res.out == ""
    assert res.err == (
        f"clientela: error: -o {dest}: the folder {dest.parent} does not exist\n"
    )
    assert listing(tmp_path) == ["orders.csv"]


def test_cli_failed_write_keeps_existing_target(orders_csv: Path, tmp_path: Path) -> None:
    target = tmp_path / "report.csv"
    target.write_bytes(b"last week's report\n")
    query = "SELECT CASE WHEN i = 150000 THEN error('boom') ELSE i END AS i FROM range(200000) t(i)"
    res = run_cli("sql", str(orders_csv), *FIXED, "-q", query, "-o", str(target))
    assert res.code != 0
    assert res.out == ""
    assert "boom" in res.err and "Traceback" not in res.err
    assert target.read_bytes() == b"last week's report\n"
    assert listing(tmp_path) == ["orders.csv", "report.csv"]  # no .report.csv.*.tmp


def test_cli_xlsx_too_many_rows(
    orders_csv: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch,
    capsys: pytest.CaptureFixture[str],
) -> None:
    monkeypatch.setattr(output, "XLSX_MAX_ROWS", 5)  # a header and 4 rows; the input has 7
    monkeypatch.chdir(tmp_path)
    dest = tmp_path / "big.xlsx"
    with pytest.raises(SystemExit) as exit_info:
        cli_main(["sql", str(orders_csv), *FIXED, "-o", str(dest)])
    assert exit_info.value.code == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err == (
        "clientela: error: 7 rows do not fit in an xlsx sheet (at most 4); write CSV or "
        "Parquet instead (-o FILE.csv / FILE.parquet)\n"
    )
    assert listing(tmp_path) == ["orders.csv"]  # no big.xlsx, no .big.xlsx.*.tmp


def test_cli_quiet_when_the_reader_goes_away(tmp_path: Path) -> None:
    big = tmp_path / "big.csv"
    lines = [f"{i},c{i % 5000},2025-01-{1 + i % 28:02d} 10:00,{i % 97}.5" for i in range(200_000)]
    big.write_text("order_id,customer_id,order_ts,amount\n" + "\n".join(lines) + "\n")
    env = {**os.environ, "NO_COLOR": "1"}
    env.pop("CLIENTELA_DEBUG", None)
    cmd = f"'{sys.executable}' -m clientela sql '{big}'"
    for args in ("-o -", ""):  # explicit stdout, and the default when stdout is a pipe
        script = f"set +o pipefail; {cmd} {args} | head -1; echo \"status=${{PIPESTATUS[0]}}\" >&2"
        proc = subprocess.run(["bash", "-c", script], capture_output=True, env=env, timeout=120)
        out, err = proc.stdout.decode(), proc.stderr.decode()
        assert out == "customer_id,order_id,order_ts,order_date,amount,n_lines,is_purchase," \
            "is_refund,status\n"
        assert "Traceback" not in err and "Broken pipe" not in err and "BrokenPipe" not in err
        assert err == "status=0\n", err


@pytest.mark.parametrize("locale", ["en", "pt-BR"])
def test_a_large_csv_keeps_the_table_order_byte_for_byte(tmp_path: Path, locale: str) -> None:
    """A table spanning many vectors is written in its own order, the same bytes every run:
    the formula guard of text columns must not put a join under the COPY (DuckDB plans an
    IN list of six constants as one, and the rows then came out in another order per run)."""
    con = duckdb.connect()
    con.execute(
        "CREATE TEMP TABLE t AS SELECT lpad(CAST(i AS VARCHAR), 7, '0') AS id, "
        "CASE i % 5 WHEN 0 THEN '=x' WHEN 1 THEN '-1' ELSE 'ok' END AS label, "
        "i * 0.5 AS v FROM range(300000) AS r(i) ORDER BY id"
    )
    sums = set()
    for k in range(4):
        out = tmp_path / f"t{k}.csv"
        write(con, "SELECT * FROM t", dest=str(out), options=WriteOptions(csv_locale=locale))
        data = out.read_bytes()
        sums.add(hashlib.sha256(data).hexdigest())
    sep = ";" if locale == "pt-BR" else ","
    rows = data.decode("utf-8-sig").splitlines()[1:]
    ids = [r.split(sep, 1)[0] for r in rows]
    assert ids == sorted(ids) and len(ids) == 300000
    assert rows[0].split(sep)[1] == "'=x" and rows[1].split(sep)[1] == "'-1"
    assert len(sums) == 1
