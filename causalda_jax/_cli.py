"""The ``causalda`` command-line tool."""

from __future__ import annotations

import typer

app = typer.Typer(
    name="causalda",
    help="Causal data augmentation with a JAX core: discover graphs, augment data, study, and model marketing mix.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


def _register() -> None:
    # Each domain keeps its command next to its code; they are attached here.
    from ._cli_augment import augment_command

    app.command("augment")(augment_command)
    from ._cli_sample import sample_command

    app.command("sample")(sample_command)
    from .discovery._cli import discover_command

    app.command("discover")(discover_command)
    from .study._cli import study_command

    app.command("study")(study_command)
    from .mmm._cli import demo_command, mmm_command

    app.command("demo")(demo_command)
    app.command("mmm")(mmm_command)
    # [benchmark command]


_register()


def main() -> None:
    """Entry point of the ``causalda`` console script."""
    app()


if __name__ == "__main__":
    main()
