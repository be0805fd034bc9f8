"""Package namespaces whose public names are imported on first use.

The command-line tool must answer ``--help`` and argument errors before JAX, pandas or
scikit-learn load, and every ``causalda_jax.x.y`` import runs the ``__init__`` of each package
on the way; so those ``__init__`` files name their exports here instead of importing them.
"""

from __future__ import annotations

import importlib
from collections.abc import Callable, Mapping


def lazy_exports(package: str, exports: Mapping[str, str], namespace: dict) -> tuple[Callable, Callable]:
    """``(__getattr__, __dir__)`` for ``package``, loading ``exports`` (name → submodule) on demand.

    A name equal to its submodule is the submodule itself (a subpackage); any other name is
    that submodule's attribute. Loaded values are stored in ``namespace`` (the package's
    ``globals()``), so each costs one import.

    Example:
        >>> import causalda_jax
        >>> causalda_jax.CausalGraph.__name__
        'CausalGraph'
    """

    def __getattr__(name: str):
        if name not in exports:
            raise AttributeError(f"module {package!r} has no attribute {name!r}")
        module = importlib.import_module(f".{exports[name]}", package)
        value = module if exports[name] == name else getattr(module, name)
        namespace[name] = value
        return value

    def __dir__() -> list[str]:
        return sorted(set(namespace) | set(exports))

    return __getattr__, __dir__
