"""The wheel built from the repository works when installed outside the checkout."""

from __future__ import annotations

import os
import subprocess
import sys
import zipfile
from pathlib import Path

import pytest

from tests.conftest import ROOT, write


@pytest.mark.slow
def test_wheel_installs_and_runs_outside_checkout(tmp_path: Path) -> None:
    dist = tmp_path / "dist"
    subprocess.run(
        [sys.executable, "-m", "pip", "wheel", "--no-deps", "--no-build-isolation", "-q",
         "-w", str(dist), str(ROOT)],
        check=True, capture_output=True,
    )
    (wheel,) = dist.glob("clientela-*.whl")
    names = zipfile.ZipFile(wheel).namelist()
    assert "clientela/sql/load_order_stats.sql" in names  # sql/ ships inside the wheel
    entry = next(n for n in names if n.endswith("entry_points.txt"))
    assert "clientela = clientela.cli:main" in zipfile.ZipFile(wheel).read(entry).decode()

    target = tmp_path / "site"
    subprocess.run(
        [sys.executable, "-m", "pip", "install", "--no-deps", "-q", "--target", str(target),
         str(wheel)],
        check=True, capture_output=True,
    )
    work = tmp_path / "elsewhere"
    work.mkdir()
    orders = write(work / "orders.csv", "cliente;data_pedido;valor_total\n"
                   "001;05/03/2025;1.234,56\n002;25/03/2025;10,00\n")
    env = {**os.environ, "PYTHONPATH": str(target), "NO_COLOR": "1"}
    where = subprocess.run(
        [sys.executable, "-c", "import clientela, clientela.sqlfiles as s; "
         "print(clientela.__file__); print(s.sql_dir())"],
        cwd=work, env=env, capture_output=True, text=True, check=True,
    ).stdout.splitlines()
    assert all(line.startswith(str(target)) for line in where), where
    res = subprocess.run(
        [sys.executable, "-m", "clientela", "inspect", str(orders), "--format", "json"],
        cwd=work, env=env, capture_output=True, text=True,
    )
    assert res.returncode == 0, res.stderr
    assert '"net_revenue": 1244.56' in res.stdout
