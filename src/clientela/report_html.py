"""``report.html``: one self-contained page (inline CSS, charts inline as SVG).

Contract:
- :class:`Drawing` takes the plain-Python page data of :func:`clientela.report.page_data`
  and draws the whole page in a worker thread; ``result()`` returns it as text. Nothing on
  the page is fetched from a network: no scripts, no external style sheets, fonts or
  images.
- Charts are drawn by matplotlib (the Figure API: no backend, no display, no pyplot
  state) and saved as SVG with glyphs as paths (the bundled DejaVu Sans: the page looks
  the same wherever it is opened), a fixed ``svg.hashsalt`` per chart (ids are stable and
  unique within the page) and no date metadata, so the same data gives the same bytes.
- ``lang`` ("en" or "pt") chooses every label and the number format (``1,234.5`` or
  ``1.234,5``).
"""

from __future__ import annotations

import html
import io
import math
import re
import threading
from collections.abc import Sequence
from typing import Any

# fixed colours: a status or segment has the same colour in every chart and report
STATUS_COLORS = {
    "new": "#4e9de0",
    "active": "#2f9e62",
    "vip": "#7b4fb8",
    "reactivated": "#16a3b8",
    "at_risk": "#e8912d",
    "inactive": "#9aa3ad",
    "prospect": "#d5d9de",
}
SEGMENT_COLORS = {
    "champions": "#1b7a43",
    "loyal_customers": "#3fae5e",
    "potential_loyalists": "#8fd175",
    "new_customers": "#4e9de0",
    "promising": "#9cc8f0",
    "need_attention": "#f3d25a",
    "about_to_sleep": "#f0a35c",
    "at_risk": "#e0663a",
    "cant_lose": "#b5262e",
    "hibernating": "#a7adb4",
    "lost": "#6b7078",
}
EXTRA_COLORS = ("#8c6bb1", "#c9a227", "#5b8c85", "#d17fa8", "#6d8fb3")
INK = "#1f2933"
MUTED = "#6b7682"
GRID = "#e3e7eb"

#: names of the KPIs and statuses, shared by the page and the workbook (report.LABELS)
KPI_NAMES: dict[str, dict[str, str]] = {
    "en": {
        "title": "Customer report",
        "as_of": "As of",
        "period": "Period",
        "customers": "Customers",
        "active": "Active",
        "new": "New",
        "reactivated": "Reactivated",
        "at_risk": "At risk",
        "inactive": "Inactive",
        "vip": "VIP",
        "prospect": "Prospect",
        "churned_in_period": "Churned in the period",
        "revenue": "Revenue",
        "repeat_purchase_rate": "Repeat purchase rate",
        "top20_revenue_share": "Revenue from the top 20%",
    },
    "pt": {
        "title": "Relatório de clientes",
        "as_of": "Data-base",
        "period": "Período",
        "customers": "Clientes",
        "active": "Ativos",
        "new": "Novos",
        "reactivated": "Reativados",
        "at_risk": "Em risco",
        "inactive": "Inativos",
        "vip": "VIP",
        "prospect": "Prospects",
        "churned_in_period": "Perdidos no período",
        "revenue": "Receita",
        "repeat_purchase_rate": "Taxa de recompra",
        "top20_revenue_share": "Receita dos 20% maiores clientes",
    },
}

