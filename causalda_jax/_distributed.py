"""Several JAX processes drawing one sample: start-up, configuration checks, each process's share.

The sample axis is split into one contiguous share per process. A sample's randomness is a
hash of its index, so each process draws its share on its own devices, with no communication;
the only collectives are the checks that every process was started and called alike.
"""

from __future__ import annotations

import hashlib
import json
import os
import socket
import time
from typing import Any

import jax
import numpy as np

from ._sample_parameters import sample_parameters

__all__ = ["initialize_processes", "process_share", "same_on_every_process"]

_ENV = ("JAX_COORDINATOR_ADDRESS", "JAX_NUM_PROCESSES", "JAX_PROCESS_ID")


def _env_int(value, name: str, env: str) -> int | None:
    if value is None:
        value = os.environ.get(env)
    if value is None or value == "":
        return None
    try:
        return int(value)
    except (TypeError, ValueError):
        raise ValueError(f"{name} must be an integer, got {value!r} (argument or ${env})") from None


def _split_address(address: str) -> tuple[str, int]:
    host, sep, port = address.rpartition(":")
    if not sep or not host or not port.isdigit() or not 0 < int(port) < 65536:
        raise ValueError(f"coordinator address must be HOST:PORT, got {address!r}")
    return host.strip("[]"), int(port)


def _wait_for_coordinator(host: str, port: int, timeout: float) -> None:
    """Return once the coordinator accepts connections; a clear error after ``timeout`` seconds.

    JAX terminates the process (it does not raise) when the coordinator never answers: this
    check comes first so that a wrong address or a missing process 0 is reported instead.
    """
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection((host, port), timeout=min(2.0, timeout)):
                return
        except OSError as err:
            if time.monotonic() >= deadline:
                raise ValueError(
                    f"no coordinator answers at {host}:{port} after {timeout:g} s ({err.strerror or err}); start "
                    "process 0 with the same coordinator address, or fix the address"
                ) from None
            time.sleep(0.2)


def _check_port_free(port: int) -> None:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        try:
            probe.bind(("", port))
        except OSError:
            raise ValueError(
                f"port {port} is already in use here, so process 0 cannot serve as coordinator on it: another "
                "job's coordinator (or a second process 0) holds it; choose another port"
            ) from None


def initialize_processes(
    coordinator_address: str | None = None,
    num_processes: int | None = None,
    process_id: int | None = None,
    *,
    timeout: float = 60.0,
) -> None:
    """Start ``jax.distributed`` for a multi-process :func:`causalda_jax.sample`, and check it.

    Each argument left as None is read from ``$JAX_COORDINATOR_ADDRESS``,
    ``$JAX_NUM_PROCESSES`` and ``$JAX_PROCESS_ID``; with none of them set anywhere, JAX's own
    cluster detection (SLURM, Open MPI, ...) is used. Process 0 serves as coordinator; the
    other processes wait up to ``timeout`` seconds for it. Once connected, every process checks
    that all were started with the same process count and distinct ids. Calling it again in an
    initialised process only repeats those checks.

    Args:
        coordinator_address: ``HOST:PORT`` of process 0.
        num_processes: number of processes in the job.
        process_id: this process's index, ``0 <= process_id < num_processes``.
        timeout: seconds to wait for the coordinator and for every process to register.

    Raises:
        ValueError: a missing or malformed value, an unreachable coordinator, a busy port on
            process 0, or processes started with different counts or the same id.

    Example:
        >>> initialize_processes("localhost:9911", num_processes=2, process_id=2)
        Traceback (most recent call last):
        ValueError: process_id must lie in [0, num_processes); got process_id=2, num_processes=2
    """
    address = coordinator_address or os.environ.get(_ENV[0]) or None
    count = _env_int(num_processes, "num_processes", _ENV[1])
    pid = _env_int(process_id, "process_id", _ENV[2])
    if jax.distributed.is_initialized():
        _check_started_alike(count, pid)
        return
    given = [v is not None for v in (address, count, pid)]
    if not any(given):
        try:
            jax.distributed.initialize(initialization_timeout=int(timeout))
        except ValueError as err:
            raise ValueError(
                f"no jax.distributed configuration found ({err}); pass coordinator_address, num_processes and "
                f"process_id, or set ${_ENV[0]}, ${_ENV[1]} and ${_ENV[2]}"
            ) from None
        _check_started_alike(None, None)
        return
    if not all(given):
        names = ("coordinator_address", "num_processes", "process_id")
        missing = [f"{name} (${env})" for name, env, ok in zip(names, _ENV, given) if not ok]
        raise ValueError(f"incomplete jax.distributed configuration: missing {', '.join(missing)}")
    if count < 1 or not 0 <= pid < count:
        raise ValueError(f"process_id must lie in [0, num_processes); got process_id={pid}, num_processes={count}")
    host, port = _split_address(address)
    if count > 1:
        if pid == 0:
            _check_port_free(port)
        else:
            _wait_for_coordinator(host, port, timeout)
    jax.distributed.initialize(address, count, pid, initialization_timeout=max(1, int(timeout)))
    _check_started_alike(count, pid)


