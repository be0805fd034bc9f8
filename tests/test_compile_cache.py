"""Tests for the persistent compilation cache and the shape buckets that let nearby sizes share it."""

import contextlib
import json
import os
import subprocess
import sys
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest

import causalda_jax as cda
import causalda_jax._expand as engine
import causalda_jax._export_cache as export_cache
from causalda_jax._draw_chunk import draw_chunk
from causalda_jax._compile_cache import DISABLE_ENV, bucket, compile_cache_dir, enable_compile_cache
from causalda_jax._export_cache import HIT_EVENT, MISS_EVENT, cached_jit, export_cache_dir
from tracing import count_traces

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


# The export cache: programs serialized with jax.export, read back without tracing.


@pytest.fixture
def export_dir(monkeypatch, tmp_path):
    """The export cache turned on, in a temporary XDG_CACHE_HOME."""
    monkeypatch.delenv(DISABLE_ENV, raising=False)
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path))
    assert export_cache_dir() == tmp_path / "causalda-jax" / "export"
    return tmp_path / "causalda-jax" / "export"


def _mix(x, scale, *, power, shift):
    # Integer and float paths, a reduction and a sort: anything a wrong program would get wrong.
    total = jnp.sum(x[0] ** power) * scale + shift
    return jnp.sort(x[0] * scale)[::-1] - total, (x[1] * 3) // 2


@contextlib.contextmanager
def _events():
    seen = []
    listener = lambda name, **kw: seen.append(name)  # noqa: E731
    jax.monitoring.register_event_listener(listener)
    try:
        yield seen
    finally:
        jax.monitoring.unregister_event_listener(listener)


def _mix_args(dtype):
    x = np.linspace(-2.0, 3.0, 17).astype(dtype)
    return (jnp.asarray(x), jnp.arange(5, dtype=jnp.int32)), jnp.asarray(1.5, dtype)


def _check_against_plain_jit(dtype):
    plain = jax.jit(_mix, static_argnames=("power", "shift"))
    args, scale = _mix_args(dtype)
    expected = plain(args, scale, power=3, shift=0.25)
    first = cached_jit(_mix, static_argnames=("power", "shift"))
    out = first(args, scale, power=3, shift=0.25)
    # A second wrapper stands for a second process: nothing in memory, the file on disk.
    with count_traces() as traces:
        again = cached_jit(_mix, static_argnames=("power", "shift"))(args, scale, power=3, shift=0.25)
    assert traces["_mix"] == 0
    for got in (out, again):
        for a, b in zip(jax.tree.leaves(got), jax.tree.leaves(expected)):
            assert a.dtype == b.dtype
            np.testing.assert_array_equal(np.asarray(a), np.asarray(b))  # bit-identical


def test_export_cache_bit_identical_and_not_retraced(export_dir):
    _check_against_plain_jit(np.float32)
    assert len(list(export_dir.glob("*.bin"))) == 1


def test_export_cache_bit_identical_x64(export_dir, x64):
    _check_against_plain_jit(np.float64)
    assert len(list(export_dir.glob("*.bin"))) == 1


def test_export_cache_one_file_per_signature(export_dir):
    fn = cached_jit(_mix, static_argnames=("power", "shift"))
    args, scale = _mix_args(np.float32)
    fn(args, scale, power=2, shift=0.0)
    fn(args, scale, power=3, shift=0.0)  # another static value
    fn((args[0][:9], args[1]), scale, power=2, shift=0.0)  # another shape
    fn(args, scale, power=2, shift=0.0)  # in memory: no new file
    assert len(list(export_dir.glob("*.bin"))) == 3


def test_export_key_holds_the_library_source(export_dir, monkeypatch, tmp_path):
    # A program exported by other library code is never read back: the key holds a hash of the
    # package's sources, and that hash follows every byte of them.
    fingerprint = export_cache.code_fingerprint.__wrapped__  # uncached
    args, scale = _mix_args(np.float32)
    cached_jit(_mix, static_argnames=("power", "shift"))(args, scale, power=2, shift=0.0)
    monkeypatch.setattr(export_cache, "code_fingerprint", lambda: "another version")
    with _events() as seen:
        cached_jit(_mix, static_argnames=("power", "shift"))(args, scale, power=2, shift=0.0)
    assert MISS_EVENT in seen and HIT_EVENT not in seen
    assert len(list(export_dir.glob("*.bin"))) == 2
    src = tmp_path / "pkg"
    (src / "sub").mkdir(parents=True)
    (src / "a.py").write_text("x = 1\n")
    (src / "sub" / "b.py").write_text("y = 2\n")
    before = fingerprint(src)
    (src / "sub" / "b.py").write_text("y = 3\n")
    assert fingerprint(src) != before


