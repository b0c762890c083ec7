"""The CLI contract: exit codes, stdout carries data only, stderr one line per problem."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import pytest

from clientela import __version__
from tests.conftest import ROOT, run_cli, write

ORDERS = """order_id,customer_id,order_ts,amount,status,channel
1,001,2025-01-03 10:00:00,10.5,paid,web
2,001,2025-02-03 10:00:00,20,paid,web
3,002,2025-02-04 11:00:00,-5,paid,app
3,002,2025-02-04 11:00:00,-5,paid,app
4,,2025-02-05,7,paid,app
5,003,2025-02-06,9,cancelled,web
"""


@pytest.fixture
def orders_csv(tmp_path: Path) -> Path:
    return write(tmp_path / "orders.csv", ORDERS)


def test_version() -> None:
    res = run_cli("--version")
    assert (res.code, res.out, res.err) == (0, f"clientela {__version__}\n", "")


def test_python_dash_m_and_help_lists_commands_and_exit_codes() -> None:
    res = run_cli("--help")
    assert res.code == 0 and res.err == ""
    for word in ("inspect", "sql", "sample", "Exit codes", "130"):
        assert word in res.out


def test_no_arguments_shows_help_with_usage_exit() -> None:
    res = run_cli()
    assert res.code == 2
    assert "Usage" in res.out + res.err


def test_unknown_option_is_usage_error(orders_csv: Path) -> None:
    res = run_cli("inspect", str(orders_csv), "--frobnicate")
    assert res.code == 2 and res.out == ""
    assert res.err.startswith("clientela: error: No such option: --frobnicate")
    assert len(res.err.strip().splitlines()) == 1


def test_inspect_text_goes_to_stdout_only(orders_csv: Path) -> None:
    res = run_cli("inspect", str(orders_csv), "--as-of", "2025-02-28")
    assert res.code == 0 and res.err == ""
    out = res.out
    assert "customer_id  <- 'customer_id'" in out
    assert "dropped: no customer id" in out and "dropped: exact duplicate" in out
    assert "as of        2025-02-28 (inclusive)" in out
    assert "[many_refunds]" in out


def test_inspect_json_and_strict_gate(orders_csv: Path) -> None:
    res = run_cli("inspect", str(orders_csv), "--format", "json")
    assert res.code == 0 and res.err == ""
    doc = json.loads(res.out)
    assert doc["rows"]["read"] == 6 and doc["rows"]["used"] == 3
    assert doc["orders"]["net_revenue"] == 25.5
    assert doc["mapping"]["customer_id"] == {
        "source": "customer_id",
        "reason": "name matches customer_id synonym 'customerid'",
    }
    assert [w["code"] for w in doc["warnings"]] == ["many_refunds"]
    strict = run_cli("inspect", str(orders_csv), "--format", "json", "--strict")
    assert strict.code == 3
    strict_doc = json.loads(strict.out)  # the report is still written
    for d in (doc, strict_doc):
        d["orders"].pop("load_seconds")
    assert strict_doc == doc
    assert strict.err == "clientela: error: data-quality gate failed: 1 warning (many_refunds)\n"


def test_strict_passes_on_clean_data(tmp_path: Path) -> None:
    f = write(
        tmp_path / "clean.csv", "customer_id,order_date,amount\na,2025-01-01,1\nb,2025-01-02,2\n"
    )
    assert run_cli("inspect", str(f), "--strict").code == 0


def test_stdin_dash(orders_csv: Path) -> None:
    res = run_cli(
        "sql",
        "-",
        "-q",
        "SELECT customer_id, amount FROM orders ORDER BY 1, 2",
        stdin=orders_csv.read_text(),
    )
    assert res.code == 0, res.err
    assert res.out == "customer_id,amount\n001,10.5\n001,20.0\n002,-5.0\n"


def test_pipe_default_is_csv_and_file_output_message(orders_csv: Path, tmp_path: Path) -> None:
    piped = run_cli("sql", str(orders_csv), "-q", "SELECT count(*) AS n FROM orders")
    assert (piped.code, piped.out) == (0, "n\n3\n")
    assert piped.err == (  # the loader's warnings go to stderr, never into the data
        "warning: 1 of 3 orders have a negative total (refunds/returns); check the amount "
        "column and its sign\n"
    )
    out = tmp_path / "n.json"
    res = run_cli("sql", str(orders_csv), "-q", "SELECT count(*) AS n FROM orders", "-o", str(out))
    assert res.code == 0 and res.out == ""
    assert res.err.splitlines()[-1] == f"wrote 1 rows to {out} (json)"
    assert json.loads(out.read_text()) == [{"n": 3}]


def test_bad_sql_is_usage_error(orders_csv: Path) -> None:
    res = run_cli("sql", str(orders_csv), "-q", "DELETE FROM orders")
    assert res.code == 2 and "read-only" in res.err
    res = run_cli("sql", str(orders_csv), "-q", "SELECT nope FROM orders")
    assert res.code == 2 and res.err.startswith("clientela: error: --query: ")


def test_output_over_input_refused(orders_csv: Path) -> None:
    before = orders_csv.read_bytes()
    res = run_cli("sql", str(orders_csv), "-o", str(orders_csv))
    assert res.code == 2 and "input file" in res.err
    assert orders_csv.read_bytes() == before


def _interrupt(
    args: list[str], tmp_path: Path, stdin: bytes | None = None, sig: int = signal.SIGINT
) -> tuple[int, str]:
    proc = subprocess.Popen(
        [sys.executable, "-m", "clientela", *args],
        stdin=subprocess.PIPE if stdin is not None else subprocess.DEVNULL,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        env={**os.environ, "NO_COLOR": "1"},
        cwd=tmp_path,
    )
    if stdin is not None:
        assert proc.stdin is not None
        proc.stdin.write(stdin)  # and keep the pipe open: the load waits for the rest
        proc.stdin.flush()
    time.sleep(2.0)
    proc.send_signal(sig)
    _, err = proc.communicate(timeout=60)
    return proc.returncode, err.decode()


def _temp_folders() -> set[Path]:
    """clientela's folders in the system temp: spill folders and spooled stdin."""
    import tempfile

    return set(Path(tempfile.gettempdir()).glob("clientela-*"))


