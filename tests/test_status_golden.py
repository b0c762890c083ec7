"""Golden outputs of `clientela status` and `clientela churn` on sample_data/ (fixed as-of
date and time zone).

Regenerate after an intended change: UPDATE_GOLDEN=1 python -m pytest tests/test_status_golden.py
"""

from __future__ import annotations

import csv
import io
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from tests.conftest import SAMPLE, Result, run_cli

GOLDEN = Path(__file__).resolve().parent / "golden_status"
ORDERS = str(SAMPLE / "orders.csv")
CRM = str(SAMPLE / "customers.csv")
FIXED = ["--as-of", "2025-12-31", "--tz", "UTC"]
CASES: dict[str, list[str]] = {
    "status.csv": ["status", ORDERS, "--customers", CRM, "--keep",
                   "marketing_consent,segment_crm"],
    "summary.md": ["status", ORDERS, "--customers", CRM, "--summary", "--format", "markdown"],
    "history_month.csv": ["status", ORDERS, "--history", "--every", "month"],
    "history_week_wide.csv": ["status", ORDERS, "--history", "--every", "week", "--shape",
                              "wide", "--since", "2025-07-01"],
    "transitions.csv": ["status", ORDERS, "--customers", CRM, "--from", "2025-09-30"],
    "churn.csv": ["churn", ORDERS],
    "churn_cadence.csv": ["churn", ORDERS, "--method", "cadence"],
    "winback.csv": ["churn", ORDERS, "--customers", CRM, "--only-churned", "--since-days",
                    "365", "--consent-col", "marketing_consent"],
    "status_meta.json": ["status", ORDERS, "--customers", CRM, "--summary", "--meta", "{meta}"],
}  # fmt: skip


def _run(name: str, tmp: Path) -> tuple[Result, bytes]:
    args = [a.replace("{meta}", str(tmp / name)) for a in CASES[name]]
    if name.endswith(".json"):
        res = run_cli(*args, *FIXED, "-o", "-")
        return res, (tmp / name).read_bytes() if res.code == 0 else b""
    res = run_cli(*args, *FIXED, *([] if "--format" in args else ["-o", "-"]))
    return res, res.out.encode()


@pytest.fixture(scope="module")
def outputs(tmp_path_factory: pytest.TempPathFactory) -> dict[str, tuple[Result, bytes]]:
    tmp = tmp_path_factory.mktemp("golden")
    with ThreadPoolExecutor(max_workers=4) as pool:
        return dict(zip(CASES, pool.map(lambda n: _run(n, tmp), CASES), strict=True))


@pytest.mark.parametrize("name", CASES)
def test_golden(outputs: dict[str, tuple[Result, bytes]], name: str) -> None:
    res, data = outputs[name]
    assert res.code == 0, res.err
    path = GOLDEN / name
    if os.environ.get("UPDATE_GOLDEN"):
        GOLDEN.mkdir(exist_ok=True)
        path.write_bytes(data)
    assert path.exists(), f"missing golden file {path}; run with UPDATE_GOLDEN=1"
    assert data == path.read_bytes(), f"{name} differs from its golden file"


def test_brazilian_export_gives_the_same_statuses() -> None:
    """The pt-BR export (';', cp1252, dd/mm/aaaa, 1.234,56, sim/não) is the same data."""
    res = run_cli("status", str(SAMPLE / "pt-BR" / "orders.csv"), "--customers",
                  str(SAMPLE / "pt-BR" / "customers.csv"), "--keep", "aceita_marketing", *FIXED,
                  "-o", "-")  # fmt: skip
    assert res.code == 0, res.err
    got = list(csv.DictReader(io.StringIO(res.out)))
    want = list(csv.DictReader(io.StringIO((GOLDEN / "status.csv").read_text())))
    assert len(got) == len(want)
    for g, w in zip(got, want, strict=True):
        assert {k: g[k] for k in list(w)[:10]} == {k: w[k] for k in list(w)[:10]}
        assert g["aceita_marketing"] in ("sim", "não")
