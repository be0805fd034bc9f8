"""``causalda augment``: weighted causal data augmentation of a CSV or parquet file."""

from __future__ import annotations

import time
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console
from rich.table import Table as RichTable

from ._augment import AugmentationOverflowError, augment
from ._graph import CausalGraph


def read_table(path: Path):
    """Read a CSV or parquet file into a DataFrame, with a clear error for anything else."""
    import pandas as pd

    if not path.exists():
        raise typer.BadParameter(f"file not found: {path}")
    suffix = path.suffix.lower()
    if suffix == ".csv":
        return pd.read_csv(path)
    if suffix in (".parquet", ".pq"):
        return pd.read_parquet(path)
    raise typer.BadParameter(f"cannot read {path}: use a .csv or .parquet file")


def read_graph(path: Path) -> CausalGraph:
    """Read a graph JSON file, reported as a bad ``--graph`` option when it is not one."""
    try:
        return CausalGraph.from_json(path)
    except (ValueError, FileNotFoundError) as e:
        raise typer.BadParameter(str(e), param_hint="--graph") from None


def parse_bandwidth(text: str) -> float | str:
    """A bandwidth option: a number, or the name of a rule."""
    try:
        return float(text)
    except ValueError:
        return text


def parse_columns(text: str | None) -> list[str] | None:
    """A comma-separated column list option."""
    return [c.strip() for c in text.split(",")] if text else None


def fail(console: Console, message: str) -> NoReturn:
    """Report a user error on ``console`` and exit with status 2."""
    console.print(f"[red]error:[/red] {message}")
    raise typer.Exit(code=2)


def print_summary(title: str, items: list[tuple[str, str]]) -> None:
    """A two-column table of what a command did, on standard output."""
    summary = RichTable(title=title, show_header=False)
    for label, value in items:
        summary.add_row(label, value)
    Console().print(summary)


def augment_command(
    data: Path = typer.Argument(..., help="Training data: .csv or .parquet, one column per graph node."),
    graph: Path = typer.Option(..., "--graph", "-g", help='Graph JSON: {"nodes", "directed", "bidirected"}.'),
    output: Path = typer.Option(..., "--output", "-o", help="Where to write: .parquet, .npz, or .csv (weight column)."),
    threshold: float = typer.Option(1e-2, help="Pruning threshold θ in [0, 1)."),
    normalize_threshold: bool = typer.Option(True, help="Prune at θ/n (normalised) rather than θ."),
    kernel: str = typer.Option("gaussian", help="gaussian or epanechnikov."),
    bandwidth: str = typer.Option("normal_reference", help="normal_reference, silverman, scott, or a number."),
    bandwidth_scale: float = typer.Option(1.0, help="τ, multiplies every bandwidth."),
    categorical: Optional[str] = typer.Option(None, help="Comma-separated columns to treat as categorical."),
    max_rows: Optional[int] = typer.Option(None, help="Most rows any step may keep."),
) -> None:
    """Enumerate the weighted augmented data set of DATA under GRAPH (ADMG-DA)."""
    console = Console(stderr=True)
    frame = read_table(data)
    causal_graph = read_graph(graph)
    start = time.perf_counter()
    try:
        result = augment(
            frame,
            causal_graph,
            threshold=threshold,
            normalize_threshold=normalize_threshold,
            kernel=kernel,
            bandwidth=parse_bandwidth(bandwidth),
            bandwidth_scale=bandwidth_scale,
            categorical=parse_columns(categorical),
            max_rows=max_rows,
            progress=True,
        )
    except (ValueError, TypeError, AugmentationOverflowError) as e:
        fail(console, str(e))
    elapsed = time.perf_counter() - start
    suffix = output.suffix.lower()
    if suffix == ".csv":
        result.to_frame().to_csv(output, index=False)
    elif suffix in (".parquet", ".npz"):
        result.save(output)
    else:
        fail(console, f"cannot write {output}: use .parquet, .npz or .csv")
    print_summary("causal data augmentation", [
        ("training rows", f"{len(frame):,}"),
        ("augmented rows", f"{len(result):,}"),
        ("mass kept", f"{result.mass:.6f}"),
        ("effective sample size", f"{result.effective_sample_size:,.1f}"),
        ("θ_eff", f"{result.config['threshold_eff']:.3g}"),
        ("time", f"{elapsed:.2f} s"),
        ("written to", str(output)),
    ])
