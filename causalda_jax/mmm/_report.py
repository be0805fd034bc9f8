"""Charts (PNG) and a self-contained HTML report of a marketing mix run."""

from __future__ import annotations

import base64
import html
import os
from collections.abc import Mapping

import numpy as np
import pandas as pd

__all__ = ["write_charts", "write_html"]

_VARIANT_STYLE = {"augmented": ("#1f77b4", "-"), "observed": ("#ff7f0e", "--"), "truth": ("#2ca02c", ":")}


def _plt():
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def _save(fig, folder: str, name: str) -> str:
    path = os.path.join(folder, name)
    fig.savefig(path, dpi=80, bbox_inches="tight")
    _plt().close(fig)
    return path


def plot_graph(graph, folder: str, tiers: list[list[str]], truth=None) -> str:
    """The causal graph drawn by tiers; against a true graph, edges are coloured by agreement."""
    import networkx as nx

    plt = _plt()
    dag = graph.to_networkx()
    pos = {}
    for i, tier in enumerate(tiers):
        for j, v in enumerate(tier):
            pos[v] = (i, -(j - (len(tier) - 1) / 2))
    for v in dag.nodes:
        pos.setdefault(v, (len(tiers), 0))
    fig, ax = plt.subplots(figsize=(9, 6))
    true_edges = set(truth.directed) if truth is not None else set()
    learned = set(dag.edges)
    colors = ["#2ca02c" if e in true_edges else ("#d62728" if truth is not None else "#555555") for e in dag.edges]
    nx.draw_networkx_nodes(dag, pos, ax=ax, node_color="#dde8f5", node_size=1500, edgecolors="#1f77b4")
    nx.draw_networkx_labels(dag, pos, ax=ax, font_size=8)
    nx.draw_networkx_edges(dag, pos, ax=ax, edge_color=colors, arrows=True, node_size=1500,
                           connectionstyle="arc3,rad=0.08", width=1.2)
    if truth is not None:
        missed = [e for e in true_edges - learned if e[0] in pos and e[1] in pos]
        nx.draw_networkx_edges(dag, pos, edgelist=missed, ax=ax, edge_color="#999999", style="dashed",
                               arrows=True, node_size=1500, connectionstyle="arc3,rad=0.08", width=0.8)
        ax.set_title("graph: green = true edge found, red = extra edge, dashed grey = true edge missed")
    else:
        ax.set_title("causal graph used for augmentation")
    ax.axis("off")
    return _save(fig, folder, "graph.png")


def plot_contributions(results, folder: str, truth=None) -> str:
    """Weekly contribution of each channel: every variant (with its band) and the truth."""
    plt = _plt()
    c = results.contributions
    channels = list(dict.fromkeys(c["channel"]))
    fig, axes = plt.subplots(len(channels), 1, figsize=(10, 2.2 * len(channels)), sharex=True, squeeze=False)
    for ax, ch in zip(axes[:, 0], channels):
        for v, part in c[c["channel"] == ch].groupby("variant", sort=False):
            color, ls = _VARIANT_STYLE.get(v, ("k", "-"))
            ax.plot(part["date"], part["contribution"], color=color, ls=ls, lw=1.2, label=v)
            if part["lower"].notna().any():
                ax.fill_between(part["date"], part["lower"], part["upper"], color=color, alpha=0.15)
        if truth is not None:
            ax.plot(truth.contributions["date"], truth.contributions[ch], color="#2ca02c", lw=1.2, label="truth")
        ax.set_ylabel(ch)
    axes[0, 0].legend(loc="upper right", fontsize=8, ncol=3)
    axes[0, 0].set_title("weekly contribution (counterfactual: channel switched off, carry-over included)")
    return _save(fig, folder, "contributions.png")


