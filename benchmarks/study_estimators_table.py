"""The estimator study's tables for docs/estimators.md and README.md, read from its results.

    python -m benchmarks.study_estimators_table            # the full table (ΔR² and KL per arm)
    python -m benchmarks.study_estimators_table --compact  # ΔR² only, the README's table

Reads ``benchmarks/results/study_estimators_<scenario>/results.parquet`` (written by
``causalda study <scenario> --quick --reps 4 --arms ...``) and reports, per (scenario, value),
each arm's ΔR² (paired with the baseline) as mean ± 95 % CI half-width over repetitions, and its
KL mean. A ΔR² whose interval excludes zero is bold. Under the table: per arm, the cells whose
gain is measurable (interval above zero) or measurably negative.
"""

from __future__ import annotations

import argparse
from pathlib import Path

import pandas as pd

RESULTS = Path(__file__).parent / "results"
SCENARIOS = ("n_points", "n_variables", "noise")
ARMS = ("baseline", "sample", "sample_anm", "sample_anm_ridge", "sample_anm_mlp", "sample_mdn")
LABELS = {"sample": "kernel", "sample_anm": "anm", "sample_anm_ridge": "anm_ridge", "sample_anm_mlp": "anm_mlp",
          "sample_mdn": "mdn", "baseline": "baseline"}


def _stats(scenario: str) -> pd.DataFrame:
    """Per (value, arm): ΔR² mean and half-width, KL mean, and the number of repetitions."""
    from causalda_jax.study._aggregate import per_run, summarise

    runs = per_run(pd.read_parquet(RESULTS / f"study_estimators_{scenario}" / "results.parquet"))
    gain = summarise(runs, "r2_gain").set_index(["value", "arm"])
    kl = summarise(runs, "kl").set_index(["value", "arm"])
    return pd.DataFrame(
        {"gain": gain["mean"], "half": gain["half"], "n": gain["n"], "kl": kl["mean"]}
    ).reset_index()


def _gain(mean: float, half: float) -> str:
    text = f"{mean:+.2f} ± {half:.2f}".replace("-", "−")
    return f"**{text}**" if abs(mean) > half else text


def table(compact: bool) -> str:
    """The markdown table over every scenario and value, and the list of measurable gains."""
    arms = [a for a in ARMS if a != "baseline"]
    head = ["scenario", "value"] + [f"ΔR² {LABELS[a]}" for a in arms]
    if not compact:
        head.append("KL " + " / ".join(LABELS[a] for a in ARMS))
    lines = ["| " + " | ".join(head) + " |", "|" + "---|" * len(head)]
    notes, lowest_kl, below_kernel, seen = [], [], {a: 0 for a in arms if a != "sample"}, {}
    n_cells = 0
    for scenario in SCENARIOS:
        st = _stats(scenario).set_index(["value", "arm"])
        for value in dict.fromkeys(st.index.get_level_values("value")):
            # Two scenarios share a cell when one's value is the other's default (same seeds).
            same = tuple(st.loc[(value, a), "gain"] for a in arms) + tuple(st.loc[(value, a), "kl"] for a in ARMS)
            if same in seen:
                lines.append(f"| {scenario} | {value} | (= {seen[same]}) |" + " |" * (len(head) - 3))
                continue
            seen[same] = f"{scenario} {value}"
            n_cells += 1
            cells = [scenario, str(value)]
            for arm in arms:
                row = st.loc[(value, arm)]
                cells.append(_gain(row["gain"], row["half"]))
                if abs(row["gain"]) > row["half"]:
                    sign = "gain" if row["gain"] > 0 else "loss"
                    notes.append(f"{LABELS[arm]}: {sign} at {scenario} = {value} ({_gain(row['gain'], row['half'])})")
            kl = {a: st.loc[(value, a), "kl"] for a in ARMS}
            lowest_kl.append(LABELS[min(kl, key=kl.get)])
            for a in below_kernel:
                below_kernel[a] += kl[a] < kl["sample"]
            if not compact:
                cells.append(" / ".join(f"{kl[a]:.2f}".replace("-", "−") for a in ARMS))
            lines.append("| " + " | ".join(cells) + " |")
    reps = sorted({int(n) for s in SCENARIOS for n in _stats(s)["n"]})
    lines += ["", f"repetitions per cell: {reps}; distinct cells: {n_cells}", "measurable (95 % CI excludes 0):"]
    lines += [f"- {n}" for n in notes] or ["- none"]
    lines.append("lowest KL per cell: " + ", ".join(lowest_kl))
    lines.append("cells with KL below the kernel sampler's: "
                 + ", ".join(f"{LABELS[a]} {k}/{n_cells}" for a, k in below_kernel.items()))
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--compact", action="store_true", help="ΔR² columns only")
    print(table(parser.parse_args().compact))


if __name__ == "__main__":
    main()
