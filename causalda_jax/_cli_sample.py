"""``causalda sample``: draw a fixed number of rows from the causal factorization of a data file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ._cli_augment import check_outputs, fail, parse_bandwidth, parse_columns, print_summary, read_graph, read_table
from ._output import write_file


def sample_command(
    data: Path = typer.Argument(..., help="Training data: .csv or .parquet, one column per graph node."),
    graph: Path = typer.Option(..., "--graph", "-g", help='Graph JSON: {"nodes", "directed", "bidirected"}.'),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write: .parquet or .csv."),
    n_samples: int = typer.Option(..., "--n-samples", "-n", help="Number of rows to draw."),
    seed: int = typer.Option(0, help="Random seed; the same seed gives the same rows."),
    kernel: str = typer.Option("gaussian", help="gaussian or epanechnikov."),
    bandwidth: str = typer.Option("normal_reference", help="normal_reference, silverman, scott, or a number."),
    bandwidth_scale: float = typer.Option(1.0, help="τ, multiplies every bandwidth."),
    categorical: Optional[str] = typer.Option(None, help="Comma-separated columns to treat as categorical."),
    smoothing: float = typer.Option(0.0, help="Kernel noise of scale s·h on continuous values (0: none)."),
    neighbors: Optional[int] = typer.Option(None, help="Approximate: only the nearest k-d tree leaves (≥ k rows)."),
    devices: Optional[int] = typer.Option(None, help="Devices to split the samples over (default: all)."),
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
) -> None:
    """Draw N-SAMPLES rows from the kernel-conditional factorization of DATA under GRAPH."""
    console = Console(stderr=True)
    check_outputs(console, [("--output", output, (".csv", ".parquet", ".pq"))], [data, graph], force)
    try:
        frame = read_table(data)
        causal_graph = read_graph(graph)
    except ValueError as e:
        fail(console, str(e))
    from ._sample import NoConditionalError, sample

    start = time.perf_counter()
    try:
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
            devices=devices,
        )
    except (ValueError, TypeError, MemoryError, NoConditionalError) as e:
        fail(console, str(e))
    elapsed = time.perf_counter() - start
    if output.suffix.lower() == ".csv":
        write_file(output, lambda tmp: rows.to_csv(tmp, index=False))
    else:
        write_file(output, lambda tmp: rows.to_parquet(tmp, index=False))
    print_summary("causal data sampling", [
        ("training rows", f"{len(frame):,}"),
        ("sampled rows", f"{len(rows):,}"),
        ("mode", "exact" if neighbors is None else f"truncated (neighbors={neighbors})"),
        ("time", f"{elapsed:.2f} s"),
        ("written to", str(output)),
    ])
