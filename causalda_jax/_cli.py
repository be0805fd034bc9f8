"""The ``causalda`` command-line tool.

Each subcommand lives next to its domain code and is imported only when it runs (or when its
own ``--help`` is asked for): ``causalda --help`` reads the one-line summaries from the
modules' source without importing them, so it answers before JAX, pandas or scikit-learn load.
"""

from __future__ import annotations

import ast
import importlib
from pathlib import Path

import click
import typer
from typer.core import TyperCommand, TyperGroup

# name: (module, function). A new subcommand is one more line here.
COMMANDS = {
    "augment": ("causalda_jax._cli_augment", "augment_command"),
    "sample": ("causalda_jax._cli_sample", "sample_command"),
    "discover": ("causalda_jax.discovery._cli", "discover_command"),
    "study": ("causalda_jax.study._cli", "study_command"),
    "demo": ("causalda_jax.mmm._cli", "demo_command"),
    "mmm": ("causalda_jax.mmm._cli", "mmm_command"),
}


def _summary(module: str, function: str) -> str:
    """First line of a command function's docstring, read from the source without importing it."""
    # Not importlib.util.find_spec: it imports the parent packages, which is what we avoid.
    path = Path(__file__).parent.joinpath(*module.split(".")[1:]).with_suffix(".py")
    with open(path, encoding="utf-8") as f:
        tree = ast.parse(f.read())
    for node in tree.body:
        if isinstance(node, ast.FunctionDef) and node.name == function:
            return (ast.get_docstring(node) or "").strip().splitlines()[0]
    return ""


def _load(name: str) -> click.Command:
    module, function = COMMANDS[name]
    single = typer.Typer(add_completion=False, pretty_exceptions_enable=False)
    single.command(name)(getattr(importlib.import_module(module), function))
    return typer.main.get_command(single)


class LazyGroup(TyperGroup):
    """A typer group whose subcommands are imported when they are run."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return list(dict.fromkeys([*COMMANDS, *self.commands]))

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in self.commands:
            return self.commands[name]
        if name not in COMMANDS:
            return None
        # Listing for --help: a stand-in that carries the summary only.
        return TyperCommand(name, help=_summary(*COMMANDS[name]), callback=None)

    def resolve_command(self, ctx: click.Context, args: list[str]):
        name = click.utils.make_str(args[0]) if args else None
        if name in COMMANDS and name not in self.commands:
            self.add_command(_load(name), name)
        return super().resolve_command(ctx, args)


app = typer.Typer(
    name="causalda",
    cls=LazyGroup,
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)


@app.callback()
def _root() -> None:
    """Causal data augmentation with a JAX core: discover graphs, augment data, study, and model marketing mix."""


def main() -> None:
    """Run the tool (the console script is :func:`causalda_jax.__main__.main`)."""
    from .__main__ import main as run

    run()


if __name__ == "__main__":
    main()
