"""The loader: canonical orders, dialect detection, column mapping and row accounting."""

from __future__ import annotations

import datetime as dt
import gzip
import json
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from clientela.errors import InputDataError, UsageError
from clientela.load import LoadOptions, load, temp_kind
from tests.conftest import write

BASIC = """order_id,customer_id,order_ts,amount,status,channel
1,001,2025-01-03 10:00:00,10.5,paid,web
2,001,2025-02-03 10:00:00,20,paid,web
3,002,2025-02-04 11:00:00,-5,paid,app
3,002,2025-02-04 11:00:00,-5,paid,app
4,,2025-02-05,7,paid,app
5,003,2025-02-06,9,cancelled,web
"""


def orders(loaded) -> list[dict]:
    cur = loaded.con.execute("SELECT * FROM orders ORDER BY customer_id, order_ts, order_id")
    names = [d[0] for d in cur.description]
    return [dict(zip(names, r, strict=True)) for r in cur.fetchall()]


def test_basic_accounting(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", BASIC)
    loaded = load([str(f)])
    rep = loaded.report
    assert rep.rows == {
        "read": 6, "no_customer": 1, "bad_date": 0, "bad_amount": 0, "duplicate": 1,
        "status_excluded": 1, "after_as_of": 0, "used": 3,
    }
    assert rep.orders["orders"] == 3
    assert rep.orders["purchases"] == 2
    assert rep.orders["refunds"] == 1
    assert rep.orders["net_revenue"] == 25.5
    # the cancelled order is not the last order: as-of is the last kept order's date
    assert rep.as_of == dt.date(2025, 2, 4)
    rows = orders(loaded)
    assert [r["customer_id"] for r in rows] == ["001", "001", "002"]  # leading zeros kept
    assert rows[2]["is_refund"] and not rows[2]["is_purchase"]
    assert rows[0]["channel"] == "web"


def test_order_lines_group_into_orders(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "pedido,cliente,data_pedido,valor_total,produto\n"
              "A1,c1,2025-03-01 10:00,10,x\nA1,c1,2025-03-01 09:00,5,y\nA2,c1,2025-03-02,0,z\n")
    loaded = load([str(f)])
    rows = orders(loaded)
    assert len(rows) == 2
    first = rows[0]
    assert first["order_id"] == "A1" and first["amount"] == 15 and first["n_lines"] == 2
    assert first["order_ts"] == dt.datetime(2025, 3, 1, 9, 0)  # earliest line
    assert first["produto"] == "y"  # dimensions from the order's first line
    assert rows[1]["amount"] == 0 and not rows[1]["is_purchase"]
    again = load([str(f)], LoadOptions(zero_orders="purchase"))
    assert orders(again)[1]["is_purchase"]


def test_portuguese_synonyms_and_mapping_reasons(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "Cód. Cliente;Data da Compra;Valor Total;Nº Pedido\n"
              "0042;05/03/2025;1.234,56;1\n0042;25/03/2025;10,00;2\n")
    rep = load([str(f)]).report
    assert rep.mapping["customer_id"].source == "Cód. Cliente"
    assert rep.mapping["order_ts"].source == "Data da Compra"
    assert rep.mapping["amount"].source == "Valor Total"
    assert rep.orders["net_revenue"] == 1244.56
    assert rep.dialect["delimiter"] == "';'"
    assert "dd/mm/yyyy" in rep.dialect["date_format"]
    assert rep.orders["first_order"].startswith("2025-03-05")


def test_brazilian_cp1252_with_thousands(tmp_path: Path) -> None:
    text = ("cliente;data_pedido;valor_total;categoria\n"
            "A;31/12/2024 23:59:59;1.234,56;Eletrônicos\n"
            "B;01/01/2025 00:00:01;-89,90;Calçados\n"
            "A;15/01/2025 12:00:00;12.345.678,90;Acessórios\n")
    f = write(tmp_path / "br.csv", text, "cp1252")
    loaded = load([str(f)])
    rep = loaded.report
    assert rep.files[0].encoding == "cp1252"
    assert rep.orders["net_revenue"] == pytest.approx(1234.56 - 89.90 + 12345678.90)
    cats = {r["categoria"] for r in orders(loaded)}
    assert cats == {"Eletrônicos", "Calçados", "Acessórios"}


def test_utf8_bom(tmp_path: Path) -> None:
    f = tmp_path / "bom.csv"
    f.write_bytes(b"\xef\xbb\xbfcustomer_id,order_date,amount\nx,2025-01-01,1\n")
    rep = load([str(f)]).report
    assert rep.files[0].encoding == "utf-8-sig"
    assert rep.mapping["customer_id"].source == "customer_id"


def test_month_first_detected_and_ambiguous_is_error(tmp_path: Path) -> None:
    f = write(tmp_path / "us.csv", "customer,date,amount\na,12/25/2024,1\nb,01/02/2025,2\n")
    rep = load([str(f)]).report
    assert rep.orders["last_order"].startswith("2025-01-02")  # January 2nd
    amb = write(tmp_path / "amb.csv", "customer,date,amount\na,01/02/2025,1\nb,03/04/2025,2\n")
    with pytest.raises(InputDataError) as e:
        load([str(amb)])
    assert "--date-format" in str(e.value) and "amb.csv" in str(e.value)
    forced = load([str(amb)], LoadOptions(date_format="dmy")).report
    assert forced.orders["first_order"].startswith("2025-02-01")


def test_time_zone_offsets_converted(tmp_path: Path) -> None:
    f = write(tmp_path / "tz.csv", "customer_id,created_at,total\n"
              "a,2025-10-07 23:50:26 -0300,1\nb,2025-10-07 09:50:26 +0200,1\n")
    utc = orders(load([str(f)]))
    assert {r["customer_id"]: r["order_ts"] for r in utc} == {
        "a": dt.datetime(2025, 10, 8, 2, 50, 26), "b": dt.datetime(2025, 10, 7, 7, 50, 26)}
    sp = orders(load([str(f)], LoadOptions(tz="America/Sao_Paulo")))
    assert {r["customer_id"]: r["order_date"] for r in sp} == {
        "a": dt.date(2025, 10, 7), "b": dt.date(2025, 10, 7)}
    with pytest.raises(UsageError, match="--tz"):
        load([str(f)], LoadOptions(tz="Mars/Olympus"))


def test_as_of_inclusive_and_later_orders_ignored(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-01-01,1\n"
              "a,2025-01-31 23:59:59,2\nb,2025-02-01 00:00:00,4\n")
    rep = load([str(f)], LoadOptions(as_of="2025-01-31")).report
    assert rep.as_of == dt.date(2025, 1, 31)
    assert rep.orders["orders"] == 2 and rep.orders["net_revenue"] == 3
    assert rep.rows["after_as_of"] == 1
    with pytest.raises(UsageError, match="--as-of"):
        load([str(f)], LoadOptions(as_of="31st of January"))
    today = load([str(f)], LoadOptions(as_of="today")).report
    assert today.as_of == dt.date.today()


def test_amount_expression_and_injection_refused(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer,date,Quantity,Unit Price\na,2025-01-01,3,2.5\n"
              "a,2025-01-02,-1,2.5\n")
    rep = load([str(f)], LoadOptions(amount_col='Quantity * "Unit Price"')).report
    assert rep.orders["net_revenue"] == 5.0
    assert rep.mapping["amount"].reason.startswith("expression")
    for evil in ("Quantity; DROP TABLE orders", "Quantity * (SELECT 1)", "sum(Quantity)",
                 "Quantity * Price'--"):
        with pytest.raises(UsageError, match="--amount-col"):
            load([str(f)], LoadOptions(amount_col=evil))


def test_ambiguous_candidates_named(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "cliente,data_pedido,data_compra,valor\na,2025-01-01,"
              "2025-01-02,1\n")
    with pytest.raises(UsageError) as e:
        load([str(f)])
    msg = str(e.value)
    assert "'data_pedido'" in msg and "'data_compra'" in msg and "--date-col" in msg
    rep = load([str(f)], LoadOptions(date_col="data_compra")).report
    assert rep.mapping["order_ts"].reason == "named with --date-col"
    assert "data_pedido" in rep.dimensions


def test_bad_rows_error_names_lines_and_skip_counts(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer,date,amount\na,2025-01-01,1\nb,2025-13-45,2\n"
              "c,2025-01-03,abc\nd,ontem,1\n")
    with pytest.raises(InputDataError) as e:
        load([str(f)])
    msg = str(e.value)
    assert "o.csv" in msg and "line 3" in msg and "line 5" in msg and "--bad-rows skip" in msg
    rep = load([str(f)], LoadOptions(bad_rows="skip")).report
    assert rep.rows["bad_date"] == 2 and rep.rows["bad_amount"] == 1 and rep.rows["used"] == 1


def test_bad_rows_error_names_the_first_file_with_bad_rows_and_its_own_lines(
    tmp_path: Path,
) -> None:
    """Several files of different formats and column orders: the examples come from the
    first file that has an unreadable row, numbered in that file (only it is read again)."""
    pq.write_table(
        pa.table(
            {
                "customer_id": ["a", "b"],
                "order_date": ["2025-01-01", "2025-01-02"],
                "amount": [1.0, 2.0],
            }
        ),
        tmp_path / "a.parquet",
    )
    write(
        tmp_path / "b.csv",
        "amount,extra,customer_id,order_date\n3,x,c,2025-01-03\n"
        "4,y,d,2025-02-30\n5,z,e,2025-01-05\n6,w,f,ontem\n",
    )
    write(tmp_path / "c.csv", "customer_id,order_date,amount\ng,2025-01-07,7\nh,nunca,8\n")
    with pytest.raises(InputDataError) as e:
        load([str(tmp_path / n) for n in ("a.parquet", "b.csv", "c.csv")])
    msg = str(e.value)
    assert "b.csv: 3 rows with an unreadable order date" in msg, msg
    assert "line 3: '2025-02-30'" in msg and "line 5: 'ontem'" in msg
    assert "nunca" not in msg  # (3 rows in all; the examples are b.csv's)


def test_formats_globs_directories_and_column_orders(tmp_path: Path) -> None:
    d = tmp_path / "exports"
    d.mkdir()
    write(d / "a.csv", "customer_id,order_date,amount\na,2025-01-01,1\n")
    write(d / "b.csv", "amount,customer_id,order_date,extra\n2,b,2025-01-02,x\n")
    (d / "c.tsv").write_text("customer_id\torder_date\tamount\nc\t2025-01-03\t4\n")
    with gzip.open(d / "d.csv.gz", "wt") as fh:
        fh.write("customer_id,order_date,amount\nd,2025-01-04,8\n")
    pq.write_table(pa.table({"customer_id": ["e"], "order_date": [dt.date(2025, 1, 5)],
                             "amount": [16.0]}), d / "e.parquet")
    (d / "f.ndjson").write_text(json.dumps({"customer_id": "f", "order_date": "2025-01-06",
                                            "amount": 32}) + "\n")
    (d / "notes.md").write_text("ignored")
    rep = load([str(d)]).report
    assert len(rep.files) == 6
    assert rep.orders["net_revenue"] == 63 and rep.orders["customers"] == 6
    assert "extra" in rep.dimensions
    globbed = load([str(d / "*.csv")]).report
    assert len(globbed.files) == 2
    with pytest.raises(UsageError, match="matches no file"):
        load([str(d / "*.xlsx")])


def test_crm_prospects(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\nA@x.com,2025-01-01,1\n")
    crm = write(tmp_path / "crm.csv", "email,signup,consent\na@x.com,2024-01-01,yes\n"
                "b@x.com,2024-02-01,no\n")
    loaded = load([str(f)], LoadOptions(customers=str(crm)))
    # e-mail ids compare case-insensitively: A@x.com bought, b@x.com is a prospect
    assert loaded.report.crm == {"rows": 2, "customers": 2, "prospects": 1,
                                 "buyers_not_in_crm": 0}
    cust = loaded.con.execute("SELECT customer_id, consent FROM customers").fetchall()
    assert cust == [("a@x.com", "yes"), ("b@x.com", "no")]


def test_inputs_are_never_modified(tmp_path: Path) -> None:
    f = write(tmp_path / "br.csv", "cliente;data;valor\nA;31/12/2024;1,5\n", "cp1252")
    before = f.read_bytes(), f.stat().st_mtime_ns
    load([str(f)])
    assert (f.read_bytes(), f.stat().st_mtime_ns) == before


def test_lines_without_order_id_are_orders_of_their_own(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "order_id,customer_id,order_date,amount\n1,a,2025-01-01,10\n"
              ",a,2025-02-01,20\n,a,2025-03-01,30\n,a,2025-03-05,-5\n")
    loaded = load([str(f)])
    rows = orders(loaded)
    assert [(r["order_id"], r["amount"]) for r in rows] == [
        ("1", 10), (None, 20), (None, 30), (None, -5)]
    assert loaded.report.as_of == dt.date(2025, 3, 5)


def test_each_file_read_in_its_own_locale(tmp_path: Path) -> None:
    us = write(tmp_path / "us.csv", "customer_id,order_date,amount\na,2025-01-10,10.50\n"
               "b,2025-01-11,\"1,020.25\"\n")
    # the same export re-saved by a spreadsheet in Portuguese
    br = write(tmp_path / "br.csv", "customer_id;order_date;amount\nc;25/01/2025;12,50\n"
               "d;26/01/2025;1.234,56\n", "cp1252")
    loaded = load([str(us), str(br)])
    got = dict(loaded.con.execute("SELECT customer_id, amount FROM orders").fetchall())
    assert got == {"a": 10.5, "b": 1020.25, "c": 12.5, "d": 1234.56}


def test_a_value_in_the_other_convention_is_a_bad_row_not_a_wrong_number(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,2025-01-10,10.50\n"
              "b,2025-01-11,20.25\nc,2025-01-12,\"12,50\"\n")
    with pytest.raises(InputDataError, match=r"line 4: '12,50'"):
        load([str(f)])


def test_brazilian_whole_amounts_with_thousands_dots(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "cliente;data;valor\na;25/01/2025;1.500\nb;26/01/2025;2.000\n"
              "c;27/01/2025;350\n")
    loaded = load([str(f)])
    got = dict(loaded.con.execute("SELECT customer_id, amount FROM orders").fetchall())
    assert got == {"a": 1500.0, "b": 2000.0, "c": 350.0}
    assert "number_format_guessed" in [w.code for w in loaded.report.warnings]


def test_offsets_converted_in_mixed_columns_and_late_rows(tmp_path: Path) -> None:
    mixed = write(tmp_path / "m.csv", "customer_id,order_date,amount\n"
                  "a,2025-01-10T23:30:00-03:00,1\nb,2025-01-11 10:00:00,1\nc,25/01/2025,1\n")
    got = dict(load([str(mixed)]).con.execute(
        "SELECT customer_id, order_ts FROM orders").fetchall())
    assert got["a"] == dt.datetime(2025, 1, 11, 2, 30)
    assert got["c"] == dt.datetime(2025, 1, 25)
    late = tmp_path / "late.csv"
    late.write_text("customer_id,order_date,amount\n" + "".join(
        f"x{i},2025-01-01 10:00:00,1\n" for i in range(25_000))
        + "late,2025-01-30T23:30:00-03:00,1\n")
    got = dict(load([str(late)]).con.execute(
        "SELECT customer_id, order_ts FROM orders WHERE customer_id = 'late'").fetchall())
    assert got["late"] == dt.datetime(2025, 1, 31, 2, 30)


def test_forced_format_with_offset_uses_the_reporting_zone(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,08/10/2025 23:30:00 -0300,1\n")
    opts = LoadOptions(date_format="%d/%m/%Y %H:%M:%S %z", tz="America/Sao_Paulo")
    (row,) = load([str(f)], opts).con.execute("SELECT order_date, order_ts FROM orders").fetchall()
    assert row == (dt.date(2025, 10, 8), dt.datetime(2025, 10, 8, 23, 30))


def test_iso_values_do_not_decide_the_day_month_order(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\na,01-02-2025,10\n"
              "b,2025-01-20,20\n")
    with pytest.raises(InputDataError, match="--date-format"):
        load([str(f)])


def test_crm_keyed_like_the_orders_and_overlap_warning(tmp_path: Path) -> None:
    orders_f = write(tmp_path / "o.csv", "Email,order_date,amount\na@x.com,2025-01-01,1\n"
                     "b@x.com,2025-01-02,1\n")
    crm = write(tmp_path / "crm.csv", "Customer ID,Email,First Name\n1,a@x.com,Ana\n"
                "2,b@x.com,Bia\n3,c@x.com,Caio\n")
    rep = load([str(orders_f)], LoadOptions(customers=str(crm))).report
    assert rep.crm == {"rows": 3, "customers": 3, "prospects": 1, "buyers_not_in_crm": 0}
    other = write(tmp_path / "crm2.csv", "customer_id,segment\n1,b2c\n2,b2b\n")
    rep = load([str(orders_f)], LoadOptions(customers=str(other))).report
    assert "crm_no_overlap" in [w.code for w in rep.warnings]


def test_columns_named_like_internal_ones_are_ordinary_dimensions(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount,_file,_id\na,2025-01-01,1,x,7\n")
    loaded = load([str(f)])
    assert loaded.report.dimensions == ["_file", "_id"]
    assert orders(loaded)[0]["_file"] == "x"


@pytest.mark.parametrize("n_statuses", [3, 150])  # coded as integers, and as text (> 100)
def test_order_status_is_the_earliest_lines_and_ties_are_deterministic(
    tmp_path: Path, n_statuses: int
) -> None:
    """An order's status is its earliest line's; lines at that same time give the smallest
    status, whatever the order of the lines in the file (reruns give equal output)."""
    names = [f"st{i:03d}" for i in range(n_statuses)]
    rows = ["customer_id,order_id,order_ts,amount,status"]
    expected: dict[str, str] = {}
    for k in range(60):
        a, b, c = names[(7 * k) % n_statuses], names[(7 * k + 1) % n_statuses], names[k % 2]
        # two lines at the earliest time (their statuses in either order), one later line
        first, second = (a, b) if k % 2 else (b, a)
        rows += [
            f"c{k},o{k},2025-03-0{1 + k % 5} 10:00:00,5,{first}",
            f"c{k},o{k},2025-03-0{1 + k % 5} 10:00:00,6,{second}",
            f"c{k},o{k},2025-03-0{1 + k % 5} 09:59:59,7," if k % 3 == 0 else f"c{k},o{k},"
            f"2025-03-0{1 + k % 5} 11:00:00,7,{c}",
        ]
        expected[f"o{k}"] = min(a, b)  # a line without status does not decide
    path = write(tmp_path / "o.csv", "\n".join(rows) + "\n")
    loaded = load([str(path)])
    got = dict(loaded.con.execute("SELECT order_id, status FROM orders").fetchall())
    assert got == expected
    amounts = {r[0] for r in loaded.con.execute("SELECT amount FROM orders").fetchall()}
    assert amounts == {18.0}


def test_order_status_of_early_and_late_years(tmp_path: Path) -> None:
    """The (time, status) tie-break key is exact from year 1 to 4000 (typo years included)."""
    path = write(
        tmp_path / "o.csv",
        "customer_id,order_id,order_ts,amount,status\n"
        "c1,o1,1500-01-01 10:00:00,1,b\nc1,o1,1500-01-01 09:00:00,1,z\nc1,o1,1500-01-02,1,a\n"
        "c2,o2,3999-05-01 10:00:00,1,b\nc2,o2,3999-05-01 09:00:00,1,z\n"
        "c3,o3,2025-01-01 10:00:00,1,paid\n",
    )
    loaded = load([str(path)], LoadOptions(as_of="4000-01-01"))
    got = dict(loaded.con.execute("SELECT order_id, status FROM orders").fetchall())
    assert got == {"o1": "z", "o2": "z", "o3": "paid"}


def _lines_csv(shape: str) -> str:
    """Order lines of one shape for the packed-orders comparison: multi-line orders whose
    earliest lines tie on time with different statuses, refunds, cancelled lines."""
    rows = ["customer_id,order_id,order_ts,amount,status"]
    for k in range(40):
        day = f"2025-03-{1 + k % 28:02d}"
        oid = "" if shape == "missing order ids" and k % 4 == 0 else f"o{k % 30}"
        st = ["paid", "pending", "cancelled", "shipped"]
        a, b = st[k % 4], st[(k + 1) % 4]
        if shape == "no statuses":
            a = b = ""
        if shape == "some statuses missing" and k % 3 == 0:
            a = ""
        year = "1750" if shape == "a time before 1800" and k == 7 else "2025"
        rows += [
            f"c{k % 9},{oid},{year}{day[4:]} 10:00:00,{(k % 7) - 2}.25,{a}",
            f"c{k % 9},{oid},{day} 10:00:00,{k % 5}.5,{b}",
            f"c{k % 9},{oid},{day} 09:00:0{k % 2},3,{b if k % 5 else a}",
        ]
    return "\n".join(rows) + "\n"


@pytest.mark.parametrize(
    ("shape", "packed"),
    [
        ("statuses", True),
        ("no statuses", True),
        ("missing order ids", True),
        ("some statuses missing", False),
        ("a time before 1800", False),
    ],
)
def test_packed_orders_equal_the_pair_form(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, shape: str, packed: bool
) -> None:
    """The lines -> orders step's packed (time, status) minimum gives the same orders table,
    column types included, as the pair form (min time, arg_min status); the packed form is
    taken exactly when its conditions hold."""
    import clientela.load as load_mod

    path = write(tmp_path / "o.csv", _lines_csv(shape))
    taken: list[bool] = []
    real = load_mod._packed_orders

    def spy(*a: object) -> bool:
        taken.append(real(*a))  # type: ignore[arg-type]
        return taken[-1]

    def table(loaded) -> tuple[list, list]:
        con = loaded.con
        cols = con.execute("DESCRIBE _orders_all").fetchall()
        rows = con.execute("SELECT * FROM _orders_all ORDER BY ALL").fetchall()
        return cols, rows

    monkeypatch.setattr(load_mod, "_packed_orders", spy)
    got = table(load([str(path)], LoadOptions(as_of="2025-12-31")))
    assert taken == [packed]
    monkeypatch.setattr(load_mod, "_packed_orders", lambda *a: False)
    expected = table(load([str(path)], LoadOptions(as_of="2025-12-31")))
    assert got == expected
    assert len(got[1]) >= 25


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_a_lines_table_on_disk_gives_the_same_orders_and_leaves_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, fmt: str
) -> None:
    """A lines table estimated larger than half of DuckDB's memory goes to a database file
    in the temp directory, and the orders to a second one: the same orders, counts and
    warnings as in memory; the lines' file is detached and removed after the load, also
    when the load fails; the orders' file stays attached until the next load on the
    connection replaces it, and its folder goes with it."""
    import clientela.load as load_mod

    extra = "c1,o99,2025-02-01 10:00:00,5,paid\n" * 2 + ",o98,2025-02-01,3,paid\n"
    src = write(tmp_path / "o.csv", _lines_csv("missing order ids") + extra)
    if fmt == "parquet":
        import duckdb

        duckdb.connect().execute(
            f"COPY (SELECT * FROM read_csv('{src}', all_varchar=true)) TO "
            f"'{tmp_path / 'o.parquet'}' (FORMAT parquet)"
        )
        src = tmp_path / "o.parquet"
    spill = tmp_path / "spill"
    opts = LoadOptions(as_of="2025-12-31", memory_limit="1GB", temp_dir=str(spill))
    attached: list[list[str]] = []
    real = load_mod._detach_lines

    def spy(con) -> None:  # the databases attached when the load lets go of the file
        attached.append([r[0] for r in con.execute("FROM duckdb_databases()").fetchall()])
        real(con)

    def result(loaded) -> tuple:
        r = loaded.report
        rows = loaded.con.execute("SELECT * FROM orders ORDER BY ALL").fetchall()
        return rows, r.rows, r.orders | {"load_seconds": 0}, [w.code for w in r.warnings]

    monkeypatch.setattr(load_mod, "_detach_lines", spy)
    in_memory = load([str(src)], opts)
    assert not any(load_mod.LINES_DB in names for names in attached)
    monkeypatch.setattr(load_mod, "LINES_ON_DISK_SHARE", 0.0)
    on_disk = load([str(src)], opts)
    assert load_mod.LINES_DB in attached[-2]  # the lines were in the file until the orders
    assert result(on_disk) == result(in_memory)
    assert len(result(on_disk)[0]) >= 25
    con = on_disk.con
    names = [r[0] for r in con.execute("FROM duckdb_databases()").fetchall()]
    assert load_mod.LINES_DB not in names and load_mod.ORDERS_DB in names
    assert load_mod.ORDERS_DB not in attached[0]  # the in-memory load made no file
    assert temp_kind(con, "_orders_all") == "VIEW"
    assert temp_kind(in_memory.con, "_orders_all") == "TABLE"
    # the compression methods are DuckDB's defaults again after the load
    assert con.execute("SELECT current_setting('disabled_compression_methods')").fetchall() == [
        ("",)
    ]
    # only the orders' folder is left (the lines' folder is gone; spilled data aside)
    (folder,) = spill.iterdir()
    assert folder.name.startswith("clientela-orders-")
    assert (folder / "orders.duckdb").is_file()
    # a load that fails after the lines' file was made (bad rows) leaves nothing behind
    bad = write(tmp_path / "bad.csv", "customer_id,order_ts,amount\nc1,2025-01-01,x\n")
    with pytest.raises(InputDataError):
        load([str(bad)], LoadOptions(memory_limit="1GB", temp_dir=str(spill), bad_rows="error"))
    assert list(spill.iterdir()) == [folder]
    # a second load on the connection replaces the orders' file and removes the first
    again = load([str(src)], opts, con=con)
    assert result(again) == result(in_memory)
    (second,) = spill.iterdir()
    assert second != folder and second.name.startswith("clientela-orders-")
    # and a load that keeps its orders in memory detaches the file and removes it as well
    monkeypatch.setattr(load_mod, "LINES_ON_DISK_SHARE", 0.5)
    last = load([str(src)], opts, con=con)
    assert result(last) == result(in_memory)
    assert list(spill.iterdir()) == []
    assert temp_kind(con, "_orders_all") == "TABLE"
    assert str(second) not in load_mod._SPILL_DIRS


def test_light_compression_skips_methods_this_duckdb_does_not_know(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The load's files leave out the costly compression methods; a name an older (or newer)
    DuckDB does not know is skipped instead of failing the load, and the defaults come back."""
    import duckdb

    import clientela.load as load_mod

    con = duckdb.connect()

    def setting() -> str:
        return str(con.execute("SELECT current_setting('disabled_compression_methods')")
                   .fetchall()[0][0])  # fmt: skip

    load_mod._light_compression(con)
    assert set(setting().lower().split(",")) == set(load_mod.FILE_COMPRESSION_OFF)
    monkeypatch.setattr(load_mod, "FILE_COMPRESSION_OFF", ("fsst", "no_such_method", "zstd"))
    load_mod._light_compression(con)
    assert setting().lower() == "fsst,zstd"
    monkeypatch.setattr(load_mod, "FILE_COMPRESSION_OFF", ("no_such_method",))
    load_mod._light_compression(con)
    assert setting() == ""
    load_mod._default_compression(con)
    assert setting() == ""


# ------------------------------------------------------------------ interruptions


@pytest.mark.parametrize("fmt", ["csv", "parquet"])
def test_an_interrupted_load_is_an_interruption_not_bad_input(tmp_path: Path, fmt: str) -> None:
    """Ctrl-C or SIGTERM while DuckDB reads a file stops the query with DuckDB's
    InterruptException; the loader turns read errors into "cannot be read" messages about
    the file, and must not do that to an interruption (the CLI then says "interrupted",
    exit 130, instead of blaming the file with exit 1)."""
    import threading

    import duckdb

    from clientela.errors import ClientelaError
    from clientela.load import connect

    big = tmp_path / f"big.{fmt}"
    duckdb.sql(
        "COPY (SELECT 'c' || (i % 50000) AS customer_id, 'o' || i AS order_id, "
        "TIMESTAMP '2024-01-01' + to_seconds(i % 30000000) AS order_date, "
        "round(10 + (i % 997) / 7, 2) AS amount FROM range(3000000) t(i)) "
        f"TO '{big}' " + ("(HEADER)" if fmt == "csv" else "(FORMAT parquet)")
    )
    con = connect(LoadOptions())
    done = threading.Event()

    def keep_interrupting() -> None:  # whichever query runs, it is stopped
        while not done.wait(0.02):
            con.interrupt()

    worker = threading.Thread(target=keep_interrupting)
    worker.start()
    try:
        with pytest.raises((KeyboardInterrupt, duckdb.InterruptException)) as info:
            load([str(big)], LoadOptions(), con=con)
    finally:
        done.set()
        worker.join()
    assert not isinstance(info.value, ClientelaError)


@pytest.mark.parametrize("which", ["csv", "read"])
def test_read_errors_pass_interruptions_through(tmp_path: Path, which: str) -> None:
    import duckdb

    from clientela import load as load_module

    f = write(tmp_path / "o.csv", "customer_id,order_date,amount\nc1,2024-01-02,10\n")
    src = load_module._inspect_file(f, f.name, LoadOptions(), load_module._TempFiles())
    err = duckdb.InterruptException("INTERRUPT Error: Interrupted!")
    with pytest.raises(KeyboardInterrupt):
        if which == "csv":
            load_module._csv_error(src, err)
        else:
            load_module._read_error([src], err)
