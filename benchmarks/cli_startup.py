"""Start-up time of the ``causalda`` tool: ``--help``, a subcommand's ``--help``, an argument error,
and a small ``augment`` run with a cold and a warm XLA compilation cache.

Each case is a fresh ``python -m causalda_jax ...`` process, timed from launch to exit (the
interpreter's own start-up included, as a user sees it); the minimum over repeats is reported,
wall time and CPU time (user + system, which a busy machine inflates less), next to
``python -c pass`` on the same machine and the import of the whole library for scale.

    python -m benchmarks.cli_startup [--repeats 7] [--runs 3]
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import subprocess
import sys
import time
from pathlib import Path

from .timing import device_info

CASES = {
    "python -c pass": [sys.executable, "-c", "pass"],
    "causalda --help": [sys.executable, "-m", "causalda_jax", "--help"],
    "causalda augment --help": [sys.executable, "-m", "causalda_jax", "augment", "--help"],
    "causalda augment (missing -o)": [sys.executable, "-m", "causalda_jax", "augment", "data.csv", "-g", "g.json"],
    "causalda mmm --help": [sys.executable, "-m", "causalda_jax", "mmm", "--help"],
    "import augment + mmm workflow (for scale)": [
        sys.executable, "-c", "import causalda_jax._augment, causalda_jax.mmm._workflow"],
}


def wall_time(cmd: list[str], env: dict | None = None) -> tuple[float, float, int]:
    """Wall seconds, CPU seconds (user + system, less sensitive to a busy machine), exit code."""
    before = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.perf_counter()
    proc = subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env or os.environ)
    wall = time.perf_counter() - start
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = (after.ru_utime - before.ru_utime) + (after.ru_stime - before.ru_stime)
    return wall, cpu, proc.returncode


def augment_runs(repeats: int) -> dict:
    """``causalda augment`` on 40 rows: a fresh compilation cache each time, then a primed one."""
    import tempfile

    import numpy as np

    folder = Path(tempfile.mkdtemp(prefix="cli_startup_"))
    x = np.random.default_rng(0).normal(size=40)
    (folder / "d.csv").write_text("x,y\n" + "".join(f"{a},{np.sin(a)}\n" for a in x))
    (folder / "g.json").write_text('{"nodes": ["x", "y"], "directed": [["x", "y"]]}')
    results = {}
    for label in ("cold cache", "warm cache"):
        runs = []
        for i in range(repeats):
            cache = folder / (f"cache{i}" if label == "cold cache" else "cache_warm")
            out = folder / f"{label[:4]}{i}.parquet"
            cmd = [sys.executable, "-m", "causalda_jax", "augment", str(folder / "d.csv"), "-g", str(folder / "g.json"),
                   "-o", str(out), "--force"]
            env = {**os.environ, "JAX_COMPILATION_CACHE_DIR": str(cache)}
            if label == "warm cache" and i == 0:
                subprocess.run(cmd, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env)
            runs.append(wall_time(cmd, env))
        results[f"causalda augment, 40 rows, {label}"] = runs
    return results


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=7)
    parser.add_argument("--runs", type=int, default=3, help="repeats of the augment runs (0: skip them)")
    parser.add_argument("--out", default="benchmarks/results/cli_startup.json")
    args = parser.parse_args()
    results = {}
    cases = {name: None for name in CASES}
    measured = augment_runs(args.runs) if args.runs else {}
    cases.update(measured)
    for name in cases:
        if name in measured:
            runs = measured[name]
        else:
            runs = [wall_time(CASES[name]) for _ in range(args.repeats if "for scale" not in name else 2)]
        times = [t for t, _, _ in runs]
        cpu = [c for _, c, _ in runs]
        results[name] = {"min_s": min(times), "median_s": sorted(times)[len(times) // 2], "times_s": times,
                         "min_cpu_s": min(cpu), "exit_codes": sorted({rc for _, _, rc in runs})}
        print(f"{name:45s} wall min {min(times):.3f} s, median {results[name]['median_s']:.3f} s; "
              f"cpu min {min(cpu):.3f} s")
    report = {"benchmark": "cli_startup", "repeats": args.repeats, "machine": device_info(), "results": results,
              "cpu_load_1min": os.getloadavg()[0]}
    Path(args.out).parent.mkdir(parents=True, exist_ok=True)
    Path(args.out).write_text(json.dumps(report, indent=2))
    print(f"-> {args.out}")


if __name__ == "__main__":
    main()