def plot_decomposition(results, folder: str, variant: str) -> str:
    """Stacked weekly decomposition of the predicted target: baseline plus channels."""
    plt = _plt()
    fit = results.fit[results.fit["variant"] == variant]
    c = results.contributions[results.contributions["variant"] == variant]
    wide = c.pivot(index="date", columns="channel", values="contribution")
    wide = wide[list(dict.fromkeys(c["channel"]))]
    fig, ax = plt.subplots(figsize=(10, 4))
    base = fit["baseline"].to_numpy()
    ax.stackplot(fit["date"], base, *np.clip(wide.to_numpy().T, 0, None), labels=["baseline", *wide.columns], alpha=0.8)
    ax.plot(fit["date"], fit["actual"], color="k", lw=1, label="actual")
    ax.set_ylim(bottom=min(0.8 * float(base.min()), float(fit["actual"].min()) * 0.8))
    ax.legend(loc="upper left", fontsize=8, ncol=4)
    ax.set_title(f"contributions over time ({variant} model)")
    return _save(fig, folder, "decomposition.png")


def plot_shares(results, folder: str, truth_shares: pd.Series | None = None) -> str:
    """Share of spend versus share of effect, per channel."""
    plt = _plt()
    s = results.summary
    channels = list(dict.fromkeys(s["channel"]))
    bars = [("spend share", s.groupby("channel", sort=False)["spend_share"].first().reindex(channels), "#999999")]
    for v, part in s.groupby("variant", sort=False):
        bars.append((f"effect share ({v})", part.set_index("channel")["effect_share"].reindex(channels),
                     _VARIANT_STYLE.get(v, ("k",))[0]))
    if truth_shares is not None:
        bars.append(("effect share (truth)", truth_shares.reindex(channels), "#2ca02c"))
    fig, ax = plt.subplots(figsize=(9, 4))
    width = 0.8 / len(bars)
    x = np.arange(len(channels))
    for i, (label, values, color) in enumerate(bars):
        ax.bar(x + i * width - 0.4 + width / 2, values.to_numpy(), width, label=label, color=color)
    ax.set_xticks(x, channels)
    ax.set_ylabel("share")
    ax.legend(fontsize=8)
    ax.set_title("share of spend vs share of effect")
    return _save(fig, folder, "shares.png")


def plot_roi(results, folder: str, true_roi: pd.Series | None = None) -> str:
    """ROI per channel with bootstrap intervals, per variant, with the truth when known."""
    plt = _plt()
    s = results.summary
    channels = list(dict.fromkeys(s["channel"]))
    variants = list(dict.fromkeys(s["variant"]))
    fig, ax = plt.subplots(figsize=(9, 4))
    x = np.arange(len(channels))
    for i, v in enumerate(variants):
        part = s[s["variant"] == v].set_index("channel").reindex(channels)
        off = (i - (len(variants) - 1) / 2) * 0.2
        err = np.vstack([part["roi"] - part["roi_lower"], part["roi_upper"] - part["roi"]])
        err = np.where(np.isfinite(err), np.clip(err, 0, None), 0)
        ax.errorbar(x + off, part["roi"], yerr=err, fmt="o", capsize=4, color=_VARIANT_STYLE.get(v, ("k",))[0], label=v)
    if true_roi is not None:
        ax.scatter(x, true_roi.reindex(channels), marker="*", s=150, color="#2ca02c", label="truth", zorder=3)
    ax.axhline(1.0, color="#bbbbbb", lw=0.8)
    ax.set_xticks(x, channels)
    ax.set_ylabel("ROI (target per unit of spend)")
    ax.legend(fontsize=8)
    ax.set_title("ROI with bootstrap intervals")
    return _save(fig, folder, "roi.png")


