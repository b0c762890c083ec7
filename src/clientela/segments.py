"""RFM segment maps: the built-in R×F and R×(F+M)/2 grids, and user maps from TOML.

Contract:
- A :class:`SegmentMap` assigns every (r, f, m) score cell, for scores 1..bins, exactly one
  segment; :meth:`SegmentMap.cells` lists them all, so a map is checked once, at load.
- Built-in maps are 5×5 grids; other bin counts are mapped onto the grid by
  ``grid = floor(1 + (score - 1) * 4 / (bins - 1) + 0.5)`` (1 -> 1, bins -> 5, linear).
- User maps (TOML): ordered ``[[segment]]`` rules with inclusive score ranges ``r``, ``f``,
  ``m`` (omitted = any); first match wins; a cell matching no rule is a UsageError that
  names the cell and the file.
- Labels and suggested actions exist in English and Portuguese; ``segment`` ids are stable
  English identifiers.
"""

from __future__ import annotations

import math
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from clientela.errors import UsageError


@dataclass(frozen=True)
class Segment:
    id: str
    label_en: str
    label_pt: str
    action_en: str
    action_pt: str

    def label(self, lang: str) -> str:
        return self.label_pt if lang == "pt" else self.label_en

    def action(self, lang: str) -> str:
        return self.action_pt if lang == "pt" else self.action_en


SEGMENTS: dict[str, Segment] = {
    s.id: s
    for s in [
        Segment(
            "champions",
            "Champions",
            "Campeões",
            "Reward them; ask for reviews and referrals; early access to new products.",
            "Recompense-os; peça avaliações e indicações; acesso antecipado a novidades.",
        ),
        Segment(
            "loyal_customers",
            "Loyal customers",
            "Clientes fiéis",
            "Upsell higher-value products; invite to a loyalty programme.",
            "Ofereça produtos de maior valor; convide para o programa de fidelidade.",
        ),
        Segment(
            "potential_loyalists",
            "Potential loyalists",
            "Potenciais fiéis",
            "Offer membership or a second-purchase incentive; recommend related items.",
            "Ofereça adesão ou incentivo à segunda compra; recomende itens relacionados.",
        ),
        Segment(
            "new_customers",
            "New customers",
            "Clientes novos",
            "Onboard well: welcome series, support, a reason to come back soon.",
            "Faça um bom onboarding: série de boas-vindas, suporte, motivo para voltar.",
        ),
        Segment(
            "promising",
            "Promising",
            "Promissores",
            "Build awareness of the range; a modest offer on the next purchase.",
            "Mostre o catálogo; uma oferta modesta na próxima compra.",
        ),
        Segment(
            "need_attention",
            "Need attention",
            "Precisam de atenção",
            "Time-limited, personalised offers based on past purchases.",
            "Ofertas personalizadas e por tempo limitado, com base nas compras anteriores.",
        ),
        Segment(
            "about_to_sleep",
            "About to sleep",
            "Quase adormecidos",
            "Reactivate now with popular products and a discount before they lapse.",
            "Reative agora com produtos populares e um desconto antes que se percam.",
        ),
        Segment(
            "at_risk",
            "At risk",
            "Em risco",
            "Personal win-back messages; remind them of what they bought; good offers.",
            "Mensagens personalizadas de reconquista; lembre o que compraram; boas ofertas.",
        ),
        Segment(
            "cant_lose",
            "Can't lose them",
            "Não podemos perder",
            "Win them back at any cost: talk to them, new versions, strong incentives.",
            "Reconquiste a qualquer custo: converse, novidades, incentivos fortes.",
        ),
        Segment(
            "hibernating",
            "Hibernating",
            "Hibernando",
            "Low-cost reactivation; relevant products; otherwise leave them be.",
            "Reativação de baixo custo; produtos relevantes; senão, não insista.",
        ),
        Segment(
            "lost",
            "Lost",
            "Perdidos",
            "Revive interest with one outreach campaign; ignore otherwise.",
            "Tente reacender o interesse com uma campanha; depois, não insista.",
        ),
    ]
}

