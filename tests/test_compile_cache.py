"""Tests for the persistent compilation cache and the shape buckets that let nearby sizes share it."""

import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import pytest

from causalda_jax._compile_cache import DISABLE_ENV, bucket, compile_cache_dir, enable_compile_cache

ROOT = Path(__file__).parent.parent


def test_bucket_against_brute_force():
    for multiple in (1, 8, 128, 2048):
        previous = 0
        for size in range(1, 40_000, 37):
            b = bucket(size, multiple)
            assert b >= size and b % multiple == 0
            assert b <= size * 1.125 + multiple  # at most an eighth more rows, plus the rounding
            assert b >= previous  # monotone
            previous = b
    # Few distinct buckets per power of two: 8, then the rounding to the multiple.
    assert len({bucket(s, 1) for s in range(2**14 + 1, 2**15 + 1)}) == 8
    assert bucket(100_000, 2048) == bucket(99_000, 2048)


def test_cache_dir_follows_xdg(monkeypatch, tmp_path):
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert compile_cache_dir() == tmp_path / "causalda-jax" / "jax"
    monkeypatch.delenv("XDG_CACHE_HOME")
    assert compile_cache_dir() == Path.home() / ".cache" / "causalda-jax" / "jax"


def test_opt_out_leaves_jax_alone(monkeypatch):
    monkeypatch.setenv(DISABLE_ENV, "1")
    before = jax.config.jax_compilation_cache_dir
    assert enable_compile_cache() is None
    assert jax.config.jax_compilation_cache_dir == before


_CHILD = r"""
import json, jax.monitoring
hits = []
jax.monitoring.register_event_listener(lambda name, **kw: hits.append(name) if name.endswith("cache_hits") else None)
import numpy as np, pandas as pd, causalda_jax as cda
df = pd.DataFrame({"x": np.arange(6.0), "y": np.arange(6.0) ** 2})
cda.sample(df, {"directed": [["x", "y"]]}, 10, seed=0)
print(json.dumps({"hits": len(hits), "dir": str(cda.enable_compile_cache())}))
"""


def _child(tmp_path, disable: bool) -> dict:
    env = {**os.environ, "XDG_CACHE_HOME": str(tmp_path), "PYTHONPATH": str(ROOT)}
    env.pop(DISABLE_ENV, None)
    env.pop("JAX_COMPILATION_CACHE_DIR", None)
    if disable:
        env[DISABLE_ENV] = "1"
    out = subprocess.run([sys.executable, "-c", _CHILD], env=env, capture_output=True, text=True, timeout=300)
    assert out.returncode == 0, out.stderr[-2000:]
    return json.loads(out.stdout.strip().splitlines()[-1])


@pytest.mark.slow
def test_second_process_reads_the_cache(tmp_path):
    cache = tmp_path / "causalda-jax" / "jax"
    off = _child(tmp_path, disable=True)
    assert off["dir"] == "None" and not cache.exists()
    first = _child(tmp_path, disable=False)
    assert first["dir"] == str(cache) and first["hits"] == 0
    entries = {p.name for p in cache.iterdir()}
    assert entries  # the sampler's kernels were written
    second = _child(tmp_path, disable=False)
    assert second["hits"] >= 1  # and read back by the next process