TEXT: dict[str, dict[str, str]] = {
    "en": {
        **KPI_NAMES["en"],
        "vs": "vs previous period",
        "vs_cohort": "vs cohort {cohort}",
        "prev": "previous",
        "kpis": "Key figures",
        "month_1": "Retention, month 1",
        "month_3": "Retention, month 3",
        "month_6": "Retention, month 6",
        "cohort_of": "cohort {cohort}",
        "cohorts": "Cohort retention",
        "cohorts_intro": "Share of each {period} cohort (customers by the {period} of their "
        "first purchase) who bought again k {period}s later. Empty cells: the {period} has "
        "not ended yet.",
        "heatmap_x": "{period}s since first purchase",
        "heatmap_y": "cohort",
        "curves": "Retention curves",
        "curves_avg": "all cohorts (weighted)",
        "trend": "Retention over time",
        "trend_y": "rate",
        "status": "Customer status",
        "status_intro": "Every customer in exactly one status at the as-of date.",
        "status_dist": "Status distribution",
        "status_trend": "Status over time",
        "customers_axis": "customers",
        "segments": "RFM segments",
        "segment_map": "Segment map (recency × frequency)",
        "segment_map_intro": "Each cell is an R score (rows) and F score (columns); the "
        "colour is its segment, the number its customers.",
        "r_axis": "R score (recency, 5 = most recent)",
        "f_axis": "F score (frequency, 5 = most purchases)",
        "revenue_by": "Revenue by status and by segment",
        "revenue_by_status": "Revenue by status",
        "revenue_by_segment": "Revenue by segment",
        "segment": "Segment",
        "share_customers": "Share of customers",
        "share_revenue": "Share of revenue",
        "definitions": "Definitions and thresholds",
        "data": "Data",
        "rows_read": "rows read",
        "rows_used": "rows used",
        "dropped": "dropped",
        "not_available": "Not available in this report: {what}.",
        "generated": "Generated by clientela {version}. Tables, workbook and manifest are in "
        "the same folder.",
        "no_change": "no change",
        "n_a": "n/a",
        "pp": "pp",
    },
    "pt": {
        **KPI_NAMES["pt"],
        "vs": "vs período anterior",
        "vs_cohort": "vs coorte {cohort}",
        "prev": "anterior",
        "kpis": "Indicadores",
        "month_1": "Retenção, mês 1",
        "month_3": "Retenção, mês 3",
        "month_6": "Retenção, mês 6",
        "cohort_of": "coorte {cohort}",
        "cohorts": "Retenção por coorte",
        "cohorts_intro": "Parcela de cada coorte (clientes agrupados pelo período da primeira "
        "compra) que voltou a comprar k períodos ({period}) depois. Células vazias: o "
        "período ainda não terminou.",
        "heatmap_x": "períodos desde a primeira compra ({period})",
        "heatmap_y": "coorte",
        "curves": "Curvas de retenção",
        "curves_avg": "todas as coortes (ponderada)",
        "trend": "Retenção ao longo do tempo",
        "trend_y": "taxa",
        "status": "Status dos clientes",
        "status_intro": "Cada cliente em exatamente um status na data-base.",
        "status_dist": "Distribuição por status",
        "status_trend": "Status ao longo do tempo",
        "customers_axis": "clientes",
        "segments": "Segmentos RFM",
        "segment_map": "Mapa de segmentos (recência × frequência)",
        "segment_map_intro": "Cada célula é uma nota R (linhas) e F (colunas); a cor é o "
        "segmento, o número, seus clientes.",
        "r_axis": "nota R (recência, 5 = mais recente)",
        "f_axis": "nota F (frequência, 5 = mais compras)",
        "revenue_by": "Receita por status e por segmento",
        "revenue_by_status": "Receita por status",
        "revenue_by_segment": "Receita por segmento",
        "segment": "Segmento",
        "share_customers": "Parcela dos clientes",
        "share_revenue": "Parcela da receita",
        "definitions": "Definições e limites",
        "data": "Dados",
        "rows_read": "linhas lidas",
        "rows_used": "linhas usadas",
        "dropped": "descartadas",
        "not_available": "Não disponível neste relatório: {what}.",
        "generated": "Gerado por clientela {version}. Tabelas, planilha e manifesto estão na "
        "mesma pasta.",
        "no_change": "sem variação",
        "n_a": "n/d",
        "pp": "p.p.",
    },
}
PERIOD_WORDS = {
    "en": {"day": "day", "week": "week", "month": "month", "quarter": "quarter", "year": "year"},
    "pt": {"day": "dia", "week": "semana", "month": "mês", "quarter": "trimestre", "year": "ano"},
}

#: KPIs where a rise is bad news (shown red when they go up)
WORSE_WHEN_UP = frozenset({"at_risk", "inactive", "churned_in_period"})
#: KPIs whose change is neither good nor bad news by itself (shown without colour)
NEUTRAL = frozenset({"top20_revenue_share"})


def t(lang: str, key: str, **kw: Any) -> str:
    text = TEXT[lang].get(key, TEXT["en"].get(key, key))
    return text.format(**kw) if kw else text


# ---------------------------------------------------------------------- number formats


def _group(text: str, lang: str) -> str:
    """``1,234.5`` (en) or ``1.234,5`` (pt) from Python's ``1,234.5``."""
    if lang == "pt":
        return text.replace(",", "\0").replace(".", ",").replace("\0", ".")
    return text


def fmt_int(v: float | int | None, lang: str) -> str:
    return "–" if v is None else _group(f"{round(v):,}", lang)


