"""Human-readable rendering of library results (used by the CLI only).

Plain text, no colour codes unless the stream is a terminal and NO_COLOR is unset.
"""

from __future__ import annotations

from typing import IO, Any

from clientela.load import LoadReport


def _n(v: Any) -> str:
    if isinstance(v, bool) or v is None:
        return str(v)
    if isinstance(v, int):
        return f"{v:,}"
    if isinstance(v, float):
        return f"{v:,.2f}"
    return str(v)


def render_inspect(report: LoadReport, out: IO[str]) -> None:
    """The ``clientela inspect`` report as aligned plain text."""
    w = out.write
    w("Files\n")
    for f in report.files:
        extra = []
        if f.format == "csv":
            extra.append(f"delimiter {f.delimiter!r}")
            extra.append(f"encoding {f.encoding}")
        if f.compression:
            extra.append(f.compression)
        w(
            f"  {f.path}  {f.format}, {_n(f.size)} bytes, {_n(f.rows)} rows"
            f"{' (' + ', '.join(extra) + ')' if extra else ''}\n"
        )
    w("\nColumns\n")
    rwidth = max(len(r) for r in report.mapping)
    for role, choice in report.mapping.items():
        w(f"  {role:<{rwidth}}  <- {choice.source!r:<24} {choice.reason}\n")
    if report.dimensions:
        w(f"  dimensions: {', '.join(report.dimensions)}\n")
    w("\nReading\n")
    for k, v in report.dialect.items():
        w(f"  {k:<12} {v}\n")
    if report.preset:
        w(f"  {'preset':<12} {report.preset}\n")
    if report.suggested_preset:
        w(f"  {'suggested':<12} --preset {report.suggested_preset}\n")
    w(f"  {'as of':<12} {report.as_of} (inclusive)\n")
    w("\nRows\n")
    labels = {
        "read": "read",
        "no_customer": "dropped: no customer id",
        "duplicate": "dropped: exact duplicate",
        "bad_date": "dropped: unreadable date (--bad-rows skip)",
        "bad_amount": "dropped: unreadable amount (--bad-rows skip)",
        "status_excluded": "dropped: cancelled/voided/refunded status",
        "after_as_of": "ignored: after --as-of",
        "used": "used",
    }
    for k, label in labels.items():
        count = report.rows.get(k, 0)
        if count or k in ("read", "used"):
            w(f"  {label:<44} {_n(count):>12}\n")
    o = report.orders
    w("\nOrders\n")
    items = [
        ("customers", o["customers"]),
        ("customers with a purchase", o["customers_with_purchase"]),
        ("orders", o["orders"]),
        ("purchases (positive net value)", o["purchases"]),
        ("refunds (negative net value)", o["refunds"]),
        ("refund value", o["refund_value"]),
        ("zero-value orders", o["zero_value_orders"]),
        ("net revenue", o["net_revenue"]),
        ("excluded by status", o["excluded_by_status"]),
        ("after --as-of", o["after_as_of"]),
        ("first order", o["first_order"]),
        ("last order", o["last_order"]),
    ]
    for label, v in items:
        if v is None:
            continue
        w(f"  {label:<44} {_n(v):>12}\n" if not isinstance(v, str) else f"  {label:<44} {v}\n")
    if report.crm:
        w("\nCRM customers\n")
        for key, n in report.crm.items():
            w(f"  {key.replace('_', ' '):<44} {_n(n):>12}\n")
    w("\nPersonal data (LGPD; kept out of outputs unless --allow-pii)\n")
    if not report.personal:
        w("  none found\n")
    for pc in report.personal:
        where = "" if pc.get("file") == "orders" else f" ({pc.get('file')})"
        w(f"  {pc['name'] + where:<24} {pc['kind']:<11} {pc['reason']}\n")
    w("\nWarnings\n")
    if not report.warnings:
        w("  none\n")
    for warn in report.warnings:
        w(f"  [{warn.code}] {warn.message}\n")


def describe_cuts(cuts: dict[str, Any]) -> list[str]:
    """Cut points as short lines for stderr: ``recency_days: 5 <= 48, 4 <= 176, ...``."""
    lines = []
    for name, doc in cuts.items():
        op = "<=" if name == "recency_days" else ">="
        if "thresholds" in doc:
            th = doc["thresholds"]
            parts = [
                f"{k} {op} {_num(v)}"
                for k, v in sorted(th.items(), key=lambda kv: -int(kv[0]))
                if v is not None
            ]
            lines.append(f"cut points {name}: {', '.join(parts) or 'all score 1'}; else 1")
        else:
            groups = doc.get("thresholds_by_group", {})
            lines.append(f"cut points {name}: per group ({len(groups)} groups; see --meta)")
    return lines


def _num(v: Any) -> str:
    if isinstance(v, float):
        return str(int(v)) if v.is_integer() else f"{v:.2f}"
    return str(v)
