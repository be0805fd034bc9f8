"""The seven scenario sweeps of the practical guide and the default settings."""

from __future__ import annotations

from dataclasses import dataclass, replace
from typing import Any

__all__ = ["DEFAULTS", "SCENARIOS", "Scenario", "Settings"]


@dataclass(frozen=True)
class Settings:
    """One cell of the study: how the data are generated and augmented.

    Defaults are the practical guide's (Poinsot & Leite, 2023): 10 variables, expected
    degree 3, noise 0.4, θ = 1e-2 (pruning at θ/n), no outliers, the ``nn`` mechanism, a
    Gaussian kernel with normal-reference bandwidth. ``n_samples = 100`` (before the 70/30
    split) is this package's choice for the sweeps that do not vary it.
    """

    n_nodes: int = 10
    n_samples: int = 100
    expected_degree: float = 3.0
    mechanism: str = "nn"
    noise_scale: float = 0.4
    outlier_fraction: float = 0.0
    threshold: float = 1e-2
    kernel: str = "gaussian"
    bandwidth: str = "normal_reference"

    def with_value(self, parameter: str, value: Any) -> "Settings":
        return replace(self, **{parameter: value})

    def scm_kwargs(self) -> dict[str, Any]:
        return {
            "expected_degree": self.expected_degree,
            "mechanism": self.mechanism,
            "noise_scale": self.noise_scale,
            "outlier_fraction": self.outlier_fraction,
        }


DEFAULTS = Settings()


@dataclass(frozen=True)
class Scenario:
    """A sweep of one setting; ``quick_values`` is the subset that ``--quick`` runs."""

    name: str
    parameter: str
    values: tuple
    quick_values: tuple
    label: str
    log_x: bool = False
    categorical: bool = False


SCENARIOS: dict[str, Scenario] = {
    s.name: s
    for s in (
        Scenario(
            "mechanism",
            "mechanism",
            ("linear", "polynomial", "sigmoid_add", "sigmoid_mix", "gp_add", "gp_mix", "nn"),
            ("linear", "nn"),
            "mechanism",
            categorical=True,
        ),
        Scenario("n_points", "n_samples", (30, 40, 60, 80, 100, 300, 500, 700), (30, 100, 300), "number of points n", log_x=True),
        Scenario("n_variables", "n_nodes", (7, 8, 9, 10, 15, 20, 25), (7, 10), "number of variables"),
        Scenario("degree", "expected_degree", (0, 1, 2, 3, 4, 5, 6, 7), (0, 3), "expected degree"),
        Scenario("noise", "noise_scale", (0.1, 0.2, 0.4, 0.6, 0.8, 1.0), (0.1, 1.0), "noise scale"),
        Scenario("outliers", "outlier_fraction", (0.01, 0.02, 0.03, 0.04, 0.05, 0.1, 0.15), (0.01, 0.1), "outlier fraction"),
        Scenario("threshold", "threshold", (1e-1, 1e-2, 1e-3, 1e-4, 1e-5), (1e-1, 1e-2, 1e-3, 1e-4), "threshold θ", log_x=True),
    )
}
