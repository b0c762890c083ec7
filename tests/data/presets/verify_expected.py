"""Recompute the facts in expected.json from the fixture CSVs, with the csv module only.

This is an independent cross-check of the hand-computed numbers (it shares no code with
clientela). Run: python tests/data/presets/verify_expected.py  -> exit 0 when all match.
"""

from __future__ import annotations

import csv
import json
import sys
from datetime import datetime, timezone
from decimal import ROUND_HALF_UP, Decimal
from pathlib import Path

HERE = Path(__file__).resolve().parent
CENT = Decimal("0.01")


def dec(text: str) -> Decimal:
    return Decimal(text.strip()) if text.strip() else Decimal(0)


def utc_iso(dt: datetime) -> str:
    return dt.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%SZ")


def naive_utc(dt: datetime) -> datetime:
    return dt.replace(tzinfo=timezone.utc)


def read(name: str) -> tuple[list[str], list[list[str]]]:
    with open(HERE / name, newline="", encoding="utf-8") as fh:
        rows = list(csv.reader(fh))
    return rows[0], rows[1:]


def drop_rows(header, rows, customer_col):
    ci = header.index(customer_col)
    kept, no_customer, duplicate, seen = [], 0, 0, set()
    for row in rows:
        if not row[ci].strip():
            no_customer += 1
            continue
        key = tuple(row)
        if key in seen:
            duplicate += 1
            continue
        seen.add(key)
        kept.append(dict(zip(header, row, strict=True)))
    return kept, no_customer, duplicate


def summarise(orders, excluded, rows_read, no_customer, duplicate):
    """orders: {order_id: (customer, ts, value)} after exclusions."""
    values = {k: v for k, (_, _, v) in orders.items()}
    per_customer: dict[str, Decimal] = {}
    per_customer_orders: dict[str, int] = {}
    per_customer_purchases: dict[str, int] = {}
    for cust, _, v in orders.values():
        per_customer[cust] = per_customer.get(cust, Decimal(0)) + v
        per_customer_orders[cust] = per_customer_orders.get(cust, 0) + 1
        if v > 0:
            per_customer_purchases[cust] = per_customer_purchases.get(cust, 0) + 1
    stamps = [ts for _, ts, _ in orders.values()]
    return {
        "rows_read": rows_read,
        "rows_no_customer": no_customer,
        "rows_duplicate": duplicate,
        "orders": len(orders),
        "orders_excluded_by_status": len(excluded),
        "excluded_orders": sorted(excluded),
        "customers": len(per_customer),
        "purchases": sum(1 for v in values.values() if v > 0),
        "refund_orders": sum(1 for v in values.values() if v < 0),
        "net_revenue": sum(values.values(), Decimal(0)).quantize(CENT, ROUND_HALF_UP),
        "first_order_ts": utc_iso(min(stamps)),
        "last_order_ts": utc_iso(max(stamps)),
        "order_values": {k: v.quantize(CENT) for k, v in values.items()},
        "customer_net_revenue": {k: v.quantize(CENT) for k, v in per_customer.items()},
        "customer_orders": per_customer_orders,
        "customer_purchases": per_customer_purchases,
    }


def shopify(name):
    header, rows = read(name)
    kept, nc, dup = drop_rows(header, rows, "Email")
    first_row, stamps, customer = {}, {}, {}
    for r in kept:
        oid = r["Name"]
        ts = datetime.strptime(r["Created at"], "%Y-%m-%d %H:%M:%S %z")
        stamps[oid] = min(stamps.get(oid, ts), ts)
        customer[oid] = r["Email"].strip()
        if r["Financial Status"].strip():  # order-level fields live on the first row only
            first_row[oid] = r
    orders, excluded = {}, []
    for oid, r in first_row.items():
        if r["Financial Status"] in ("voided", "refunded") or r["Cancelled at"].strip():
            excluded.append(oid)
            continue
        orders[oid] = (customer[oid], stamps[oid], dec(r["Total"]) - dec(r["Refunded Amount"]))
    return summarise(orders, excluded, len(rows), nc, dup)


WOO_EXCLUDED = {"cancelled", "failed", "refunded", "pending"}


def woo_status(text: str) -> str:
    s = text.strip().lower()
    return s[3:] if s.startswith("wc-") else s


