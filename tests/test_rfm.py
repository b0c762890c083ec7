"""RFM against a plain-Python reference, properties, segment maps and the CLI."""

from __future__ import annotations

import csv
import datetime as dt
import json
import math
import tempfile
from pathlib import Path

import pyarrow.parquet as pq
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from clientela.errors import UsageError
from clientela.load import LoadOptions, load
from clientela.rfm import RfmParams, compute_rfm
from clientela.segments import RFM10_GRID, SEGMENTS, builtin, get_map, to_grid
from tests.conftest import run_cli, write
from tests.test_load_reference import reference as reference_orders

START = dt.date(2025, 1, 1)

# DESIGN.md's default R x F map, written out independently of the implementation
DESIGN_MAP = {
    5: ["new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"],
    4: [
        "promising",
        "potential_loyalists",
        "potential_loyalists",
        "loyal_customers",
        "loyal_customers",
    ],
    3: ["about_to_sleep", "about_to_sleep", "need_attention", "loyal_customers", "loyal_customers"],
    2: ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    1: ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
}


def reference_rfm(orders: dict, as_of: dt.date, bins: int) -> dict[str, dict]:
    """RFM exactly as DESIGN.md words it, in plain Python, from reference orders."""
    per: dict[str, dict] = {}
    for (cust, _oid), o in orders.items():
        c = per.setdefault(cust, {"dates": [], "net": 0.0, "n": 0})
        c["net"] += o["amount"]
        if o["is_purchase"]:
            c["n"] += 1
            c["dates"].append(o["order_ts"].date())
    rows = {}
    for cust, c in per.items():
        if c["n"] == 0:
            continue
        rows[cust] = {
            "recency_days": (as_of - max(c["dates"])).days,
            "frequency": c["n"],
            "monetary": round(c["net"], 2),
            "first_purchase": min(c["dates"]),
            "last_purchase": max(c["dates"]),
        }
    n = len(rows)

    def scores(key, worst_first_value):
        values = {cust: worst_first_value(r[key]) for cust, r in rows.items()}
        ordered = sorted(values.values())
        out = {}
        for cust, v in values.items():
            rank = 1 + sum(1 for x in ordered if x < v)  # SQL RANK(): ties share the rank
            out[cust] = 1 + math.floor(bins * (rank - 1) / n)
        return out

    r = scores("recency_days", lambda d: -d)
    f = scores("frequency", lambda x: x)
    m = scores("monetary", lambda x: x)
    for cust, row in rows.items():
        row.update(r_score=r[cust], f_score=f[cust], m_score=m[cust])
        # scores onto the 5x5 grid, linear, halves up (DESIGN: "by quintile of their range")
        gr = math.floor(1 + (r[cust] - 1) * 4 / (bins - 1) + 0.5)
        gf = math.floor(1 + (f[cust] - 1) * 4 / (bins - 1) + 0.5)
        row["segment"] = DESIGN_MAP[gr][gf - 1]
    return rows


line = st.tuples(
    st.sampled_from(["", "a", "b", "c", "d", "e", "f", "g", "007"]),
    st.sampled_from(["o1", "o2", "o3", "o4", "o5", "o6", "o7", "o8"]),
    st.integers(0, 60),
    st.integers(0, 23),
    st.sampled_from([0, 10, 10, 25.5, 99.99, 100, -10, -25.5]),
    st.sampled_from(["paid", "paid", "paid", "cancelled"]),
)


def _write_lines(path: Path, lines: list[tuple]) -> None:
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "order_id", "order_ts", "amount", "status"])
        for cust, oid, day, hour, amount, status in lines:
            ts = dt.datetime(2025, 1, 1, hour) + dt.timedelta(days=day)
            w.writerow([cust, oid, ts.strftime("%Y-%m-%d %H:%M:%S"), amount, status])


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    lines=st.lists(line, min_size=1, max_size=40),
    as_of_day=st.integers(20, 70),
    bins=st.integers(2, 10),
)
def test_rfm_matches_reference(lines: list[tuple], as_of_day: int, bins: int) -> None:
    lines = [*lines, ("a", "o9", 0, 1, 5, "paid")]  # at least one purchase
    as_of = START + dt.timedelta(days=as_of_day)
    with tempfile.TemporaryDirectory() as d:
        path = Path(d) / "o.csv"
        _write_lines(path, lines)
        loaded = load([str(path)], LoadOptions(as_of=as_of, dimensions=[]))
        res = compute_rfm(loaded, RfmParams(bins=bins))
        cur = loaded.con.execute(
            "SELECT customer_id, recency_days, frequency, monetary, first_purchase, "
            "last_purchase, r_score, f_score, m_score, segment FROM rfm"
        )
        names = [c[0] for c in cur.description]
        got = {r[0]: dict(zip(names[1:], r[1:], strict=True)) for r in cur.fetchall()}
        loaded.con.close()
    expected = reference_rfm(reference_orders(lines, as_of, False), as_of, bins)
    assert got == expected
    assert res.customers == len(expected)
    # properties: scores in range; each customer once; segments cover everyone
    for row in got.values():
        assert all(1 <= row[k] <= bins for k in ("r_score", "f_score", "m_score"))
        assert row["segment"] in SEGMENTS