def fmt_money(v: float | None, lang: str) -> str:
    return "–" if v is None else _group(f"{v:,.2f}", lang)


def fmt_pct(v: float | None, lang: str, digits: int = 1) -> str:
    return "–" if v is None else _group(f"{100 * v:,.{digits}f}", lang) + "%"


def fmt_signed(v: float, lang: str, kind: str) -> str:
    sign = "+" if v > 0 else "−" if v < 0 else "±"
    a = abs(v)
    if kind == "pct":
        return f"{sign}{_group(f'{100 * a:,.1f}', lang)} {t(lang, 'pp')}"
    if kind == "money":
        return sign + fmt_money(a, lang)
    return sign + fmt_int(a, lang)


# ------------------------------------------------------------------------------- charts


def _figure(width: float, height: float) -> Any:
    # The Figure API keeps no global state and needs no backend (savefig picks the SVG
    # writer by format): nothing here touches pyplot or matplotlib.use, so drawing in a
    # worker thread cannot change a host program's backend.
    from matplotlib.figure import Figure

    stop = getattr(_drawing, "stop", None)
    if stop is not None and stop.is_set():
        raise _Cancelled

    fig = Figure(figsize=(width, height), dpi=100, layout="constrained")
    return fig


def _style(ax: Any) -> None:
    ax.spines[["top", "right"]].set_visible(False)
    ax.spines[["left", "bottom"]].set_color("#b8c0c8")
    ax.tick_params(colors=INK, labelsize=9)
    ax.yaxis.label.set_color(MUTED)
    ax.xaxis.label.set_color(MUTED)


def svg(fig: Any, name: str) -> str:
    """The figure as an inline ``<svg>`` element (no XML prolog), reproducibly; every id
    inside it is prefixed with the chart's name, so charts on one page never share an id."""
    import matplotlib

    buf = io.StringIO()
    with matplotlib.rc_context({"svg.hashsalt": f"clientela-{name}", "svg.fonttype": "path"}):
        fig.savefig(buf, format="svg", metadata={"Date": None})
    text = buf.getvalue()
    body = text[text.find("<svg") :].strip()
    body = re.sub(r'\bid="([^"]+)"', lambda m: f'id="{name}-{m.group(1)}"', body)
    body = re.sub(r'href="#([^"]+)"', lambda m: f'href="#{name}-{m.group(1)}"', body)
    body = re.sub(r"url\(#([^)]+)\)", lambda m: f"url(#{name}-{m.group(1)})", body)
    # natural size in pt (CSS shrinks it to the column, never blows it up)
    return body.replace(
        "<svg", f'<svg id="chart-{name}" role="img" aria-label="{html.escape(name)}"', 1
    )


def _pct_axis(axis: Any, lang: str) -> None:
    """Percent ticks at round steps (1, 2, 5 or 10 points), so no label is rounded."""
    from matplotlib.ticker import FuncFormatter, MaxNLocator

    axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 5, 10]))
    axis.set_major_formatter(FuncFormatter(lambda v, _pos: fmt_pct(v, lang, 0)))


def chart_segment_map(grid: dict[str, Any], lang: str) -> str:
    """The R × F grid coloured by segment, with customer counts and segment labels."""
    from matplotlib.colors import to_rgb
    from matplotlib.patches import Patch, Rectangle

    bins = int(grid["bins"])
    labels: dict[str, str] = grid["labels"]
    fig = _figure(7.2, 5.4)
    ax = fig.add_subplot()
    present: list[str] = []
    for cell in grid["cells"]:
        r, f, seg, n = int(cell["r"]), int(cell["f"]), str(cell["segment"]), int(cell["customers"])
        color = SEGMENT_COLORS.get(seg, _extra_color(seg))
        ax.add_patch(
            Rectangle((f - 0.5, r - 0.5), 1, 1, facecolor=color, edgecolor="white", linewidth=2)
        )
        rgb = to_rgb(color)
        dark = 0.299 * rgb[0] + 0.587 * rgb[1] + 0.114 * rgb[2] < 0.55
        ax.text(
            f,
            r,
            fmt_int(n, lang),
            ha="center",
            va="center",
            fontsize=12,
            fontweight="bold",
            color="white" if dark else INK,
        )
        if seg not in present:
            present.append(seg)
    ax.set_xlim(0.5, bins + 0.5)
    ax.set_ylim(0.5, bins + 0.5)
    ax.set_xticks(range(1, bins + 1))
    ax.set_yticks(range(1, bins + 1))
    ax.set_xlabel(t(lang, "f_axis"))
    ax.set_ylabel(t(lang, "r_axis"))
    ax.set_aspect("equal")
    _style(ax)
    ax.spines[["left", "bottom"]].set_visible(False)
    ax.tick_params(length=0)
    handles = [
        Patch(facecolor=SEGMENT_COLORS.get(s, _extra_color(s)), label=labels.get(s, s))
        for s in present
    ]
    fig.legend(handles=handles, loc="outside right center", frameon=False, fontsize=9)
    return svg(fig, "segment-map")


