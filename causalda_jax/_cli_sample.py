"""``causalda sample``: draw a fixed number of rows from the causal factorization of a data file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Annotated, Optional

import typer

from ._cli_io import (
    BandwidthOption,
    BandwidthScaleOption,
    CategoricalOption,
    DataArgument,
    GraphOption,
    KernelOption,
    check_folder,
    check_outputs,
    fail,
    parse_bandwidth,
    parse_columns,
    print_summary,
    read_graph,
    read_table,
)
from ._output import write_file


def _leaf_choices(stats: dict | None) -> list[tuple[str, str]]:
    """The summary line saying how the leaf choices were decided (none when every conditional has one leaf)."""
    if not stats or not sum(stats.values()):
        return []
    text = (
        f"{stats['by_bounds']:,} by bounds, {stats['by_candidates']:,} by candidates, "
        f"{stats['full_scans']:,} full scans"
    )
    return [("leaf choices", text)]


def sample_command(
    data: DataArgument,
    graph: GraphOption,
    output: Annotated[
        Path,
        typer.Option(
            "--output", "-o", help="Where to write: .parquet, .csv, or a directory (no suffix) for parquet parts."
        ),
    ],
    n_samples: Annotated[int, typer.Option("--n-samples", "-n", help="Number of rows to draw.")],
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same rows.")] = 0,
    kernel: KernelOption = "gaussian",
    bandwidth: BandwidthOption = "normal_reference",
    bandwidth_scale: BandwidthScaleOption = 1.0,
    categorical: CategoricalOption = None,
    smoothing: Annotated[
        float, typer.Option("--smoothing", help="Kernel noise of scale s·h on continuous values (0: none).")
    ] = 0.0,
    neighbors: Annotated[
        Optional[int], typer.Option("--neighbors", help="Approximate: only the nearest k-d tree leaves (≥ k rows).")
    ] = None,
    devices: Annotated[
        Optional[int], typer.Option("--devices", help="Devices to split the samples over (default: all).")
    ] = None,
    part_rows: Annotated[
        Optional[int], typer.Option("--part-rows", help="Rows per parquet part in a directory (default 2**20).")
    ] = None,
    distributed: Annotated[
        bool,
        typer.Option(
            "--distributed/--no-distributed",
            help="Join a jax.distributed job ($JAX_COORDINATOR_ADDRESS, $JAX_NUM_PROCESSES, $JAX_PROCESS_ID) "
            "and write this process's share of the parts.",
        ),
    ] = False,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
) -> None:
    """Draw N-SAMPLES rows from the kernel-conditional factorization of DATA under GRAPH."""
    suffix = output.suffix.lower()
    to_dir = output.is_dir() or suffix == ""
    if to_dir:
        # A directory of parts resumes its own run and refuses any other (checked by the writer);
        # here only that it holds none of the inputs.
        check_folder("--output", output, [data, graph], force=True)
    else:
        check_outputs([("--output", output, (".csv", ".parquet", ".pq"))], [data, graph], force)
    if distributed and not to_dir:
        fail(f"--distributed writes one set of parts per process: give a directory, not {output}")
    try:
        frame = read_table(data)
        causal_graph = read_graph(graph)
    except ValueError as e:
        fail(str(e))
    from ._distributed import initialize_processes
    from ._sample import NoConditionalError, sample

    start = time.perf_counter()
    try:
        if distributed:
            initialize_processes()
        rows = sample(
            frame,
            causal_graph,
            n_samples,
            seed=seed,
            kernel=kernel,
            bandwidth=parse_bandwidth(bandwidth),
            bandwidth_scale=bandwidth_scale,
            categorical=parse_columns(categorical),
            smoothing=smoothing,
            neighbors=neighbors,
            devices=None if distributed else devices,
            **({"out": output, "part_rows": part_rows} if to_dir else {}),
        )
    except (ValueError, TypeError, MemoryError, NoConditionalError) as e:
        fail(str(e))
    elapsed = time.perf_counter() - start
    if to_dir:
        n_written = rows.n_rows
    else:
        n_written = len(rows)
        if suffix == ".csv":
            write_file(output, lambda tmp: rows.to_csv(tmp, index=False))
        else:
            write_file(output, lambda tmp: rows.to_parquet(tmp, index=False))
    print_summary("causal data sampling", [
        ("training rows", f"{len(frame):,}"),
        ("sampled rows", f"{n_written:,}"),
        ("mode", "exact" if neighbors is None else f"truncated (neighbors={neighbors})"),
        *_leaf_choices(None if to_dir else rows.attrs.get("sampling")),
        ("time", f"{elapsed:.2f} s"),
        ("written to", str(output)),
    ])