@settings(max_examples=25, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(lines=st.lists(line, min_size=3, max_size=30), who=st.sampled_from(["a", "b", "c"]))
def test_buying_again_never_lowers_r_or_f(lines: list[tuple], who: str) -> None:
    lines = [*lines, (who, "o9", 0, 1, 5, "paid")]
    as_of = START + dt.timedelta(days=61)
    extra = (who, "new-order", 61, 0, 42, "paid")
    results = []
    with tempfile.TemporaryDirectory() as d:
        for variant in (lines, [*lines, extra]):
            path = Path(d) / "o.csv"
            _write_lines(path, variant)
            loaded = load([str(path)], LoadOptions(as_of=as_of, dimensions=[]))
            compute_rfm(loaded, RfmParams())
            results.append(
                loaded.con.execute(
                    "SELECT r_score, f_score FROM rfm WHERE customer_id = ?", [who]
                ).fetchall()[0]
            )
            loaded.con.close()
    before, after = results
    assert after[0] >= before[0] and after[1] >= before[1]


def test_by_single_group_equals_plain_scores(tmp_path: Path) -> None:
    """The window-rank path (--by) and the order-statistics path agree."""
    import random

    rng = random.Random(3)
    rows = [
        (
            f"c{rng.randint(1, 300)}",
            f"o{i}",
            rng.randint(0, 400),
            rng.randint(0, 23),
            rng.choice([5, 10, 10, 20, 35.5, 50, 100, -10]),
            "paid",
        )
        for i in range(1500)
    ]
    path = tmp_path / "o.csv"
    with path.open("w", newline="") as fh:
        w = csv.writer(fh)
        w.writerow(["customer_id", "order_id", "order_ts", "amount", "status", "shop"])
        for cust, oid, day, hour, amount, status in rows:
            ts = dt.datetime(2024, 1, 1, hour) + dt.timedelta(days=day)
            w.writerow([cust, oid, ts, amount, status, "one"])
    plain = load([str(path)], LoadOptions(dimensions=[]))
    compute_rfm(plain, RfmParams(bins=7))
    grouped = load([str(path)], LoadOptions(dimensions=["shop"]))
    compute_rfm(grouped, RfmParams(bins=7, by="shop"))
    q = "SELECT customer_id, r_score, f_score, m_score FROM rfm ORDER BY 1"
    assert plain.con.execute(q).fetchall() == grouped.con.execute(q).fetchall()


def test_by_groups_scored_separately_first_or_last(tmp_path: Path) -> None:
    f = write(
        tmp_path / "o.csv",
        "customer_id,order_date,amount,channel\n"
        "a,2025-01-01,10,web\na,2025-02-01,10,app\nb,2025-01-05,50,web\n"
        "c,2025-01-06,5,app\nd,2025-02-01,500,app\n",
    )
    loaded = load([str(f)], LoadOptions(dimensions=["channel"]))
    compute_rfm(loaded, RfmParams(by="channel"))
    got = dict(loaded.con.execute("SELECT customer_id, channel FROM rfm").fetchall())
    assert got == {"a": "web", "b": "web", "c": "app", "d": "app"}
    last = load([str(f)], LoadOptions(dimensions=["channel"]))
    compute_rfm(last, RfmParams(by="channel", by_mode="last"))
    assert dict(last.con.execute("SELECT customer_id, channel FROM rfm").fetchall())["a"] == "app"


def test_fixed_cuts(tmp_path: Path) -> None:
    f = write(
        tmp_path / "o.csv",
        "customer_id,order_date,amount\na,2025-03-31,100\n"
        "b,2025-03-01,40\nb,2025-02-01,40\nc,2024-03-31,1000\n",
    )
    loaded = load([str(f)], LoadOptions(as_of="2025-03-31", dimensions=[]))
    res = compute_rfm(
        loaded, RfmParams(bins=3, scoring="fixed", r_cuts=[30, 90], f_cuts=[2, 5], m_cuts=[50, 500])
    )
    got = loaded.con.execute(
        "SELECT customer_id, r_score, f_score, m_score FROM rfm ORDER BY 1"
    ).fetchall()
    assert got == [("a", 3, 1, 2), ("b", 3, 2, 2), ("c", 1, 1, 3)]
    assert res.cuts["recency_days"]["thresholds"] == {"3": 30.0, "2": 90.0}
    with pytest.raises(UsageError, match="--f-cuts"):
        RfmParams(bins=3, scoring="fixed", r_cuts=[30, 90], m_cuts=[1, 2]).validate()
    with pytest.raises(UsageError, match="increase"):
        RfmParams(bins=3, scoring="fixed", r_cuts=[90, 30], f_cuts=[2, 5], m_cuts=[1, 2]).validate()


def test_builtin_maps_are_complete_and_rfm11_reaches_eleven_segments() -> None:
    for bins in range(2, 11):
        for name in ("rfm10", "rfm11"):
            m = builtin(name, bins)
            assert len(m.assign) == bins**3
    assert {s for row in RFM10_GRID for s in row} == set(SEGMENTS) - {"lost"}
    assert set(builtin("rfm11", 5).assign.values()) == set(SEGMENTS)  # all 11 reachable
    assert [to_grid(s, 10) for s in range(1, 11)] == [1, 1, 2, 2, 3, 3, 4, 4, 5, 5]
    assert [to_grid(s, 3) for s in range(1, 4)] == [1, 3, 5]


def test_user_map_from_toml(tmp_path: Path) -> None:
    good = tmp_path / "map.toml"
    good.write_text(
        'name = "simple"\n[[segment]]\nid = "vip"\nlabel = "VIP"\n'
        'label_pt = "VIP"\nr = [4, 5]\nf = [4, 5]\n\n[[segment]]\nid = "rest"\n'
        'label = "Everyone else"\nlabel_pt = "Demais"\n'
    )
    m = get_map(str(good), 5)
    assert m.assign[(5, 5, 1)] == "vip" and m.assign[(3, 5, 5)] == "rest"
    gap = tmp_path / "gap.toml"
    gap.write_text('[[segment]]\nid = "vip"\nr = [4, 5]\n')
    with pytest.raises(UsageError) as e:
        get_map(str(gap), 5)
    assert "r=1 f=1 m=1 matches no rule" in str(e.value) and "gap.toml" in str(e.value)
    bad = tmp_path / "bad.toml"
    bad.write_text('[[segment]]\nid = "x"\nr = [0, 9]\n')
    with pytest.raises(UsageError, match=r"outside 1\.\.5"):
        get_map(str(bad), 5)


RFM_CSV = (
    "customer_id,order_id,order_date,amount\n"
    "a,1,2025-01-01,100\na,2,2025-03-01,50\nb,3,2025-02-01,30\nc,4,2024-06-01,500\n"
    "d,5,2025-03-10,20\nd,6,2025-03-12,-20\ne,7,2025-03-01,0\n"
)


def test_cli_rfm_contract(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", RFM_CSV)
    res = run_cli("rfm", str(f), "--lang", "pt", "-o", "-")
    assert res.code == 0, res.err
    rows = list(csv.DictReader(res.out.splitlines()))
    assert [r["customer_id"] for r in rows] == ["a", "b", "c", "d"]
    assert list(rows[0]) == [
        "customer_id",
        "first_purchase",
        "last_purchase",
        "recency_days",
        "frequency",
        "monetary",
        "avg_order_value",
        "r_score",
        "f_score",
        "m_score",
        "rfm_score",
        "segment",
        "segment_label",
    ]
    d = next(r for r in rows if r["customer_id"] == "d")
    assert d["monetary"] == "0.0" and d["frequency"] == "1"  # the refund nets out
    assert {r["segment_label"] for r in rows} <= {s.label_pt for s in SEGMENTS.values()}
    err = res.err
    assert "1 customers without a purchase" in err  # e: only a zero-value order
    assert "cut points recency_days: " in err and "cut points frequency: " in err
    assert "warning: frequency produced" in err


def test_cli_rfm_metadata_in_parquet_xlsx_and_meta_json(tmp_path: Path) -> None:
    import openpyxl

    f = write(tmp_path / "o.csv", RFM_CSV)
    out = tmp_path / "rfm.parquet"
    meta = tmp_path / "run.json"
    res = run_cli("rfm", str(f), "-o", str(out), "--meta", str(meta))
    assert res.code == 0, res.err
    kv = pq.read_metadata(out).metadata
    cuts = json.loads(kv[b"cut_points"])
    assert set(cuts) == {"recency_days", "frequency", "monetary"}
    doc = json.loads(meta.read_text())
    assert doc["cut_points"] == cuts and doc["bins"] == 5 and doc["as_of"] == "2025-03-12"
    xl = tmp_path / "rfm.xlsx"
    assert run_cli("rfm", str(f), "-o", str(xl)).code == 0
    wb = openpyxl.load_workbook(xl)
    assert wb.sheetnames == ["data", "metadata"]
    keys = [c.value for c in wb["metadata"]["A"]]
    assert "cut_points" in keys


def test_cli_rfm_summary_and_errors(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", RFM_CSV)
    res = run_cli("rfm", str(f), "--summary", "-o", "-")
    assert res.code == 0, res.err
    rows = list(csv.DictReader(res.out.splitlines()))
    assert sum(int(r["customers"]) for r in rows) == 4
    assert abs(sum(float(r["share_customers"]) for r in rows) - 1) < 1e-3
    assert all(r["suggested_action"] for r in rows)
    for args, needle in [
        (["--bins", "11"], "--bins 11"),
        (["--by", "nope"], "--by 'nope'"),
        (["--r-cuts", "1,2,3,4"], "--scoring fixed"),
        (["--segments", "rfm99"], "--segments 'rfm99'"),
    ]:
        bad = run_cli("rfm", str(f), *args, "-o", str(tmp_path / "x.csv"))
        assert bad.code == 2, (args, bad.err)
        assert needle in bad.err and len(bad.err.strip().splitlines()) == 1
        assert not (tmp_path / "x.csv").exists()


def test_by_column_named_like_an_rfm_column_and_meta_paths(tmp_path: Path) -> None:
    f = write(tmp_path / "o.csv", "customer_id,order_date,amount,segment\na,2025-01-01,1,x\n"
              "b,2025-01-02,2,z\n")
    res = run_cli("rfm", str(f), "--by", "segment", "-o", "-")
    assert res.code == 0, res.err
    assert res.out.splitlines()[0].startswith("customer_id,by_segment,first_purchase")
    out = tmp_path / "x.json"
    for args, needle in [(["-o", str(out), "--meta", str(out)], "the same path as -o"),
                         (["--meta", "-"], "give a file path"),
                         (["-o", str(out), "--meta", str(tmp_path / "no" / "m.json")],
                          "does not exist")]:
        bad = run_cli("rfm", str(f), *args)
        assert bad.code == 2 and needle in bad.err, bad.err
        assert not out.exists()


def test_avg_order_value_rounds_decimal_ties_away_from_zero(tmp_path: Path) -> None:
    """970.30 / 4 = 242.575 exactly; as a double it is 242.57499..., which round(x, 2)
    makes 242.57 (DuckDB 2.0.1) while 2205.70 / 4 = 551.425 came out 551.42 before: the
    mean order value is rounded on its decimal value, half away from zero, whatever the
    binary approximation or the DuckDB version."""
    from decimal import ROUND_HALF_UP, Decimal

    totals = {"a": "970.30", "b": "2205.70", "c": "5017.90", "d": "100.01", "e": "10.00",
              "f": "341104076352.50"}  # (f: a tie beyond 2**53 micro-units)
    lines = ["customer_id,order_id,order_date,amount"]
    for cust, total in totals.items():
        quarter = Decimal(total) / 4
        parts = [quarter.quantize(Decimal("0.01"))] * 3
        parts.append(Decimal(total) - sum(parts))  # four orders adding up to the total
        lines += [f"{cust},{cust}{i},2025-0{i + 1}-10,{p}" for i, p in enumerate(parts)]
    f = write(tmp_path / "o.csv", "\n".join(lines) + "\n")
    loaded = load([str(f)], LoadOptions(as_of="2025-12-31"))
    compute_rfm(loaded, RfmParams())
    got = dict(loaded.con.execute("SELECT customer_id, avg_order_value FROM rfm").fetchall())
    money = dict(loaded.con.execute("SELECT customer_id, monetary FROM rfm").fetchall())
    assert money["a"] == 970.30 and money["f"] == 341104076352.50
    cent = Decimal("0.01")
    want = {c: float((Decimal(t) / 4).quantize(cent, ROUND_HALF_UP)) for c, t in totals.items()}
    assert got == want
    assert want["a"] == 242.58 and want["b"] == 551.43 and want["f"] == 85276019088.13


def test_monetary_rounds_sub_cent_sums_on_their_decimal_value(tmp_path: Path) -> None:
    """A net of 242.575 (sub-cent amounts) is 242.58: rounded on the exact decimal sum, not
    on the double 242.57499..., which round(x, 2) makes 242.57 in DuckDB 2.0.1."""
    f = write(
        tmp_path / "o.csv",
        "customer_id,order_id,order_date,amount\ng,1,2025-01-10,100.0025\n"
        "g,2,2025-02-10,142.5725\nh,3,2025-03-10,10\n",
    )
    loaded = load([str(f)], LoadOptions(as_of="2025-12-31"))
    compute_rfm(loaded, RfmParams())
    got = dict(loaded.con.execute("SELECT customer_id, monetary FROM rfm").fetchall())
    assert got == {"g": 242.58, "h": 10.0}
