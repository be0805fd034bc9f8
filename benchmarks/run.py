"""The benchmark suite: `augment` and `sample`, JAX on the default backend vs the package's numpy code.

    python -m benchmarks.run --quick     # a few minutes on a 2-core CPU
    python -m benchmarks.run             # the CPU grid
    python -m benchmarks.run --gpu       # the accelerator grid (JAX only for the large cases), < 5 min

Every (engine, case) runs in its own process (peak memory is its own); inside it the first,
compiling call is timed apart from the steady state (minimum over repeats, after
block_until_ready). Results: benchmarks/results/suite_<backend>.json, a markdown table and
log-log plots of steady time against n, with the device and date recorded.
"""

from __future__ import annotations

import argparse
import itertools
import json
import sys
from pathlib import Path

RESULTS = Path(__file__).parent / "results"


def cases(mode: str) -> list[tuple[str, dict]]:
    out: list[tuple[str, dict]] = []
    if mode == "quick":
        aug = [dict(n=n, d=6, threshold=1e-3, scale=0.1, structure=s) for n in (200, 500, 1000) for s in ("chain", "dag")]
        smp = [dict(n=n, d=d, samples=20_000) for n in (200, 1000, 5000) for d in (5, 10)]
        numpy_limit = 10**9
    elif mode == "gpu":
        # JAX only: the numpy baselines are CPU figures, measured once on the CPU machine with
        # `python -m benchmarks.run --baseline` and compared against from that file.
        aug = [dict(n=n, d=d, threshold=1e-3, scale=0.1, structure="dag") for n in (1000, 2000, 5000) for d in (6, 10)]
        smp = [dict(n=n, d=d, samples=1_000_000) for n in (1_000, 10_000, 100_000) for d in (5, 20)]
        return [("augment", {**c, "engine": "jax"}) for c in aug] + [("sample", {**c, "engine": "jax"}) for c in smp]
    elif mode == "baseline":
        return [("augment", dict(n=5000, d=10, threshold=1e-3, scale=0.1, structure="dag", engine="numpy"))]
    else:
        aug = [
            dict(n=n, d=d, threshold=t, scale=s, structure="dag")
            for n, d, t, s in itertools.product((200, 500, 1000, 2000), (5, 10), (1e-2, 1e-3), (1.0, 0.1))
        ]
        smp = [dict(n=n, d=d, samples=100_000) for n in (200, 1000, 10_000, 100_000) for d in (5, 10, 20, 25)]
        numpy_limit = 10_000 * 100_000
    for c in aug:
        out += [("augment", {**c, "engine": e}) for e in ("jax", "numpy")]
    for c in smp:
        out.append(("sample", {**c, "engine": "jax"}))
        if c["n"] * c["samples"] <= numpy_limit:
            out.append(("sample", {**c, "engine": "numpy"}))
    return out


def _cpu_baselines(out_dir: Path) -> list[dict]:
    """numpy results measured on the CPU machine (``--baseline``), marked as such."""
    found = []
    for path in sorted(out_dir.glob("suite_baseline_*.json")):
        found += [{**r, "engine": "numpy (CPU baseline)"} for r in json.loads(path.read_text())["results"]]
    return found


def table(results: list[dict]) -> str:
    lines = ["| kind | n | d | setting | engine | steady s | compile s | rate | peak host MB | status |",
             "|---|---|---|---|---|---|---|---|---|---|"]
    for r in results:
        setting = (f"θ={r['threshold']:g}, τ={r['scale']:g}, {r['structure']}" if r["kind"] == "augment"
                   else f"{r['samples']:,} samples")
        rate = ""
        if r.get("status") == "ok":
            rate = (f"{r['candidates_per_s']:.3g} cand/s" if r["kind"] == "augment" else f"{r['kernel_evals_per_s']:.3g} kernel/s")
        fmt = lambda k: f"{r[k]:.3g}" if r.get("status") == "ok" else ""  # noqa: E731
        lines.append(f"| {r['kind']} | {r['n']} | {r['d']} | {setting} | {r['engine']} | {fmt('steady_s')} | "
                     f"{fmt('compile_s')} | {rate} | {fmt('peak_rss_mb')} | {r.get('status')} |")
    return "\n".join(lines) + "\n"


def plot(results: list[dict], path: Path) -> None:
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    import matplotlib.ticker

    fig, axes = plt.subplots(1, 2, figsize=(11, 4.2))
    for ax, kind in zip(axes, ("augment", "sample")):
        groups: dict = {}
        for r in results:
            if r["kind"] != kind or r.get("status") != "ok":
                continue
            label = f"{r['engine']} d={r['d']}" + (
                f" θ={r['threshold']:g} τ={r['scale']:g} {r['structure']}" if kind == "augment" else ""
            )
            groups.setdefault(label, []).append((r["n"], r["steady_s"]))
        for label, pts in sorted(groups.items()):
            pts.sort()
            ax.plot(*zip(*pts), marker="o", linestyle="-" if label.startswith("jax") else "--", label=label)
        ax.set_xscale("log")
        ax.set_yscale("log")
        ax.xaxis.set_minor_formatter(matplotlib.ticker.NullFormatter())
        ax.set_xlabel("training rows n")
        ax.set_ylabel("steady-state seconds")
        ax.set_title(kind)
        ax.grid(True, which="both", alpha=0.3)
        ax.legend(fontsize=6)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)


def main(argv=None) -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    mode = parser.add_mutually_exclusive_group()
    mode.add_argument("--quick", action="store_true")
    mode.add_argument("--gpu", action="store_true")
    mode.add_argument("--baseline", action="store_true", help="the numpy CPU baseline for the GPU targets")
    parser.add_argument("--timeout", type=float, default=300.0, help="seconds per (engine, case)")
    parser.add_argument("--out", default=None, help="output folder (default benchmarks/results)")
    parser.add_argument("--replot", default=None, help="redraw the plot of an existing suite JSON and exit")
    args = parser.parse_args(argv)
    if args.replot:
        path = Path(args.replot)
        plot(json.loads(path.read_text())["results"], path.with_suffix(".png"))
        return
    from benchmarks.timing import device_info, run_isolated

    name = "quick" if args.quick else "gpu" if args.gpu else "baseline" if args.baseline else "full"
    device = device_info()
    out_dir = Path(args.out) if args.out else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / f"suite_{name}_{device['backend']}"
    results = []
    for kind, case in cases(name):
        module = "benchmarks.augment_grid" if kind == "augment" else "benchmarks.sample_grid"
        r = {**run_isolated(module, case, args.timeout), "kind": kind}
        r.setdefault("kind", kind)
        results.append(r)
        print(f"{kind:8s} {case} -> {r.get('status')} {r.get('steady_s', '')}", file=sys.stderr, flush=True)
        stem.with_suffix(".json").write_text(json.dumps({"device": device, "results": results}, indent=1, default=float))
    if name == "gpu":
        results += _cpu_baselines(RESULTS)
    header = f"Device: {device['device_kind']} ({device['backend']}), {device['cpu_count']} CPUs, jax {device['jax']}, {device['date']}\n\n"
    stem.with_suffix(".md").write_text(header + table(results))
    plot(results, stem.with_suffix(".png"))
    print(header + table(results))


if __name__ == "__main__":
    main()
