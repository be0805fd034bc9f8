"""Streaming ``sample(..., out=DIR)``: peak memory against the number of rows drawn.

    python -m benchmarks.sample_stream                 # 10^6 and 10^7 rows, streamed and in memory
    python -m benchmarks.sample_stream --rows 1e6 1e7 1e8 --no-memory-baseline
    python -m benchmarks.sample_stream --quick         # a smoke run (10^4, 10^5)
    python -m benchmarks.sample_stream --rows 1e8 --modes stream --merge   # add a case to the results

Writes benchmarks/results/sample_stream.json. Every case runs in a fresh process, so its peak
resident memory (``ru_maxrss``) is its own. Data: ``benchmarks.augment_grid.make_data``'s
nonlinear DAG with n = 10,000 training rows and d = 5 variables; the truncated sampler
(``neighbors=128``: one k-d tree leaf per conditional) keeps 10^8 rows within reach of a CPU.
Parts hold 2^20 rows. The in-memory baseline draws the same rows with ``sample(...)`` into one
frame; the first 10,000 streamed rows are checked against an in-memory draw.
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

RESULTS = Path(__file__).parent / "results"
N, D, NEIGHBORS = 10_000, 5, 128
CHECK_ROWS = 10_000


def run_case(case: dict) -> dict:
    """Draw ``case['rows']`` rows in this process, streamed to a temporary directory or in memory."""
    import pandas as pd

    from benchmarks.augment_grid import make_data
    from benchmarks.timing import device_info, peak_rss_mb
    from causalda_jax import sample

    data, graph = make_data(case["n"], case["d"], "dag")
    kw = {"seed": 0, "neighbors": case["neighbors"]}
    base_rss = peak_rss_mb()  # interpreter, jax and the data, before any draw
    start = time.perf_counter()
    if case["mode"] == "stream":
        tmp = Path(tempfile.mkdtemp(prefix="causalda_stream_", dir=case.get("dir")))
        try:
            res = sample(data, graph, case["rows"], out=tmp / "out", part_rows=case["part_rows"], **kw)
            seconds = time.perf_counter() - start
            # The first rows against the in-memory draw (few of them: this check must not raise the peak).
            first = pd.read_parquet(res.parts[0]).iloc[:CHECK_ROWS]
            identical = bool(first.equals(sample(data, graph, len(first), **kw)))
            size = sum(p.stat().st_size for p in res.parts)
            extra = {"parts": len(res.parts), "bytes_written": size, "first_part_identical": identical}
        finally:
            shutil.rmtree(tmp, ignore_errors=True)
    else:
        frame = sample(data, graph, case["rows"], **kw)
        seconds = time.perf_counter() - start
        extra = {"frame_mb": float(frame.memory_usage(index=True).sum()) / 2**20}
    return {
        **case,
        "status": "ok",
        "seconds": seconds,
        "rows_per_s": case["rows"] / seconds,
        "rss_before_draw_mb": base_rss,
        "peak_rss_mb": peak_rss_mb(),
        **extra,
        "device": device_info(),
    }


def main() -> None:
    from benchmarks.timing import run_isolated

    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--case", help="internal: run one case (JSON) and print its result")
    parser.add_argument("--rows", nargs="+", type=float, default=[1e6, 1e7])
    parser.add_argument("--no-memory-baseline", action="store_true", help="skip the in-memory draws")
    parser.add_argument("--modes", nargs="+", default=["stream", "memory"], choices=["stream", "memory"])
    parser.add_argument("--merge", action="store_true", help="keep the other cases already in --out")
    parser.add_argument("--quick", action="store_true")
    parser.add_argument("--part-rows", type=int, default=2**20)
    parser.add_argument("--timeout", type=float, default=4 * 3600.0, help="seconds per case")
    parser.add_argument("--dir", default=None, help="where the temporary parts go (default: the system's)")
    parser.add_argument("--out", default=str(RESULTS / "sample_stream.json"))
    args = parser.parse_args()
    if args.case:
        print(json.dumps(run_case(json.loads(args.case)), default=str))
        return
    rows = [10_000, 100_000] if args.quick else [int(r) for r in args.rows]
    common = {"n": N, "d": D, "neighbors": NEIGHBORS, "part_rows": args.part_rows, "dir": args.dir}
    cases = [{**common, "mode": "stream", "rows": r} for r in rows] if "stream" in args.modes else []
    if "memory" in args.modes and not args.no_memory_baseline:
        cases += [{**common, "mode": "memory", "rows": r} for r in rows if r <= 10_000_000]
    out = Path(args.out)
    results = []
    for case in cases:
        res = run_isolated("benchmarks.sample_stream", case, args.timeout)
        results.append(res)
        print(json.dumps({k: res.get(k) for k in ("mode", "rows", "status", "seconds", "peak_rss_mb")}), flush=True)
        _write(out, results, args.merge)  # after every case: a long run keeps what it measured
    print(f"wrote {out}")


def _write(out: Path, results: list, merge: bool) -> None:
    from benchmarks.timing import device_info

    device = device_info()  # first: the read-merge-write below must be quick when runs share the file
    if merge and out.exists():  # re-read: another run may have added cases meanwhile
        mine = {(r.get("mode"), r.get("rows")) for r in results}
        old = json.loads(out.read_text())["cases"]
        results = [r for r in old if (r.get("mode"), r.get("rows")) not in mine] + results

    stream = [r for r in results if r.get("mode") == "stream" and r.get("status") == "ok"]
    summary = {}
    if len(stream) > 1:
        lo, hi = min(stream, key=lambda r: r["rows"]), max(stream, key=lambda r: r["rows"])
        summary = {
            "rows_ratio": hi["rows"] / lo["rows"],
            "peak_rss_ratio": hi["peak_rss_mb"] / lo["peak_rss_mb"],
            "peak_rss_mb_by_rows": {str(r["rows"]): r["peak_rss_mb"] for r in stream},
        }
    memory = [r for r in results if r.get("mode") == "memory" and r.get("status") == "ok"]
    summary["in_memory_peak_rss_mb_by_rows"] = {str(r["rows"]): r["peak_rss_mb"] for r in memory}
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps({"device": device, "summary": summary, "cases": results}, indent=2, default=str))


if __name__ == "__main__":
    main()
