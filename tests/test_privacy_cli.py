"""The shared LGPD options: --pseudonymize, --allow-pii, and inspect's personal columns."""

from __future__ import annotations

import csv
import json
import re
from pathlib import Path

import pyarrow.parquet as pq

from clientela.pii import pseudonym
from tests.conftest import SAMPLE, run_cli, write

ORDERS = str(SAMPLE / "orders.csv")
KEY = "a-test-key-of-at-least-16-bytes"


def test_pseudonymize_needs_a_key_and_writes_nothing_without_it(tmp_path: Path) -> None:
    out = tmp_path / "rfm.csv"
    no_key = {"CLIENTELA_PSEUDONYM_KEY": "", "CLIENTELA_PSEUDONYM_KEY_FILE": ""}
    res = run_cli("rfm", ORDERS, "--pseudonymize", "-o", str(out), env=no_key)
    assert res.code == 2 and "CLIENTELA_PSEUDONYM_KEY" in res.err, res.err
    assert len(res.err.strip().splitlines()) == 1 and not out.exists()


def test_pseudonyms_are_the_keyed_hmac_of_each_id_and_stable(tmp_path: Path) -> None:
    env = {"CLIENTELA_PSEUDONYM_KEY": KEY}
    plain = run_cli("rfm", ORDERS, "-o", "-")
    hidden = run_cli("rfm", ORDERS, "--pseudonymize", "-o", "-", env=env)
    again = run_cli("rfm", ORDERS, "--pseudonymize", "-o", str(tmp_path / "r.parquet"), env=env)
    assert plain.code == hidden.code == again.code == 0, hidden.err + again.err
    rows_plain = list(csv.DictReader(plain.out.splitlines()))
    rows_hidden = list(csv.DictReader(hidden.out.splitlines()))
    assert len(rows_plain) == len(rows_hidden) > 100
    for a, b in zip(rows_plain, rows_hidden, strict=True):
        assert b["customer_id"] == pseudonym(KEY.encode(), a["customer_id"])
        assert {k: v for k, v in a.items() if k != "customer_id"} == {
            k: v for k, v in b.items() if k != "customer_id"
        }
    table = pq.read_table(tmp_path / "r.parquet")
    assert table.column("customer_id").to_pylist() == [r["customer_id"] for r in rows_hidden]
    assert KEY not in hidden.err and KEY.encode() not in (tmp_path / "r.parquet").read_bytes()
    other = run_cli("rfm", ORDERS, "--pseudonymize", "-o", "-",
                    env={"CLIENTELA_PSEUDONYM_KEY": KEY + "x"})  # fmt: skip
    assert (
        next(iter(csv.DictReader(other.out.splitlines())))["customer_id"]
        != rows_hidden[0]["customer_id"]
    )


def _with_email(tmp_path: Path) -> Path:
    lines = Path(ORDERS).read_text().splitlines()
    head = lines[0].split(",")
    cust = head.index("customer_id")
    out = [lines[0] + ",buyer_contact"]
    for line in lines[1:]:
        out.append(f"{line},c{line.split(',')[cust]}@example.com")
    return write(tmp_path / "orders_email.csv", "\n".join(out) + "\n")


def test_by_a_personal_column_needs_allow_pii(tmp_path: Path) -> None:
    src = _with_email(tmp_path)
    out = tmp_path / "r.csv"
    res = run_cli("rfm", str(src), "--by", "buyer_contact", "-o", str(out))
    assert res.code == 2 and "--allow-pii" in res.err and "buyer_contact" in res.err, res.err
    assert not out.exists()
    res = run_cli("rfm", str(src), "--by", "buyer_contact", "--allow-pii", "-o", str(out))
    assert res.code == 0, res.err
    res = run_cli("rfm", str(src), "--by", "channel", "-o", str(out))
    assert res.code == 0, res.err


def test_inspect_lists_personal_columns(tmp_path: Path) -> None:
    src = _with_email(tmp_path)
    res = run_cli("inspect", str(src), "--customers", str(SAMPLE / "customers.csv"),
                  "--format", "json")  # fmt: skip
    assert res.code == 0, res.err
    found = {(p["name"], p["file"], p["kind"]) for p in json.loads(res.out)["personal_columns"]}
    assert ("buyer_contact", "orders", "email") in found
    assert ("email", "customers", "email") in found
    assert not any(name in ("channel", "state", "product") for name, _, _ in found)
    text = run_cli("inspect", str(src))
    assert "Personal data" in text.out and "buyer_contact" in text.out


