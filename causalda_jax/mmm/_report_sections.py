"""The HTML sections of a marketing mix report: summary, risk-aware budget, robustness, coherence,
disagreements, holdout."""

from __future__ import annotations

import html

import pandas as pd

from ._config import MMMConfig
from ._diagnostics import Diagnostics
from ._holdout import HoldoutResult
from ._report import table_html
from ._summary import ReportSummary

__all__ = [
    "coherence_html", "disagreements_html", "holdout_html", "risk_budget_html", "robustness_html", "summary_html",
]


def summary_html(summary: ReportSummary) -> str:
    """The box at the top of the report: what to do, how sure, what the data could not tell."""
    unknowns = "".join(f"<li>{html.escape(u)}</li>" for u in summary.unknowns)
    return (
        "<div class='summary'>"
        f"<p><b>What to do.</b> {html.escape(summary.action)}</p>"
        f"<p><b>How sure.</b> {html.escape(' '.join(summary.confidence))}</p>"
        f"<p><b>What the data could not tell.</b></p><ul>{unknowns}</ul>"
        "</div>"
    )


def robustness_html(diag: Diagnostics, cfg: MMMConfig) -> str:
    """VIF table, correlation heatmaps and the channels' robust regression, in a few sentences."""
    v = diag.vif
    ch = v[v["role"] == "channel"]
    parts = []
    has_aug = ch["augmented"].notna().any()
    if has_aug:
        parts.append(
            f"Variance inflation of the channels (1 = independent of the other drivers, above 5 = hard to "
            f"separate): median {ch['observed'].median():.2f} on the observed weeks, "
            f"{ch['augmented'].median():.2f} on observed + augmented rows."
        )
    else:
        parts.append(f"Variance inflation of the channels: median {ch['observed'].median():.2f} (no augmentation).")
    high = ch[ch["observed"] > 5]
    if len(high):
        parts.append("Hard to separate on the observed weeks: " + ", ".join(
            f"{r.term} (VIF {r.observed:.1f}" + (f", {r.augmented:.1f} augmented)" if has_aug else ")")
            for r in high.itertuples()) + ".")
    body = "<p>" + " ".join(parts) + "</p>"
    body += table_html(v.rename(columns={"observed": "VIF observed", "augmented": "VIF augmented"}))
    body += "{chart:correlation}"
    r = diag.regression
    r = r[r["role"] == "channel"]
    for form in dict.fromkeys(r["form"]):
        part = r[r["form"] == form]
        wide = None
        for variant, rows in part.groupby("variant", sort=False):
            cols = rows.set_index("term")[["elasticity", "t", "p_value"]]
            cols.columns = [f"{c} ({variant})" for c in cols.columns]
            wide = cols if wide is None else wide.join(cols)
        body += f"<h3>Weighted least squares, {form} (HC1 robust errors)</h3>"
        body += table_html(wide.reset_index())
    body += (
        "<p class='note'>Elasticity: percent change of " + cfg.target + " per percent of spend, at the mean "
        "(adstocked) spend. The augmented rows are draws from the fitted graph, not new weeks: their t-statistics "
        "and p-values count every row as an observation and so look more certain than the data are; compare the "
        "coefficients and the variance inflation, not the p-values. Full tables: "
        "<a href='vif.csv'>vif.csv</a>, <a href='regression.csv'>regression.csv</a>, "
        "<a href='correlation_observed.csv'>correlation_observed.csv</a>"
        + (", <a href='correlation_augmented.csv'>correlation_augmented.csv</a>" if has_aug else "")
        + ".</p>"
    )
    if diag.notes:
        body += "<p>" + " ".join(diag.notes) + "</p>"
    return body


def coherence_html(checks: pd.DataFrame, variant: str) -> str:
    """Flags first as a list of sentences; the checks that passed folded under one line."""
    mark = {"flag": "&#9888;", "uncertain": "?", "ok": "&#10003;"}
    bad = checks[checks["status"] != "ok"]
    good = checks[checks["status"] == "ok"]
    body = (f"<p>Checks on the {variant} model's estimates: {int((checks['status'] == 'flag').sum())} flagged, "
            f"{int((checks['status'] == 'uncertain').sum())} uncertain, {len(good)} fine "
            "(<a href='coherence.csv'>coherence.csv</a>).</p>")
    if len(bad):
        body += "<ul class='checks'>" + "".join(
            f"<li class='{r.status}'><span>{mark[r.status]}</span> {html.escape(r.sentence)}</li>"
            for r in bad.itertuples()) + "</ul>"
    if len(good):
        body += ("<details><summary>Checks that passed</summary><ul class='checks'>" + "".join(
            f"<li class='ok'><span>{mark['ok']}</span> {html.escape(r.sentence)}</li>" for r in good.itertuples())
            + "</ul></details>")
    return body


