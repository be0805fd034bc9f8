"""PNG plots: each metric against the swept parameter, one line per arm, with confidence bands."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

from .._output import write_file
from ._aggregate import METRICS, per_run, summarise
from ._scenarios import Scenario

__all__ = ["plot_results"]

_OVERVIEW = ("r2", "r2_gain", "mape", "kl", "w1", "frac_filtered")
# Arms often coincide (an empty augmentation equals the baseline): distinct markers and
# dashes keep every line visible.
_STYLES = {
    "baseline": ("o", "-"),
    "augment": ("s", "--"),
    "sample": ("^", ":"),
    "regressor": ("D", "-."),
    "sample_anm": ("v", "-"),
    "sample_anm_ridge": ("<", "--"),
    "sample_anm_mlp": (">", ":"),
    "sample_mdn": ("P", "-."),
}


def _draw(ax, runs: pd.DataFrame, scenario: Scenario, metric: str, label: str) -> None:
    values = [v for v in scenario.values if v in set(runs["value"])] or list(dict.fromkeys(runs["value"]))
    positions = {v: i for i, v in enumerate(values)} if scenario.categorical else {v: float(v) for v in values}
    table = summarise(runs, metric)
    for arm, group in table.groupby("arm", sort=False):
        group = group.set_index("value").reindex(values).dropna(subset=["mean"])
        if group.empty:
            continue
        x = np.array([positions[v] for v in group.index])
        mean, half = group["mean"].to_numpy(float), np.nan_to_num(group["half"].to_numpy(float))
        marker, dash = _STYLES.get(arm, ("o", "-"))
        (line,) = ax.plot(x, mean, marker=marker, linestyle=dash, markerfacecolor="none", label=arm)
        ax.fill_between(x, mean - half, mean + half, color=line.get_color(), alpha=0.15)
    if scenario.categorical:
        ax.set_xticks(range(len(values)), [str(v) for v in values], rotation=30)
    else:
        if scenario.log_x:
            ax.set_xscale("log")
            ax.minorticks_off()
        ax.set_xticks([positions[v] for v in values], [f"{v:g}" for v in values])
    if metric == "mape":
        ax.set_yscale("log")
    ax.set_xlabel(scenario.label)
    ax.set_ylabel(label)
    ax.grid(alpha=0.3)


def plot_results(results: pd.DataFrame, scenario: Scenario, out: str | Path) -> list[Path]:
    """Write ``<metric>.png`` for every metric and ``overview.png`` (six panels) under ``out``.

    Bands are 95 % Student-t intervals of the mean over repetitions (a run's value is its
    mean over targets).
    """
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    runs = per_run(results)
    written = []
    if runs.empty:
        return written
    labels = dict(METRICS)
    for metric, label in METRICS:
        if metric not in runs or runs[metric].isna().all():
            continue
        fig, ax = plt.subplots(figsize=(5, 3.6))
        _draw(ax, runs, scenario, metric, label)
        ax.legend(fontsize=8)
        fig.tight_layout()
        write_file(out / f"{metric}.png", lambda tmp: fig.savefig(tmp, dpi=110))
        plt.close(fig)
        written.append(out / f"{metric}.png")
    fig, axes = plt.subplots(2, 3, figsize=(14, 7.5))
    for ax, metric in zip(axes.flat, _OVERVIEW):
        if metric in runs and not runs[metric].isna().all():
            _draw(ax, runs, scenario, metric, labels[metric])
        else:
            ax.set_axis_off()
    handles, names = axes.flat[0].get_legend_handles_labels()
    fig.legend(handles, names, loc="upper center", ncol=len(names))
    fig.suptitle(f"scenario: {scenario.name}", y=0.995, x=0.08, fontsize=10)
    fig.tight_layout(rect=(0, 0, 1, 0.95))
    write_file(out / "overview.png", lambda tmp: fig.savefig(tmp, dpi=100))
    plt.close(fig)
    written.append(out / "overview.png")
    return written
