"""The study's cells on a Dask cluster: one task per (value, repetition), results sent back.

A cell's result depends on its settings and seed only, so a cell computes the same table on
any worker as in a local process. Tables come back to the caller, which writes them as a
local run does: resume, progress and per-cell failures behave alike.
"""

from __future__ import annotations

import uuid
from typing import Any

from ._runner import default_cache_dir, finish_cell, progress_bar, run_cell

__all__ = ["check_client", "connect", "execute_on_dask"]

CONNECT_TIMEOUT_S = 10.0


def _import_distributed():
    try:
        import distributed
    except ImportError:
        raise ValueError("the Dask path needs dask.distributed: pip install 'causalda-jax[distributed]'") from None
    return distributed


def connect(address: str, timeout: float | None = None):
    """A ``distributed.Client`` for the scheduler at ``address``; a clear error after ``timeout`` s.

    Raises:
        ValueError: nothing answers at ``address`` within ``timeout`` seconds.
    """
    distributed = _import_distributed()
    timeout = CONNECT_TIMEOUT_S if timeout is None else timeout
    try:
        return distributed.Client(address, timeout=f"{timeout}s", set_as_default=False)
    except (OSError, TimeoutError, ValueError) as err:
        raise ValueError(
            f"no Dask scheduler answers at {address!r} within {timeout:g} s ({type(err).__name__}); start one "
            "(dask scheduler, dask-jobqueue, dask-kubernetes) and pass its address, e.g. tcp://host:8786"
        ) from None


def check_client(client: Any) -> None:
    """Raise a clear ValueError unless ``client`` is a ``distributed.Client``."""
    if not isinstance(client, _import_distributed().Client):
        raise ValueError(
            f"client must be a dask.distributed.Client or a scheduler address, got {type(client).__name__}"
        )


def _cell_on_worker(settings, protocol, seed: int, meta: dict, cache_dir: str | None):
    # The default cache folder is the worker's own temp directory, not the caller's.
    return run_cell(settings, protocol, seed, meta, cache_dir if cache_dir is not None else default_cache_dir())


def execute_on_dask(pending: list, client: Any, progress: bool, title: str, cache_dir: str | None) -> list:
    """Run ``pending`` cells on ``client`` (a ``distributed.Client``); the errors, per cell."""
    distributed = _import_distributed()
    check_client(client)
    if cache_dir is None:
        import jax

        cache_dir = jax.config.jax_compilation_cache_dir or None
    errors: list = []
    run = uuid.uuid4().hex[:8]
    with progress_bar(progress) as bar:
        task = bar.add_task(title, total=len(pending))
        futures = {}
        for item in pending:
            meta = item[3]
            key = f"causalda-{meta['scenario']}-{meta['parameter']}={meta['value']}-rep{meta['rep']}-{run}"
            futures[client.submit(_cell_on_worker, *item[:4], cache_dir, key=key, pure=False)] = item
        for future in distributed.as_completed(futures):
            try:
                result = future.result()
            except Exception as err:  # a worker died or the task was lost: this cell only
                result = (None, f"{type(err).__name__}: {err}")
            finish_cell(futures[future], result, errors)
            future.release()
            bar.advance(task)
    return errors
