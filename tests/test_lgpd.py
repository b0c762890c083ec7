"""clientela forget / subject-export: real files written, read back and compared."""

from __future__ import annotations

import csv
import datetime as dt
import decimal
import gzip
import hashlib
import io
import json
import os
import stat
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela import __version__
from clientela.lgpd import forget, subject_export
from clientela.pii import pseudonym
from tests.conftest import run_cli

KEY = "a-test-key-of-enough-length"

# A Brazilian export: Latin-1, ';', CRLF, decimal commas, quoted fields with ';', quotes and
# a line break inside.
BR_HEADER = "cliente;data_pedido;valor_total;email;cidade;obs"
BR_ROWS = [
    '0042;01/02/2025;1.234,56;ana@exemplo.com.br;São Paulo;"entrega; portão"',
    "042;02/02/2025;10,00;outro@x.com;Rio;",
    '0043;03/02/2025;5,50; ANA@Exemplo.com.br ;Belo Horizonte;"linha 1\r\nlinha 2"',
    '0044;04/02/2025;99,90;joão@x.com;Curitiba;"aspas ""duplas"""',
    "0042;05/02/2025;7,00;;Goiânia;",
    "0045;06/02/2025;1,00;bia@x.com;Maceió;ç",
]


def br_csv(rows: list[str], encoding: str = "latin-1") -> bytes:
    return ("\r\n".join([BR_HEADER, *rows]) + "\r\n").encode(encoding)


def sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def snapshot(root: Path) -> dict[Path, bytes]:
    return {p: p.read_bytes() for p in sorted(root.rglob("*")) if p.is_file()}


def receipt_of(out: Path) -> tuple[Path, dict[str, object]]:
    found = sorted(out.glob("forget-receipt-*.json"))
    assert len(found) == 1, found
    return found[0], json.loads(found[0].read_text(encoding="utf-8"))


def duck_rows(path: Path, delim: str, encoding: str = "utf-8") -> list[tuple[object, ...]]:
    con = duckdb.connect()
    return con.execute(
        "SELECT * FROM read_csv(?, delim=?, quote='\"', escape='\"', header=true, "
        "all_varchar=true, encoding=?)",
        [str(path), delim, encoding],
    ).fetchall()


# ------------------------------------------------------------------------------ CSV


def test_brazilian_latin1_csv_keeps_every_other_byte(tmp_path: Path) -> None:
    src = tmp_path / "pedidos.csv"
    src.write_bytes(br_csv(BR_ROWS))
    before = sha(src)
    out = tmp_path / "clean"
    res = run_cli("forget", str(src), "--customer", "0042", "--customer",
                  " ana@EXEMPLO.com.br", "--out-dir", str(out))  # fmt: skip
    assert res.code == 0, res.err
    assert res.out == ""
    kept = [BR_ROWS[1], BR_ROWS[3], BR_ROWS[5]]  # 042 is not 0042; row 3 matched by e-mail
    assert (out / "pedidos.csv").read_bytes() == br_csv(kept)
    assert sha(src) == before
    # read back by DuckDB: exactly the input's rows without the removed ones
    all_rows = duck_rows(src, ";", "latin-1")
    assert duck_rows(out / "pedidos.csv", ";", "latin-1") == [all_rows[i] for i in (1, 3, 5)]
    assert "pedidos.csv: removed 3 of 6 rows, matching on 'cliente' and 'email'" in res.err
    assert "0042" not in res.err and "ana@" not in res.err  # ids are not echoed
    path, receipt = receipt_of(out)
    text = path.read_text(encoding="utf-8")
    assert "0042" not in text and "exemplo" not in text  # ids only hashed
    files = receipt["files"]
    assert isinstance(files, list)
    assert files[0]["rows"] == 6 and files[0]["rows_removed"] == 3
    assert files[0]["input_sha256"] == before
    assert files[0]["output_sha256"] == sha(out / "pedidos.csv")
    assert receipt["clientela_version"] == __version__ and receipt["unmatched"] == []
    created = dt.datetime.fromisoformat(str(receipt["created_at"]).replace("Z", "+00:00"))
    assert abs((dt.datetime.now(dt.timezone.utc) - created).total_seconds()) < 120
    ids = receipt["ids"]
    assert isinstance(ids, dict) and ids["count"] == 2
    salt = bytes.fromhex(ids["hashing"]["salt"])
    expected = hashlib.sha256(salt + b"ana@exemplo.com.br").hexdigest()
    assert ids["subjects"][1] == {"id_hash": expected, "given_as": "--customer #2",
                                  "rows_removed": 2}  # fmt: skip


