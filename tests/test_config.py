"""clientela.toml / --config, and the resource options every analysis command takes."""

from __future__ import annotations

import json
from pathlib import Path

from tests.conftest import SAMPLE, run_cli, write

ORDERS = str(SAMPLE / "orders.csv")


def _bins(meta: Path) -> int:
    return int(json.loads(meta.read_text())["bins"])


def test_config_file_in_cwd_fills_options_and_command_line_wins(tmp_path: Path) -> None:
    write(tmp_path / "clientela.toml", '[rfm]\nbins = 3\n\n[output]\ncsv-locale = "pt-BR"\n')
    res = run_cli("rfm", ORDERS, "-o", "rfm.csv", "--meta", "m.json", cwd=tmp_path)
    assert res.code == 0, res.err
    assert _bins(tmp_path / "m.json") == 3
    assert ";" in (tmp_path / "rfm.csv").read_text().splitlines()[0]  # [output] applied
    res = run_cli("rfm", ORDERS, "-o", "rfm2.csv", "--meta", "m2.json", "--bins", "4",
                  cwd=tmp_path)  # fmt: skip
    assert res.code == 0, res.err
    assert _bins(tmp_path / "m2.json") == 4


def test_explicit_config_and_shared_input_section(tmp_path: Path) -> None:
    cfg = write(tmp_path / "c.toml", "[input]\nas-of = 2024-06-30\n")
    res = run_cli("rfm", ORDERS, "--config", str(cfg), "-o", str(tmp_path / "r.csv"),
                  "--meta", str(tmp_path / "m.json"))  # fmt: skip
    assert res.code == 0, res.err
    assert json.loads((tmp_path / "m.json").read_text())["as_of"] == "2024-06-30"


def test_config_errors_are_usage_errors(tmp_path: Path) -> None:
    out = tmp_path / "r.csv"
    cases = {
        "[rfm]\nbinz = 3\n": "[rfm] has an unknown setting 'binz'",
        "[input]\nnope = 1\n": "[input] has an unknown setting 'nope'",
        "[rfmm]\nbins = 3\n": "unknown section [rfmm]",
        "bins = 3\n": "'bins' must be a section",
        "[rfm\n": "not a valid TOML file",
    }
    for text, message in cases.items():
        cfg = write(tmp_path / "bad.toml", text)
        res = run_cli("rfm", ORDERS, "--config", str(cfg), "-o", str(out))
        assert res.code == 2, (text, res.err)
        assert message in res.err and "Traceback" not in res.err, res.err
        assert len(res.err.strip().splitlines()) == 1
        assert not out.exists()
    res = run_cli("rfm", ORDERS, "--config", str(tmp_path / "missing.toml"), "-o", str(out))
    assert res.code == 2 and "no such file" in res.err


def test_config_values_of_the_wrong_type_name_the_file_and_key(tmp_path: Path) -> None:
    out = tmp_path / "s.csv"
    cases = {
        '[status]\nnew-days = "thirty"\n': '[status] new-days = "thirty": expected a whole number',
        "[status]\nnew-days = 12.5\n": "[status] new-days = 12.5: expected a whole number",
        "[status]\nvip-share = true\n": "[status] vip-share = true: expected a number",
        '[status]\nsummary = "yes"\n': '[status] summary = "yes": expected true or false',
        '[resources]\nthreads = "two"\n': '[resources] threads = "two": expected a whole number',
        "[input]\ncustomer-col = true\n": "[input] customer-col = true: expected text",
        "[input]\ncustomer-col = {a = 1}\n": "[input] customer-col = {\"a\": 1}: expected text",
    }
    for text, message in cases.items():
        cfg = write(tmp_path / "bad.toml", text)
        res = run_cli("status", ORDERS, "--config", str(cfg), "-o", str(out))
        assert res.code == 2, (text, res.err)
        assert f"{cfg}: {message}" in res.err, res.err
        assert len(res.err.strip().splitlines()) == 1 and "Traceback" not in res.err
        assert not out.exists()


def test_config_lists_and_numbers_for_text_options(tmp_path: Path) -> None:
    """formats = ["parquet", "csv"] is the comma-separated option; a number is its text."""
    cfg = write(tmp_path / "c.toml", '[report]\nformats = ["csv"]\n\n[input]\nas-of = 2024-06-30\n')
    res = run_cli("report", ORDERS, "--config", str(cfg), "--out-dir", str(tmp_path / "rep"),
                  "--quiet")  # fmt: skip
    assert res.code == 0, res.err
    names = {p.name for p in (tmp_path / "rep").iterdir()}
    assert "rfm.csv" in names and "rfm.parquet" not in names
    manifest = json.loads((tmp_path / "rep" / "manifest.json").read_text())
    assert manifest["as_of"] == "2024-06-30"


def test_help_ignores_a_broken_config(tmp_path: Path) -> None:
    write(tmp_path / "clientela.toml", "[rfm\n")
    assert run_cli("rfm", "--help", cwd=tmp_path).code == 0


