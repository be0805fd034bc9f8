"""``causalda augment``: weighted causal data augmentation of a CSV or parquet file.

Heavy imports (pandas, JAX) happen inside the command, so that ``causalda --help`` and argument
errors answer at once.
"""

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
    check_outputs,
    fail,
    parse_bandwidth,
    parse_columns,
    print_summary,
    read_graph,
    read_table,
)
from ._output import write_file


def augment_command(
    data: DataArgument,
    graph: GraphOption,
    output: Annotated[
        Path, typer.Option("--output", "-o", help="Where to write: .parquet, .npz, or .csv (weight column).")
    ],
    threshold: Annotated[float, typer.Option("--threshold", help="Pruning threshold θ in [0, 1).")] = 1e-2,
    normalize_threshold: Annotated[
        bool,
        typer.Option(
            "--normalize-threshold/--no-normalize-threshold", help="Prune at θ/n (normalised) rather than θ."
        ),
    ] = True,
    kernel: KernelOption = "gaussian",
    bandwidth: BandwidthOption = "normal_reference",
    bandwidth_scale: BandwidthScaleOption = 1.0,
    categorical: CategoricalOption = None,
    max_rows: Annotated[Optional[int], typer.Option("--max-rows", help="Most rows any step may keep.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Replace an existing output file.")] = False,
) -> None:
    """Enumerate the weighted augmented data set of DATA under GRAPH (ADMG-DA)."""
    check_outputs([("--output", output, (".parquet", ".npz", ".csv"))], [data, graph], force)
    try:
        frame = read_table(data)
        causal_graph = read_graph(graph)
        if output.suffix.lower() == ".csv" and "weight" in frame.columns:
            raise ValueError(f"the data have a column 'weight', which the CSV output adds; rename it or write "
                             f"{output.with_suffix('.parquet')}")
        reserved = [str(c) for c in frame.columns if str(c).startswith("__causalda")]
        if reserved and output.suffix.lower() != ".csv":
            raise ValueError(f"column names starting with '__causalda' are reserved for the output: {reserved}; "
                             "rename them")
    except ValueError as e:
        fail(str(e))
    from ._augment import AugmentationOverflowError, augment

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
    except (ValueError, TypeError, MemoryError, AugmentationOverflowError) as e:
        fail(str(e))
    elapsed = time.perf_counter() - start
    if output.suffix.lower() == ".csv":
        write_file(output, lambda tmp: result.to_frame().to_csv(tmp, index=False))
    else:
        result.save(output, overwrite=force)
    print_summary("causal data augmentation", [
        ("training rows", f"{len(frame):,}"),
        ("augmented rows", f"{len(result):,}"),
        ("mass kept", f"{result.mass:.6f}"),
        ("effective sample size", f"{result.effective_sample_size:,.1f}"),
        ("θ_eff", f"{result.config['threshold_eff']:.3g}"),
        ("time", f"{elapsed:.2f} s"),
        ("written to", str(output)),
    ])
