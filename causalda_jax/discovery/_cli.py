"""``causalda discover``: learn a graph from a CSV file and optional expert knowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer
from rich.console import Console

from .._cli_augment import check_outputs, fail, read_table
from .._output import write_file

__all__ = ["discover_command"]

PLOT_SUFFIXES = (".png", ".pdf", ".svg", ".jpg", ".jpeg")


def discover_command(
    data: Path = typer.Argument(..., help="CSV file, one numeric column per variable."),
    output: Path = typer.Option(..., "-o", "--output", help="GRAPH.json to write (the format `causalda augment` reads)."),
    knowledge: Optional[Path] = typer.Option(None, "--knowledge", "-k", help="Knowledge JSON or YAML file.",
                                             exists=True, dir_okay=False),
    report: Optional[Path] = typer.Option(
        None, "--report", help="Write the disagreement report (markdown) here, and every verdict to the same name .csv."),
    plot: Optional[Path] = typer.Option(None, "--plot", help="Write a drawing (e.g. GRAPH.png), edges coloured by agreement."),
    method: str = typer.Option("dagma", "--method", help="dagma, dagma-mlp or pc."),
    n_bootstrap: Optional[int] = typer.Option(None, "--bootstrap", help="Bootstrap resamples (default depends on method)."),
    alpha: float = typer.Option(0.05, "--alpha", help="Significance level of the CI tests."),
    threshold: Optional[float] = typer.Option(None, "--threshold", help="Minimum edge strength (DAGMA)."),
    seed: int = typer.Option(0, "--seed", help="Random seed."),
    force: bool = typer.Option(False, "--force", help="Replace existing output files."),
) -> None:
    """Learn a causal DAG from DATA and expert knowledge; report where they disagree."""
    console = Console(stderr=True)
    check_outputs(
        console,
        [("--output", output, (".json",)), ("--report", report, None),
         ("--report (its verdict table)", None if report is None else _verdict_table(report), None),
         ("--plot", plot, PLOT_SUFFIXES)],
        [data, knowledge],
        force,
    )
    if n_bootstrap is not None and n_bootstrap < 0:
        fail(console, f"--bootstrap must be >= 0, got {n_bootstrap}")
    try:
        frame = read_table(data)
    except ValueError as e:
        fail(console, str(e))
    from ._discover import discover

    try:
        result = discover(frame, None if knowledge is None else str(knowledge), method=method,
                          n_bootstrap=n_bootstrap, alpha=alpha, threshold=threshold, seed=seed)
    except (ValueError, TypeError, FileNotFoundError) as e:
        fail(console, str(e))
    write_file(output, result.to_json)
    conflicts = result.report.conflicts
    typer.echo(f"{result.graph.number_of_edges()} edges over {result.graph.number_of_nodes()} variables -> {output}")
    if len(conflicts):
        typer.echo(f"{len(conflicts)} disagreements between data and knowledge (see the report)")
    if report is not None:
        table = _verdict_table(report)
        write_file(table, lambda tmp: result.report.to_csv(tmp))
        markdown = result.report.to_markdown(csv_link=table.name)
        write_file(report, lambda tmp: Path(tmp).write_text(markdown, encoding="utf-8"))
        typer.echo(f"report -> {report} (every verdict: {table})")
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        from ._plot import plot_agreement

        write_file(plot, lambda tmp: plot_agreement(result, tmp))
        typer.echo(f"plot -> {plot}")


def _verdict_table(report: Path) -> Path:
    """Where the CSV of every verdict goes: next to the report, same name, ``.csv``."""
    return report.with_suffix(".csv") if report.suffix.lower() != ".csv" else report.with_name(report.stem + "_verdicts.csv")
