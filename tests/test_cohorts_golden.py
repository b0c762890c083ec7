"""Golden output of `clientela cohorts` on sample_data/ (fixed as-of date and zone).

The as-of date 2025-12-15 is in the middle of a month, a quarter and a year, so the default
runs leave the partial period out and the --include-partial runs mark it.
Regenerate after an intended change:
UPDATE_GOLDEN=1 python -m pytest tests/test_cohorts_golden.py
"""

from __future__ import annotations

import csv
import io
import json
import os
from concurrent.futures import ThreadPoolExecutor
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

import openpyxl
import pyarrow.parquet as pq
import pytest

from tests.conftest import SAMPLE, Result, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden_cohorts"
ARGS = ["--as-of", "2025-12-15", "--tz", "UTC"]
RUNS: dict[str, list[str]] = {
    "cohorts.csv": [],
    "cohorts.pt-BR.csv": ["--csv-locale", "pt-BR", "--max-periods", "6"],
    "cohorts.partial.md": ["--period", "quarter", "--include-partial"],
    "cohorts.week.csv": ["--period", "week", "--since", "2025-09-01", "--max-periods", "8",
                         "--cumulative"],
    "cohorts.revenue.long.csv": ["--period", "quarter", "--metric", "revenue", "--shape", "long"],
    "cohorts.orders.by.csv": ["--by", "channel", "--period", "quarter", "--metric", "orders",
                              "--values", "count"],
    "cohorts.year.json": ["--period", "year", "--metric", "revenue", "--cumulative",
                          "--include-partial"],
    "cohorts.day.fill.csv": ["--period", "day", "--since", "2025-11-20", "--fill-gaps",
                             "--max-periods", "5"],
    "trend.csv": ["--trend"],
    "trend.by.md": ["--trend", "--by", "channel", "--period", "quarter", "--include-partial"],
}  # fmt: skip
BINARY = {"cohorts.parquet": [], "cohorts.xlsx": [], "long.parquet": ["--shape", "long"]}


def _check(name: str, data: bytes) -> None:
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


class Outputs:
    def __init__(self, folder: Path) -> None:
        self.folder = folder
        runs = {**RUNS, **BINARY}
        with ThreadPoolExecutor(max_workers=4) as pool:
            futures = {n: pool.submit(self._run, n, a) for n, a in runs.items()}
            self.results: dict[str, Result] = {n: f.result() for n, f in futures.items()}

    def path(self, name: str) -> Path:
        suffix = name.rsplit(".", 1)[1]
        return self.folder / f"{name.replace('.', '_')}.{suffix}"

    def _run(self, name: str, args: list[str]) -> Result:
        return run_cli("cohorts", str(SAMPLE / "orders.csv"), *ARGS, *args,
                       "-o", str(self.path(name)))  # fmt: skip


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> Outputs:
    return Outputs(tmp_path_factory.mktemp("cohorts"))


@pytest.mark.parametrize("name", RUNS)
def test_golden(outputs: Outputs, name: str) -> None:
    res = outputs.results[name]
    assert res.code == 0, res.err
    _check(name, outputs.path(name).read_bytes())


def _golden_rows(name: str = "cohorts.csv") -> list[dict[str, str]]:
    return list(csv.DictReader(io.StringIO((GOLDEN / name).read_text())))


def test_parquet_and_xlsx_hold_the_golden_rows(outputs: Outputs) -> None:
    want = _golden_rows()
    for name in BINARY:
        assert outputs.results[name].code == 0, outputs.results[name].err
    table = pq.read_table(outputs.path("cohorts.parquet"))
    assert table.column_names == list(want[0])
    got = table.to_pylist()
    assert [r["cohort"] for r in got] == [r["cohort"] for r in want]
    for g, w in zip(got, want, strict=True):
        for k, v in w.items():
            assert ("" if g[k] is None else str(g[k])) == v, (k, g, w)
    meta = pq.read_metadata(outputs.path("cohorts.parquet")).metadata
    assert json.loads(meta[b"partial_period_left_out"])["start"] == "2025-12-01"
    assert meta[b"period"] == b"month" and meta[b"values"] == b"rate"
    ws = openpyxl.load_workbook(outputs.path("cohorts.xlsx"))["data"]
    rows = list(ws.iter_rows(min_row=2, values_only=True))
    assert len(rows) == len(want)
    assert [c.value for c in ws[1]] == list(want[0])
    assert [r[0] for r in rows] == [r["cohort"] for r in want]
    last_col = ws.cell(row=1, column=ws.max_column).column_letter
    assert ws["C2"].number_format == "0.0%" and ws[f"{last_col}2"].number_format == "0.0%"
    formats = [(str(rng.sqref), rule.type) for rng in ws.conditional_formatting
               for rule in rng.rules]  # fmt: skip
    assert formats == [(f"D2:{last_col}{len(rows) + 1}", "colorScale")]
    long = pq.read_table(outputs.path("long.parquet"))
    assert str(long.schema.field("period_start").type) == "date32[day]"
    assert sum(r["value"] for r in long.to_pylist() if r["period_index"] == 0) == int(
        want[-1]["cohort_size"]
    )  # every member bought in period 0


def test_terminal_table_agrees_with_the_csv() -> None:
    """--format table shows the CSV's rates as percentages, cohort for cohort."""
    res = run_cli("cohorts", str(SAMPLE / "orders.csv"), *ARGS, "--format", "table",
                  "--max-periods", "3", "--since", "2025-06-01")  # fmt: skip
    assert res.code == 0, res.err
    want = [r for r in _golden_rows() if r["cohort"] >= "2025-06" and r["cohort"] != "all cohorts"]
    lines = [ln for ln in res.out.splitlines() if "│" in ln]
    assert len(lines) == len(want) + 1  # + the average over the cohorts shown
    for line, w in zip(lines, want, strict=False):
        cells = [c.strip() for c in line.split("│")]
        assert cells[0] == w["cohort"] and cells[1] == w["cohort_size"]
        for k in ("0", "1", "2", "3"):
            pct = Decimal(w[k] or "0").scaleb(2).quantize(Decimal("0.1"), ROUND_HALF_UP)
            expect = "" if w[k] == "" else f"{pct}%"
            assert cells[2 + int(k)] == expect, (k, cells, w)