# Rows R = 5..1, columns = 1..5 (F for rfm10, round((F+M)/2) for rfm11).
RFM10_GRID = [
    ["new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"],
    [
        "promising",
        "potential_loyalists",
        "potential_loyalists",
        "loyal_customers",
        "loyal_customers",
    ],
    ["about_to_sleep", "about_to_sleep", "need_attention", "loyal_customers", "loyal_customers"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
]
RFM11_GRID = [
    ["new_customers", "potential_loyalists", "potential_loyalists", "champions", "champions"],
    ["promising", "potential_loyalists", "loyal_customers", "champions", "champions"],
    ["about_to_sleep", "need_attention", "need_attention", "loyal_customers", "loyal_customers"],
    ["hibernating", "hibernating", "at_risk", "at_risk", "cant_lose"],
    ["lost", "lost", "at_risk", "cant_lose", "cant_lose"],
]


def to_grid(score: int, bins: int) -> int:
    """Map a score in 1..bins onto the 1..5 grid (identity for bins = 5)."""
    if bins == 5:
        return score
    return math.floor(1 + (score - 1) * 4 / (bins - 1) + 0.5)


@dataclass
class SegmentMap:
    name: str
    bins: int
    assign: dict[tuple[int, int, int], str]  # (r, f, m) -> segment id
    segments: dict[str, Segment]

    def cells(self) -> list[tuple[int, int, int, str]]:
        return [(r, f, m, s) for (r, f, m), s in sorted(self.assign.items())]


def builtin(name: str, bins: int) -> SegmentMap:
    """The built-in map ``rfm10`` (default, R × F) or ``rfm11`` (R × (F+M)/2)."""
    if name in ("rfm10", "default", "rf"):
        grid, key = RFM10_GRID, "rfm10"
    elif name == "rfm11":
        grid, key = RFM11_GRID, "rfm11"
    else:
        raise UsageError(
            f"--segments {name!r}: use rfm10 (default), rfm11, or a TOML file of your own"
        )
    assign: dict[tuple[int, int, int], str] = {}
    for r in range(1, bins + 1):
        for f in range(1, bins + 1):
            for m in range(1, bins + 1):
                gr, gf, gm = to_grid(r, bins), to_grid(f, bins), to_grid(m, bins)
                col = gf if key == "rfm10" else math.floor((gf + gm) / 2 + 0.5)
                assign[(r, f, m)] = grid[5 - gr][col - 1]
    return SegmentMap(key, bins, assign, SEGMENTS)


def load_map(path: str, bins: int) -> SegmentMap:
    """A user map from TOML; every score cell must match a rule."""
    if sys.version_info >= (3, 11):
        import tomllib
    else:  # pragma: no cover - Python 3.10
        import tomli as tomllib

    p = Path(path)
    try:
        doc = tomllib.loads(p.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise UsageError(f"--segments {path}: no such file") from None
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as e:
        raise UsageError(f"--segments {path}: not valid TOML ({e})") from None
    rules = doc.get("segment")
    if not isinstance(rules, list) or not rules:
        raise UsageError(f"--segments {path}: no [[segment]] rules found")
    parsed: list[tuple[str, dict[str, tuple[int, int]]]] = []
    segments: dict[str, Segment] = {}
    for i, rule in enumerate(rules, start=1):
        if not isinstance(rule, dict) or not isinstance(rule.get("id"), str):
            raise UsageError(f'--segments {path}: rule {i} needs an id = "..."')
        sid = rule["id"]
        ranges: dict[str, tuple[int, int]] = {}
        for dim in ("r", "f", "m"):
            ranges[dim] = _range(rule.get(dim), dim, i, path, bins)
        parsed.append((sid, ranges))
        known = SEGMENTS.get(sid)
        segments.setdefault(
            sid,
            Segment(
                sid,
                str(rule.get("label", known.label_en if known else sid)),
                str(rule.get("label_pt", rule.get("label", known.label_pt if known else sid))),
                str(rule.get("action", known.action_en if known else "")),
                str(rule.get("action_pt", rule.get("action", known.action_pt if known else ""))),
            ),
        )
    assign: dict[tuple[int, int, int], str] = {}
    for r in range(1, bins + 1):
        for f in range(1, bins + 1):
            for m in range(1, bins + 1):
                for sid, rg in parsed:
                    if all(rg[d][0] <= v <= rg[d][1] for d, v in (("r", r), ("f", f), ("m", m))):
                        assign[(r, f, m)] = sid
                        break
                else:
                    raise UsageError(
                        f"--segments {path}: the score cell r={r} f={f} m={m} matches no rule; "
                        "add a rule for it (or a last catch-all rule without ranges)"
                    )
    unused = [sid for sid, _ in parsed if sid not in assign.values()]
    if unused:
        raise UsageError(
            f"--segments {path}: rule {unused[0]!r} can never match (earlier rules cover its "
            "cells); reorder or remove it"
        )
    return SegmentMap(str(doc.get("name", p.stem)), bins, assign, segments)


def _range(value: Any, dim: str, i: int, path: str, bins: int) -> tuple[int, int]:
    if value is None:
        return (1, bins)
    if isinstance(value, int) and not isinstance(value, bool):
        lo = hi = value
    elif (
        isinstance(value, list)
        and len(value) == 2
        and all(isinstance(v, int) and not isinstance(v, bool) for v in value)
    ):
        lo, hi = value
    else:
        raise UsageError(
            f"--segments {path}: rule {i}: {dim} must be a score or [low, high], got {value!r}"
        )
    if not 1 <= lo <= hi <= bins:
        raise UsageError(
            f"--segments {path}: rule {i}: {dim} = {value!r} is outside 1..{bins} (--bins)"
        )
    return (lo, hi)


def get_map(spec: str | None, bins: int) -> SegmentMap:
    """``--segments``: None/rfm10/rfm11, or a path to a TOML file."""
    if spec is None:
        return builtin("rfm10", bins)
    if spec.endswith(".toml") or Path(spec).exists():
        return load_map(spec, bins)
    return builtin(spec, bins)
