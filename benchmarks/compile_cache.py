"""Compile time of a first and a second ``causalda augment`` / ``causalda sample`` process on the same file.

    python -m benchmarks.compile_cache            # n = 1,000 rows, d = 6 (augment) and n = 20,000, d = 10 (sample)
    python -m benchmarks.compile_cache --quick

Each run is a fresh process that calls the CLI in-process and sums JAX's own compile events
(``jax.monitoring``): tracing, lowering to MLIR, and the backend compile, which includes
reading an executable back from the persistent cache, plus the export cache's hits and misses
(programs read back from disk are neither traced nor lowered from Python; calling one still
lowers a small wrapper around it). The warm run lists its costliest programs (trace + lowering
+ compile, by JAX's function name). Runs, per command: ``cold`` (empty
cache), ``warm`` (same file again), ``nearby`` (the file with a few more rows: same shape
bucket) and ``no_cache`` (``CAUSALDA_NO_COMPILE_CACHE=1``). The cache lives in a temporary
``XDG_CACHE_HOME``. Writes benchmarks/results/compile_cache.json.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
from pathlib import Path

RESULTS = Path(__file__).parent / "results"

# Runs in the child: the CLI in-process, with JAX's compile events summed by kind.
_DRIVER = r"""
import json, sys, time
from collections import defaultdict
import jax.monitoring

events = defaultdict(float)
programs = defaultdict(float)
counts = defaultdict(int)
def on_duration(name, secs, **kw):
    events[name] += secs
    if name.rsplit("/", 1)[-1] in ("jaxpr_trace_duration", "jaxpr_to_mlir_module_duration", "backend_compile_duration"):
        programs[kw.get("fun_name", "?").removeprefix("jit(").removesuffix(")")] += secs
jax.monitoring.register_event_duration_secs_listener(on_duration)
jax.monitoring.register_event_listener(lambda name, **kw: counts.__setitem__(name, counts[name] + 1))
from causalda_jax._cli import app
start = time.perf_counter()
try:
    code = app(sys.argv[1:], standalone_mode=False)
except SystemExit as exit_:
    code = exit_.code
if code not in (None, 0):
    sys.exit(code)  # a run that failed has nothing to measure
wall = time.perf_counter() - start
kinds = {"trace": "/jax/core/compile/jaxpr_trace_duration", "lower": "/jax/core/compile/jaxpr_to_mlir_module_duration",
         "backend_compile": "/jax/core/compile/backend_compile_duration",
         "cache_retrieval": "/jax/compilation_cache/cache_retrieval_time_sec"}
out = {k: events.get(v, 0.0) for k, v in kinds.items()}
out["compile_total_s"] = out["trace"] + out["lower"] + out["backend_compile"]
out["export_hits"] = counts["/causalda/export_cache/hit"]
out["export_misses"] = counts["/causalda/export_cache/miss"]
out["export_load"] = events.get("/causalda/export_cache/load_duration", 0.0)
out["programs"] = {k: round(v, 3) for k, v in sorted(programs.items(), key=lambda kv: -kv[1])[:8]}
out["wall_s"] = wall
print(json.dumps(out))
"""


def _write_case(folder: Path, n: int, d: int, tag: str) -> tuple[Path, Path]:
    from benchmarks.augment_grid import make_data

    data, graph = make_data(n, d, "dag")
    csv = folder / f"data_{tag}.csv"
    data.to_csv(csv, index=False)
    graph_path = folder / f"graph_{tag}.json"
    graph_path.write_text(graph.to_json())
    return csv, graph_path


def _run(args: list[str], cache_home: Path, disable: bool) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(cache_home), "PYTHONPATH": str(Path(__file__).parent.parent)}
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if disable:
        env["CAUSALDA_NO_COMPILE_CACHE"] = "1"
    else:
        env.pop("CAUSALDA_NO_COMPILE_CACHE", None)
    proc = subprocess.run([sys.executable, "-c", _DRIVER, *args], capture_output=True, text=True, env=env, timeout=1800)
    if proc.returncode != 0:
        return {"status": "error", "error": proc.stderr.strip().splitlines()[-3:]}
    return {"status": "ok", **json.loads(proc.stdout.strip().splitlines()[-1])}


def main() -> None:
    from benchmarks.timing import device_info

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--out", default=None, help="output folder (default benchmarks/results)")
    args = parser.parse_args()
    sizes = {"augment": (300, 5), "sample": (2000, 6)} if args.quick else {"augment": (1000, 6), "sample": (20_000, 10)}
    report = {"device": device_info(), "runs": {}}
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        for command, (n, d) in sizes.items():
            cache_home = folder / f"cache_{command}"
            files = {"same": _write_case(folder, n, d, f"{command}"), "nearby": _write_case(folder, n + 7, d, f"{command}_b")}
            extra = ["--threshold", "1e-3"] if command == "augment" else ["--n-samples", "5000"]
            suffix = ".npz" if command == "augment" else ".parquet"
            runs = {}
            for label, which, disable in (("cold", "same", False), ("warm", "same", False), ("nearby", "nearby", False),
                                          ("no_cache", "same", True)):
                csv, graph = files[which]
                out = folder / f"out_{command}{suffix}"
                cli = [command, str(csv), "-g", str(graph), "-o", str(out), "--force", *extra]
                runs[label] = {"n": n + (7 if which == "nearby" else 0), "d": d, **_run(cli, cache_home, disable)}
                print(command, label, json.dumps(runs[label]), file=sys.stderr, flush=True)
            runs["cache_files"] = sum(1 for _ in cache_home.rglob("*") if _.is_file())
            report["runs"][command] = runs
    out_dir = Path(args.out) if args.out else RESULTS
    out_dir.mkdir(parents=True, exist_ok=True)
    path = out_dir / ("compile_cache_quick.json" if args.quick else "compile_cache.json")
    path.write_text(json.dumps(report, indent=2, default=str))
    print(f"wrote {path}", file=sys.stderr)


if __name__ == "__main__":
    main()
