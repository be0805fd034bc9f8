"""Coverage of the marketing mix ROI intervals on simulated markets with known ROI.

    python -m benchmarks.mmm_interval_coverage                 # 12 markets, 20 refits, XGBoost
    python -m benchmarks.mmm_interval_coverage --quick         # 3 markets, 8 refits
    python -m benchmarks.mmm_interval_coverage --model linear  # another model

Each market is fitted once (true graph, with and without augmentation); the percentile and the
basic interval are both summaries of the same refits. Writes
benchmarks/results/mmm_interval_coverage[_<tag>].json (per-pair rows and the summary) and a
markdown table next to it.
"""

from __future__ import annotations

import argparse
import json
import platform
import sys
import time
from datetime import date
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def markdown_table(df) -> str:
    """A DataFrame as a markdown table, floats to 3 decimals."""
    cell = lambda v: f"{v:.3f}" if isinstance(v, float) else str(v)  # noqa: E731
    lines = ["| " + " | ".join(df.columns) + " |", "|" + "---|" * len(df.columns)]
    lines += ["| " + " | ".join(cell(v) for v in row) + " |" for row in df.itertuples(index=False)]
    return "\n".join(lines)


def main(argv=None) -> dict:
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    p.add_argument("--markets", type=int, default=12)
    p.add_argument("--weeks", type=int, default=104)
    p.add_argument("--channels", type=int, default=4)
    p.add_argument("--bootstrap", type=int, default=20)
    p.add_argument("--draws", type=int, default=5, help="augmentation draws at fixed weights (roi_aug_sd)")
    p.add_argument("--model", default="xgboost")
    p.add_argument("--seed", type=int, default=0)
    p.add_argument("--quick", action="store_true")
    p.add_argument("--tag", default="", help="suffix of the result files")
    a = p.parse_args(argv)
    if a.quick:
        a.markets, a.bootstrap, a.draws = 3, 8, 3
        a.tag = a.tag or "quick"

    from causalda_jax.mmm import coverage_summary, interval_coverage

    t0 = time.perf_counter()
    table = interval_coverage(
        a.markets, weeks=a.weeks, channels=a.channels, bootstrap=a.bootstrap, model=a.model,
        augmentation_draws=a.draws, seed=a.seed, progress=lambda m: print(m, file=sys.stderr, flush=True),
    )
    summary = coverage_summary(table)
    elapsed = time.perf_counter() - t0
    name = "mmm_interval_coverage" + (f"_{a.tag}" if a.tag else "")
    command = "python -m benchmarks.mmm_interval_coverage " + " ".join(argv if argv is not None else sys.argv[1:])
    out = {
        "command": command.strip(),
        "date": date.today().isoformat(),
        "machine": f"{platform.machine()} {platform.processor() or ''}".strip(),
        "settings": {k: v for k, v in vars(a).items() if k not in ("quick", "tag")},
        "nominal": 0.9,
        "elapsed_s": elapsed,
        "summary": summary.to_dict("records"),
        "rows": table.to_dict("records"),
    }
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"{name}.json").write_text(json.dumps(out, indent=1, default=float))
    md = [
        f"# ROI interval coverage ({a.model}, {a.markets} markets x {a.channels} channels, {a.bootstrap} refits)",
        "",
        f"`{out['command']}` ({out['date']}, {elapsed:.0f} s on a shared 2-core CPU). Nominal coverage 0.90; "
        "true graph given; point = median of the (reflected, for basic) refits; full fit = one fit on all weeks.",
        "",
        markdown_table(summary),
        "",
    ]
    (RESULTS / f"{name}.md").write_text("\n".join(md))
    print("\n".join(md))
    return out


if __name__ == "__main__":
    main()