def woocommerce(name):
    header, rows = read(name)
    kept, nc, dup = drop_rows(header, rows, "billing_email")
    orders, excluded = {}, []
    for r in kept:
        if woo_status(r["status"]) in WOO_EXCLUDED:
            excluded.append(r["order_id"])
            continue
        refunded = sum(
            (
                dec(part.split(":", 1)[1])
                for item in r["refund_items"].split(";")
                if item
                for part in item.split("|")
                if part.startswith("amount:")
            ),
            Decimal(0),
        )
        ts = naive_utc(datetime.strptime(r["order_date"], "%Y-%m-%d %H:%M:%S"))
        orders[r["order_id"]] = (r["billing_email"].strip(), ts, dec(r["order_total"]) - refunded)
    return summarise(orders, excluded, len(rows), nc, dup)


def woocommerce_analytics(name):
    header, rows = read(name)
    kept, nc, dup = drop_rows(header, rows, "Customer")
    acc: dict[str, list] = {}
    status: dict[str, str] = {}
    for r in kept:
        oid = r["Order #"]
        ts = naive_utc(datetime.strptime(r["Date"], "%Y-%m-%d %H:%M:%S"))
        cur = acc.setdefault(oid, [r["Customer"].strip(), ts, Decimal(0)])
        cur[1] = min(cur[1], ts)
        cur[2] += dec(r["Net Sales"])
        status.setdefault(oid, woo_status(r["Status"]))
    excluded = [o for o in acc if status[o] in WOO_EXCLUDED]
    orders = {o: tuple(v) for o, v in acc.items() if o not in excluded}
    return summarise(orders, excluded, len(rows), nc, dup)


def uci(name, inv_col, cust_col, price_col, date_fmt):
    header, rows = read(name)
    kept, nc, dup = drop_rows(header, rows, cust_col)
    acc: dict[str, list] = {}
    for r in kept:
        cust = r[cust_col].strip()
        if cust.endswith(".0"):
            cust = cust[:-2]
        ts = naive_utc(datetime.strptime(r["InvoiceDate"], date_fmt))
        value = dec(r["Quantity"]) * dec(r[price_col])
        cur = acc.setdefault(r[inv_col], [cust, ts, Decimal(0)])
        cur[1] = min(cur[1], ts)
        cur[2] += value
    return summarise({k: tuple(v) for k, v in acc.items()}, [], len(rows), nc, dup)


COMPUTE = {
    "shopify_orders_export.csv": shopify,
    "woocommerce_orders_export.csv": woocommerce,
    "woocommerce_analytics_orders.csv": woocommerce_analytics,
    "online_retail.csv": lambda n: uci(n, "InvoiceNo", "CustomerID", "UnitPrice", "%m/%d/%Y %H:%M"),
    "online_retail_ii.csv": lambda n: uci(
        n, "Invoice", "Customer ID", "Price", "%Y-%m-%d %H:%M:%S"
    ),
}

SCALARS = (
    "rows_read",
    "rows_no_customer",
    "rows_duplicate",
    "orders",
    "orders_excluded_by_status",
    "customers",
    "purchases",
    "refund_orders",
    "first_order_ts",
    "last_order_ts",
)


def main() -> int:
    expected = json.loads((HERE / "expected.json").read_text(encoding="utf-8"))
    failures = 0
    for name, compute in COMPUTE.items():
        exp, got = expected[name], compute(name)
        problems = [
            f"{k}: expected {exp[k]!r}, got {got[k]!r}" for k in SCALARS if exp[k] != got[k]
        ]
        if Decimal(str(exp["net_revenue"])) != got["net_revenue"]:
            problems.append(f"net_revenue: expected {exp['net_revenue']}, got {got['net_revenue']}")
        if sorted(exp["excluded_orders"]) != got["excluded_orders"]:
            problems.append(
                f"excluded_orders: {sorted(exp['excluded_orders'])} vs {got['excluded_orders']}"
            )
        tables = ("order_values", "customer_net_revenue", "customer_orders", "customer_purchases")
        for table in tables:
            for key, value in exp.get(table, {}).items():
                actual = got[table].get(key)
                want = Decimal(str(value)).quantize(CENT) if isinstance(value, float) else value
                if actual != want:
                    problems.append(f"{table}[{key}]: expected {value}, got {actual}")
        differ = set(exp["order_values"]) ^ set(got["order_values"])
        if differ:
            problems.append(f"order ids differ: {sorted(differ)}")
        print(f"{'ok  ' if not problems else 'FAIL'} {name}")
        for p in problems:
            print(f"     {p}")
        failures += bool(problems)
    return 1 if failures else 0


if __name__ == "__main__":
    sys.exit(main())
