"""The sample-data generator: exact counts, determinism, formats, and the shape of the data.

Files are really written (to tmp_path) and read back with the csv module, pyarrow and DuckDB.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import math
import re
from collections import Counter, defaultdict
from decimal import Decimal
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela import sample
from clientela.errors import UsageError
from clientela.sample import SampleData, generate, write

ORDER_COLUMNS = [
    "order_id", "customer_id", "order_ts", "status", "channel", "state", "category",
    "product", "quantity", "unit_price", "amount",
]  # fmt: skip
CUSTOMER_COLUMNS = [
    "customer_id", "email", "signup_date", "state", "marketing_consent", "segment_crm",
]  # fmt: skip
ORDER_COLUMNS_PT = [
    "pedido", "cliente", "data_pedido", "situacao", "canal", "uf", "categoria", "produto",
    "quantidade", "preco_unitario", "valor_total",
]  # fmt: skip
CUSTOMER_COLUMNS_PT = [
    "cliente", "email", "data_cadastro", "uf", "aceita_marketing", "segmento",
]  # fmt: skip
UFS = {
    "AC", "AL", "AP", "AM", "BA", "CE", "DF", "ES", "GO", "MA", "MT", "MS", "MG", "PA",
    "PB", "PR", "PE", "PI", "RJ", "RN", "RS", "RO", "RR", "SC", "SP", "SE", "TO",
}  # fmt: skip
BR_MONEY = re.compile(r"^-?\d{1,3}(\.\d{3})*,\d{2}$")
EN_MONEY = re.compile(r"^-?\d+\.\d{2}$")


def orders_count(table: pa.Table) -> int:
    return pc.count_distinct(table.column("order_id").cast(pa.string())).as_py()


def rows_of(table: pa.Table) -> list[dict[str, object]]:
    return table.to_pylist()


def read_csv(path: Path, encoding: str, delimiter: str) -> tuple[list[str], list[list[str]]]:
    with path.open(encoding=encoding, newline="") as fh:
        reader = csv.reader(fh, delimiter=delimiter)
        header = next(reader)
        return header, list(reader)


def br_number(text: str) -> Decimal:
    return Decimal(text.replace(".", "").replace(",", "."))


@pytest.fixture(scope="module")
def data() -> SampleData:
    return generate(orders=5000, seed=42)


@pytest.fixture(scope="module")
def files(data: SampleData, tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("sample")
    write(data, root / "en", "csv")
    write(data, root / "pt-BR", "csv", locale="pt-BR")
    write(data, root / "parquet", "parquet")
    write(data, root / "ndjson", "ndjson")
    return root


@pytest.fixture(scope="module")
def orders(files: Path) -> list[dict[str, object]]:
    """The orders as read back from the Parquet file."""
    return rows_of(pq.read_table(files / "parquet" / "orders.parquet"))


@pytest.fixture(scope="module")
def customers(files: Path) -> list[dict[str, object]]:
    return rows_of(pq.read_table(files / "parquet" / "customers.parquet"))


# --- counts and determinism ---------------------------------------------------------------


@pytest.mark.parametrize("n", [1, 2, 3, 10, 37, 100, 999, 5000, 20_000])
def test_number_of_distinct_order_ids_is_exactly_the_argument(n: int) -> None:
    assert orders_count(generate(orders=n, seed=n).orders) == n


def test_order_count_holds_in_the_written_files(files: Path) -> None:
    con = duckdb.connect()
    for reader, path in (
        ("read_csv(?, all_varchar = true)", files / "en" / "orders.csv"),
        ("read_parquet(?)", files / "parquet" / "orders.parquet"),
    ):
        query = f"SELECT count(DISTINCT order_id) FROM {reader}"
        assert con.execute(query, [str(path)]).fetchone() == (5000,)
    header, rows = read_csv(files / "pt-BR" / "orders.csv", "cp1252", ";")
    assert len({row[header.index("pedido")] for row in rows}) == 5000


@pytest.mark.parametrize(("fmt", "locale"), [("csv", "en"), ("csv", "pt-BR"),
                                             ("parquet", "en"), ("ndjson", "en")])  # fmt: skip
def test_same_seed_gives_byte_identical_files(tmp_path: Path, fmt: str, locale: str) -> None:
    first = write(generate(orders=3000, seed=7), tmp_path / "a", fmt, locale)
    again = write(generate(orders=3000, seed=7), tmp_path / "b", fmt, locale)
    other = write(generate(orders=3000, seed=8), tmp_path / "c", fmt, locale)
    for one, two, three in zip(first, again, other, strict=True):
        assert one.read_bytes() == two.read_bytes()
        assert one.read_bytes() != three.read_bytes()


def test_other_parameters_change_the_data() -> None:
    base = generate(orders=2000, seed=1)
    assert not base.orders.equals(generate(orders=2000, seed=2).orders)
    assert not base.orders.equals(generate(orders=2001, seed=1).orders)
    assert not base.customers.equals(generate(orders=2000, seed=1, prospects_share=0.3).customers)


# --- the orders table ---------------------------------------------------------------------


def test_orders_columns_and_types(data: SampleData) -> None:
    assert data.orders.column_names == ORDER_COLUMNS
    assert data.customers.column_names == CUSTOMER_COLUMNS
    schema = data.orders.schema
    assert schema.field("order_ts").type == pa.timestamp("us")
    assert schema.field("quantity").type == pa.int32()
    assert schema.field("amount").type == pa.float64()
    assert schema.field("unit_price").type == pa.float64()
    for name in ("order_id", "customer_id", "status", "channel", "state", "category", "product"):
        assert pa.types.is_string(data.orders.column(name).type.value_type)
    assert data.customers.schema.field("signup_date").type == pa.date32()
    assert data.customers.schema.field("marketing_consent").type == pa.bool_()


def test_rows_are_sorted_by_timestamp_then_order_id(orders: list[dict[str, object]]) -> None:
    keys = [(row["order_ts"], row["order_id"]) for row in orders]
    assert keys == sorted(keys)


def test_timestamps_are_whole_seconds_within_the_range() -> None:
    start, end = dt.date(2024, 3, 1), dt.date(2024, 6, 30)
    table = generate(orders=3000, seed=3, start=start, end=end).orders
    stamps = table.column("order_ts").to_pylist()
    assert min(stamps) >= dt.datetime(2024, 3, 1)
    assert max(stamps) <= dt.datetime(2024, 6, 30, 23, 59, 59)
    assert all(ts.microsecond == 0 for ts in stamps)
    assert len({ts.date() for ts in stamps}) > 100  # the whole range is used
    assert len({ts.time() for ts in stamps}) > 2000  # times of day, not midnight only


def test_a_single_day_range_works() -> None:
    table = generate(orders=500, seed=5, start=dt.date(2024, 5, 1), end=dt.date(2024, 5, 1)).orders
    assert orders_count(table) == 500
    assert {ts.date() for ts in table.column("order_ts").to_pylist()} == {dt.date(2024, 5, 1)}
    # a return needs a later date: none fits in one day
    assert "returned" not in table.column("status").to_pylist()


def test_amount_is_quantity_times_unit_price(orders: list[dict[str, object]]) -> None:
    for row in orders:
        quantity, price, amount = row["quantity"], row["unit_price"], row["amount"]
        assert isinstance(quantity, int) and isinstance(price, float)
        assert price > 0 and quantity != 0
        assert amount == round(quantity * price, 2)
        assert round(price, 2) == price  # whole cents


def test_ids_are_text_with_leading_zeros(data: SampleData, files: Path) -> None:
    ids = data.customers.column("customer_id").to_pylist()
    assert all(re.fullmatch(r"\d{7}", i) for i in ids)
    assert ids[0] == "0000001" and len(set(ids)) == len(ids)
    assert ids == sorted(ids)
    emails = data.customers.column("email").to_pylist()
    assert emails[0] == "customer0000001@example.com"
    assert all(e == f"customer{i}@example.com" for i, e in zip(ids, emails, strict=True))
    # as written: the CSV keeps the zeros
    header, rows = read_csv(files / "en" / "orders.csv", "utf-8", ",")
    written = [row[header.index("customer_id")] for row in rows]
    assert all(re.fullmatch(r"\d{7}", i) for i in written)
    assert any(i.startswith("000") for i in written)
    order_ids = {row[header.index("order_id")] for row in rows}
    assert all(re.fullmatch(r"R?\d{6}", i) for i in order_ids)


def test_dimensions(orders: list[dict[str, object]], customers: list[dict[str, object]]) -> None:
    assert {r["channel"] for r in orders} == {"web", "app", "store", "marketplace"}
    assert {r["status"] for r in orders} == {"paid", "cancelled", "returned"}
    states = Counter(r["state"] for r in orders)
    assert set(states) <= UFS and len(states) > 20
    assert states.most_common(1)[0][0] == "SP"
    categories = {r["category"] for r in orders}
    assert len(categories) == 10 and "Electronics" in categories
    assert len({r["product"] for r in orders}) > 100
    assert {c["segment_crm"] for c in customers} == {"b2c", "b2b"}
    consent = Counter(c["marketing_consent"] for c in customers)
    assert consent[True] > 0 and consent[False] > 0


def test_orders_have_one_to_six_distinct_lines(orders: list[dict[str, object]]) -> None:
    lines: dict[object, set[tuple[object, ...]]] = defaultdict(set)
    for row in orders:
        if row["status"] != "returned":
            lines[row["order_id"]].add(tuple(row.values()))
    sizes = Counter(len(rows) for rows in lines.values())
    assert min(sizes) == 1 and max(sizes) == 6
    assert sizes[1] / sum(sizes.values()) > 0.5  # mostly one line
    assert sum(n for size, n in sizes.items() if size >= 3) > 0.05 * sum(sizes.values())
    for rows in lines.values():  # a product appears once per order
        products = [row[ORDER_COLUMNS.index("product")] for row in rows]
        assert len(products) == len(set(products))


# --- events: returns, cancellations, duplicates ---------------------------------------------


def test_returns_refer_to_an_earlier_paid_line_of_the_same_customer(
    orders: list[dict[str, object]],
) -> None:
    paid = {(r["order_id"], r["product"]): r for r in orders if r["status"] == "paid"}
    returns = [r for r in orders if r["status"] == "returned"]
    assert 0.015 <= len(returns) / len(orders) <= 0.03  # about 2% of rows
    for row in returns:
        order_id = str(row["order_id"])
        assert order_id.startswith("R")
        original = paid[(order_id[1:], row["product"])]
        assert original["customer_id"] == row["customer_id"]
        assert original["unit_price"] == row["unit_price"]
        assert row["order_ts"].date() > original["order_ts"].date()
        assert row["amount"] < 0 and row["quantity"] < 0
        assert -row["quantity"] <= original["quantity"]
    assert any(r["status"] == "returned" for r in orders)
    assert all(r["amount"] > 0 for r in orders if r["status"] != "returned")


def test_about_one_percent_of_orders_are_cancelled(orders: list[dict[str, object]]) -> None:
    cancelled = {r["order_id"] for r in orders if r["status"] == "cancelled"}
    statuses = defaultdict(set)
    for r in orders:
        statuses[r["order_id"]].add(r["status"])
    assert 0.005 <= len(cancelled) / len(statuses) <= 0.02
    assert all(statuses[o] == {"cancelled"} for o in cancelled)  # whole orders


def test_a_few_exact_duplicate_rows(orders: list[dict[str, object]]) -> None:
    counts = Counter(tuple(r.values()) for r in orders)
    extra = sum(n - 1 for n in counts.values())
    assert 0.001 <= extra / len(orders) <= 0.003
    assert max(counts.values()) == 2
    keys = [tuple(r.values()) for r in orders]
    for i, key in enumerate(keys[1:], start=1):  # each copy follows its original
        if counts[key] == 2 and keys[i - 1] != key:
            assert keys[i + 1] == key


# --- customers ------------------------------------------------------------------------------


def purchases_per_customer(orders: list[dict[str, object]]) -> Counter[object]:
    paid_orders = {(r["customer_id"], r["order_id"]) for r in orders if r["status"] == "paid"}
    return Counter(customer for customer, _ in paid_orders)


def test_most_buyers_buy_once_a_few_buy_often(orders: list[dict[str, object]]) -> None:
    per_customer = purchases_per_customer(orders)
    one_timers = sum(1 for n in per_customer.values() if n == 1)
    assert 0.5 < one_timers / len(per_customer) < 0.85
    assert max(per_customer.values()) >= 15
    assert sum(1 for n in per_customer.values() if n >= 5) > 0.03 * len(per_customer)


def test_prospects_have_signup_but_no_orders(
    orders: list[dict[str, object]], customers: list[dict[str, object]]
) -> None:
    buyers = {r["customer_id"] for r in orders}
    prospects = [c for c in customers if c["customer_id"] not in buyers]
    assert len(prospects) == round(0.15 * len(buyers))
    assert all(isinstance(c["signup_date"], dt.date) for c in prospects)
    none = generate(orders=500, seed=1, prospects_share=0)
    assert set(none.customers.column("customer_id").to_pylist()) == set(
        none.orders.column("customer_id").cast(pa.string()).to_pylist()
    )


def test_every_orders_customer_is_in_the_crm_file(files: Path) -> None:
    con = duckdb.connect()
    orders_csv = str(files / "en" / "orders.csv")
    customers_csv = str(files / "en" / "customers.csv")
    missing = con.execute(
        "SELECT count(*) FROM read_csv(?, all_varchar=true) o "
        "ANTI JOIN read_csv(?, all_varchar=true) c USING (customer_id)",
        [orders_csv, customers_csv],
    ).fetchone()
    assert missing == (0,)
    unique = con.execute(
        "SELECT count(*) = count(DISTINCT customer_id) FROM read_csv(?, all_varchar=true)",
        [customers_csv],
    ).fetchone()
    assert unique == (True,)


def test_signup_is_on_or_before_the_first_order(files: Path) -> None:
    con = duckdb.connect()
    late = con.execute(
        """
        WITH first AS (
            SELECT customer_id, min(order_ts)::DATE AS first_day
            FROM read_parquet(?) GROUP BY customer_id
        )
        SELECT count(*), count(*) FILTER (WHERE c.signup_date > f.first_day),
               count(*) FILTER (WHERE c.signup_date = f.first_day)
        FROM first f JOIN read_parquet(?) c USING (customer_id)
        """,
        [str(files / "parquet" / "orders.parquet"), str(files / "parquet" / "customers.parquet")],
    ).fetchone()
    assert late is not None
    buyers, after, same_day = late
    assert buyers > 1000 and after == 0
    assert 0 < same_day < buyers  # some sign up as they buy, others earlier


# --- shape over time ------------------------------------------------------------------------


@pytest.fixture(scope="module")
def big(tmp_path_factory: pytest.TempPathFactory) -> duckdb.DuckDBPyConnection:
    path = tmp_path_factory.mktemp("big")
    write(generate(orders=60_000, seed=11), path, "parquet")
    con = duckdb.connect()
    con.execute(f"CREATE VIEW o AS SELECT * FROM read_parquet('{path / 'orders.parquet'}')")
    return con


def per_day(con: duckdb.DuckDBPyConnection, where: str) -> float:
    row = con.execute(
        f"SELECT count(DISTINCT order_id) / count(DISTINCT order_ts::DATE) FROM o WHERE {where}"
    ).fetchone()
    assert row is not None
    return float(row[0])


def test_growth_and_year_end_peak(big: duckdb.DuckDBPyConnection) -> None:
    by_year = dict(big.execute("SELECT year(order_ts), count(DISTINCT order_id) FROM o "
                               "GROUP BY 1").fetchall())  # fmt: skip
    assert by_year[2023] < by_year[2024] < by_year[2025]
    new_customers = dict(big.execute(
        "SELECT y, count(*) FROM (SELECT customer_id, year(min(order_ts)) AS y FROM o "
        "GROUP BY 1) GROUP BY 1").fetchall())  # fmt: skip
    assert new_customers[2025] > 1.5 * new_customers[2023]  # acquisition grows
    year_end = per_day(big, "year(order_ts) = 2024 AND month(order_ts) IN (11, 12)")
    mid_year = per_day(big, "year(order_ts) = 2024 AND month(order_ts) BETWEEN 6 AND 10")
    assert year_end > 1.2 * mid_year


def test_black_friday_spike(big: duckdb.DuckDBPyConnection) -> None:
    for year, black_friday in ((2023, "2023-11-24"), (2024, "2024-11-29"), (2025, "2025-11-28")):
        spike = per_day(big, f"order_ts::DATE = DATE '{black_friday}'")
        row = big.execute(
            "SELECT median(n) FROM (SELECT count(DISTINCT order_id) n FROM o "
            "WHERE year(order_ts) = ? AND month(order_ts) = 11 GROUP BY order_ts::DATE)",
            [year],
        ).fetchone()
        assert row is not None
        assert spike > 2 * row[0]


def test_weekly_and_daily_patterns(big: duckdb.DuckDBPyConnection) -> None:
    by_weekday = dict(big.execute("SELECT isodow(order_ts), count(DISTINCT order_id) FROM o "
                                  "GROUP BY 1").fetchall())  # fmt: skip
    assert by_weekday[1] > 1.1 * by_weekday[6]  # Mondays busier than Saturdays
    by_hour = dict(big.execute("SELECT hour(order_ts), count(*) FROM o GROUP BY 1").fetchall())
    assert sum(by_hour[h] for h in range(19, 23)) > 3 * sum(by_hour[h] for h in range(2, 6))


# --- formats ----------------------------------------------------------------------------------


def test_standard_csv(files: Path, data: SampleData) -> None:
    raw = (files / "en" / "orders.csv").read_bytes()
    raw.decode("utf-8")
    header, rows = read_csv(files / "en" / "orders.csv", "utf-8", ",")
    assert header == ORDER_COLUMNS
    assert len(rows) == data.orders.num_rows
    assert all(len(row) == len(header) for row in rows)
    stamps = [row[2] for row in rows]
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2} \d{2}:\d{2}:\d{2}", s) for s in stamps)
    assert all(EN_MONEY.match(row[9]) and EN_MONEY.match(row[10]) for row in rows)
    expected = data.orders.slice(0, 50).to_pylist()
    for row, want in zip(rows, expected, strict=False):
        assert dt.datetime.fromisoformat(row[2]) == want["order_ts"]
        assert Decimal(row[10]) == Decimal(str(want["amount"])).quantize(Decimal("0.01"))
    header, rows = read_csv(files / "en" / "customers.csv", "utf-8", ",")
    assert header == CUSTOMER_COLUMNS
    assert {row[4] for row in rows} == {"true", "false"}
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", row[2]) for row in rows)


def test_standard_csv_is_typed_correctly_by_duckdb(files: Path) -> None:
    con = duckdb.connect()
    types = dict(
        (name, kind)
        for name, kind, *_ in con.execute(
            "DESCRIBE SELECT * FROM read_csv(?)", [str(files / "en" / "orders.csv")]
        ).fetchall()
    )
    assert types["order_ts"] == "TIMESTAMP"
    assert types["amount"] == "DOUBLE"
    assert types["quantity"] == "BIGINT"


def test_brazilian_csv_encoding_and_dialect(files: Path) -> None:
    raw = (files / "pt-BR" / "orders.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        raw.decode("utf-8")
    text = raw.decode("cp1252")
    assert "Eletrônicos" in text and "Calçados" in text and "Acessórios" in text
    assert text.splitlines()[0] == ";".join(ORDER_COLUMNS_PT)
    customers_raw = (files / "pt-BR" / "customers.csv").read_bytes()
    with pytest.raises(UnicodeDecodeError):
        customers_raw.decode("utf-8")  # "não", "pessoa física"
    assert customers_raw.decode("cp1252").splitlines()[0] == ";".join(CUSTOMER_COLUMNS_PT)


def test_brazilian_csv_values(files: Path, data: SampleData) -> None:
    header, rows = read_csv(files / "pt-BR" / "orders.csv", "cp1252", ";")
    assert header == ORDER_COLUMNS_PT
    assert all(len(row) == len(header) for row in rows)
    col = {name: i for i, name in enumerate(header)}
    assert {row[col["situacao"]] for row in rows} == {"pago", "cancelado", "devolvido"}
    assert {row[col["canal"]] for row in rows} == {"site", "app", "loja", "marketplace"}
    for row in rows:
        assert re.fullmatch(r"\d{2}/\d{2}/\d{4} \d{2}:\d{2}:\d{2}", row[col["data_pedido"]])
        assert BR_MONEY.match(row[col["valor_total"]]), row
        assert BR_MONEY.match(row[col["preco_unitario"]]), row
    amounts = [row[col["valor_total"]] for row in rows]
    assert any("." in a for a in amounts)  # thousands separator
    assert any(a.startswith("-") for a in amounts)
    # the same data as the standard file, row by row
    en = data.orders.to_pylist()
    assert len(rows) == len(en)
    for row, want in zip(rows, en, strict=True):
        assert row[col["pedido"]] == want["order_id"]
        assert row[col["cliente"]] == want["customer_id"]
        when = dt.datetime.strptime(row[col["data_pedido"]], "%d/%m/%Y %H:%M:%S")
        assert when == want["order_ts"]
        assert br_number(row[col["valor_total"]]) == Decimal(f"{want['amount']:.2f}")
        assert int(row[col["quantidade"]]) == want["quantity"]
    header, rows = read_csv(files / "pt-BR" / "customers.csv", "cp1252", ";")
    col = {name: i for i, name in enumerate(header)}
    assert {row[col["aceita_marketing"]] for row in rows} == {"sim", "não"}
    assert {row[col["segmento"]] for row in rows} == {"pessoa física", "pessoa jurídica"}
    assert all(re.fullmatch(r"\d{2}/\d{2}/\d{4}", row[col["data_cadastro"]]) for row in rows)
    en_customers = data.customers.to_pylist()
    for row, want in zip(rows, en_customers, strict=True):
        assert row[col["cliente"]] == want["customer_id"]
        signup = dt.datetime.strptime(row[col["data_cadastro"]], "%d/%m/%Y").date()
        assert signup == want["signup_date"]


def test_parquet_is_typed(files: Path, data: SampleData) -> None:
    con = duckdb.connect()
    path = str(files / "parquet" / "orders.parquet")
    types = {name: kind for name, kind, *_ in con.execute(
        "DESCRIBE SELECT * FROM read_parquet(?)", [path]).fetchall()}  # fmt: skip
    assert types == {
        "order_id": "VARCHAR", "customer_id": "VARCHAR", "order_ts": "TIMESTAMP",
        "status": "VARCHAR", "channel": "VARCHAR", "state": "VARCHAR", "category": "VARCHAR",
        "product": "VARCHAR", "quantity": "INTEGER", "unit_price": "DOUBLE", "amount": "DOUBLE",
    }  # fmt: skip
    back = pq.read_table(path)
    assert back.schema.field("order_id").type == pa.string()  # plain strings for every reader
    assert back.equals(data.orders.cast(back.schema))
    customers = pq.read_table(files / "parquet" / "customers.parquet")
    assert customers.schema.field("signup_date").type == pa.date32()
    assert customers.schema.field("marketing_consent").type == pa.bool_()


def test_ndjson_one_object_per_line(files: Path, data: SampleData) -> None:
    lines = (files / "ndjson" / "orders.ndjson").read_text(encoding="utf-8").splitlines()
    assert len(lines) == data.orders.num_rows
    first = json.loads(lines[0])
    assert list(first) == ORDER_COLUMNS
    assert isinstance(first["customer_id"], str) and first["customer_id"].startswith("0")
    assert isinstance(first["quantity"], int) and isinstance(first["amount"], float)
    assert dt.datetime.fromisoformat(first["order_ts"]) == data.orders.column("order_ts")[0].as_py()
    objects = [json.loads(line) for line in lines]
    assert sum(o["status"] == "returned" for o in objects) > 0
    customers = (files / "ndjson" / "customers.ndjson").read_text(encoding="utf-8").splitlines()
    assert list(json.loads(customers[0])) == CUSTOMER_COLUMNS
    assert isinstance(json.loads(customers[0])["marketing_consent"], bool)


def test_locale_only_changes_csv(tmp_path: Path, data: SampleData) -> None:
    en = write(data, tmp_path / "en", "parquet", "en")
    pt = write(data, tmp_path / "pt", "parquet", "pt-BR")
    assert [p.read_bytes() for p in en] == [p.read_bytes() for p in pt]
    assert write(data, tmp_path / "alias", "CSV", "pt_br")[0].read_bytes() == (
        write(data, tmp_path / "pt-csv", "csv", "pt-BR")[0].read_bytes()
    )


# --- writing ------------------------------------------------------------------------------


def test_write_creates_the_folder_and_returns_the_paths(tmp_path: Path) -> None:
    small = generate(orders=20, seed=1)
    out = tmp_path / "new" / "folder"
    paths = write(small, out, "ndjson")
    assert paths == [out / "orders.ndjson", out / "customers.ndjson"]
    assert sorted(p.name for p in out.iterdir()) == ["customers.ndjson", "orders.ndjson"]


def test_write_replaces_files_atomically(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    small = generate(orders=20, seed=1)
    write(small, tmp_path, "csv")
    before = (tmp_path / "orders.csv").read_bytes()

    def broken(table: pa.Table, path: Path, kind: str, locale: str) -> None:
        path.write_text("half a fi")
        raise OSError("disk full")

    monkeypatch.setattr(sample, "_write_csv", broken)
    with pytest.raises(OSError, match="disk full"):
        write(generate(orders=30, seed=2), tmp_path, "csv")
    assert (tmp_path / "orders.csv").read_bytes() == before
    assert sorted(p.name for p in tmp_path.iterdir()) == ["customers.csv", "orders.csv"]


# --- parameters -------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kwargs", "option"),
    [
        ({"orders": 0}, "--orders"),
        ({"orders": -5}, "--orders"),
        ({"orders": 2.5}, "--orders"),
        ({"orders": True}, "--orders"),
        ({"seed": -1}, "--seed"),
        ({"start": dt.date(2024, 2, 1), "end": dt.date(2024, 1, 31)}, "--end"),
        ({"start": "2024-01-01"}, "--start"),
        ({"prospects_share": -0.1}, "--prospects-share"),
        ({"prospects_share": math.nan}, "--prospects-share"),
    ],
)
def test_bad_generate_parameters(kwargs: dict[str, object], option: str) -> None:
    with pytest.raises(UsageError) as err:
        generate(**kwargs)
    assert option in str(err.value) and "\n" not in str(err.value)
    assert err.value.exit_code == 2


@pytest.mark.parametrize(
    ("fmt", "locale", "option"),
    [("xlsx", "en", "--format"), ("", "en", "--format"), ("csv", "fr", "--locale"),
     ("csv", "pt-PT", "--locale")],
)  # fmt: skip
def test_bad_write_parameters(tmp_path: Path, fmt: str, locale: str, option: str) -> None:
    with pytest.raises(UsageError) as err:
        write(generate(orders=5, seed=1), tmp_path / "out", fmt, locale)
    assert option in str(err.value) and "\n" not in str(err.value)
    assert not (tmp_path / "out").exists()


# --- properties ---------------------------------------------------------------------------


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    n=st.integers(1, 400),
    seed=st.integers(0, 2**32),
    start=st.dates(dt.date(2000, 1, 1), dt.date(2030, 12, 31)),
    days=st.integers(0, 1500),
    share=st.floats(0, 1),
)
def test_invariants_hold_for_any_parameters(
    n: int, seed: int, start: dt.date, days: int, share: float
) -> None:
    end = start + dt.timedelta(days=days)
    data = generate(orders=n, seed=seed, start=start, end=end, prospects_share=share)
    orders = rows_of(data.orders)
    assert len({r["order_id"] for r in orders}) == n
    first_day: dict[object, dt.date] = {}
    for r in orders:
        ts = r["order_ts"]
        assert isinstance(ts, dt.datetime)
        assert (
            dt.datetime.combine(start, dt.time())
            <= ts
            < dt.datetime.combine(end + dt.timedelta(days=1), dt.time())
        )
        first_day[r["customer_id"]] = min(first_day.get(r["customer_id"], ts.date()), ts.date())
        assert (r["amount"] < 0) == (r["status"] == "returned")
    customers = {c["customer_id"]: c for c in rows_of(data.customers)}
    assert len(customers) == len(first_day) + round(share * len(first_day))
    for customer, day in first_day.items():
        signup = customers[customer]["signup_date"]
        assert isinstance(signup, dt.date) and start <= signup <= day
    keys = [(r["order_ts"], r["order_id"]) for r in orders]
    assert keys == sorted(keys)


def test_csv_writer_handles_many_chunks(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(sample, "_CSV_CHUNK_ROWS", 1000)
    data = generate(orders=3000, seed=4)
    chunked = write(data, tmp_path / "chunked", "csv", "pt-BR")[0].read_bytes()
    monkeypatch.setattr(sample, "_CSV_CHUNK_ROWS", 1 << 19)
    whole = write(data, tmp_path / "whole", "csv", "pt-BR")[0].read_bytes()
    assert chunked == whole
    assert chunked.count(b"\n") == data.orders.num_rows + 1
    assert io.BytesIO(chunked).readline().startswith(b"pedido;")


def test_committed_sample_data_is_what_the_generator_writes(tmp_path: Path) -> None:
    """sample_data/ is generated: regenerate it (see sample_data/README.md) after changes."""
    committed = Path(__file__).resolve().parent.parent / "sample_data"
    data = generate(orders=5000, seed=42)
    for path in write(data, tmp_path, "csv"):
        assert path.read_bytes() == (committed / path.name).read_bytes(), path.name
    for path in write(data, tmp_path / "pt-BR", "csv", "pt-BR"):
        assert path.read_bytes() == (committed / "pt-BR" / path.name).read_bytes(), path.name
    for path in write(data, tmp_path, "parquet"):  # content: the bytes name the pyarrow version
        assert pq.read_table(path).equals(pq.read_table(committed / path.name)), path.name
