"""The bad-input corpus: each case gives one clear line, the documented exit code,
no traceback and no output file."""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import pytest

from tests.conftest import Result, run_cli, write

GOOD = "customer_id,order_date,amount\na,2025-01-01,1\nb,2025-01-02,2\n"


def _missing(tmp: Path) -> list[str]:
    return [str(tmp / "nope.csv")]


def _empty(tmp: Path) -> list[str]:
    return [str(write(tmp / "empty.csv", ""))]


def _header_only(tmp: Path) -> list[str]:
    return [str(write(tmp / "header.csv", "customer_id,order_date,amount\n"))]


def _missing_column(tmp: Path) -> list[str]:
    return [str(write(tmp / "nocust.csv", "order_date,amount\n2025-01-01,1\n"))]


def _bad_dates(tmp: Path) -> list[str]:
    return [str(write(tmp / "dates.csv", "customer_id,order_date,amount\na,2025-01-01,1\n"
                      "b,not a date,2\n"))]


def _garbage_csv(tmp: Path) -> list[str]:
    p = tmp / "garbage.csv"
    p.write_bytes(bytes(range(256)) * 64)
    return [str(p)]


def _garbage_parquet(tmp: Path) -> list[str]:
    p = tmp / "garbage.parquet"
    p.write_bytes(b"this is not parquet at all\n" * 50)
    return [str(p)]


def _corrupt_parquet(tmp: Path) -> list[str]:
    p = tmp / "corrupt.parquet"
    p.write_bytes(b"PAR1" + os.urandom(512) + b"PAR1")
    return [str(p)]


def _empty_dir(tmp: Path) -> list[str]:
    d = tmp / "nothing"
    d.mkdir()
    write(d / "readme.md", "no data here")
    return [str(d)]


def _wrong_delimiter(tmp: Path) -> list[str]:
    f = write(tmp / "semi.csv", "cliente;data_pedido;valor_total\na;01/02/2025;1,5\n"
              "b;15/02/2025;2,5\n")
    return [str(f), "--delimiter", ","]


def _invalid_utf8(tmp: Path) -> list[str]:
    f = write(tmp / "latin.csv", "cliente;data_pedido;valor_total;cidade\n"
              "a;15/02/2025;1,5;São Paulo\n", "latin-1")
    return [str(f), "--encoding", "utf-8"]


def _nul_bytes(tmp: Path) -> list[str]:
    p = tmp / "nul.csv"
    p.write_bytes(b"customer_id,order_date,amount\na,2025-01-01,1\x00\x00\nb,2025-01-02,2\n")
    return [str(p)]


def _ambiguous_dates(tmp: Path) -> list[str]:
    return [str(write(tmp / "amb.csv", "customer,date,amount\na,01/02/2025,1\n"
                      "b,03/04/2025,2\n"))]


def _bad_amounts(tmp: Path) -> list[str]:
    return [str(write(tmp / "amounts.csv", "customer_id,order_date,amount\n"
                      "a,2025-01-01,1\nb,2025-01-02,twelve\n"))]


def _ragged_rows(tmp: Path) -> list[str]:
    return [str(write(tmp / "ragged.csv", "customer_id,order_date,amount\na,2025-01-01,1\n"
                      "b,2025-01-02,2,extra,fields\n"))]


def _unknown_preset(tmp: Path) -> list[str]:
    return [str(write(tmp / "ok.csv", GOOD)), "--preset", "magento"]


def _unknown_column_flag(tmp: Path) -> list[str]:
    return [str(write(tmp / "ok.csv", GOOD)), "--customer-col", "client_code"]


Case = tuple[str, Callable[[Path], list[str]], int, tuple[str, ...]]

CASES: list[Case] = [
    ("missing file", _missing, 2, ("nope.csv", "no such file")),
    ("empty file", _empty, 1, ("empty.csv", "empty")),
    ("header only", _header_only, 1, ("header.csv", "no data rows")),
    ("missing column", _missing_column, 1, ("nocust.csv", "customer id", "--customer-col")),
    ("unparseable dates", _bad_dates, 1, ("dates.csv", "line 3", "'not a date'",
                                          "--bad-rows skip", "--date-format")),
    ("garbage .csv", _garbage_csv, 1, ("garbage.csv", "NUL", "not a CSV")),
    ("garbage .parquet", _garbage_parquet, 1, ("garbage.parquet", "not a Parquet file")),
    ("corrupt .parquet", _corrupt_parquet, 1, ("corrupt.parquet", "cannot be read as parquet")),
    ("directory without data", _empty_dir, 1, ("nothing", "no data files")),
    ("wrong delimiter", _wrong_delimiter, 1, ("semi.csv", "--delimiter ';'")),
    ("invalid UTF-8", _invalid_utf8, 1, ("latin.csv", "--encoding")),
    ("NUL bytes", _nul_bytes, 1, ("nul.csv", "NUL bytes")),
    ("ambiguous day/month", _ambiguous_dates, 1, ("amb.csv", "--date-format", "day first")),
    ("unparseable amounts", _bad_amounts, 1, ("amounts.csv", "line 3", "'twelve'",
                                              "--bad-rows skip")),
    ("ragged rows", _ragged_rows, 1, ("ragged.csv", "--delimiter")),
    ("unknown preset", _unknown_preset, 2, ("magento", "--preset", "shopify")),
    ("unknown column flag", _unknown_column_flag, 2, ("--customer-col", "client_code",
                                                      "customer_id")),
]


