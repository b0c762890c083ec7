"""Golden output of `clientela rfm` on sample_data/ in every format (fixed as-of and zone).

Regenerate after an intended change: UPDATE_GOLDEN=1 python -m pytest tests/test_rfm_golden.py
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden_rfm"
ARGS = ["--as-of", "2025-12-31", "--tz", "UTC"]
TEXT_FORMATS = {"rfm.csv": [], "rfm.tsv": [], "rfm.json": [], "rfm.ndjson": [], "rfm.md": [],
                "rfm.pt-BR.csv": ["--csv-locale", "pt-BR", "--lang", "pt"],
                "summary.csv": ["--summary"], "summary.pt.md": ["--summary", "--lang", "pt"],
                "btyd_weeks.csv": ["--model", "btyd", "--unit", "weeks"]}


def _check(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


@pytest.mark.parametrize("name", TEXT_FORMATS)
def test_text_formats(tmp_path: Path, name: str) -> None:
    suffix = name.split(".", 1)[1].replace("pt-BR.", "").replace("pt.", "")
    out = tmp_path / f"out.{suffix}"
    res = run_cli("rfm", str(SAMPLE / "orders.csv"), *ARGS, *TEXT_FORMATS[name], "-o", str(out))
    assert res.code == 0, res.err
    _check(name, out.read_bytes())


def _golden_rows() -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((GOLDEN / "rfm.csv").read_text())))


def test_parquet_and_xlsx_hold_the_same_rows(tmp_path: Path) -> None:
    want = _golden_rows()
    pq_out, xl_out = tmp_path / "rfm.parquet", tmp_path / "rfm.xlsx"
    for out in (pq_out, xl_out):
        res = run_cli("rfm", str(SAMPLE / "orders.csv"), *ARGS, "-o", str(out))
        assert res.code == 0, res.err
    table = pq.read_table(pq_out).to_pylist()
    assert [r["customer_id"] for r in table] == [r["customer_id"] for r in want]
    assert [str(r["rfm_score"]) for r in table] == [r["rfm_score"] for r in want]
    assert [str(r["last_purchase"]) for r in table] == [r["last_purchase"] for r in want]
    meta = json.loads(pq.read_metadata(pq_out).metadata[b"cut_points"])
    assert meta["frequency"]["thresholds"]["5"] == 4.0
    ws = openpyxl.load_workbook(xl_out)["data"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(want)
    header = [c.value for c in ws[1]]
    assert header == list(want[0])
    first = dict(zip(header, rows[0], strict=True))
    assert first["customer_id"] == want[0]["customer_id"]
    assert first["monetary"] == float(want[0]["monetary"])  # a number, not text
    assert first["last_purchase"].date().isoformat() == want[0]["last_purchase"]  # a date