def test_bom_utf8_csv_and_leading_zeros(tmp_path: Path) -> None:
    src = tmp_path / "bom.csv"
    body = "customer_id,order_date,amount\n007,2025-01-01,1.5\n7,2025-01-02,2\n0007,2025-01-03,3\n"
    src.write_bytes(b"\xef\xbb\xbf" + body.encode())
    res = run_cli("forget", str(src), "--customer", "7", "--out-dir", str(tmp_path / "o"))
    assert res.code == 0, res.err
    expected = "customer_id,order_date,amount\n007,2025-01-01,1.5\n0007,2025-01-03,3\n"
    assert (tmp_path / "o" / "bom.csv").read_bytes() == b"\xef\xbb\xbf" + expected.encode()


def test_gzip_csv_stays_gzip(tmp_path: Path) -> None:
    src = tmp_path / "orders.csv.gz"
    body = "customer_id;order_date;amount\nA;2025-01-01;1,5\nB;2025-01-02;2,5\n"
    src.write_bytes(gzip.compress(body.encode(), mtime=0))
    res = run_cli("forget", str(src), "--customer", "A", "--out-dir", str(tmp_path / "o"))
    assert res.code == 0, res.err
    out = (tmp_path / "o" / "orders.csv.gz").read_bytes()
    assert out[:2] == b"\x1f\x8b"
    assert gzip.decompress(out) == b"customer_id;order_date;amount\nB;2025-01-02;2,5\n"


def test_utf16_csv(tmp_path: Path) -> None:
    src = tmp_path / "u16.csv"
    text = "customer_id\tcity\r\nA\tSão Paulo\r\nB\tRio\r\n"
    src.write_bytes(text.encode("utf-16"))
    lib = forget([str(src)], "B", out_dir=str(tmp_path / "o"))
    assert lib.rows_removed == 1
    expected = "customer_id\tcity\r\nA\tSão Paulo\r\n".encode("utf-16")
    assert (tmp_path / "o" / "u16.csv").read_bytes() == expected


_cell = st.text(st.characters(blacklist_categories=("Cs",), blacklist_characters="\x00\r"),
                max_size=8)  # fmt: skip