def _extra_color(key: str) -> str:
    return EXTRA_COLORS[sum(map(ord, key)) % len(EXTRA_COLORS)]


def chart_bars(
    items: Sequence[tuple[str, float, str]], lang: str, name: str, *, money: bool = True
) -> str:
    """Horizontal bars (label, value, colour), largest first, values written at the bars."""
    fig = _figure(6.0, 0.42 * max(len(items), 3) + 0.7)
    ax = fig.add_subplot()
    ys = list(range(len(items)))[::-1]
    vals = [v for _, v, _ in items]
    ax.barh(ys, vals, color=[c for _, _, c in items], height=0.7)
    ax.set_yticks(ys, [lab for lab, _, _ in items])
    top = max([abs(v) for v in vals] + [1.0])
    for y, v in zip(ys, vals, strict=True):
        ax.text(
            v + top * 0.01,
            y,
            fmt_money(v, lang) if money else fmt_int(v, lang),
            va="center",
            fontsize=8.5,
            color=INK,
        )
    ax.set_xlim(min(0.0, min([*vals, 0.0])) * 1.1, top * 1.22)
    ax.xaxis.set_visible(False)
    _style(ax)
    ax.spines[["bottom"]].set_visible(False)
    ax.tick_params(axis="y", length=0)
    return svg(fig, name)


def chart_heatmap(cohorts: dict[str, Any], lang: str) -> str:
    """Cohort × period retention rates, coloured and annotated."""
    import numpy as np

    rows = cohorts["rows"]
    k = max((len(r["rates"]) for r in rows), default=0)
    data = np.full((len(rows), k), np.nan)
    for i, r in enumerate(rows):
        for j, v in enumerate(r["rates"]):
            if v is not None:
                data[i, j] = v
    fig = _figure(max(6.5, 0.62 * k + 2.4), 0.34 * len(rows) + 1.3)
    ax = fig.add_subplot()
    masked = np.ma.masked_invalid(data)
    # period 0 is 100% by definition: scale the colours on the later periods
    later = data[:, 1:] if k > 1 else data
    vmax = float(np.nanmax(later)) if np.isfinite(later).any() else 1.0
    from matplotlib import colormaps

    cmap = colormaps["Blues"].with_extremes(bad="#ffffff")
    ax.imshow(masked, cmap=cmap, vmin=0, vmax=max(vmax, 0.05), aspect="auto")
    for i in range(len(rows)):
        for j in range(k):
            v = data[i, j]
            if math.isfinite(v):
                dark = v > 0.6 * max(vmax, 0.05)
                ax.text(
                    j,
                    i,
                    fmt_pct(float(v), lang, 0),
                    ha="center",
                    va="center",
                    fontsize=7.5,
                    color="white" if dark else INK,
                )
    ax.set_xticks(range(k))
    ax.set_yticks(range(len(rows)), [f"{r['cohort']}  ({fmt_int(r['size'], lang)})" for r in rows])
    word = PERIOD_WORDS[lang][cohorts["period"]]
    ax.set_xlabel(t(lang, "heatmap_x", period=word))
    ax.xaxis.set_label_position("top")
    ax.xaxis.tick_top()
    ax.tick_params(length=0, labelsize=8.5, colors=INK)
    for s in ax.spines.values():
        s.set_visible(False)
    return svg(fig, "cohort-heatmap")