@pytest.mark.parametrize(("name", "make", "code", "needles"), CASES, ids=[c[0] for c in CASES])
def test_bad_input(tmp_path: Path, name: str, make: Callable[[Path], list[str]], code: int,
                   needles: tuple[str, ...]) -> None:
    args = make(tmp_path)
    out = tmp_path / "out" / "result.csv"
    out.parent.mkdir()
    before = {p: p.read_bytes() for p in tmp_path.rglob("*") if p.is_file()}
    res: Result = run_cli("sql", *args, "-o", str(out))
    assert res.code == code, res.err
    assert res.out == ""
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err  # one line, no traceback
    assert lines[0].startswith("clientela: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert list(out.parent.iterdir()) == []  # no output, not even a temporary file
    after = {p: p.read_bytes() for p in before}
    assert after == before  # inputs untouched


def test_debug_shows_traceback(tmp_path: Path) -> None:
    f = write(tmp_path / "header.csv", "customer_id,order_date,amount\n")
    res = run_cli("sql", str(f), "--debug")
    assert res.code == 1
    assert "Traceback" in res.err and res.err.strip().endswith("no data rows")


def test_hundred_thousand_character_field_loads(tmp_path: Path) -> None:
    long = "x" * 100_000
    f = write(tmp_path / "long.csv", f"customer_id,order_date,amount,note\na,2025-01-01,1,"
              f"\"{long}\"\nb,2025-01-02,2,short\n")
    res = run_cli("sql", str(f), "-q", "SELECT customer_id, length(note) AS n FROM orders "
                  "ORDER BY 1", "-o", "-")
    assert res.code == 0, res.err
    assert res.out == "customer_id,n\na,100000\nb,5\n"


def test_invalid_utf8_past_the_sniffed_head(tmp_path: Path) -> None:
    """A file that is UTF-8 at the top and has a Latin-1 byte deep inside."""
    head = "customer_id,order_date,amount,city\n" + "".join(
        f"a,2025-01-01,{i},Rio\n" for i in range(30_000))
    p = tmp_path / "late.csv"
    p.write_bytes(head.encode() + "b,2025-01-02,2,São Paulo\n".encode("latin-1"))
    res = run_cli("sql", str(p), "-o", str(tmp_path / "o.csv"))
    assert res.code == 1
    assert "late.csv" in res.err and "--encoding" in res.err
    assert len(res.err.strip().splitlines()) == 1
    assert not (tmp_path / "o.csv").exists()
    ok = run_cli("sql", str(p), "--encoding", "latin-1", "-q",
                 "SELECT count(*) AS n FROM orders", "-o", "-")
    assert ok.code == 0, ok.err
    assert ok.out == "n\n30001\n"


def test_formula_looking_input_cells_are_defused(tmp_path: Path) -> None:
    f = write(tmp_path / "f.csv", "customer_id,order_date,amount,note\n"
              "=HYPERLINK(\"http://x\"),2025-01-01,1,+SUM(A1)\n@me,2025-01-02,2,-2+3\n")
    res = run_cli("sql", str(f), "-q", "SELECT customer_id, note FROM orders ORDER BY amount",
                  "-o", "-")
    assert res.code == 0, res.err
    import csv
    import io

    rows = list(csv.reader(io.StringIO(res.out)))
    assert rows == [["customer_id", "note"], ["'=HYPERLINK(\"http://x\")", "'+SUM(A1)"],
                    ["'@me", "'-2+3"]]


def test_gzip_without_suffix_and_damaged_gzip(tmp_path: Path) -> None:
    import gzip

    plain = tmp_path / "export.csv"  # compressed although the name does not say so
    plain.write_bytes(gzip.compress(GOOD.encode()))
    res = run_cli("sql", str(plain), "-q", "SELECT count(*) AS n FROM orders", "-o", "-")
    assert (res.code, res.out) == (0, "n\n2\n"), res.err
    bad = tmp_path / "bad.csv.gz"
    bad.write_bytes(b"\x1f\x8b\x08\x00" + b"garbage" * 20)
    res = run_cli("sql", str(bad), "-o", str(tmp_path / "o.csv"))
    assert res.code == 1 and "bad.csv.gz" in res.err and "damaged" in res.err
    assert len(res.err.strip().splitlines()) == 1 and not (tmp_path / "o.csv").exists()


def test_huge_amounts_do_not_crash(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-01-01,1000000000000\n")
    res = run_cli("rfm", str(f), "-o", "-")
    assert res.code == 0, res.err
    assert ",1000000000000.0," in res.out
