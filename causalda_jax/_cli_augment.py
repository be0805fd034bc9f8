"""``causalda augment``: weighted causal data augmentation of a CSV or parquet file.

Also the input, output and error helpers that the other data commands share. Heavy imports
(pandas, JAX) happen inside the commands, so that ``causalda --help`` and argument errors
answer at once.
"""

from __future__ import annotations

import time
from collections.abc import Iterable
from pathlib import Path
from typing import NoReturn, Optional

import typer
from rich.console import Console

from ._output import check_distinct, check_output, write_file

READ_SUFFIXES = (".csv", ".parquet", ".pq")


def fail(console: Console, message: str) -> NoReturn:
    """Report a user error on ``console`` in one line and exit with status 2."""
    from rich.markup import escape

    # Parser messages (YAML, CSV) span several lines; the report is one.
    console.print(f"[red]error:[/red] {escape(' '.join(str(message).split()))}", highlight=False, soft_wrap=True)
    raise typer.Exit(code=2)


def _check_readable(path: Path, what: str) -> str:
    if not path.exists():
        raise ValueError(f"{what} file not found: {path}")
    if path.is_dir():
        raise ValueError(f"{what} path {path} is a folder; give a file")
    suffix = path.suffix.lower()
    if suffix not in READ_SUFFIXES:
        raise ValueError(f"cannot read {path}: use a .csv or .parquet file")
    try:
        with open(path, "rb") as f:
            head = f.read(8192)
    except OSError as e:
        raise ValueError(f"cannot read {path}: {e.strerror}") from None
    if not head:
        raise ValueError(f"{path} is empty; it needs a header row and data rows")
    is_parquet = head.startswith(b"PAR1")
    if suffix == ".csv" and (is_parquet or b"\0" in head):
        kind = "a parquet file" if is_parquet else "binary, not text"
        raise ValueError(f"{path} is {kind}; give a comma-separated text file" + (
            " or rename it to .parquet" if is_parquet else ""))
    if suffix != ".csv" and not is_parquet:
        raise ValueError(f"{path} is not a parquet file (no PAR1 header); if it is text, name it .csv")
    return suffix


def read_table(path: Path, what: str = "data"):
    """Read a CSV or parquet file into a DataFrame; any problem is one ``ValueError`` line.

    Checks the file exists, is a file, has a supported extension and content of that kind
    (text for ``.csv``, the parquet magic for ``.parquet``), parses without ragged rows, and
    has at least one column and one row.
    """
    import pandas as pd

    suffix = _check_readable(path, what)
    try:
        if suffix == ".csv":
            frame = pd.read_csv(path)
        else:
            frame = pd.read_parquet(path)
    except pd.errors.EmptyDataError:
        raise ValueError(f"{path} has no columns; it needs a header row and data rows") from None
    except pd.errors.ParserError as e:
        detail = str(e).strip().splitlines()[-1].replace("Error tokenizing data. C error: ", "")
        raise ValueError(f"{path} is not a rectangular table ({detail}); every row needs one value per column") \
            from None
    except UnicodeDecodeError:
        raise ValueError(f"{path} is not UTF-8 text; save it as UTF-8 CSV") from None
    except (OSError, ValueError) as e:
        raise ValueError(f"cannot read {path}: {str(e).splitlines()[0] if str(e) else type(e).__name__}") from None
    if frame.shape[1] == 0 or len(frame) == 0:
        raise ValueError(f"{path} has {len(frame)} rows and {frame.shape[1]} columns; it needs data rows")
    return frame


def read_graph(path: Path):
    """Read a graph JSON file; any problem is one ``ValueError`` line naming ``--graph``."""
    from ._graph import CausalGraph

    try:
        return CausalGraph.from_json(path)
    except (ValueError, TypeError, OSError) as e:
        raise ValueError(f"--graph: {e}") from None


def parse_bandwidth(text: str) -> float | str:
    """A bandwidth option: a number, or the name of a rule."""
    try:
        return float(text)
    except ValueError:
        return text


def parse_columns(text: str | None) -> list[str] | None:
    """A comma-separated column list option."""
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def check_outputs(
    console: Console,
    outputs: Iterable[tuple[str, Optional[Path], tuple[str, ...] | None]],
    inputs: Iterable[Optional[Path]],
    force: bool,
) -> None:
    """Check every ``(option, path, suffixes)`` output before any work; exit 2 on the first problem."""
    outputs = [o for o in outputs if o[1] is not None]
    inputs = list(inputs)
    try:
        check_distinct((name, path) for name, path, _ in outputs)
        for name, path, suffixes in outputs:
            try:
                check_output(path, inputs=inputs, overwrite=force, suffixes=suffixes)
            except ValueError as e:
                raise ValueError(f"{name}: {e}") from None
    except ValueError as e:
        fail(console, str(e))


def print_summary(title: str, items: list[tuple[str, str]]) -> None:
    """A two-column table of what a command did, on standard output."""
    from rich.table import Table as RichTable

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
    force: bool = typer.Option(False, "--force", help="Replace an existing output file."),
) -> None:
    """Enumerate the weighted augmented data set of DATA under GRAPH (ADMG-DA)."""
    console = Console(stderr=True)
    check_outputs(console, [("--output", output, (".parquet", ".npz", ".csv"))], [data, graph], force)
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
        fail(console, str(e))
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
        fail(console, str(e))
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