def chart_curves(cohorts: dict[str, Any], lang: str) -> str:
    """Retention by period since first purchase: recent cohorts and the weighted average."""
    from matplotlib import colormaps

    rows = [r for r in cohorts["rows"] if sum(v is not None for v in r["rates"]) >= 2]
    recent = rows[-6:]
    fig = _figure(6.5, 3.6)
    ax = fig.add_subplot()
    cmap = colormaps["Blues"]
    for i, r in enumerate(recent):
        pts = [(j, v) for j, v in enumerate(r["rates"]) if v is not None and j > 0]
        if pts:
            ax.plot(
                [p[0] for p in pts],
                [p[1] for p in pts],
                marker="o",
                markersize=2.5,
                linewidth=1.2,
                color=cmap(0.35 + 0.6 * (i + 1) / len(recent)),
                label=str(r["cohort"]),
            )
    avg = [(j, v) for j, v in enumerate(cohorts.get("average") or []) if v is not None and j > 0]
    if avg:
        ax.plot(
            [p[0] for p in avg],
            [p[1] for p in avg],
            color="#e8912d",
            linewidth=2.6,
            label=t(lang, "curves_avg"),
        )
    ax.set_ylim(bottom=0)
    _pct_axis(ax.yaxis, lang)
    ax.set_xlabel(t(lang, "heatmap_x", period=PERIOD_WORDS[lang][cohorts["period"]]))
    ax.grid(axis="y", color=GRID)
    _style(ax)
    if ax.get_legend_handles_labels()[0]:
        ax.legend(fontsize=7.5, frameon=False, ncols=2)
    return svg(fig, "retention-curves")


def chart_lines(
    x: Sequence[str],
    series: Sequence[tuple[str, Sequence[float | None], str]],
    lang: str,
    name: str,
    *,
    percent: bool = True,
) -> str:
    """Lines over periods (labels on x), e.g. the retention and churn rate trend."""
    fig = _figure(6.5, 3.2)
    ax = fig.add_subplot()
    xs = list(range(len(x)))
    for lab, values, color in series:
        pts = [(i, v) for i, v in zip(xs, values, strict=True) if v is not None]
        ax.plot(
            [p[0] for p in pts],
            [p[1] for p in pts],
            marker="o",
            markersize=3,
            linewidth=1.8,
            color=color,
            label=lab,
        )
    _ticks(ax, x)
    if percent:
        ax.set_ylim(bottom=0)
        _pct_axis(ax.yaxis, lang)
    ax.grid(axis="y", color=GRID)
    _style(ax)
    if ax.get_legend_handles_labels()[0]:
        fig.legend(loc="outside lower center", ncols=3, fontsize=8, frameon=False)
    return svg(fig, name)


def _ticks(ax: Any, x: Sequence[str]) -> None:
    step = max(1, math.ceil(len(x) / 12))
    ax.set_xticks(
        list(range(0, len(x), step)),
        [x[i] for i in range(0, len(x), step)],
        rotation=45,
        ha="right",
    )


def chart_stacked(
    x: Sequence[str], series: Sequence[tuple[str, Sequence[float], str]], lang: str, name: str
) -> str:
    """Stacked bars of counts per period (status over time)."""
    fig = _figure(6.5, 3.4)
    ax = fig.add_subplot()
    xs = list(range(len(x)))
    bottom = [0.0] * len(x)
    for lab, values, color in series:
        ax.bar(xs, values, bottom=bottom, color=color, label=lab, width=0.8)
        bottom = [b + v for b, v in zip(bottom, values, strict=True)]
    _ticks(ax, x)
    from matplotlib.ticker import FuncFormatter

    ax.yaxis.set_major_formatter(FuncFormatter(lambda v, _p: fmt_int(v, lang)))
    ax.set_ylabel(t(lang, "customers_axis"))
    ax.grid(axis="y", color=GRID)
    ax.set_axisbelow(True)
    _style(ax)
    handles, labels = ax.get_legend_handles_labels()  # top of the stack first
    fig.legend(handles[::-1], labels[::-1], loc="outside right center", frameon=False, fontsize=8)
    return svg(fig, name)


# --------------------------------------------------------------------------------- page