def test_ctrl_c_while_reading_exits_130_without_output(tmp_path: Path) -> None:
    code, err = _interrupt(
        ["sql", "-", "-o", "out.csv"],
        tmp_path,
        stdin=b"customer_id,order_date,amount\na,2025-01-01,1\n",
    )
    assert code == 130, err
    assert err.strip() == "clientela: interrupted"
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("sig", [signal.SIGINT, signal.SIGTERM], ids=["ctrl-c", "sigterm"])
def test_interrupt_inside_a_duckdb_query_exits_130_without_output(tmp_path: Path, sig: int) -> None:
    before = _temp_folders()
    write(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-01-01,1\n")
    slow = "SELECT sum(x * x) AS s FROM range(1000000000000) t(x)"  # hours: must be cut short
    code, err = _interrupt(["sql", "o.csv", "-q", slow, "-o", "out.csv"], tmp_path, sig=sig)
    assert code == 130, err
    assert err.strip() == "clientela: interrupted"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["o.csv"]
    # the exit skips the interpreter's teardown (cli._exit_interrupted), not the exit
    # handlers: the run's spill folder is removed too
    assert _temp_folders() <= before


def test_sigterm_while_an_analysis_loads_removes_its_temporary_files(tmp_path: Path) -> None:
    """A cron job's timeout sends SIGTERM: every command (not only report) exits 130 and
    leaves no output, no spill folder (it holds the loader's files at scale) and no
    spooled stdin."""
    before = _temp_folders()
    code, err = _interrupt(
        ["rfm", "-", "-o", "out.parquet"],
        tmp_path,
        stdin=b"customer_id,order_date,amount\na,2025-01-01,1\n",
        sig=signal.SIGTERM,
    )
    assert code == 130, err
    assert err.strip() == "clientela: interrupted"
    assert list(tmp_path.iterdir()) == []
    assert _temp_folders() <= before


def test_import_hygiene() -> None:
    """The CLI module imports no heavy library; analysis modules import no typer/rich."""
    code = (
        "import sys, clientela.cli; "
        "print(sorted(m for m in ('duckdb','polars','pyarrow','numpy','xlsxwriter') "
        "if m in sys.modules))"
    )
    out = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, check=True
    ).stdout
    assert out.strip() == "[]"
    for module in ("load", "columns", "errors", "fsutil", "query", "sqlfiles"):
        text = (ROOT / "src" / "clientela" / f"{module}.py").read_text()
        assert "import typer" not in text and "from typer" not in text, module
        assert "print(" not in text, module


def test_query_failing_on_the_data_is_usage_error(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount,note\na,2025-01-01,1,x\n")
    out = tmp_path / "out.csv"
    res = run_cli("sql", str(f), "-q", "SELECT CAST(note AS INT) FROM orders", "-o", str(out))
    assert res.code == 2
    assert res.err.startswith("clientela: error: --query failed while running: Conversion")
    assert not out.exists()


def test_crm_file_is_protected_too(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-01-01,1\n")
    crm = write(tmp_path / "crm.csv", "customer_id,consent\na,yes\n")
    before = crm.read_bytes()
    res = run_cli("rfm", str(f), "--customers", str(crm), "-o", str(crm))
    assert res.code == 2 and "input file" in res.err
    assert crm.read_bytes() == before


def test_query_is_exactly_one_select(orders_csv: Path, tmp_path: Path) -> None:
    target = tmp_path / "pwn.csv"
    res = run_cli("sql", str(orders_csv), "-q", f"SELECT 1; COPY (SELECT 42 AS x) TO '{target}'")
    assert res.code == 2 and "one read-only query" in res.err
    assert not target.exists()  # the second statement never ran
    ok = run_cli("sql", str(orders_csv), "-q", "SELECT count(*) AS n FROM orders; -- done")
    assert (ok.code, ok.out) == (0, "n\n3\n")
