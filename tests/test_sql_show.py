"""`clientela sql ANALYSIS` prints the SQL files an analysis runs, with their parameters."""

from __future__ import annotations

from pathlib import Path

from clientela import sqlfiles
from tests.conftest import ROOT, run_cli


def test_prints_every_file_of_the_analysis_with_its_parameters() -> None:
    res = run_cli("sql", "rfm")
    assert res.code == 0, res.err
    for path in sorted((ROOT / "sql").glob("rfm_*.sql")):
        assert f"-- ===== sql/{path.name} (parameters: " in res.out
        assert path.read_text(encoding="utf-8").strip() in res.out
    assert "(parameters: $by_last, $as_of)" in res.out


def test_every_sql_file_belongs_to_an_analysis() -> None:
    owned = {p for name in sqlfiles.ANALYSES for p in sqlfiles.analysis_files(name)}
    assert set((ROOT / "sql").glob("*.sql")) <= owned


def test_parameters_ignore_comments() -> None:
    assert sqlfiles.parameters("-- $nope\nSELECT $a, $b, $a -- $c\n") == ["a", "b"]


def test_an_existing_file_named_like_an_analysis_is_read_as_input(tmp_path: Path) -> None:
    (tmp_path / "rfm").write_text("customer_id,order_date,amount\n1,2024-01-01,10\n")
    res = run_cli("sql", "rfm", "-q", "SELECT count(*) AS n FROM orders", "-o", "-",
                  cwd=tmp_path)  # fmt: skip
    assert res.code == 0, res.err
    assert res.out.splitlines() == ["n", "1"]


def test_an_input_file_comes_before_the_files_reading_it() -> None:
    """churn.sql and the status history read _days (customer_days.sql): it is shown first."""
    for analysis in ("churn", "status"):
        names = [p.name for p in sqlfiles.analysis_files(analysis)]
        assert names[0] == "customer_days.sql", names
        assert names[1:] == sorted(names[1:])
    res = run_cli("sql", "churn")
    assert res.code == 0, res.err
    assert res.out.index("sql/customer_days.sql") < res.out.index("sql/churn.sql")
