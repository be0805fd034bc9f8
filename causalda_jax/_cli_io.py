"""What the ``causalda`` commands share: reading inputs, checking outputs, options, and errors.

Every error a command reports goes through :func:`fail`: one line ``error: ...`` on standard
error and exit status 2 (bad arguments, inputs or outputs; nothing written). Only typer's own
argument parsing (a missing option, a value of the wrong type) answers in its usage format,
also with status 2. Heavy imports (pandas, the graph) happen inside the functions, so that
``--help`` and argument errors answer at once.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, NoReturn, Optional

import typer

from ._output import check_distinct, check_output

__all__ = [
    "READ_SUFFIXES",
    "BandwidthOption",
    "BandwidthScaleOption",
    "CategoricalOption",
    "DataArgument",
    "GraphOption",
    "KernelOption",
    "check_folder",
    "check_outputs",
    "fail",
    "parse_bandwidth",
    "parse_columns",
    "print_summary",
    "read_graph",
    "read_table",
]

READ_SUFFIXES = (".csv", ".parquet", ".pq")

# Options that mean the same in every command that has them (``augment`` and ``sample``).
DataArgument = Annotated[Path, typer.Argument(help="Training data: .csv or .parquet, one column per graph node.")]
GraphOption = Annotated[Path, typer.Option("--graph", "-g", help='Graph JSON: {"nodes", "directed", "bidirected"}.')]
KernelOption = Annotated[str, typer.Option("--kernel", help="gaussian or epanechnikov.")]
BandwidthOption = Annotated[
    str, typer.Option("--bandwidth", help="normal_reference, silverman, scott, or a number.")
]
BandwidthScaleOption = Annotated[float, typer.Option("--bandwidth-scale", help="τ, multiplies every bandwidth.")]
CategoricalOption = Annotated[
    Optional[str], typer.Option("--categorical", help="Comma-separated columns to treat as categorical.")
]


def fail(message: str) -> NoReturn:
    """Report a user error in one line on standard error and exit with status 2.

    The one error path of the command-line tool: every command reports what it refuses through
    it, so the format (``error: MESSAGE``) and the status are the same everywhere.
    """
    from rich.console import Console
    from rich.markup import escape

    # Parser messages (YAML, CSV) span several lines; the report is one.
    Console(stderr=True).print(
        f"[red]error:[/red] {escape(' '.join(str(message).split()))}", highlight=False, soft_wrap=True
    )
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
    """A bandwidth option: a number, or the name of a rule.

    Example:
        >>> parse_bandwidth("0.5"), parse_bandwidth("silverman")
        (0.5, 'silverman')
    """
    try:
        return float(text)
    except ValueError:
        return text


def parse_columns(text: str | None) -> list[str] | None:
    """A comma-separated column list option.

    Example:
        >>> parse_columns("tv, radio,"), parse_columns(None)
        (['tv', 'radio'], None)
    """
    return [c.strip() for c in text.split(",") if c.strip()] if text else None


def check_outputs(
    outputs: Iterable[tuple[str, Optional[Path], tuple[str, ...] | None]],
    inputs: Iterable[Optional[Path]],
    force: bool,
) -> None:
    """Check every ``(option, path, suffixes)`` output file before any work; :func:`fail` on the first problem."""
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
        fail(str(e))


def check_folder(option: str, folder: Path, inputs: Iterable[Optional[Path]], force: bool) -> None:
    """Check an output folder before any work: no input inside it, not replaced unless ``force``; else :func:`fail`."""
    try:
        check_output(folder, inputs=list(inputs), overwrite=force, folder=True)
    except ValueError as e:
        fail(f"{option}: {e}")


def print_summary(title: str, items: list[tuple[str, str]]) -> None:
    """A two-column table of what a command did, on standard output."""
    from rich.console import Console
    from rich.table import Table as RichTable

    summary = RichTable(title=title, show_header=False)
    for label, value in items:
        summary.add_row(label, value)
    Console().print(summary)
