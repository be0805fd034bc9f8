"""``python -m causalda_jax`` and the ``causalda`` console script.

The Ctrl-C handler is installed before anything heavy is imported, so that an interrupt during
start-up is handled like one during the work.
"""

import os
import sys


def _compilation_cache() -> None:
    # Each run of the tool is a new process that would compile the same XLA programs again;
    # JAX's persistent cache keeps them between runs. Set before JAX is imported (it reads the
    # environment then); a cache the user configured is left alone.
    if "JAX_COMPILATION_CACHE_DIR" not in os.environ:
        base = os.environ.get("XDG_CACHE_HOME") or os.path.join(os.path.expanduser("~"), ".cache")
        os.environ["JAX_COMPILATION_CACHE_DIR"] = os.path.join(base, "causalda_jax", "xla")
        os.environ.setdefault("JAX_PERSISTENT_CACHE_MIN_COMPILE_TIME_SECS", "0.2")


def main() -> None:
    """Run the ``causalda`` tool: Ctrl-C exits with status 130 and one line, nothing half-written."""
    from ._interrupt import exit_on_interrupt

    exit_on_interrupt()
    _compilation_cache()
    from ._cli import app

    sys.exit(app())


if __name__ == "__main__":
    main()
