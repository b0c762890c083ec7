"""The ``clientela clv``-family commands (registered on the main app by clientela.cli)."""

from __future__ import annotations

from typing import TYPE_CHECKING, Annotated, Any, Optional

import typer

from clientela.cli_common import Run, analysis_command, err
from clientela.cli_options import Inputs

if TYPE_CHECKING:
    from clientela.clv import ClvResult

app = typer.Typer()

MODEL = "Model"


@app.command()
@analysis_command()
def clv(
    inputs: Inputs,
    horizon: Annotated[
        str,
        typer.Option(
            "--horizon",
            help="Prediction horizon: 90d, 12w, 12m or 1y (a month is 30.4375 days).",
        ),
    ] = "12m",
    discount_rate: Annotated[
        float,
        typer.Option("--discount-rate", help="Monthly discount rate of clv: 0.01 = 1% a month."),
    ] = 0.01,
    alive_threshold: Annotated[
        float,
        typer.Option("--alive-threshold", help="Repeat buyers: churn = p_alive below this."),
    ] = 0.5,
    churn_days: Annotated[
        int,
        typer.Option(
            "--churn-days",
            help="One-time buyers (p_alive is 1 by the model): churn = only purchase more "
            "than N days ago.",
        ),
    ] = 180,
    unit: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--unit",
            help="Time unit of the summary and parameters: weeks (default) or days.",
            rich_help_panel=MODEL,
        ),
    ] = None,
    penalizer: Annotated[
        float,
        typer.Option(
            "--penalizer",
            help="L2 penalty on the parameters (0 = plain maximum likelihood; try 0.001 "
            "when a fit does not converge).",
            rich_help_panel=MODEL,
        ),
    ] = 0.0,
    calibration_end: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--calibration-end",
            help="Fit on purchases up to this date and report predicted vs actual purchases "
            "after it (up to --as-of).",
            rich_help_panel=MODEL,
        ),
    ] = None,
    save_model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option("--save-model", help="Write the fitted model as JSON.", rich_help_panel=MODEL),
    ] = None,
    model: Annotated[
        Optional[str],  # noqa: UP045
        typer.Option(
            "--model",
            help="Score with a model saved by --save-model instead of fitting.",
            rich_help_panel=MODEL,
        ),
    ] = None,
    *,
    run: Run,
) -> None:
    """P(alive), expected purchases and lifetime value per customer (BG/NBD + Gamma-Gamma).

    Examples: clientela clv orders.csv -o clv.csv | clientela clv x.csv --horizon 90d
    --save-model model.json | clientela clv x.csv --calibration-end 2025-06-30 (validation)
    """
    from clientela.clv import ClvParams, compute_clv

    params = ClvParams(
        horizon=horizon,
        discount_rate=discount_rate,
        alive_threshold=alive_threshold,
        churn_days=churn_days,
        unit=unit,
        penalizer=penalizer,
        calibration_end=calibration_end,
        model=model,
        save_model=save_model,
    )
    params.validate()
    _check_save_model(save_model, model, run)
    run.check_output(model, save_model)
    loaded = run.load(dimensions=[])
    with run.step("fitting BG/NBD and Gamma-Gamma" if model is None else "scoring", loaded.con):
        res = compute_clv(loaded, params)
    for line in describe(res):
        err(line)
    metadata = res.metadata()
    run.emit(loaded.con, "SELECT * FROM clv", metadata=metadata, title=f"CLV at {res.as_of}")
    if save_model:
        err(f"wrote the model to {save_model}")
    run.write_meta(metadata)


def _check_save_model(save_model: str | None, model: str | None, run: Run) -> None:
    """--save-model must name a new or replaceable file: not an input, not -o, --meta or
    --model, in an existing folder."""
    from pathlib import Path

    from clientela.errors import ClientelaError, UsageError
    from clientela.output import check_not_input

    if save_model is None:
        return
    if save_model == "-":
        raise UsageError("--save-model -: give a file path (stdout carries the data)")
    target = Path(save_model).resolve()
    for other, flag in ((run.output, "-o"), (run.meta, "--meta"), (model, "--model")):
        if other not in (None, "-") and Path(other).resolve() == target:
            raise UsageError(f"--save-model {save_model}: the same path as {flag}; choose another")
    if not target.parent.is_dir():
        raise UsageError(
            f"--save-model {save_model}: the folder {Path(save_model).parent} does not exist"
        )
    try:
        check_not_input(save_model, [*run.inputs, *(p for p in [run.load_options.customers] if p)])
    except ClientelaError as e:
        raise UsageError(
            e.message.replace(f"-o {save_model}", f"--save-model {save_model}", 1)
        ) from None