@settings(
    max_examples=25, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(
    rows=st.lists(st.tuples(st.sampled_from(["a", "b", "c", "0a", "x y"]), _cell, _cell),
                  min_size=1, max_size=15),
    gone=st.sets(st.sampled_from(["a", "b", "c"]), min_size=1),
    delim=st.sampled_from([",", ";", "\t", "|"]),
    quoting=st.sampled_from([csv.QUOTE_MINIMAL, csv.QUOTE_ALL]),
    eol=st.sampled_from(["\n", "\r\n"]),
)  # fmt: skip
def test_kept_records_are_byte_identical(
    tmp_path: Path, rows: list[tuple[str, str, str]], gone: set[str], delim: str,
    quoting: int, eol: str,
) -> None:  # fmt: skip
    def dump(records: list[tuple[str, str, str]]) -> bytes:
        buf = io.StringIO()
        w = csv.writer(buf, delimiter=delim, quoting=quoting, lineterminator=eol)
        w.writerow(["customer_id", "note", "other"])
        w.writerows(records)
        return buf.getvalue().encode()

    src = tmp_path / "prop.csv"
    src.write_bytes(dump(rows))
    out = tmp_path / "prop-out"
    forget([str(src)], sorted(gone), out_dir=str(out), delimiter=delim)
    assert (out / "prop.csv").read_bytes() == dump([r for r in rows if r[0] not in gone])


# ---------------------------------------------------------------- NDJSON and Parquet


def test_ndjson_lines_preserved(tmp_path: Path) -> None:
    src = tmp_path / "events.ndjson"
    lines = [
        '{"customer_id": "0042", "email": "x@y.com", "v": 1}',
        '{"customer_id":42,   "email": "Ana@X.com"}',
        "",
        '{"customer_id": 43, "email": null, "v": "2,5"}',
        '{"customer_id": "9", "email": "\\u0041NA@x.com "}',
    ]
    src.write_text("\n".join(lines) + "\n", encoding="utf-8")
    res = run_cli("forget", str(src), "--customer", "0042", "--customer", "ana@x.com",
                  "--out-dir", str(tmp_path / "o"))  # fmt: skip
    assert res.code == 0, res.err
    # lines 1 (0042), 2 and 5 (e-mail, case and spaces ignored) removed; the blank line kept
    out = tmp_path / "o" / "events.ndjson"
    assert out.read_text(encoding="utf-8") == "\n" + lines[3] + "\n"
    assert "events.ndjson: removed 3 of 4 rows, matching on 'customer_id' and 'email'" in res.err


def _parquet_table() -> pa.Table:
    table = pa.table(
        {
            "customer_id": pa.array(["0042", "7", "0042", None, "8"]),
            "n": pa.array([1, 2, 3, 4, 5], pa.int64()),
            "amount": pa.array([decimal.Decimal("1.50"), None, decimal.Decimal("2.25"),
                                decimal.Decimal("0"), decimal.Decimal("9.99")],
                               pa.decimal128(10, 2)),
            "ts": pa.array([dt.datetime(2025, 1, i, 12, tzinfo=dt.timezone.utc)
                            for i in range(1, 6)], pa.timestamp("us", tz="UTC")),
            "day": pa.array([dt.date(2025, 1, i) for i in range(1, 6)]),
            "tags": pa.array([["a"], [], None, ["b", "c"], ["d"]]),
            "email": pa.array(["z@z.com", "ANA@X.COM ", None, "q@q.com", "r@r.com"]),
        }
    )  # fmt: skip
    return table.replace_schema_metadata({"origin": "shop export"})


def test_parquet_value_for_value_schema_and_codec(tmp_path: Path) -> None:
    src = tmp_path / "orders.parquet"
    table = _parquet_table()
    pq.write_table(table, src, compression="zstd")
    res = run_cli("forget", str(src), "--customer", "0042", "--customer", "ana@x.com",
                  "--out-dir", str(tmp_path / "o"))  # fmt: skip
    assert res.code == 0, res.err
    out = tmp_path / "o" / "orders.parquet"
    got, orig = pq.read_table(out), pq.read_table(src)
    assert got.schema.equals(orig.schema, check_metadata=True)
    assert got.equals(orig.take([3, 4]))
    assert orig.take([3, 4]).to_pylist() == table.take([3, 4]).to_pylist()
    assert pq.ParquetFile(out).metadata.row_group(0).column(0).compression == "ZSTD"


# ------------------------------------------------------------ several files, in place


def _exports(root: Path) -> Path:
    d = root / "exports"
    (d / "sub").mkdir(parents=True)
    (d / "orders.csv").write_bytes(br_csv(BR_ROWS))
    (d / "crm.csv").write_text(
        "customer_id,nome,telefone,email\n0042,Ana Souza,(11) 98888-7777,ana@exemplo.com.br\n"
        "0044,João,(21) 3456-7890,joao@x.com\n",
        encoding="utf-8",
    )
    (d / "sub" / "events.ndjson").write_text('{"customer_id": "0044"}\n', encoding="utf-8")
    return d


def test_directory_input_id_in_two_files_and_second_run_harmless(tmp_path: Path) -> None:
    d = _exports(tmp_path)
    before = snapshot(d)
    out = tmp_path / "clean"
    res = run_cli("forget", str(d), "--customer", "0042", "--out-dir", str(out))
    assert res.code == 0, res.err
    assert snapshot(d) == before
    assert sorted(
        str(p.relative_to(out)) for p in out.rglob("*") if p.is_file() and "receipt" not in p.name
    ) == ["crm.csv", "orders.csv", "sub/events.ndjson"]
    assert (out / "crm.csv").read_text() == (
        "customer_id,nome,telefone,email\n0044,João,(21) 3456-7890,joao@x.com\n"
    )
    assert (out / "orders.csv").read_bytes() == br_csv(BR_ROWS[1:4] + BR_ROWS[5:])
    assert (out / "sub" / "events.ndjson").read_bytes() == before[d / "sub" / "events.ndjson"]
    _, receipt = receipt_of(out)
    removed = {f["input"]: f["rows_removed"] for f in receipt["files"]}  # type: ignore[attr-defined]
    assert removed == {str(d / "crm.csv"): 1, str(d / "orders.csv"): 2,
                       str(d / "sub" / "events.ndjson"): 0}  # fmt: skip
    assert receipt["ids"]["subjects"][0]["rows_removed"] == 3  # type: ignore[index]
    # forgetting again, in place, on the cleaned copies: nothing to do, nothing touched
    stats = {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()}
    again = run_cli("forget", str(out), "--customer", "0042", "--in-place", "--receipt",
                    str(tmp_path / "again.json"))  # fmt: skip
    assert again.code == 0, again.err
    assert "warning: 1 of 1 ids matched no row: --customer #1" in again.err
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*") if p.is_file()} == stats
    assert json.loads((tmp_path / "again.json").read_text())["rows_removed"] == 0


def test_in_place_rewrites_only_changed_files_atomically(tmp_path: Path) -> None:
    d = _exports(tmp_path)
    os.chmod(d / "orders.csv", 0o640)
    untouched = d / "sub" / "events.ndjson"
    ino, mtime = untouched.stat().st_ino, untouched.stat().st_mtime_ns
    old_sha = sha(d / "orders.csv")
    ids = tmp_path / "ids.txt"
    ids.write_text("0042\n\nana@exemplo.com.br\nnobody\n", encoding="utf-8")
    res = run_cli("forget", str(d / "orders.csv"), str(untouched), "--from-file", str(ids),
                  "--in-place", "--receipt", str(tmp_path / "r.json"))  # fmt: skip
    assert res.code == 0, res.err
    assert (d / "orders.csv").read_bytes() == br_csv([BR_ROWS[1], BR_ROWS[3], BR_ROWS[5]])
    assert stat.S_IMODE((d / "orders.csv").stat().st_mode) == 0o640
    assert (untouched.stat().st_ino, untouched.stat().st_mtime_ns) == (ino, mtime)
    assert sorted(p.name for p in d.iterdir()) == ["crm.csv", "orders.csv", "sub"]  # no temp
    receipt = json.loads((tmp_path / "r.json").read_text())
    assert receipt["mode"] == "in_place" and receipt["unmatched"] == [f"{ids}:4"]
    f0, f1 = receipt["files"]
    assert (f0["input_sha256"], f0["output_sha256"]) == (old_sha, sha(d / "orders.csv"))
    assert f1["output"] is None and f1["rows_removed"] == 0
    assert f"warning: 1 of 3 ids matched no row: {ids}:4" in res.err


def test_receipt_uses_the_pseudonym_key_when_configured(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("customer_id,x\nAna@X.com,1\nb,2\n", encoding="utf-8")
    res = run_cli("forget", str(src), "--customer", "ana@x.com", "--out-dir",
                  str(tmp_path / "o"), env={"CLIENTELA_PSEUDONYM_KEY": KEY})  # fmt: skip
    assert res.code == 0, res.err
    path, receipt = receipt_of(tmp_path / "o")
    assert KEY not in path.read_text()
    ids = receipt["ids"]
    assert ids["hashing"]["method"] == "hmac-sha256"  # type: ignore[index]
    assert ids["subjects"][0]["id_hash"] == pseudonym(KEY.encode(), "ana@x.com")  # type: ignore[index]


def test_strict_fails_before_writing_anything(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("customer_id,x\na,1\nb,2\n", encoding="utf-8")
    out = tmp_path / "out"
    res = run_cli("forget", str(src), "--customer", "a", "--customer", "zz", "--strict",
                  "--out-dir", str(out))  # fmt: skip
    assert res.code == 1
    assert res.err.strip() == (
        "clientela: error: 1 of 2 ids match no row in the inputs (--customer #2); nothing was "
        "written (--strict)"
    )
    assert not out.exists()


def test_python_api(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("cliente,e_mail\n1,a@x.com\n2,b@x.com\n", encoding="utf-8")
    result = forget(str(src), ["2"], out_dir=str(tmp_path / "o"), email_col="e_mail")
    assert (result.ids, result.rows_removed, result.unmatched) == (1, 1, [])
    assert result.files[0].customer_column == "cliente"
    assert result.files[0].email_columns == ["e_mail"]
    assert Path(result.receipt_path).is_file() and result.receipt["rows_removed"] == 1


# ------------------------------------------------------------------- subject export


def test_subject_export(tmp_path: Path) -> None:
    d = _exports(tmp_path)
    pq.write_table(_parquet_table(), d / "sub" / "p.parquet")
    before = snapshot(d)
    out = tmp_path / "ana.json"
    res = run_cli("subject-export", str(d), "--customer", "0042", "--customer",
                  "ANA@exemplo.com.br", "-o", str(out))  # fmt: skip
    assert res.code == 0, res.err
    assert res.out == ""
    assert snapshot(d) == before
    assert stat.S_IMODE(out.stat().st_mode) == 0o600
    doc = json.loads(out.read_text(encoding="utf-8"))
    files = {Path(f["file"]).name: f for f in doc["files"]}
    orders = files["orders.csv"]
    assert orders["columns"] == BR_HEADER.split(";")
    assert orders["line_numbers"] == [2, 4, 7]
    assert orders["rows"][0] == {"cliente": "0042", "data_pedido": "01/02/2025",
                                 "valor_total": "1.234,56", "email": "ana@exemplo.com.br",
                                 "cidade": "São Paulo", "obs": "entrega; portão"}  # fmt: skip
    assert orders["rows"][1]["obs"] == "linha 1\r\nlinha 2"
    assert files["crm.csv"]["rows"] == [{"customer_id": "0042", "nome": "Ana Souza",
                                         "telefone": "(11) 98888-7777",
                                         "email": "ana@exemplo.com.br"}]  # fmt: skip
    assert files["events.ndjson"]["rows"] == []
    p = files["p.parquet"]
    assert p["row_numbers"] == [1, 3]
    assert p["rows"][0]["amount"] == "1.50" and p["rows"][0]["day"] == "2025-01-01"
    assert doc["row_count"] == 6 and doc["subject_ids"] == ["0042", "ANA@exemplo.com.br"]
    assert "wrote 6 rows from 4 files" in res.err


def test_subject_export_without_match_writes_an_empty_answer(tmp_path: Path) -> None:
    src = tmp_path / "o.csv"
    src.write_text("customer_id,x\na,1\n", encoding="utf-8")
    lib = subject_export([str(src)], "nobody", output=str(tmp_path / "s.json"))
    assert lib.rows == 0 and lib.unmatched == ["--customer #1"]
    assert json.loads((tmp_path / "s.json").read_text())["files"][0]["rows"] == []


# ---------------------------------------------------------------------- bad input


def _ok_csv(tmp: Path) -> Path:
    p = tmp / "ok.csv"
    p.write_text("customer_id,amount\na,1\nb,2\n", encoding="utf-8")
    return p


def _case(name: str, args: list[str], code: int, needles: tuple[str, ...],
          files: dict[str, bytes] | None = None,
          env: dict[str, str] | None = None) -> tuple[str, list[str], int, tuple[str, ...],
                                                     dict[str, bytes], dict[str, str]]:  # fmt: skip
    return (name, args, code, needles, files or {}, env or {})


OK = b"customer_id,amount\na,1\nb,2\n"
BAD_CASES = [
    _case(
        "missing input",
        ["forget", "{tmp}/nope.csv", "--customer", "a", "--out-dir", "{out}"],
        2,
        ("nope.csv", "no such file"),
    ),
    _case(
        "no out-dir",
        ["forget", "{tmp}/ok.csv", "--customer", "a"],
        2,
        ("--out-dir",),
        {"ok.csv": OK},
    ),
    _case(
        "out-dir and in-place",
        ["forget", "{tmp}/ok.csv", "--customer", "a", "--in-place", "--out-dir", "{out}"],
        2,
        ("--in-place", "--out-dir"),
        {"ok.csv": OK},
    ),
    _case(
        "in-place without receipt",
        ["forget", "{tmp}/ok.csv", "--customer", "a", "--in-place"],
        2,
        ("--receipt",),
        {"ok.csv": OK},
    ),
    _case(
        "no customer",
        ["forget", "{tmp}/ok.csv", "--out-dir", "{out}"],
        2,
        ("--customer",),
        {"ok.csv": OK},
    ),
    _case(
        "empty customer",
        ["forget", "{tmp}/ok.csv", "--customer", " ", "--out-dir", "{out}"],
        2,
        ("--customer #1", "empty"),
        {"ok.csv": OK},
    ),
    _case(
        "missing id file",
        ["forget", "{tmp}/ok.csv", "--from-file", "{tmp}/ids.txt", "--out-dir", "{out}"],
        2,
        ("--from-file", "ids.txt"),
        {"ok.csv": OK},
    ),
    _case(
        "unknown customer column",
        [
            "forget",
            "{tmp}/ok.csv",
            "--customer",
            "a",
            "--customer-col",
            "client_code",
            "--out-dir",
            "{out}",
        ],
        2,
        ("--customer-col", "client_code", "customer_id"),
        {"ok.csv": OK},
    ),
    _case(
        "no id column",
        ["forget", "{tmp}/x.csv", "--customer", "a", "--out-dir", "{out}"],
        1,
        ("x.csv", "--customer-col", "'amount'"),
        {"x.csv": b"amount,city\n1,Rio\n"},
    ),
    _case(
        "ambiguous id column",
        ["forget", "{tmp}/x.csv", "--customer", "a", "--out-dir", "{out}"],
        2,
        ("x.csv", "--customer-col", "'cliente'"),
        {"x.csv": b"cliente,comprador\n1,2\n"},
    ),
    _case(
        "out-dir onto the input",
        ["forget", "{tmp}/ok.csv", "--customer", "a", "--out-dir", "{tmp}"],
        2,
        ("--out-dir", "overwrite", "ok.csv"),
        {"ok.csv": OK},
    ),
    _case(
        "out-dir inside input dir",
        ["forget", "{tmp}", "--customer", "a", "--out-dir", "{tmp}/clean"],
        2,
        ("--out-dir", "inside the input"),
        {"ok.csv": OK},
    ),
    _case(
        "stdin", ["forget", "-", "--customer", "a", "--out-dir", "{out}"], 2, ("stdin", "forget")
    ),
    _case(
        "garbage parquet",
        ["forget", "{tmp}/g.parquet", "--customer", "a", "--out-dir", "{out}"],
        1,
        ("g.parquet", "not a Parquet file"),
        {"g.parquet": b"not parquet\n" * 20},
    ),
    _case(
        "bad ndjson line",
        ["forget", "{tmp}/e.ndjson", "--customer", "a", "--out-dir", "{out}"],
        1,
        ("e.ndjson", "line 2", "JSON"),
        {"e.ndjson": b'{"customer_id": "b"}\n{"customer_id": \n'},
    ),
    _case(
        "ragged row naming the customer",
        ["forget", "{tmp}/r.csv", "--customer", "a", "--out-dir", "{out}"],
        1,
        ("r.csv", "line 3", "quoting"),
        {"r.csv": b"customer_id,x\nb,1\na,2,extra\n"},
    ),
    _case(
        "invalid utf-8",
        ["forget", "{tmp}/l.csv", "--customer", "a", "--encoding", "utf-8", "--out-dir", "{out}"],
        1,
        ("l.csv", "--encoding"),
        {"l.csv": "customer_id,city\na,São\n".encode("latin-1")},
    ),
    _case(
        "strict",
        ["forget", "{tmp}/ok.csv", "--customer", "zz", "--strict", "--out-dir", "{out}"],
        1,
        ("--customer #1", "--strict"),
        {"ok.csv": OK},
    ),
    _case(
        "short key",
        ["forget", "{tmp}/ok.csv", "--customer", "a", "--out-dir", "{out}"],
        2,
        ("CLIENTELA_PSEUDONYM_KEY", "at least 16"),
        {"ok.csv": OK},
        {"CLIENTELA_PSEUDONYM_KEY": "tiny-secret"},
    ),
    _case(
        "export to stdout",
        ["subject-export", "{tmp}/ok.csv", "--customer", "a", "-o", "-"],
        2,
        ("-o -", "stdout"),
        {"ok.csv": OK},
    ),
    _case(
        "export without -o",
        ["subject-export", "{tmp}/ok.csv", "--customer", "a"],
        2,
        ("-o",),
        {"ok.csv": OK},
    ),
    _case(
        "export not json",
        ["subject-export", "{tmp}/ok.csv", "--customer", "a", "-o", "{out}/a.csv"],
        2,
        ("-o", "JSON"),
        {"ok.csv": OK},
    ),
    _case(
        "export onto the input",
        ["subject-export", "{tmp}/ok.json", "--customer", "a", "-o", "{tmp}/ok.json"],
        2,
        ("ok.json", "input"),
        {"ok.json": b'{"customer_id": "a"}\n'},
    ),
    _case(
        "export without customer",
        ["subject-export", "{tmp}/ok.csv", "-o", "{out}/a.json"],
        2,
        ("--customer",),
        {"ok.csv": OK},
    ),
]


@pytest.mark.parametrize(("name", "args", "code", "needles", "files", "env"), BAD_CASES,
                         ids=[c[0] for c in BAD_CASES])  # fmt: skip
def test_bad_input(tmp_path: Path, name: str, args: list[str], code: int,
                   needles: tuple[str, ...], files: dict[str, bytes],
                   env: dict[str, str]) -> None:  # fmt: skip
    data = tmp_path / "data"
    data.mkdir()
    out = tmp_path / "out"
    out.mkdir()
    for fname, content in files.items():
        (data / fname).write_bytes(content)
    before = {p: sha(p) for p in data.rglob("*") if p.is_file()}
    argv = [a.replace("{tmp}", str(data)).replace("{out}", str(out)) for a in args]
    res = run_cli(*argv, env=env, stdin="customer_id\na\n")
    assert res.code == code, res.err
    assert res.out == ""
    lines = res.err.strip().splitlines()
    assert len(lines) == 1, res.err  # one line, no traceback
    assert lines[0].startswith("clientela: error: ")
    for needle in needles:
        assert needle in lines[0], (needle, lines[0])
    assert list(out.iterdir()) == []  # no output, no receipt, not even a temporary file
    assert {p: sha(p) for p in data.rglob("*") if p.is_file()} == before  # inputs untouched
    assert "tiny-secret" not in res.err
