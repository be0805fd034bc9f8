"""Markdown summary of a scenario's results."""

from __future__ import annotations

from dataclasses import asdict
from pathlib import Path

import numpy as np
import pandas as pd

from .._output import write_file
from ._aggregate import per_run, summarise
from ._protocol import Protocol
from ._scenarios import Scenario, Settings

__all__ = ["summary_table", "write_summary"]

_COLUMNS = (("r2", "R²", 3), ("r2_gain", "ΔR² vs baseline", 3), ("mape", "MAPE", 2), ("kl", "KL", 2),
            ("w1", "W1", 3), ("n_generated", "generated rows", 0), ("empty", "empty aug.", 2))


def _cell(mean: float, half: float, digits: int) -> str:
    if not np.isfinite(mean):
        return "–"
    text = f"{mean:.{digits}f}"
    return text + (f" ± {half:.{digits}f}" if np.isfinite(half) and digits else "")


def summary_table(results: pd.DataFrame, scenario: Scenario) -> str:
    """A markdown table: one line per (value, arm), mean ± 95 % CI half-width over repetitions."""
    runs = per_run(results)
    if runs.empty:
        return "_no successful runs_\n"
    stats = {c: summarise(runs, c).set_index(["value", "arm"]) for c, _, _ in _COLUMNS if c in runs}
    header = f"| {scenario.parameter} | arm | " + " | ".join(name for c, name, _ in _COLUMNS if c in stats) + " |"
    lines = [header, "|" + "---|" * (2 + len(stats))]
    values = [v for v in scenario.values if v in set(runs["value"])] or list(dict.fromkeys(runs["value"]))
    arms = list(dict.fromkeys(runs["arm"]))
    for v in values:
        for arm in arms:
            if (v, arm) not in stats["r2"].index:
                continue
            cells = []
            for c, _, digits in _COLUMNS:
                if c in stats:
                    row = stats[c].loc[(v, arm)]
                    cells.append(_cell(float(row["mean"]), float(row["half"]), digits))
            lines.append(f"| {v} | {arm} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def write_summary(
    results: pd.DataFrame,
    scenario: Scenario,
    path: str | Path,
    *,
    defaults: Settings,
    protocol: Protocol,
    reps: int,
    quick: bool,
) -> Path:
    """Write ``summary.md``: settings, the table, arms that did not run and why."""
    path = Path(path)
    fixed = {k: v for k, v in asdict(defaults).items() if k != scenario.parameter}
    grid = " × ".join(f"{k} ∈ {v}" for k, v in protocol.param_grid.items())
    failed = results[results["status"] != "ok"].groupby(["arm", "status"]).size()
    lines = [
        f"# Study: {scenario.name}",
        "",
        f"Swept `{scenario.parameter}` over {list(dict.fromkeys(results['value']))}; {reps} repetition(s)"
        + (" (--quick)" if quick else "") + ".",
        f"Fixed settings: {', '.join(f'{k}={v}' for k, v in fixed.items())}.",
        f"Protocol: {int(round(100 * (1 - protocol.test_size)))}/{int(round(100 * protocol.test_size))} split, "
        f"XGBoost with {protocol.cv}-fold CV over {grid}, targets: "
        f"{'all variables' if protocol.max_targets is None else f'first {protocol.max_targets} variables'}, "
        f"α = {protocol.alpha}, {protocol.n_reference} reference rows for KL/W1.",
        "",
        "Mean ± 95 % CI half-width over repetitions (each run averaged over its targets). "
        "ΔR²: paired difference with the baseline. 'empty aug.': share of runs whose augmentation was "
        "empty (the arm then equals the baseline).",
        "",
        summary_table(results, scenario),
    ]
    if len(failed):
        lines += ["Arms that did not run:", ""]
        lines += [f"- {arm}: {status} ({count} runs)" for (arm, status), count in failed.items()]
        lines.append("")
    lines += ["![overview](plots/overview.png)", ""]
    write_file(path, lambda tmp: Path(tmp).write_text("\n".join(lines)))
    return path