def _num(v: float) -> str:
    return f"{v:.4g}" if abs(v) < 1000 else f"{v:,.1f}"


def describe(res: ClvResult) -> list[str]:
    """The run's summary lines (stderr): fits, horizon, churn counts, holdout, warnings."""
    lines: list[str] = []
    end = res.calibration_end or res.as_of
    bg = res.model.bgnbd
    fit = res.bgnbd_fit
    source = "fitted" if fit else f"from {res.model_source}"
    status: dict[bool, str] = {True: "converged", False: "did NOT converge"}
    ll = ""
    if fit:
        ll = f", log-likelihood {fit.log_likelihood:,.3f} ({status[fit.diagnostics.converged]})"
    lines.append(
        f"BG/NBD {source} on {res.customers:,} customers at {end} (unit {res.unit}; "
        f"{int(res.stats['one_time_buyers']):,} one-time buyers): r={_num(bg.r)} "
        f"alpha={_num(bg.alpha)} a={_num(bg.a)} b={_num(bg.b)}{ll}"
    )
    gg = res.model.gamma_gamma
    gfit = res.gamma_gamma_fit
    if gg is not None:
        mean = gg.mean_spend
        on, ll = "", ""
        if gfit:
            on = f" on {gfit.diagnostics.customers:,.0f} repeat buyers"
            ll = (
                f", log-likelihood {gfit.log_likelihood:,.3f} "
                f"({status[gfit.diagnostics.converged]})"
            )
        lines.append(
            f"Gamma-Gamma {source}{on}: p={_num(gg.p)} q={_num(gg.q)} gamma={_num(gg.gamma)}{ll}"
            + (f"; population mean spend {mean:,.2f}" if mean is not None else "")
        )
    lines.append(
        f"horizon {res.horizon.text} = {res.horizon.days / (7 if res.unit == 'weeks' else 1):.4g}"
        f" {res.unit}, discount {res.params.discount_rate:.4g} a month; churn: "
        f"{res.churned['by_p_alive']:,} repeat buyers with p_alive < "
        f"{res.params.alive_threshold:g}, {res.churned['by_recency']:,} one-time buyers "
        f"silent over {res.params.churn_days} days"
    )
    if res.holdout:
        lines.extend(describe_holdout(res.holdout, res.unit))
    lines.extend(f"note: {n}" for n in res.notes)
    lines.extend(f"warning: {w}" for w in res.warnings)
    return lines


def describe_holdout(h: dict[str, Any], unit: str) -> list[str]:
    """The holdout validation as text: totals, errors, and the table by calibration
    purchases (predicted vs actual mean holdout purchases per customer)."""
    out = [
        f"holdout ({h['duration']:.4g} {unit} after the calibration end, {h['customers']:,} "
        f"customers): actual {h['actual_total']:,.0f} purchases, predicted "
        f"{h['predicted_total']:,.1f} ({_pct(h['predicted_total'], h['actual_total'])}); "
        f"MAE {h['mae']:.4f}, RMSE {h['rmse']:.4f} purchases per customer",
        "  calibration purchases | customers | actual mean | predicted mean",
    ]
    for row in h["by_calibration_purchases"]:
        out.append(
            f"  {row['calibration_purchases']:>21} | {row['customers']:>9,} | "
            f"{row['actual_mean']:>11.3f} | {row['predicted_mean']:>14.3f}"
        )
    return out


def _pct(pred: float, actual: float) -> str:
    if actual == 0:
        return "no actual purchases"
    return f"{(pred - actual) / actual:+.1%} vs actual"
