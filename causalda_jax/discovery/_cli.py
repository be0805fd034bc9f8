"""``causalda discover``: learn a graph from a CSV file and optional expert knowledge."""

from __future__ import annotations

from pathlib import Path
from typing import Optional

import typer

__all__ = ["discover_command"]


def discover_command(
    data: Path = typer.Argument(..., help="CSV file, one numeric column per variable.", exists=True, dir_okay=False),
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
) -> None:
    """Learn a causal DAG from DATA and expert knowledge; report where they disagree."""
    import pandas as pd

    from ._discover import discover

    try:
        frame = pd.read_csv(data)
        result = discover(frame, None if knowledge is None else str(knowledge), method=method,
                          n_bootstrap=n_bootstrap, alpha=alpha, threshold=threshold, seed=seed)
    except (ValueError, TypeError, FileNotFoundError) as e:
        typer.echo(f"error: {e}", err=True)
        raise typer.Exit(code=2) from None
    result.to_json(output)
    conflicts = result.report.conflicts
    typer.echo(f"{result.graph.number_of_edges()} edges over {result.graph.number_of_nodes()} variables -> {output}")
    if len(conflicts):
        typer.echo(f"{len(conflicts)} disagreements between data and knowledge (see the report)")
    if report is not None:
        table = report.with_suffix(".csv")
        result.report.to_csv(table)
        report.write_text(result.report.to_markdown(csv_link=table.name), encoding="utf-8")
        typer.echo(f"report -> {report} (every verdict: {table})")
    if plot is not None:
        import matplotlib

        matplotlib.use("Agg")
        from ._plot import plot_agreement

        plot_agreement(result, plot)
        typer.echo(f"plot -> {plot}")
