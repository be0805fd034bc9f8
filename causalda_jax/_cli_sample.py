"""``causalda sample``: draw a fixed number of rows from the causal factorization of a data file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ._cli_augment import check_outputs, fail, parse_bandwidth, parse_columns, print_summary, read_graph, read_table
from ._output import check_output, write_file


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
    data: Path = typer.Argument(..., help="Training data: .csv or .parquet, one column per graph node."),
    graph: Path = typer.Option(..., "--graph", "-g", help='Graph JSON: {"nodes", "directed", "bidirected"}.'),
    output: Path = typer.Option(
        ..., "--output", "-o", help="Where to write: .parquet, .csv, or a directory (no suffix) for parquet parts."
    ),
    n_samples: int = typer.Option(..., "--n-samples", "-n", help="Number of rows to draw."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same rows."),
    kernel: str = typer.Option("gaussian", help="gaussian or epanechnikov."),
    bandwidth: str = typer.Option("normal_reference", help="normal_reference, silverman, scott, or a number."),
    bandwidth_scale: float = typer.Option(1.0, help="τ, multiplies every bandwidth."),
    categorical: Optional[str] = typer.Option(None, help="Comma-separated columns to treat as categorical."),
    smoothing: float = typer.Option(0.0, help="Kernel noise of scale s·h on continuous values (0: none)."),
    neighbors: Optional[int] = typer.Option(None, help="Approximate: only the nearest k-d tree leaves (≥ k rows)."),
    devices: Optional[int] = typer.Option(None, help="Devices to split the samples over (default: all)."),
    part_rows: Optional[int] = typer.Option(None, help="Rows per parquet part in a directory (default 2**20)."),
    distributed: bool = typer.Option(
        False,
        help="Join a jax.distributed job ($JAX_COORDINATOR_ADDRESS, $JAX_NUM_PROCESSES, $JAX_PROCESS_ID) "
        "and write this process's share of the parts.",
    ),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
) -> None:
    """Draw N-SAMPLES rows from the kernel-conditional factorization of DATA under GRAPH."""
    console = Console(stderr=True)
    suffix = output.suffix.lower()
    to_dir = output.is_dir() or suffix == ""
    if to_dir:
        # A directory of parts resumes its own run and refuses any other (checked by the writer);
        # here only that it holds none of the inputs.
        try:
            check_output(output, inputs=[data, graph], overwrite=True, folder=True)
        except ValueError as e:
            fail(console, f"--output: {e}")
    else:
        check_outputs(console, [("--output", output, (".csv", ".parquet", ".pq"))], [data, graph], force)
    if distributed and not to_dir:
        fail(console, f"--distributed writes one set of parts per process: give a directory, not {output}")
    try:
        frame = read_table(data)
        causal_graph = read_graph(graph)
    except ValueError as e:
        fail(console, str(e))
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
        fail(console, str(e))
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