def test_sql_cannot_read_the_key_table() -> None:
    res = run_cli("sql", ORDERS, "--pseudonymize", "-q", "SELECT * FROM _clientela_pseudonym_key",
                  env={"CLIENTELA_PSEUDONYM_KEY": KEY})  # fmt: skip
    assert res.code == 2 and "may not read" in res.err, res.err


def test_a_folder_with_a_forget_receipt_reads_only_the_data(tmp_path: Path) -> None:
    out = tmp_path / "clean"
    res = run_cli("forget", ORDERS, "--customer", "0000013", "--out-dir", str(out))
    assert res.code == 0, res.err
    assert any(p.name.startswith("forget-receipt-") for p in out.iterdir())
    res = run_cli("rfm", str(out), "-o", str(tmp_path / "r.csv"))
    assert res.code == 0, res.err
    assert "0000013" not in (tmp_path / "r.csv").read_text()


def test_cohorts_by_a_personal_column_needs_allow_pii(tmp_path: Path) -> None:
    src = _with_email(tmp_path)
    res = run_cli("cohorts", str(src), "--by", "buyer_contact", "-o", str(tmp_path / "c.csv"))
    assert res.code == 2 and "--allow-pii" in res.err, res.err
    assert not (tmp_path / "c.csv").exists()


def test_status_keep_a_personal_crm_column_needs_allow_pii(tmp_path: Path) -> None:
    crm = str(SAMPLE / "customers.csv")
    out = tmp_path / "s.csv"
    res = run_cli("status", ORDERS, "--customers", crm, "--keep", "email", "-o", str(out))
    assert res.code == 2 and "--allow-pii" in res.err, res.err
    assert not out.exists()
    res = run_cli("status", ORDERS, "--customers", crm, "--keep", "email", "--allow-pii",
                  "-o", str(out))  # fmt: skip
    assert res.code == 0, res.err
    assert "@example.com" in out.read_text()


def test_report_pseudonymized_tables_and_manifest(tmp_path: Path) -> None:
    out = tmp_path / "rep"
    res = run_cli("report", ORDERS, "--customers", str(SAMPLE / "customers.csv"), "--out-dir",
                  str(out), "--formats", "csv,parquet", "--pseudonymize", "--quiet",
                  env={"CLIENTELA_PSEUDONYM_KEY": KEY})  # fmt: skip
    assert res.code == 0, res.err
    manifest = json.loads((out / "manifest.json").read_text())
    assert manifest["personal_data"]["pseudonymized"] is True
    assert any(c["name"] == "email" for c in manifest["personal_data"]["columns_in_inputs"])
    rfm = list(csv.DictReader((out / "rfm.csv").read_text().splitlines()))
    assert rfm and all(len(r["customer_id"]) == 64 for r in rfm)
    plain_ids = {r["customer_id"] for r in csv.DictReader(run_cli("rfm", ORDERS, "-o", "-").out
                                                          .splitlines())}  # fmt: skip
    assert {r["customer_id"] for r in rfm} == {pseudonym(KEY.encode(), i) for i in plain_ids}
    # no raw id or e-mail anywhere: every cell of every table, the workbook, page and JSON
    emails = {f"customer{i}@example.com" for i in plain_ids}
    scanned = 0
    for path in sorted(out.iterdir()):
        if path.suffix == ".xlsx":
            from openpyxl import load_workbook

            wb = load_workbook(path, read_only=True)
            cells = {str(v) for ws in wb for row in ws.iter_rows(values_only=True) for v in row}
        elif path.suffix == ".parquet":
            table = pq.read_table(path)
            cells = {str(v) for col in table.columns for v in col.to_pylist()}
        else:
            text = path.read_text(encoding="utf-8")
            cells = set(re.findall(r"[\w.@+-]+", text))
        assert not cells & plain_ids, (path.name, sorted(cells & plain_ids)[:3])
        assert not cells & emails, path.name
        scanned += 1
    assert scanned >= 10