CSS = """
:root { --ink: #1f2933; --muted: #6b7682; --line: #e3e7eb; --bg: #f6f8fa; --card: #ffffff;
  --up: #1b7a43; --down: #b5262e; --accent: #2b6cb0; }
* { box-sizing: border-box; }
body { margin: 0; background: var(--bg); color: var(--ink);
  font: 15px/1.5 -apple-system, "Segoe UI", Roboto, "Helvetica Neue", Arial, sans-serif; }
header { background: #16324f; color: #fff; padding: 28px 40px 22px; }
header h1 { margin: 0 0 6px; font-size: 26px; font-weight: 650; }
header p { margin: 0; color: #c9d6e3; }
main { max-width: 1180px; margin: 0 auto; padding: 24px 28px 40px; }
section { background: var(--card); border: 1px solid var(--line); border-radius: 10px;
  padding: 20px 24px; margin: 0 0 22px; }
h2 { font-size: 19px; margin: 0 0 6px; }
h3 { font-size: 15px; margin: 18px 0 6px; color: var(--muted); font-weight: 600; }
p.intro { margin: 0 0 12px; color: var(--muted); }
.cards { display: grid; grid-template-columns: repeat(auto-fill, minmax(172px, 1fr));
  gap: 12px; }
.card { border: 1px solid var(--line); border-radius: 8px; padding: 12px 14px;
  background: #fbfcfd; }
.card .label { color: var(--muted); font-size: 12.5px; text-transform: uppercase;
  letter-spacing: .03em; }
.card .value { font-size: 25px; font-weight: 650; margin: 2px 0;
  font-variant-numeric: tabular-nums; }
.card .delta { font-size: 12.5px; color: var(--muted); }
.card .delta.good { color: var(--up); } .card .delta.bad { color: var(--down); }
.card .sub { font-size: 12px; color: var(--muted); }
.grid2 { display: grid; grid-template-columns: 1fr 1fr; gap: 18px; align-items: start; }
@media (max-width: 900px) { .grid2 { grid-template-columns: 1fr; } }
figure { margin: 0; }
figure svg { max-width: 100%; height: auto; display: block; margin: 0 auto; }
figcaption { color: var(--muted); font-size: 13px; margin-top: 4px; }
table { border-collapse: collapse; width: 100%; font-size: 13.5px; }
th, td { padding: 5px 8px; border-bottom: 1px solid var(--line); text-align: left; }
td.n, th.n { text-align: right; font-variant-numeric: tabular-nums; }
.swatch { display: inline-block; width: 10px; height: 10px; border-radius: 2px;
  margin-right: 6px; vertical-align: baseline; }
dl { margin: 0; display: grid; grid-template-columns: max-content 1fr; gap: 6px 18px; }
dt { font-weight: 600; } dd { margin: 0; color: #39434d; }
.note { color: var(--muted); font-style: italic; }
footer { color: var(--muted); font-size: 12.5px; text-align: center; padding: 0 0 30px; }
"""


def _e(s: Any) -> str:
    return html.escape(str(s), quote=True)


def _card(data: dict[str, Any], key: str, kpi: dict[str, Any], kind: str) -> str:
    lang = data["lang"]
    value = kpi.get("value")
    text = (
        fmt_pct(value, lang)
        if kind == "pct"
        else fmt_money(value, lang)
        if kind == "money"
        else fmt_int(value, lang)
    )
    change = kpi.get("change")
    cls = ""
    if change is None:
        delta = t(lang, "n_a")
    elif change == 0:
        delta = t(lang, "no_change")
    else:
        delta = fmt_signed(float(change), lang, kind)
        if kind != "pct" and kpi.get("change_rate") is not None:
            delta += f" ({fmt_signed(float(kpi['change_rate']), lang, 'pct').split(' ')[0]}%)"
        good = (change > 0) != (key in WORSE_WHEN_UP)
        cls = "" if key in NEUTRAL else " good" if good else " bad"
        delta = ("▲ " if change > 0 else "▼ ") + delta
    if "cohort" in kpi:
        sub = t(lang, "cohort_of", cohort=kpi["cohort"])
        vs = t(lang, "vs_cohort", cohort=kpi.get("previous_cohort") or "–")
    else:
        sub = ""
        vs = t(lang, "vs")
    return (
        f'<div class="card" data-kpi="{_e(key)}"><div class="label">{_e(t(lang, key))}</div>'
        f'<div class="value">{_e(text)}</div>'
        f'<div class="delta{cls}">{_e(delta)} <span class="sub">{_e(vs)}</span></div>'
        + (f'<div class="sub">{_e(sub)}</div>' if sub else "")
        + "</div>"
    )


def kpi_cards(data: dict[str, Any]) -> str:
    kpis: dict[str, Any] = data["kpis"]
    cards = []
    for key, kpi in kpis.items():
        if key == "retention_last_complete_cohort":
            for k, r in kpi.items():
                if r is not None:
                    cards.append(
                        _card(
                            data,
                            k,
                            {
                                "value": r["rate"],
                                "change": r.get("change"),
                                "cohort": r["cohort"],
                                "previous_cohort": r.get("previous_cohort"),
                            },
                            "pct",
                        )
                    )
            continue
        kind = (
            "pct"
            if key in ("repeat_purchase_rate", "top20_revenue_share")
            else "money"
            if key == "revenue"
            else "int"
        )
        cards.append(_card(data, key, kpi, kind))
    return '<div class="cards">' + "".join(cards) + "</div>"