def plot_response(results, folder: str, true_curves: pd.DataFrame | None = None) -> str:
    """Response curves (total contribution vs total spend) with the current spend marked."""
    plt = _plt()
    r = results.response
    channels = list(dict.fromkeys(r["channel"]))
    cols = min(3, len(channels))
    rows = int(np.ceil(len(channels) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3 * rows), squeeze=False)
    for ax, ch in zip(axes.ravel(), channels):
        for v, part in r[r["channel"] == ch].groupby("variant", sort=False):
            color, ls = _VARIANT_STYLE.get(v, ("k", "-"))
            ax.plot(part["spend"], part["contribution"], color=color, ls=ls, label=v)
            cur = part[part["current"]]
            ax.scatter(cur["spend"], cur["contribution"], color=color, zorder=3)
        if true_curves is not None:
            t = true_curves[true_curves["channel"] == ch]
            ax.plot(t["spend"], t["contribution"], color="#2ca02c", ls=":", label="truth")
        cur_spend = float(r[(r["channel"] == ch) & r["current"]]["spend"].iloc[0])
        ax.axvline(cur_spend, color="#999999", lw=0.8)
        ax.set_title(ch)
        ax.set_xlabel("total spend")
    for ax in axes.ravel()[len(channels):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    axes[0, 0].set_ylabel("total contribution")
    fig.suptitle("response curves (dot and line: current spend)")
    fig.tight_layout()
    return _save(fig, folder, "response.png")


def plot_pairs(observed: pd.DataFrame, augmented: pd.DataFrame | None, pairs: list[tuple[str, str]], folder: str) -> str:
    """Observed versus augmented rows on a few pairs of model variables."""
    plt = _plt()
    cols = min(3, len(pairs))
    rows = int(np.ceil(len(pairs) / cols))
    fig, axes = plt.subplots(rows, cols, figsize=(4 * cols, 3.3 * rows), squeeze=False)
    for ax, (a, b) in zip(axes.ravel(), pairs):
        if augmented is not None and len(augmented):
            ax.scatter(augmented[a], augmented[b], s=6, alpha=0.35, color="#1f77b4", label="augmented")
        ax.scatter(observed[a], observed[b], s=9, alpha=0.8, color="#ff7f0e", label="observed")
        ax.set_xlabel(a)
        ax.set_ylabel(b)
    for ax in axes.ravel()[len(pairs):]:
        ax.axis("off")
    axes[0, 0].legend(fontsize=8)
    fig.suptitle("observed vs augmented rows")
    fig.tight_layout()
    return _save(fig, folder, "pairs.png")


def plot_budget(budget, folder: str) -> str:
    """Current versus proposed spend per channel."""
    plt = _plt()
    t = budget.table
    x = np.arange(len(t))
    fig, ax = plt.subplots(figsize=(8, 3.5))
    ax.bar(x - 0.2, t["current_spend"], 0.4, label="current", color="#999999")
    ax.bar(x + 0.2, t["optimal_spend"], 0.4, label="proposed", color="#1f77b4")
    ax.vlines(x + 0.2, t["lower"], t["upper"], color="k", lw=0.8, label="bounds")
    ax.set_xticks(x, t["channel"])
    ax.legend(fontsize=8)
    ax.set_title(f"budget allocation ({budget.method}): predicted lift {budget.lift:+.4g} ({budget.lift_percent:+.2f}%)")
    return _save(fig, folder, "budget.png")


def plot_fit(results, folder: str) -> str:
    """Actual versus predicted target per variant."""
    plt = _plt()
    f = results.fit
    fig, ax = plt.subplots(figsize=(10, 3.5))
    first = f[f["variant"] == f["variant"].iloc[0]]
    ax.plot(first["date"], first["actual"], color="k", lw=1, label="actual")
    for v, part in f.groupby("variant", sort=False):
        color, ls = _VARIANT_STYLE.get(v, ("k", "-"))
        ax.plot(part["date"], part["predicted"], color=color, ls=ls, lw=1, label=f"predicted ({v})")
    ax.legend(fontsize=8)
    ax.set_title("model fit on the observed weeks")
    return _save(fig, folder, "fit.png")


def plot_correlations(correlation: Mapping[str, pd.DataFrame], folder: str) -> str:
    """Weighted correlation matrices side by side (observed, augmented) on one colour scale."""
    plt = _plt()
    names = list(correlation)
    d = len(next(iter(correlation.values())))
    size = min(6.5, 1.2 + 0.5 * d)
    fig, axes = plt.subplots(1, len(names), figsize=(size * len(names) + 1.2, size), squeeze=False,
                             layout="constrained")
    for ax, name in zip(axes[0], names):
        c = correlation[name]
        im = ax.imshow(c.to_numpy(), vmin=-1, vmax=1, cmap="RdBu_r")
        ax.set_xticks(range(d), c.columns, rotation=60, ha="right", fontsize=8)
        ax.set_yticks(range(d), c.index, fontsize=8)
        if d <= 14:
            for i in range(d):
                for j in range(d):
                    v = c.iat[i, j]
                    if np.isfinite(v):
                        ax.text(j, i, f"{v:.1f}", ha="center", va="center", fontsize=6,
                                color="white" if abs(v) > 0.6 else "black")
        ax.set_title(f"{name} rows")
    fig.colorbar(im, ax=axes[0].tolist(), shrink=0.8, label="weighted correlation")
    return _save(fig, folder, "correlation.png")


def plot_holdout(predictions: pd.DataFrame, folder: str) -> str:
    """Actual target and each refit's prediction, the held-out weeks shaded."""
    plt = _plt()
    fig, ax = plt.subplots(figsize=(10, 3.5))
    first = predictions[predictions["variant"] == predictions["variant"].iloc[0]]
    ax.plot(first["date"], first["actual"], color="k", lw=1, label="actual")
    for v, part in predictions.groupby("variant", sort=False):
        color, ls = _VARIANT_STYLE.get(v, ("k", "-"))
        ax.plot(part["date"], part["predicted"], color=color, ls=ls, lw=1, label=f"refit ({v})")
    held = first[first["split"] == "holdout"]["date"]
    if len(held):
        ax.axvspan(held.min(), held.max(), color="#f0e0c0", alpha=0.6, label="held out")
    ax.legend(fontsize=8, ncol=4)
    ax.set_title("refit without the last weeks: prediction on weeks it never saw (shaded)")
    return _save(fig, folder, "holdout.png")


def write_charts(folder: str, **parts) -> dict[str, str]:
    """Draw every chart whose inputs are given; returns ``{name: path}``."""
    os.makedirs(folder, exist_ok=True)
    out = {}
    res = parts["results"]
    truth = parts.get("truth")
    out["graph"] = plot_graph(parts["graph"], folder, parts["tiers"], truth.graph if truth is not None else None)
    out["fit"] = plot_fit(res, folder)
    out["decomposition"] = plot_decomposition(res, folder, parts["variant"])
    out["contributions"] = plot_contributions(res, folder, truth)
    shares = None
    if truth is not None:
        tot = np.clip(truth.contributions[list(truth.roi.index)].sum(), 0, None)
        shares = tot / tot.sum()
    out["shares"] = plot_shares(res, folder, shares)
    out["roi"] = plot_roi(res, folder, truth.roi if truth is not None else None)
    out["response"] = plot_response(res, folder, parts.get("true_curves"))
    if parts.get("pairs"):
        out["pairs"] = plot_pairs(parts["observed"], parts.get("augmented"), parts["pairs"], folder)
    if parts.get("budget") is not None:
        out["budget"] = plot_budget(parts["budget"], folder)
    if parts.get("holdout") is not None and len(parts["holdout"]):
        out["holdout"] = plot_holdout(parts["holdout"], folder)
    if parts.get("correlation"):
        out["correlation"] = plot_correlations(parts["correlation"], folder)
    return out


def _table(df: pd.DataFrame, digits: int = 3) -> str:
    table = df.to_html(index=False, float_format=lambda v: f"{v:.{digits}g}" if abs(v) < 1e3 else f"{v:,.0f}",
                       border=0, classes="t", na_rep="")
    return f"<div class='tw'>{table}</div>"


def write_html(folder: str, title: str, sections: list[tuple[str, str]], charts: Mapping[str, str]) -> str:
    """Write ``index.html`` with the charts embedded as base64 PNG (the PNG files stay alongside).

    ``sections`` is a list of ``(heading, html_body)``; a body may contain ``{chart:name}``
    placeholders that are replaced with the embedded image.
    """
    def img(name):
        path = charts.get(name)
        if not path:
            return ""
        with open(path, "rb") as f:
            data = base64.b64encode(f.read()).decode("ascii")
        return f'<img alt="{html.escape(name)}" src="data:image/png;base64,{data}">'

    body, nav = [], []
    for heading, content in sections:
        for name in charts:
            content = content.replace("{chart:" + name + "}", img(name))
        anchor = "".join(ch if ch.isalnum() else "-" for ch in heading.lower()).strip("-")
        nav.append(f'<a href="#{anchor}">{html.escape(heading.split(" (")[0].split(":")[0])}</a>')
        body.append(f'<section id="{anchor}"><h2>{html.escape(heading)}</h2>\n{content}</section>')
    page = f"""<!doctype html>
<html lang="en"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}</title>
<style>
* {{ box-sizing: border-box; }}
body {{ font-family: system-ui, sans-serif; max-width: 1060px; margin: 1.2em auto; padding: 0 20px; color: #222;
        line-height: 1.45; font-size: 15px; }}
h1 {{ font-size: 1.6em; margin-bottom: 0.2em; }}
h2 {{ font-size: 1.3em; border-bottom: 1px solid #ddd; padding-bottom: 0.15em; margin-top: 1.6em; }}
h3 {{ font-size: 1.05em; margin: 1.2em 0 0.4em; }}
nav {{ font-size: 0.85em; margin-bottom: 1em; }}
nav a {{ margin-right: 0.9em; white-space: nowrap; color: #1f5fa0; }}
img {{ max-width: 100%; height: auto; display: block; margin: 0.4em 0; }}
.tw {{ overflow-x: auto; max-width: 100%; }}
table.t {{ border-collapse: collapse; font-size: 0.8em; margin: 0.5em 0 1em; }}
table.t td, table.t th {{ padding: 2px 6px; border-bottom: 1px solid #ddd; text-align: right; white-space: nowrap; }}
.note {{ background: #f6f6f6; padding: 0.6em 1em; border-left: 3px solid #1f77b4; }}
.small {{ font-size: 0.85em; color: #555; }}
.summary {{ background: #f3f7fc; border: 1px solid #c9d8ea; border-radius: 6px; padding: 0.4em 1.2em; }}
.summary p {{ margin: 0.55em 0; }}
.summary ul {{ margin: 0.2em 0 0.6em; padding-left: 1.3em; }}
ul.checks {{ list-style: none; padding-left: 0; margin: 0.3em 0; }}
ul.checks li {{ margin: 0.25em 0; padding-left: 1.5em; text-indent: -1.5em; }}
ul.checks li span {{ display: inline-block; width: 1.5em; text-indent: 0; font-weight: bold; }}
li.flag span {{ color: #c0392b; }} li.uncertain span {{ color: #b9770e; }} li.ok span {{ color: #2e8b57; }}
details summary {{ cursor: pointer; color: #1f5fa0; margin: 0.3em 0; }}
</style></head><body>
<h1>{html.escape(title)}</h1>
<nav>{" ".join(nav)}</nav>
{"".join(body)}
</body></html>
"""
    path = os.path.join(folder, "index.html")
    with open(path, "w", encoding="utf-8") as f:
        f.write(page)
    return path


def table_html(df: pd.DataFrame, digits: int = 3) -> str:
    """A DataFrame as a compact HTML table."""
    return _table(df, digits)
