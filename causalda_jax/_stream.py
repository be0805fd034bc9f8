"""Samples streamed to a directory of parquet parts, in memory bounded by one part.

Part ``i`` holds samples ``i * part_rows`` to ``(i + 1) * part_rows - 1``, drawn by
:func:`causalda_jax.sample` with that offset: a sample's randomness is a hash of its index, so
the parts together are exactly the in-memory draw with the same seed. Each part is written
under a hidden temporary name and renamed once complete; ``_run.json`` (what determines the
draw) is written first and ``_manifest.json`` last. A rerun with the same record skips the
parts that exist; a directory that holds anything else is refused. Readers that skip names
starting with ``_`` or ``.`` (pyarrow, pandas, Spark, DuckDB) read the directory as one table.
"""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import Any, NamedTuple

import jax
import numpy as np
import pandas as pd

from ._distributed import same_on_every_process
from ._graph import GraphLike
from ._sample_parameters import sample_parameters

__all__ = ["ParquetSample", "write_sample"]

DEFAULT_PART_ROWS = 2**20
RUN_FILE = "_run.json"
MANIFEST_FILE = "_manifest.json"


class ParquetSample(NamedTuple):
    """A sample written to a directory.

    Attributes:
        directory: the output directory.
        parts: the parquet parts of this process's share (all of them in a one-process run).
        n_rows: rows in those parts.
        complete: whether every part of the run exists and the manifest is written.
    """

    directory: Path
    parts: tuple[Path, ...]
    n_rows: int
    complete: bool


def _part_name(i: int) -> str:
    return f"part-{i:06d}.parquet"


def _write_json_atomic(path: Path, record: dict, *, exclusive: bool) -> bool:
    """Write ``record`` whole or not at all; with ``exclusive``, only if ``path`` does not exist.

    Returns whether this call wrote it.
    """
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}")
    tmp.write_text(json.dumps(record, indent=2, sort_keys=True))
    try:
        if exclusive:
            try:
                os.link(tmp, path)  # atomic, and fails if another process created it first
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
        return True
    finally:
        tmp.unlink(missing_ok=True)


def _claim(out: Path, record: dict) -> None:
    """Make ``out`` this run's directory, or check that it already is; refuse anything else."""
    if out.exists() and not out.is_dir():
        raise ValueError(f"{out} exists and is not a directory; give a new or empty directory for the parts")
    out.mkdir(parents=True, exist_ok=True)
    run_file = out / RUN_FILE
    if not run_file.exists():
        foreign = sorted(p.name for p in out.iterdir() if not p.name.startswith("."))
        # Another process of the same job may have claimed it meanwhile.
        if foreign and not run_file.exists():
            raise ValueError(
                f"{out} is not empty ({', '.join(foreign[:3])}{', ...' if len(foreign) > 3 else ''}) and holds no "
                "sample run; give a new or empty directory"
            )
        if not foreign and _write_json_atomic(run_file, record, exclusive=True):
            return
    try:
        old = json.loads(run_file.read_text())
    except (OSError, ValueError):
        raise ValueError(f"{run_file} is unreadable; delete {out} to start afresh") from None
    differ = sorted(k for k in set(old) | set(record) if old.get(k) != record.get(k))
    if differ:
        raise ValueError(
            f"{out} holds another sample run (it differs in {', '.join(differ)}); give another directory, or "
            "delete this one to replace it"
        )


def _existing_rows(path: Path) -> int | None:
    if not path.exists():
        return None
    import pyarrow.parquet as pq

    try:
        return pq.read_metadata(path).num_rows
    except Exception:  # not parquet, truncated: reported by the caller
        return -1


def write_sample(
    data: pd.DataFrame,
    graph: GraphLike,
    n_samples: int,
    out: str | os.PathLike,
    *,
    key: jax.Array,
    offset: int = 0,
    part_rows: int | None = None,
    devices=None,
    **options: Any,
) -> ParquetSample:
    """Draw ``n_samples`` rows into parquet parts under ``out``, one part in memory at a time.

    Called by ``sample(..., out=...)``, which validates the arguments. In a ``jax.distributed``
    job with ``devices=None`` each process writes a contiguous run of the parts on its own
    devices; whichever process finds every part complete writes the manifest.

    Args:
        data, graph, n_samples, key, offset, devices, options: as :func:`causalda_jax.sample`.
        out: the directory (created if missing).
        part_rows: rows per part (default ``2**20``).

    Returns:
        The :class:`ParquetSample` written (or found complete) by this process.

    Raises:
        ValueError: ``out`` holds another run or other files, or a part has the wrong size.

    Example:
        >>> import tempfile, pandas as pd, causalda_jax as cda
        >>> df = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "y": [0.0, 1.1, 1.9, 3.2]})
        >>> with tempfile.TemporaryDirectory() as tmp:
        ...     res = cda.sample(df, {"directed": [["x", "y"]]}, 10, seed=0, out=tmp, part_rows=4)
        ...     back = pd.read_parquet(tmp)
        >>> len(res.parts), res.n_rows, back.equals(cda.sample(df, {"directed": [["x", "y"]]}, 10, seed=0))
        (3, 10, True)
    """
    from ._sample import sample  # this module is imported by sample itself

    import pyarrow as pa
    import pyarrow.parquet as pq

    if part_rows is None:
        part_rows = DEFAULT_PART_ROWS
    if isinstance(part_rows, bool) or not isinstance(part_rows, (int, np.integer)) or part_rows < 1:
        raise ValueError(f"part_rows must be a positive integer, got {part_rows!r}")
    part_rows = int(part_rows)
    out = Path(out)
    record = sample_parameters(data, graph, n_samples, key, offset=offset, **options)
    record["part_rows"] = part_rows
    n_parts = -(-n_samples // part_rows)
    n_proc, me = jax.process_count(), jax.process_index()
    if devices is None and n_proc > 1:
        same_on_every_process({**record, "out": str(out.resolve())}, "the call to sample")
        devices = jax.local_devices()
        mine = range(n_parts * me // n_proc, n_parts * (me + 1) // n_proc)
    else:
        mine = range(n_parts)
    _claim(out, record)
    if n_proc == 1:
        for stale in out.glob(".part-*.tmp-*"):  # left by a killed run; nobody else writes here
            stale.unlink(missing_ok=True)
    parts, rows = [], 0
    for i in mine:
        start, stop = i * part_rows, min((i + 1) * part_rows, n_samples)
        path = out / _part_name(i)
        found = _existing_rows(path)
        if found is None:
            frame = sample(data, graph, stop - start, key=key, offset=offset + start, devices=devices, **options)
            table = pa.Table.from_pandas(frame, preserve_index=False)
            del frame
            tmp = out / f".{path.name}.tmp-{os.getpid()}"
            pq.write_table(table, tmp)
            del table
            os.replace(tmp, path)
        elif found != stop - start:
            raise ValueError(
                f"{path} holds {found if found >= 0 else 'no readable'} rows where this run puts {stop - start}; "
                f"it was not written by this run: delete {out} to start afresh"
            )
        parts.append(path)
        rows += stop - start
    complete = all((out / _part_name(i)).exists() for i in range(n_parts))
    if complete and not (out / MANIFEST_FILE).exists():
        manifest = {
            **record,
            "n_parts": n_parts,
            "parts": [
                {
                    "file": _part_name(i),
                    "first_sample": i * part_rows,
                    "rows": min(part_rows, n_samples - i * part_rows),
                }
                for i in range(n_parts)
            ],
        }
        _write_json_atomic(out / MANIFEST_FILE, manifest, exclusive=False)
    return ParquetSample(out, tuple(parts), rows, complete)