def _figure_html(svg_text: str, caption: str = "") -> str:
    cap = f"<figcaption>{_e(caption)}</figcaption>" if caption else ""
    return f"<figure>{svg_text}{cap}</figure>"


def _section(sid: str, title: str, body: str, intro: str = "") -> str:
    intro_html = f'<p class="intro">{_e(intro)}</p>' if intro else ""
    return f'<section id="{_e(sid)}"><h2>{_e(title)}</h2>{intro_html}{body}</section>'


def _segments_table(data: dict[str, Any]) -> str:
    lang = data["lang"]
    head = (
        f"<tr><th>{_e(t(lang, 'segment'))}</th><th class='n'>{_e(t(lang, 'customers'))}"
        f"</th><th class='n'>{_e(t(lang, 'share_customers'))}</th><th class='n'>"
        f"{_e(t(lang, 'revenue'))}</th><th class='n'>{_e(t(lang, 'share_revenue'))}</th></tr>"
    )
    rows = "".join(
        f"<tr><td><span class='swatch' style='background:"
        f"{SEGMENT_COLORS.get(s['segment'], _extra_color(s['segment']))}'></span>"
        f"{_e(s['label'])}</td><td class='n'>{fmt_int(s['customers'], lang)}</td>"
        f"<td class='n'>{fmt_pct(s['share_customers'], lang)}</td>"
        f"<td class='n'>{fmt_money(s['revenue'], lang)}</td>"
        f"<td class='n'>{fmt_pct(s['share_revenue'], lang)}</td></tr>"
        for s in data["segments"]
    )
    return f"<table>{head}{rows}</table>"


class Drawing:
    """The page drawn in a worker thread (matplotlib is pure Python; DuckDB releases the GIL
    while the caller writes the tables). :meth:`cancel` stops it at the next chart, so that
    a run stopped by an error or Ctrl-C does not wait for the whole page (a daemon thread
    instead aborts the interpreter at exit when it is inside matplotlib's C++ code).
    Plotting warnings must never reach stderr (a cron job's log is for errors): the caller
    silences them, because warning filters are process-wide and changing them from two
    threads races."""

    def __init__(self, data: dict[str, Any]) -> None:
        self._page: list[str] = []
        self._error: list[BaseException] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._run, args=(data,), name="clientela-page")
        self._thread.start()

    def _run(self, data: dict[str, Any]) -> None:
        _drawing.stop = self._stop
        try:
            self._page.append(_render(data))
        except _Cancelled:
            pass
        except BaseException as e:  # handed to the caller by result()
            self._error.append(e)

    def result(self) -> str:
        """The page, once drawn; an error of the drawing is raised here."""
        self._thread.join()
        if self._error:
            raise self._error[0]
        return self._page[0]

    def cancel(self) -> None:
        """Stop drawing at the next chart and wait for that."""
        self._stop.set()
        self._thread.join()


class _Cancelled(Exception):
    pass


_drawing = threading.local()  # the stop event of the Drawing this thread draws for