@pytest.mark.parametrize("damage", ["garbage", "truncated", "other_program"])
def test_damaged_export_file_is_rewritten(export_dir, damage):
    args, scale = _mix_args(np.float32)
    expected = jax.jit(_mix, static_argnames=("power", "shift"))(args, scale, power=2, shift=1.0)
    cached_jit(_mix, static_argnames=("power", "shift"))(args, scale, power=2, shift=1.0)
    (path,) = export_dir.glob("*.bin")
    good = path.read_bytes()
    if damage == "garbage":
        path.write_bytes(b"\x00not an exported program" * 10)
    elif damage == "truncated":
        path.write_bytes(good[: len(good) // 2])
    else:  # a valid file of another function under this name
        cached_jit(jnp.cumsum)(args[0])
        (other,) = set(export_dir.glob("*.bin")) - {path}
        path.write_bytes(other.read_bytes())
    with _events() as seen:
        out = cached_jit(_mix, static_argnames=("power", "shift"))(args, scale, power=2, shift=1.0)
    assert MISS_EVENT in seen and HIT_EVENT not in seen
    for a, b in zip(jax.tree.leaves(out), jax.tree.leaves(expected)):
        np.testing.assert_array_equal(np.asarray(a), np.asarray(b))
    assert path.read_bytes() == good  # rewritten


def test_export_cache_steps_aside(export_dir, monkeypatch):
    traced = []

    def double(x):
        traced.append(1)
        return 2 * x

    fn = cached_jit(double)
    # Under a trace, for Python scalars and for arrays over several devices: the plain jit.
    assert float(jax.grad(lambda v: fn(v).sum())(jnp.ones(3)).sum()) == 6.0
    assert fn(3) == 6
    mesh = jax.make_mesh((2,), ("i",), devices=jax.devices()[:2])  # conftest gives 4 host devices
    spread = jax.device_put(jnp.arange(8.0), jax.sharding.NamedSharding(mesh, jax.sharding.PartitionSpec("i")))
    np.testing.assert_array_equal(np.asarray(fn(spread)), 2 * np.arange(8.0))
    # A static argument that is not a plain value (a mesh) has no stable name across processes.
    with_mesh = cached_jit(lambda x, *, mesh: x + 1, static_argnames=("mesh",))
    np.testing.assert_array_equal(np.asarray(with_mesh(jnp.zeros(2), mesh=mesh)), np.ones(2))
    assert not export_dir.exists() or not list(export_dir.glob("*.bin"))
    monkeypatch.setenv(DISABLE_ENV, "1")
    assert export_cache_dir() is None
    fn(jnp.arange(4.0))
    assert not export_dir.exists() or not list(export_dir.glob("*.bin"))


def _sample_case(n=300):
    rng = np.random.default_rng(3)
    x = rng.normal(size=n)
    df = pd.DataFrame({"x": x, "y": x**2 + rng.normal(size=n), "z": rng.normal(size=n)})
    return df, {"directed": [["x", "y"], ["y", "z"]]}


def _sample_three_ways(monkeypatch, export_dir, n):
    df, graph = _sample_case(n)
    run = lambda: cda.sample(df, graph, 700, seed=4, devices=1, return_indices=True)[1]  # noqa: E731
    monkeypatch.setenv(DISABLE_ENV, "1")
    off = run()
    monkeypatch.delenv(DISABLE_ENV)
    first = run()
    draw_chunk.clear_cache()  # as in a new process: only the file is left
    with count_traces() as traces:
        second = run()
    assert traces["draw_chunk"] == 0 and traces["_draw_block"] == 0
    assert list(export_dir.glob("*.bin"))
    np.testing.assert_array_equal(first, off)
    np.testing.assert_array_equal(second, off)


def test_sample_identical_with_and_without_export_cache(export_dir, monkeypatch):
    _sample_three_ways(monkeypatch, export_dir, n=300)


def test_sample_identical_with_and_without_export_cache_x64(export_dir, monkeypatch, x64):
    # Few rows: one leaf. (Under x64, the candidate-leaf stage's reduction mixes int32 and int64.)
    _sample_three_ways(monkeypatch, export_dir, n=40)


def test_augment_identical_with_and_without_export_cache(export_dir, monkeypatch):
    df, graph = _sample_case()
    run = lambda: cda.augment(df, graph, threshold=1e-3, devices=1)  # noqa: E731  (one device: the exported path)
    monkeypatch.setenv(DISABLE_ENV, "1")
    off = run()
    monkeypatch.delenv(DISABLE_ENV)
    first = run()
    engine._expand_interval.clear_cache()
    engine._expand_scored.clear_cache()
    with count_traces() as traces:
        second = run()
    assert traces["_interval_step"] == 0 and traces["_scored_step"] == 0
    assert list(export_dir.glob("*.bin"))
    for aug in (first, second):
        pd.testing.assert_frame_equal(aug.data, off.data)
        np.testing.assert_array_equal(aug.log_weights, off.log_weights)
