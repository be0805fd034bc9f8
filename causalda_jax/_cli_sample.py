"""``causalda sample``: draw a fixed number of rows from the causal factorization of a data file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from ._cli_augment import fail, parse_bandwidth, parse_columns, print_summary, read_graph, read_table
from ._sample import NoConditionalError, sample


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
) -> None:
    """Draw N-SAMPLES rows from the kernel-conditional factorization of DATA under GRAPH."""
    console = Console(stderr=True)
    frame = read_table(data)
    causal_graph = read_graph(graph)
    suffix = output.suffix.lower()
    if suffix not in (".csv", ".parquet", ".pq"):
        fail(console, f"cannot write {output}: use .parquet or .csv")
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
    except (ValueError, TypeError, NoConditionalError) as e:
        fail(console, str(e))
    elapsed = time.perf_counter() - start
    if suffix == ".csv":
        rows.to_csv(output, index=False)
    else:
        rows.to_parquet(output, index=False)
    print_summary("causal data sampling", [
        ("training rows", f"{len(frame):,}"),
        ("sampled rows", f"{len(rows):,}"),
        ("mode", "exact" if neighbors is None else f"truncated (neighbors={neighbors})"),
        *_leaf_choices(rows.attrs.get("sampling")),
        ("time", f"{elapsed:.2f} s"),
        ("written to", str(output)),
    ])