def _render(data: dict[str, Any]) -> str:
    lang = data["lang"]
    missing: list[str] = list(data.get("missing", []))
    parts: list[str] = []
    parts.append(_section("kpis", t(lang, "kpis"), kpi_cards(data)))

    cohorts = data.get("cohorts")
    if cohorts and cohorts["rows"]:
        word = PERIOD_WORDS[lang][cohorts["period"]]
        body = _figure_html(chart_heatmap(cohorts, lang))
        curves = f"<h3>{_e(t(lang, 'curves'))}</h3>" + _figure_html(chart_curves(cohorts, lang))
        trend = data.get("retention_trend")
        if trend and trend.get("periods"):
            series = [(lab, vals, color) for lab, vals, color in trend["series"]]
            tr = _figure_html(chart_lines(trend["periods"], series, lang, "retention-trend"))
            tr = f"<h3>{_e(t(lang, 'trend'))}</h3>" + tr
            body += f'<div class="grid2"><div>{curves}</div><div>{tr}</div></div>'
        else:
            body += curves
        parts.append(
            _section("cohorts", t(lang, "cohorts"), body, t(lang, "cohorts_intro", period=word))
        )

    status = data.get("status")
    if status:
        dist = chart_bars(
            [
                (s["label"], float(s["customers"]), STATUS_COLORS.get(s["status"], "#888"))
                for s in status
            ],
            lang,
            "status-distribution",
            money=False,
        )
        body = f"<div class='grid2'><div><h3>{_e(t(lang, 'status_dist'))}</h3>"
        body += _figure_html(dist) + "</div>"
        hist = data.get("status_history")
        if hist and hist.get("periods"):
            series = [
                (lab, vals, STATUS_COLORS.get(st, "#888"))
                for st, lab, vals in hist["series"]
                if st != "prospect"  # not customers yet: they would dwarf the others
            ]
            body += f"<div><h3>{_e(t(lang, 'status_trend'))}</h3>"
            body += _figure_html(chart_stacked(hist["periods"], series, lang, "status-trend"))
            body += "</div>"
        body += "</div>"
        parts.append(_section("status", t(lang, "status"), body, t(lang, "status_intro")))

    seg_body = _figure_html(chart_segment_map(data["rfm_grid"], lang))
    seg_body += _segments_table(data)
    parts.append(_section("segments", t(lang, "segments"), seg_body, t(lang, "segment_map_intro")))

    by_seg = chart_bars(
        [
            (s["label"], s["revenue"], SEGMENT_COLORS.get(s["segment"], _extra_color(s["segment"])))
            for s in data["segments"]
        ],
        lang,
        "revenue-by-segment",
    )
    rev_body = ""
    if status:
        by_status = chart_bars(
            [
                (s["label"], float(s["revenue"]), STATUS_COLORS.get(s["status"], "#888"))
                for s in sorted(status, key=lambda s: -float(s["revenue"]))
                if s["revenue"]
            ],
            lang,
            "revenue-by-status",
        )
        rev_body += (
            f"<div class='grid2'><div><h3>{_e(t(lang, 'revenue_by_status'))}</h3>"
            f"{_figure_html(by_status, data.get('status_revenue_note', ''))}</div>"
            f"<div><h3>{_e(t(lang, 'revenue_by_segment'))}</h3>"
            f"{_figure_html(by_seg)}</div></div>"
        )
    else:
        rev_body += f"<h3>{_e(t(lang, 'revenue_by_segment'))}</h3>{_figure_html(by_seg)}"
    parts.append(_section("revenue", t(lang, "revenue_by"), rev_body))

    defs = "".join(f"<dt>{_e(k)}</dt><dd>{_e(v)}</dd>" for k, v in data["definitions"])
    parts.append(_section("definitions", t(lang, "definitions"), f"<dl>{defs}</dl>"))

    rows = data["rows"]
    dropped = rows["read"] - rows["used"]
    data_body = (
        f"<p>{fmt_int(rows['read'], lang)} {_e(t(lang, 'rows_read'))}, "
        f"{fmt_int(rows['used'], lang)} {_e(t(lang, 'rows_used'))}, "
        f"{fmt_int(dropped, lang)} {_e(t(lang, 'dropped'))}.</p>"
    )
    if missing:
        data_body += f"<p class='note'>{_e(t(lang, 'not_available', what=', '.join(missing)))}</p>"
    parts.append(_section("data", t(lang, "data"), data_body))

    period = data["period"]
    head = (
        f"<header><h1>{_e(t(lang, 'title'))}</h1><p>{_e(t(lang, 'as_of'))} {_e(data['as_of'])}"
        f" · {_e(t(lang, 'period'))} ({_e(PERIOD_WORDS[lang][data['period_unit']])}) "
        f"{_e(period['start'])} – {_e(period['end'])}</p></header>"
    )
    foot = f"<footer>{_e(t(lang, 'generated', version=data['version']))}</footer>"
    return (
        "<!DOCTYPE html>\n"
        f'<html lang="{"pt-BR" if lang == "pt" else "en"}">\n<head>\n<meta charset="utf-8">\n'
        '<meta name="viewport" content="width=device-width, initial-scale=1">\n'
        f"<title>{_e(t(lang, 'title'))} · {_e(data['as_of'])}</title>\n"
        f"<style>{CSS}</style>\n</head>\n<body>\n{head}\n<main>\n"
        + "\n".join(parts)
        + f"\n</main>\n{foot}\n</body>\n</html>\n"
    )
