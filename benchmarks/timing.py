"""Timing and memory helpers shared by the benchmark scripts.

Each measured case runs in its own subprocess so that its peak resident memory is its own;
inside it, the first call (tracing + compilation + run) is timed apart from the steady state,
which is the minimum over repeats of fully synchronised calls.
"""

from __future__ import annotations

import json
import os
import platform
import resource
import subprocess
import sys
import time
from collections.abc import Callable
from datetime import datetime, timezone


def time_call(fn: Callable[[], object], repeats: int = 3) -> dict:
    """First-call time, steady-state minimum over ``repeats``, and their difference (compile)."""
    import jax

    start = time.perf_counter()
    out = fn()
    jax.block_until_ready(out) if _is_jax(out) else None
    first = time.perf_counter() - start
    times = []
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        jax.block_until_ready(out) if _is_jax(out) else None
        times.append(time.perf_counter() - start)
    steady = min(times)
    return {"first_s": first, "steady_s": steady, "compile_s": max(0.0, first - steady), "times_s": times, "result": out}


def _is_jax(out) -> bool:
    import jax

    return any(isinstance(leaf, jax.Array) for leaf in jax.tree_util.tree_leaves(out))


def peak_rss_mb() -> float:
    """Peak resident memory of this process, in MB."""
    return resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024.0


def device_peak_mb() -> dict:
    """Peak memory of the first accelerator, when its runtime reports one (not on CPU)."""
    import jax

    stats = jax.devices()[0].memory_stats() or {}
    return {"device_peak_mb": stats["peak_bytes_in_use"] / 2**20} if "peak_bytes_in_use" in stats else {}


def device_info() -> dict:
    """What ran the benchmark: JAX backend and devices, CPU, date."""
    import jax

    devices = jax.devices()
    return {
        "backend": jax.default_backend(),
        "devices": [str(d) for d in devices],
        "device_kind": devices[0].device_kind,
        "cpu_count": os.cpu_count(),
        "machine": platform.machine(),
        "python": platform.python_version(),
        "jax": jax.__version__,
        "date": datetime.now(timezone.utc).strftime("%Y-%m-%d"),
    }


def run_isolated(module: str, case: dict, timeout: float) -> dict:
    """Run ``python -m module --case JSON`` in a fresh process; parse its last stdout line as JSON."""
    cmd = [sys.executable, "-m", module, "--case", json.dumps(case)]
    try:
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=timeout)
    except subprocess.TimeoutExpired:
        return {**case, "status": "timeout", "timeout_s": timeout}
    if proc.returncode != 0:
        tail = (proc.stderr or proc.stdout).strip().splitlines()[-3:]
        return {**case, "status": "error", "error": " | ".join(tail), "returncode": proc.returncode}
    return json.loads(proc.stdout.strip().splitlines()[-1])