def _gather(words: np.ndarray) -> np.ndarray:
    """Every process's ``words``, stacked in process order (a collective: all processes call it)."""
    from jax.experimental import multihost_utils

    return np.asarray(multihost_utils.process_allgather(np.asarray(words)))


def _check_started_alike(count: int | None, pid: int | None) -> None:
    n, me = jax.process_count(), jax.process_index()
    if count is not None and count != n:
        raise ValueError(f"this process was configured for {count} processes but the job has {n}")
    if pid is not None and pid != me:
        raise ValueError(f"this process was configured as process {pid} but the job runs it as {me}")
    if n == 1:
        return
    seen = _gather(np.array([n, me], np.int64)).reshape(n, 2)
    if len(set(seen[:, 0].tolist())) > 1 or sorted(seen[:, 1].tolist()) != list(range(n)):
        raise ValueError(
            f"the processes disagree on the job: (process count, id) per process = {seen.tolist()}; start every "
            "process with the same count and a distinct id"
        )


def _digest(value: Any) -> int:
    text = json.dumps(value, sort_keys=True, default=str).encode()
    return int.from_bytes(hashlib.sha256(text).digest()[:4], "little")


def same_on_every_process(record: dict[str, Any], what: str) -> None:
    """Check that every process holds the same ``record``; name the fields that differ.

    Raises:
        ValueError: some field differs between processes.
    """
    if jax.process_count() == 1:
        return
    names = sorted(record)
    words = np.array([_digest(record[k]) for k in names], np.uint32)
    seen = _gather(words)
    differ = [k for j, k in enumerate(names) if len(set(seen[:, j].tolist())) > 1]
    if differ:
        raise ValueError(
            f"{what} differs between the processes of this jax.distributed job in: {', '.join(differ)}; every "
            "process must make the same call (only its share of the work is its own)"
        )


def process_share(n_samples: int, data, graph, key, **options) -> tuple[int, int]:
    """This process's contiguous share ``[start, stop)`` of ``n_samples``, after checking the call.

    Raises:
        ValueError: the processes were not given the same sampling arguments.

    Example:
        >>> import jax, pandas as pd
        >>> df = pd.DataFrame({"x": [0.0, 1.0], "y": [1.0, 2.0]})
        >>> process_share(10, df, {"directed": [["x", "y"]]}, jax.random.key(0), offset=0, kernel="gaussian",
        ...     bandwidth="scott", bandwidth_scale=1.0, categorical=None, smoothing=0.0, neighbors=None)
        (0, 10)
    """
    same_on_every_process(sample_parameters(data, graph, n_samples, key, **options), "the call to sample")
    n, me = jax.process_count(), jax.process_index()
    return n_samples * me // n, n_samples * (me + 1) // n
