"""``python -m causalda_jax`` and the ``causalda`` console script.

The Ctrl-C handler is installed before anything heavy is imported, so that an interrupt during
start-up is handled like one during the work.
"""

import sys


def main() -> None:
    """Run the ``causalda`` tool: Ctrl-C exits with status 130 and one line, nothing half-written."""
    from ._interrupt import exit_on_interrupt

    exit_on_interrupt()
    from ._cli import app

    sys.exit(app())


if __name__ == "__main__":
    main()