def test_resource_options(tmp_path: Path) -> None:
    spill = tmp_path / "spill"
    res = run_cli("sql", ORDERS, "--threads", "1", "--memory-limit", "512MB", "--temp-dir",
                  str(spill), "-q", "SELECT current_setting('threads') AS t, "
                  "current_setting('memory_limit') AS m, current_setting('temp_directory') AS d",
                  "-o", "-")  # fmt: skip
    assert res.code == 0, res.err
    row = res.out.splitlines()[1].split(",")
    # DuckDB gets 3/4 of the process cap: 384 MB = 366.2 MiB
    assert row[0] == "1" and row[1] == "366.0 MiB" and row[2] == str(spill)
    assert spill.is_dir()


def test_memory_limit_returns_freed_memory_sooner() -> None:
    """Under --memory-limit the allocator gives freed memory back early (it lowered the
    process's peak RSS at 100M lines by about 380 MiB); without the flag, DuckDB's own
    defaults stay."""
    query = (
        "SELECT current_setting('allocator_flush_threshold') AS a, "
        "current_setting('allocator_bulk_deallocation_flush_threshold') AS b, "
        "current_setting('allocator_background_threads') AS c"
    )
    capped = run_cli("sql", ORDERS, "--memory-limit", "512MB", "-q", query, "-o", "-")
    assert capped.code == 0, capped.err
    assert capped.out.splitlines()[1] == "32MB,61.0 MiB,true"
    free = run_cli("sql", ORDERS, "-q", query, "-o", "-")
    assert free.code == 0, free.err
    assert free.out.splitlines()[1] == "134217728B,512.0 MiB,false"


def test_default_spill_folder_is_private_and_removed(tmp_path: Path) -> None:
    res = run_cli("sql", ORDERS, "-q", "SELECT current_setting('temp_directory') AS d", "-o", "-")
    assert res.code == 0, res.err
    spill = Path(res.out.splitlines()[1])
    assert spill.name.startswith("clientela-spill-")
    assert not spill.exists()  # removed at exit
    assert not (Path.cwd() / ".tmp").exists()


def test_orders_in_a_file_leave_nothing_behind_at_exit(tmp_path: Path) -> None:
    """When the lines do not fit in memory the orders go to a database file in the temp
    directory too (forced here by the threshold, in a real process): the same output as in
    memory, and the file's folder is removed when the process exits."""
    import subprocess
    import sys

    spill = tmp_path / "spill"
    code = (
        "import sys, clientela.load as L; L.LINES_ON_DISK_SHARE = 0.0; "
        "seen = []; real = L._orders_to_file; "
        "L._orders_to_file = lambda con: seen.append(1) or real(con); "
        "from clientela.cli import main; "
        "import atexit; atexit.register(lambda: print('files', len(seen), file=sys.stderr)); "
        "main(sys.argv[1:])"
    )
    args = ["status", ORDERS, "--memory-limit", "1GB", "--temp-dir", str(spill)]
    proc = subprocess.run(
        [sys.executable, "-c", code, *args, "-o", str(tmp_path / "file.csv")],
        capture_output=True, text=True, timeout=300,
    )  # fmt: skip
    assert proc.returncode == 0, proc.stderr
    assert "files 1" in proc.stderr  # the orders were in a file
    assert spill.is_dir() and list(spill.iterdir()) == []
    res = run_cli(*args, "-o", str(tmp_path / "memory.csv"))
    assert res.code == 0, res.err
    assert (tmp_path / "file.csv").read_bytes() == (tmp_path / "memory.csv").read_bytes()


def test_bad_resource_options(tmp_path: Path) -> None:
    a_file = write(tmp_path / "f.txt", "x")
    for args, message in [
        (["--threads", "0"], "--threads 0"),
        (["--memory-limit", "lots"], "--memory-limit 'lots'"),
        (["--memory-limit", "10MB"], "give at least 64MB"),
        (["--temp-dir", str(a_file)], "is a file"),
    ]:
        res = run_cli("rfm", ORDERS, *args, "-o", str(tmp_path / "r.csv"))
        assert res.code == 2 and message in res.err, res.err
        assert not (tmp_path / "r.csv").exists()


def test_out_of_memory_is_exit_4_naming_the_resource_options(tmp_path: Path) -> None:
    """median() over 100M values cannot spill: under a 100MB cap DuckDB runs out of memory.
    That is a setting to change, not a bug: one line, exit 4, no output file."""
    out = tmp_path / "m.parquet"
    res = run_cli("sql", ORDERS, "--memory-limit", "100MB", "-o", str(out),
                  "-q", "SELECT median(i) AS m FROM range(100000000) t(i)")  # fmt: skip
    assert res.code == 4, res.err
    assert res.err.startswith("clientela: error: out of memory (") and "--memory-limit" in res.err
    assert len(res.err.strip().splitlines()) == 1 and "Traceback" not in res.err
    assert not out.exists() and list(tmp_path.iterdir()) == []


def test_resource_errors_are_recognised() -> None:
    import duckdb

    from clientela.errors import ExitCode, resource_error

    disk = duckdb.IOException("IO Error: Could not write file: No space left on device")
    full = resource_error(disk)
    assert full is not None and full.exit_code == ExitCode.RESOURCES
    assert "--temp-dir" in full.message
    oom = resource_error(MemoryError())
    assert oom is not None and "--memory-limit" in oom.message
    assert resource_error(duckdb.ConversionException("Conversion Error: bad value")) is None