def disagreements_html(report, shown: int = 6) -> str:
    """The real disagreements between data and knowledge, one sentence each; the rest in the CSV."""
    said = report.disagreements()
    body = "<h3>Where the data disagree with the expert knowledge</h3>"
    if said:
        items = [f"<li class='flag'><span>&#9888;</span> {html.escape(t)}</li>" for t in said]
        body += f"<p>{len(said)} disagreement{'s' if len(said) > 1 else ''}:</p>"
        body += "<ul class='checks'>" + "".join(items[:shown]) + "</ul>"
        if len(items) > shown:
            body += (f"<details><summary>{len(items) - shown} more</summary><ul class='checks'>"
                     + "".join(items[shown:]) + "</ul></details>")
    else:
        body += "<p>No disagreement: every required edge is supported and no ruled-out edge is.</p>"
    pairs = report.dependent_pairs()
    if pairs:
        body += ("<p>Dependent although the knowledge rules out an edge either way (a common cause outside the "
                 "data, such as the calendar, explains it): " + ", ".join(f"{a} &ndash; {b}" for a, b in pairs)
                 + ".</p>")
    body += ("<p class='small'>Every verdict with its evidence (CI test, share of data-only bootstrap fits "
             "with the edge and with its reverse): <a href='disagreements.csv'>disagreements.csv</a>; "
             "the full discovery report: <a href='discovery.md'>discovery.md</a>.</p>")
    return body


def holdout_html(holdout: HoldoutResult) -> str:
    """Holdout scores next to in-sample scores, with one sentence on what they mean."""
    if holdout.note:
        return f"<p class='note'>{html.escape(holdout.note)}</p>"
    sc = holdout.scores
    wide = sc.pivot(index="variant", columns="split", values=["mape", "r2", "nrmse"])
    wide = wide.reindex(columns=[(m, s) for m in ("mape", "r2", "nrmse") for s in ("holdout", "in-sample")])
    wide.columns = [f"{m.upper() if m != 'r2' else 'R²'} {s}" for m, s in wide.columns]
    weeks = int(sc.loc[sc["split"] == "holdout", "weeks"].iloc[0])
    held = sc[sc["split"] == "holdout"].set_index("variant")
    best = held["mape"].idxmin()
    text = (f"Each variant refitted without the last {weeks} weeks and scored on them (the graph was learned on "
            f"all weeks). Lowest holdout MAPE: <b>{html.escape(best)}</b> ({100 * held.loc[best, 'mape']:.1f}%). "
            "In-sample scores of flexible models are close to perfect and prove little; the holdout columns "
            "are the test (<a href='holdout.csv'>holdout.csv</a>).")
    return f"<p>{text}</p>" + table_html(wide.reset_index()) + "{chart:holdout}"


def risk_budget_html(risk, target: str) -> str:
    """The allocation chosen for expected sales over the refits, its odds, or "no reliable gain"."""
    if risk is None:
        return "<p class='note'>No risk-aware allocation: it needs two or more bootstrap refits.</p>"
    n, k = risk.draws.size, int((risk.draws > 0).sum())
    lo, hi = risk.lift_interval
    head = ("<h3>Risk-aware allocation (expected " + html.escape(target) + f" over {n} bootstrap refits)</h3>")
    verdict = (f"It beats the current allocation in {k} of {n} refits ({100 * risk.probability:.0f}%); "
               f"expected lift {risk.expected_lift:+.4g}, 90% of refits between {lo:+.4g} and {hi:+.4g}.")
    if not risk.reliable:
        verdict = (f"<b>No reliable gain</b>: {verdict} That is below the {100 * risk.confidence:.0f}% the config "
                   "asks for (budget_confidence), so the report does not recommend a move.")
    if risk.truth_lift is not None:
        verdict += f" True lift in the simulation: {risk.truth_lift:+.4g}."
    return head + f"<p>{verdict}</p>" + table_html(risk.table) + \
        "<p class='small'>Table: <a href='risk_budget.csv'>risk_budget.csv</a>.</p>"
