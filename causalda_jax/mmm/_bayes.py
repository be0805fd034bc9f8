"""A Bayesian structural marketing mix model in numpyro: adstock and saturation inside the likelihood.

One equation per node of the causal system, in topological order: each mediator from its
graph parents, then the target from every model variable that is not its descendant. An
equation is linear in its standardised non-media inputs (trend, seasonality, controls,
mediators) and additive in its media inputs::

    z_node = intercept + Σ_j coef_j z_j + Σ_c beta_c hill(stock_c; half_c, slope_c) + Normal(0, sigma)

``stock_c = (1 - decay_c) adstock(spend_c / mean spend_c, decay_c)`` is the normalised
geometric adstock: the effective weekly spend level in units of the channel's average
spend, so a half-saturation of 1 means "half the maximal effect at the average level
of spend", whatever the decay. One decay and one saturation curve per channel are shared
by every equation the channel enters.

Priors: ``decay ~ Beta``, ``half_saturation, slope ~ LogNormal(0, ·)``, ``beta ~ HalfNormal``
(media effects are non-negative), ``coef ~ Normal``, ``intercept ~ Normal``,
``sigma ~ HalfNormal``, all on standardised scales (see :class:`BayesPriors`). A channel with
an ROI prior (mean, sd) gets ``roi ~ LogNormal`` with that mean and sd and
``beta = roi · total spend / (target sd · Σ_t hill_t)`` (Meridian's parametrisation), so the
prior is on the ROI of the channel's direct term.

Augmented rows: carry-over needs the time order, which augmented rows (from ``sample`` or
``augment``) do not have. Observed rows enter with their spends and are adstocked inside
the likelihood, so the decays are informed by the observed weeks only; augmented rows enter
with their (already adstocked) channel values expressed on the same normalised scale,
``a (1 - d_0) / mean spend`` with the decays ``d_0`` the feature table was built with. On
that scale the first-order dependence of an adstock on its decay (the ``1 / (1 - d)`` level)
cancels, so augmented rows inform saturation, effects and the other coefficients but not the
decays. Every row's log-likelihood is multiplied by its weight; the weights are rescaled to
sum to the number of observed weeks (see :func:`posterior_weights`), so the posterior is as
wide as ``n`` observations allow, however many augmented rows there are. With zero weight
on the augmented rows the log density is the observed-only one.

Lift tests (channel, window, measured incremental sales, sd) add ``Normal(measured |
predicted, sd)`` to the likelihood, where ``predicted`` is the model's total (direct plus
through the mediators) sales difference over the window between the observed spends and the
channel switched off in the window.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Mapping, Sequence
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
import pandas as pd
from jaxtyping import Array, ArrayLike, Float, Int

from ._transforms import hill

__all__ = [
    "BayesPriors",
    "Equation",
    "ModelSpec",
    "BayesData",
    "Posterior",
    "BayesianResponse",
    "bayes_model",
    "sample_posterior",
    "posterior_weights",
    "lognormal_from_moments",
    "normalised_stock",
    "model_inputs",
    "fit_bayes",
    "Diagnostics",
]


@dataclasses.dataclass(frozen=True)
class BayesPriors:
    """Prior scales of the Bayesian model (all on standardised scales).

    Attributes:
        decay: ``(a, b)`` of the Beta prior on every decay.
        half_saturation: sd of ``log half_saturation`` (median 1: the average spend level).
        slope: sd of ``log slope`` (median 1: a concave Hill curve).
        effect: HalfNormal scale of a media effect, in sd of the equation's response; with
            spend shares in the data, channel ``c`` gets ``effect · channels · share_c``
            (the prior expects effects in proportion to spend, as PyMC-Marketing's default).
        coef: Normal scale of a standardised linear input's coefficient.
        intercept: Normal scale of the intercept.
        noise: HalfNormal scale of the residual sd.
    """

    decay: tuple = (2.0, 2.0)
    half_saturation: float = 0.5
    slope: float = 0.5
    effect: float = 1.0
    coef: float = 1.0
    intercept: float = 2.0
    noise: float = 1.0


@dataclasses.dataclass(frozen=True)
class Equation:
    """One structural equation: which columns it reads and writes (static).

    Attributes:
        node: the response variable's name.
        response: its column of the standardised table ``z``.
        linear: columns of ``z`` read linearly.
        media: channel indices read through adstock and saturation.
        roi_prior: ``((position in media, log-mean, log-sd), ...)`` for ROI-parametrised channels.
    """

    node: str
    response: int
    linear: tuple = ()
    media: tuple = ()
    roi_prior: tuple = ()


@dataclasses.dataclass(frozen=True)
class ModelSpec:
    """The static part of the model: equations in topological order (target last) and priors."""

    equations: tuple
    n_channels: int
    priors: BayesPriors = BayesPriors()

    @property
    def target(self) -> Equation:
        return self.equations[-1]


class BayesData(NamedTuple):
    """The arrays the model conditions on; observed rows come first in ``z`` and ``weight``.

    Attributes:
        z: standardised non-channel variables, observed then augmented rows.
        spend: observed spends divided by each channel's mean spend, in time order.
        stock_aug: normalised adstock of the augmented rows.
        weight: log-likelihood weight of every row.
        spend_total: total observed spend per channel (raw units, for ROI priors).
        target_scale: sd of the target (raw units per standardised unit).
        lift_mask: ``(k, t)`` 1 inside each lift test's window.
        lift_channel: channel of each lift test.
        lift_value: measured lift in standardised target units (summed over the window).
        lift_sd: its standard deviation, same units.
        spend_share: each channel's share of the total spend (scales the effect priors), or
            ``None`` for one scale for all.
    """

    z: Float[Array, "rows p"]
    spend: Float[Array, "t c"]
    stock_aug: Float[Array, "aug c"]
    weight: Float[Array, " rows"]
    spend_total: Float[Array, " c"]
    target_scale: Float[Array, ""]
    lift_mask: Float[Array, "k t"]
    lift_channel: Int[Array, " k"]
    lift_value: Float[Array, " k"]
    lift_sd: Float[Array, " k"]
    spend_share: Float[Array, " c"] | None = None


def lognormal_from_moments(mean: float, sd: float) -> tuple[float, float]:
    """``(mu, sigma)`` of the LogNormal with the given mean and sd.

    Example:
        >>> mu, s = lognormal_from_moments(2.0, 1.0)
        >>> round(float(np.exp(mu + s**2 / 2)), 6)
        2.0
    """
    s2 = np.log1p((sd / mean) ** 2)
    return float(np.log(mean) - s2 / 2), float(np.sqrt(s2))


def posterior_weights(n: int, augmented: np.ndarray, ratio: float) -> np.ndarray:
    """Row weights of the likelihood: ``n`` observed rows, then the augmented rows.

    Augmented weights are normalised to carry ``ratio`` times the observed mass (the tree
    models' mix), then every weight is rescaled so that the total is ``n``: the posterior is
    as concentrated as ``n`` weeks of data make it, however many augmented rows there are,
    and the augmented share ``ratio / (1 + ratio)`` only moves where it is centred.

    Example:
        >>> posterior_weights(2, np.ones(4), 1.0).tolist()
        [0.5, 0.5, 0.25, 0.25, 0.25, 0.25]
    """
    from .._augmented_regressor import mix_weights

    augmented = np.asarray(augmented, np.float64)
    alpha = ratio / (1.0 + ratio)
    mass = augmented.sum()
    return mix_weights(n, augmented / mass if mass > 0 else augmented, alpha)


def normalised_stock(spend: Float[Array, "... t c"], decay: Float[Array, " c"]) -> Float[Array, "... t c"]:
    """``(1 - decay) · adstock(spend, decay)`` over the time axis ``-2``: the effective spend level.

    Written as a product with the ``(t, t)`` lower-triangular matrix of decay powers rather
    than a scan: weekly series are short, and the gradients and Hessians of a product
    compile and run much faster than those of a sequential loop.

    Example:
        >>> normalised_stock(jnp.array([[1.0], [0.0], [0.0]]), jnp.array([0.5]))[:, 0].tolist()
        [0.5, 0.25, 0.125]
    """
    t = spend.shape[-2]
    lag = jnp.arange(t)[:, None] - jnp.arange(t)[None, :]
    # A float exponent of at least 1 (lag 0 is the constant 1): no int/float mix, and the
    # derivative stays finite at decay = 0.
    exponent = jnp.maximum(lag, 1)[..., None].astype(decay.dtype)
    powers = jnp.where(lag[..., None] > 0, decay**exponent, jnp.where(lag[..., None] == 0, 1.0, 0.0))
    return (1.0 - decay) * jnp.einsum("tlc,...lc->...tc", powers, spend)


def _media_effects(eq: Equation, h_obs, data: BayesData, priors: BayesPriors):
    """``beta`` of one equation: HalfNormal, or derived from an ROI prior for listed channels."""
    k = len(eq.media)
    scale = jnp.full(k, priors.effect)
    if data.spend_share is not None:
        scale = scale * data.spend_share[np.asarray(eq.media)] * data.spend_share.shape[0]
    beta = numpyro.sample(f"{eq.node}.beta_free", dist.HalfNormal(scale).to_event(1))
    if eq.roi_prior:
        pos = np.array([p for p, _, _ in eq.roi_prior])
        mu = jnp.array([m for _, m, _ in eq.roi_prior])
        sd = jnp.array([s for _, _, s in eq.roi_prior])
        roi = numpyro.sample(f"{eq.node}.roi", dist.LogNormal(mu, sd).to_event(1))
        ch = np.asarray(eq.media)[pos]
        derived = roi * data.spend_total[ch] / (data.target_scale * jnp.sum(h_obs[:, ch], axis=0) + 1e-12)
        beta = beta.at[pos].set(derived)
    return numpyro.deterministic(f"{eq.node}.beta", beta)


def _propagate(equations: Sequence[Equation], params: Mapping, dh: Array) -> dict:
    """Change of every equation's mean for a change ``dh (..., t, c)`` of the saturated media."""
    dz: dict[int, Array] = {}
    for eq in equations:
        d = dh[..., list(eq.media)] @ params[f"{eq.node}.beta"] if eq.media else jnp.zeros(dh.shape[:-1])
        coef = params.get(f"{eq.node}.coef")
        for j, col in enumerate(eq.linear):
            if col in dz:
                d = d + coef[j] * dz[col]
        dz[eq.response] = d
    return dz


def _lift_change(spec: ModelSpec, params: Mapping, data: BayesData, stock, h_obs) -> Array:
    """Predicted lift of every test, in standardised target units."""
    decay = params["decay"]
    ch = data.lift_channel
    off = data.spend[:, ch] * data.lift_mask.T  # (t, k): the spend a test switches off
    removed = normalised_stock(off, decay[ch])
    h_off = hill(stock[:, ch] - removed, params["half_saturation"][ch], params["slope"][ch])
    dh = (h_obs[:, ch] - h_off).T[:, :, None] * jax.nn.one_hot(ch, spec.n_channels)[:, None, :]  # (k, t, c)
    dz = _propagate(spec.equations, params, dh)
    return jnp.sum(dz[spec.target.response] * data.lift_mask, axis=1)


def bayes_model(data: BayesData, spec: ModelSpec) -> None:
    """The numpyro model (see the module docstring). Sites: ``decay``, ``half_saturation``,
    ``slope``, and per equation ``<node>.beta``, ``<node>.coef``, ``<node>.intercept``,
    ``<node>.sigma``."""
    pr = spec.priors
    c = spec.n_channels
    decay = numpyro.sample("decay", dist.Beta(*pr.decay).expand([c]).to_event(1))
    half = numpyro.sample("half_saturation", dist.LogNormal(0.0, pr.half_saturation).expand([c]).to_event(1))
    slope = numpyro.sample("slope", dist.LogNormal(0.0, pr.slope).expand([c]).to_event(1))
    stock = normalised_stock(data.spend, decay)
    h_obs = hill(stock, half, slope)
    h = jnp.concatenate([h_obs, hill(data.stock_aug, half, slope)], axis=0)
    params = {"decay": decay, "half_saturation": half, "slope": slope}
    for eq in spec.equations:
        mu = numpyro.sample(f"{eq.node}.intercept", dist.Normal(0.0, pr.intercept)) * jnp.ones(h.shape[0])
        if eq.linear:
            coef = numpyro.sample(f"{eq.node}.coef", dist.Normal(0.0, pr.coef).expand([len(eq.linear)]).to_event(1))
            params[f"{eq.node}.coef"] = coef
            mu = mu + data.z[:, list(eq.linear)] @ coef
        if eq.media:
            beta = _media_effects(eq, h_obs, data, pr)
            params[f"{eq.node}.beta"] = beta
            mu = mu + h[:, list(eq.media)] @ beta
        sigma = numpyro.sample(f"{eq.node}.sigma", dist.HalfNormal(pr.noise))
        loglik = dist.Normal(mu, sigma).log_prob(data.z[:, eq.response])
        numpyro.factor(f"{eq.node}.loglik", jnp.sum(data.weight * loglik))
    if data.lift_value.shape[0]:
        predicted = _lift_change(spec, params, data, stock, h_obs)
        numpyro.factor("lift.loglik", jnp.sum(dist.Normal(predicted, data.lift_sd).log_prob(data.lift_value)))


class Diagnostics(NamedTuple):
    """Convergence of the posterior computation.

    Attributes:
        method: ``"nuts"`` or ``"map"`` (Laplace approximation at the mode).
        table: one row per scalar parameter: ``parameter, mean, sd, r_hat, ess``.
        max_r_hat, min_ess: worst values over the parameters (NaN for ``"map"``).
        divergences: divergent NUTS transitions (0 for ``"map"``).
        warnings: human-readable problems; empty when the run looks sound.
    """

    method: str
    table: pd.DataFrame
    max_r_hat: float
    min_ess: float
    divergences: int
    warnings: tuple


class Posterior(NamedTuple):
    """Posterior draws (leading axis: draw) of every site and the diagnostics."""

    samples: dict
    diagnostics: Diagnostics


def sample_posterior(
    data: BayesData,
    spec: ModelSpec,
    *,
    key: Array,
    method: str = "map",
    draws: int = 500,
    warmup: int = 500,
    chains: int = 4,
    steps: int = 3000,
    fixed: Mapping[str, ArrayLike] | None = None,
) -> Posterior:
    """Posterior draws of :func:`bayes_model` by NUTS or by a Laplace approximation at the mode.

    Args:
        data, spec: the model's arrays and static structure.
        key: PRNG key.
        method: ``"nuts"`` (chains vectorised on one device) or ``"map"`` (Adam on the
            log density, then a Gaussian at the mode in the unconstrained space).
        draws: draws per chain (NUTS) or in all (map).
        warmup: NUTS adaptation steps per chain.
        chains: NUTS chains.
        steps: optimisation steps (map).
        fixed: ``{site: value}`` held fixed (numpyro ``condition``), e.g. known decays.

    Example:
        >>> rng = np.random.default_rng(0)
        >>> x = rng.gamma(2.0, size=(40, 1)); y = x[:, 0] / (x[:, 0] + 2) + rng.normal(0, 0.05, 40)
        >>> z = ((y - y.mean()) / y.std())[:, None]
        >>> data = BayesData(jnp.asarray(z), jnp.asarray(x / x.mean(0)), jnp.zeros((0, 1)), jnp.ones(40),
        ...                  jnp.asarray(x.sum(0)), jnp.asarray(y.std()), jnp.zeros((0, 40)),
        ...                  jnp.zeros(0, int), jnp.zeros(0), jnp.ones(0))
        >>> spec = ModelSpec((Equation("y", 0, (), (0,)),), n_channels=1)
        >>> post = sample_posterior(data, spec, key=jax.random.key(0), draws=50, steps=500)
        >>> post.samples["y.beta"].shape
        (50, 1)
    """
    fixed = {k: jnp.asarray(v) for k, v in (fixed or {}).items()}
    if method == "nuts":
        return _nuts(data, spec, key, fixed, draws=draws, warmup=warmup, chains=chains)
    if method == "map":
        return _laplace(data, spec, key, fixed, draws=draws, steps=steps)
    raise ValueError(f"inference must be 'nuts' or 'map'; got {method!r}")


def _nuts(data, spec, key, fixed, *, draws, warmup, chains) -> Posterior:
    from numpyro.infer import MCMC, NUTS, init_to_median

    kernel = NUTS(numpyro.handlers.condition(bayes_model, fixed), target_accept_prob=0.9, init_strategy=init_to_median(num_samples=15))
    mcmc = MCMC(kernel, num_warmup=warmup, num_samples=draws, num_chains=chains, chain_method="vectorized",
                progress_bar=False)
    mcmc.run(key, data, spec, extra_fields=("diverging",))
    by_chain = {k: np.asarray(v) for k, v in mcmc.get_samples(group_by_chain=True).items()}
    divergences = int(np.asarray(mcmc.get_extra_fields()["diverging"]).sum())
    table = _summary_table(by_chain, with_chains=chains > 1)
    flat = {k: v.reshape((-1,) + v.shape[2:]) for k, v in by_chain.items()}
    max_r_hat = float(np.nanmax(table["r_hat"])) if chains > 1 else float("nan")
    min_ess = float(np.nanmin(table["ess"]))
    problems = []
    if chains > 1 and max_r_hat > 1.05:
        problems.append(f"R-hat up to {max_r_hat:.3f} (> 1.05): the chains disagree; run more warmup/draws")
    if min_ess < 100:
        problems.append(f"effective sample size down to {min_ess:.0f} (< 100): intervals are noisy; run more draws")
    if divergences:
        problems.append(f"{divergences} divergent transitions: the posterior geometry is hard; treat intervals with care")
    return Posterior(flat, Diagnostics("nuts", table, max_r_hat, min_ess, divergences, tuple(problems)))


def _initial_values(spec: ModelSpec) -> dict:
    """Unconstrained starting point: prior medians (decays 0.5, curves at the average spend)."""
    c = spec.n_channels
    init = {"decay": jnp.zeros(c), "half_saturation": jnp.zeros(c), "slope": jnp.zeros(c)}
    for eq in spec.equations:
        init[f"{eq.node}.intercept"] = jnp.zeros(())
        init[f"{eq.node}.sigma"] = jnp.full((), np.log(0.5))
        if eq.linear:
            init[f"{eq.node}.coef"] = jnp.zeros(len(eq.linear))
        if eq.media:
            init[f"{eq.node}.beta_free"] = jnp.full(len(eq.media), np.log(0.5))
        if eq.roi_prior:
            init[f"{eq.node}.roi"] = jnp.array([m for _, m, _ in eq.roi_prior])
    return init


def _conditioned(data: BayesData, spec: ModelSpec, fixed: Mapping) -> None:
    numpyro.handlers.condition(bayes_model, fixed)(data, spec)


@jax.jit(static_argnums=(1, 4))
def _find_mode(data: BayesData, spec: ModelSpec, fixed: dict, init: dict, steps: int):
    """Adam (cosine-decayed) on the potential in the unconstrained space, then its Hessian there."""
    import optax
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import potential_energy

    flat0, unravel = ravel_pytree(init)

    def potential(flat):
        return potential_energy(_conditioned, (data, spec, fixed), {}, unravel(flat))

    opt = optax.adam(optax.cosine_decay_schedule(0.05, steps, alpha=0.02))

    def step(carry, _):
        x, state = carry
        loss, grad = jax.value_and_grad(potential)(x)
        updates, state = opt.update(grad, state)
        return (optax.apply_updates(x, updates), state), loss

    (flat, _), losses = jax.lax.scan(step, (flat0, opt.init(flat0)), None, length=steps)
    return flat, jax.hessian(potential)(flat), losses


@jax.jit(static_argnums=(1,))
def _constrained_draws(data: BayesData, spec: ModelSpec, fixed: dict, init: dict, flat_draws):
    """Every site (deterministic ones included) for each unconstrained draw."""
    from jax.flatten_util import ravel_pytree
    from numpyro.infer.util import constrain_fn

    _, unravel = ravel_pytree(init)
    return jax.vmap(lambda f: constrain_fn(_conditioned, (data, spec, fixed), {}, unravel(f), return_deterministic=True))(
        flat_draws
    )


def _laplace(data, spec, key, fixed, *, draws, steps) -> Posterior:
    init = {k: v for k, v in _initial_values(spec).items() if k not in fixed}
    mode, hessian, losses = _find_mode(data, spec, fixed, init, steps)
    hessian = np.asarray(hessian, np.float64)
    problems = []
    # The Gaussian at the mode: covariance = inverse Hessian of the potential. Draws are
    # mode + L^-T z with H = L L^T (Cholesky: unique, so close Hessians give close draws).
    noise = np.asarray(jax.random.normal(key, (draws, mode.shape[0])), np.float64)
    hessian = 0.5 * (hessian + hessian.T)
    try:
        chol = np.linalg.cholesky(hessian)
    except np.linalg.LinAlgError:
        eigval, eigvec = np.linalg.eigh(hessian)
        problems.append(f"the mode is not a strict maximum ({int((eigval <= 0).sum())} flat or negative directions); "
                        "use inference: nuts")
        eigval = np.maximum(eigval, 1e-6 * max(eigval.max(), 1.0))
        chol = np.linalg.cholesky((eigvec * eigval) @ eigvec.T)
    flat_draws = np.asarray(mode, np.float64) + np.linalg.solve(chol.T, noise.T).T
    samples = _constrained_draws(data, spec, fixed, init, jnp.asarray(flat_draws, mode.dtype))
    samples = {**{k: np.broadcast_to(np.asarray(v), (draws, *np.shape(v))) for k, v in fixed.items()}, **samples}
    samples = {k: np.asarray(v) for k, v in samples.items() if not k.endswith("loglik")}
    table = _summary_table({k: v[None] for k, v in samples.items()}, with_chains=False)
    tail = np.asarray(losses)[-max(steps // 10, 2):]
    drift = float(tail.max() - tail.min())
    if not np.isfinite(drift) or drift > 0.5:
        problems.append(f"the optimiser had not settled (loss still moved {drift:.2g} over the last steps); raise steps")
    return Posterior(samples, Diagnostics("map", table, float("nan"), float("nan"), 0, tuple(problems)))


def _summary_table(by_chain: Mapping[str, np.ndarray], *, with_chains: bool) -> pd.DataFrame:
    from numpyro.diagnostics import effective_sample_size, split_gelman_rubin

    rows = []
    for name, v in by_chain.items():
        if name.endswith("loglik") or name.endswith("beta_free"):
            continue
        v = v.reshape(v.shape[:2] + (-1,))
        for i in range(v.shape[2]):
            x = v[:, :, i]
            label = name if v.shape[2] == 1 and x.ndim == 2 and by_chain[name].ndim == 2 else f"{name}[{i}]"
            finite = np.isfinite(x).all() and x.std() > 0
            rows.append({
                "parameter": label,
                "mean": float(x.mean()),
                "sd": float(x.std()),
                "r_hat": float(split_gelman_rubin(x)) if with_chains and finite else float("nan"),
                "ess": float(effective_sample_size(x)) if with_chains and finite else float("nan"),
            })
    return pd.DataFrame(rows, columns=["parameter", "mean", "sd", "r_hat", "ess"])


_PREDICT_SITES = ("decay", "half_saturation", "slope")


@dataclasses.dataclass(frozen=True)
class BayesianResponse:
    """Posterior-mean prediction of the target for spend scenarios (the ``ResponseModel`` interface).

    A scenario's spends are adstocked and saturated with each draw's parameters; the change
    of the saturated media propagates through the mediator equations to the target (each
    mediator keeps its observed residual), and the prediction is the target's fitted mean
    on the observed weeks plus that change. ``predict`` averages over the draws, so any KPI
    that is linear in predictions (contributions, ROI, marginal ROI, response curves) is
    the posterior mean of that KPI; :meth:`draw_models` gives one model per draw for the
    credible intervals.

    Attributes:
        channels: channel names.
        spec: the model's equations.
        z: standardised non-channel variables of the observed weeks.
        spend: observed spends.
        spend_scale: mean spend per channel.
        target_loc, target_scale: mean and sd of the target.
        columns, loc, scale: the non-channel columns of ``z`` and their standardisation.
        draws: ``{site: (draws, ...)}`` arrays.
    """

    channels: tuple
    spec: ModelSpec
    z: np.ndarray
    spend: np.ndarray
    spend_scale: np.ndarray
    target_loc: float
    target_scale: float
    columns: tuple
    loc: np.ndarray
    scale: np.ndarray
    draws: Mapping[str, np.ndarray]

    @property
    def decays(self) -> np.ndarray:
        """Posterior mean decay per channel."""
        return np.asarray(self.draws["decay"]).mean(axis=0)

    @property
    def n_draws(self) -> int:
        return int(np.asarray(self.draws["decay"]).shape[0])

    def predict(self, spends: np.ndarray) -> np.ndarray:
        """Posterior-mean target for spend scenarios ``(s, t, c)`` (or one ``(t, c)``) → ``(s, t)``."""
        spends = np.asarray(spends, np.float64)
        single = spends.ndim == 2
        spends = spends[None] if single else spends
        if spends.shape[1:] != self.spend.shape:
            raise ValueError(f"spends must have shape (s, {self.spend.shape[0]}, {self.spend.shape[1]}); got {spends.shape}")
        out = _predict_mean(self.spec, dict(self.draws), jnp.asarray(self.z), jnp.asarray(self.spend / self.spend_scale),
                            jnp.asarray(spends / self.spend_scale))
        out = self.target_loc + self.target_scale * np.asarray(out, np.float64)
        return out[0] if single else out

    def fitted(self, features: pd.DataFrame, spend: np.ndarray) -> np.ndarray:
        """Posterior-mean fitted target on a weekly feature table (mediators and controls as given).

        ``features`` holds the non-channel columns the model was fitted on, one row per week
        in time order (it may extend past the fitted weeks); ``spend`` the matching spends.
        """
        z = (features[list(self.columns)].to_numpy(np.float64) - self.loc) / self.scale
        out = _fitted_mean(self.spec, dict(self.draws), jnp.asarray(z), jnp.asarray(np.asarray(spend) / self.spend_scale))
        return self.target_loc + self.target_scale * np.asarray(out, np.float64)

    def draw_models(self) -> list["BayesianResponse"]:
        """One single-draw model per posterior draw."""
        return [dataclasses.replace(self, draws={k: v[i : i + 1] for k, v in self.draws.items()}) for i in range(self.n_draws)]


@jax.jit(static_argnums=0)
def _predict_mean(spec: ModelSpec, draws: Mapping, z, spend, spends):
    """Mean over draws of the standardised target for the scenarios ``(s, t, c)``."""

    def one(params):
        stock = normalised_stock(spend, params["decay"])
        h_obs = hill(stock, params["half_saturation"], params["slope"])
        new = normalised_stock(spends, params["decay"])
        dh = hill(new, params["half_saturation"], params["slope"]) - h_obs
        return _target_mean(spec.target, params, z, h_obs) + _propagate(spec.equations, params, dh)[spec.target.response]

    per_draw = jax.lax.map(one, draws, batch_size=8)
    return per_draw.mean(axis=0)


def _target_mean(eq: Equation, params: Mapping, z, h):
    mu = params[f"{eq.node}.intercept"] + jnp.zeros(z.shape[0])
    if eq.linear:
        mu = mu + z[:, list(eq.linear)] @ params[f"{eq.node}.coef"]
    if eq.media:
        mu = mu + h[:, list(eq.media)] @ params[f"{eq.node}.beta"]
    return mu


@jax.jit(static_argnums=0)
def _fitted_mean(spec: ModelSpec, draws: Mapping, z, spend):
    def one(params):
        h = hill(normalised_stock(spend, params["decay"]), params["half_saturation"], params["slope"])
        return _target_mean(spec.target, params, z, h)

    return jax.lax.map(one, draws, batch_size=8).mean(axis=0)


def model_inputs(
    features: pd.DataFrame,
    table: pd.DataFrame,
    weights: np.ndarray,
    spend: np.ndarray,
    dates: pd.Series,
    structure,
    decays: Mapping[str, float],
    config,
) -> tuple[BayesData, ModelSpec, dict]:
    """The arrays and equations of :func:`bayes_model` for a feature table (observed rows first).

    ``structure`` gives each equation's inputs (``target_inputs`` and ``mediator_inputs``);
    ``decays`` are the decays the table's channel columns were adstocked with (only the
    augmented rows use them, on the normalised scale). Returns the data, the spec and the
    scales that map back to raw units.
    """
    from ._lift import lift_window

    channels = list(config.channels)
    n = len(features)
    spend = np.asarray(spend, np.float64)
    spend_scale = spend.mean(axis=0)
    others = [col for col in features.columns if col not in channels]
    raw = table[others].to_numpy(np.float64)
    loc, scale = raw[:n].mean(axis=0), raw[:n].std(axis=0)
    scale = np.where(scale > 0, scale, 1.0)
    z = (raw - loc) / scale
    d0 = np.array([decays[ch] for ch in channels])
    stock_aug = table[channels].to_numpy(np.float64)[n:] * (1.0 - d0) / spend_scale
    col = {name: i for i, name in enumerate(others)}
    t_idx = col[config.target]
    target_scale = float(scale[t_idx])

    def equation(node, inputs, roi=False):
        media = tuple(channels.index(x) for x in inputs if x in channels)
        prior = ()
        if roi:
            prior = tuple(
                (media.index(channels.index(ch)), *lognormal_from_moments(*config.roi_prior[ch]))
                for ch in channels if ch in config.roi_prior and channels.index(ch) in media
            )
        return Equation(node, col[node], tuple(col[x] for x in inputs if x not in channels), media, prior)

    eqs = [equation(m, inputs) for m, inputs in structure.mediator_inputs.items()]
    eqs.append(equation(config.target, structure.target_inputs, roi=True))
    missing = sorted(set(config.roi_prior) - {channels[j] for j in eqs[-1].media})
    if missing:
        raise ValueError(f"roi_prior given for {missing}, which the target equation does not read in this graph")
    tests = config.lift_tests
    mask = np.stack([lift_window(dates, t) for t in tests]) if tests else np.zeros((0, n))
    data = BayesData(
        z=jnp.asarray(z),
        spend=jnp.asarray(spend / spend_scale),
        stock_aug=jnp.asarray(stock_aug),
        weight=jnp.asarray(weights),
        spend_total=jnp.asarray(spend.sum(axis=0)),
        target_scale=jnp.asarray(target_scale),
        lift_mask=jnp.asarray(mask),
        lift_channel=jnp.asarray([channels.index(t.channel) for t in tests], jnp.int32),
        lift_value=jnp.asarray([t.lift / target_scale for t in tests]),
        lift_sd=jnp.asarray([t.sd / target_scale for t in tests]),
        spend_share=jnp.asarray(spend.sum(axis=0) / spend.sum()),
    )
    priors = {k: tuple(v) if k == "decay" else float(v) for k, v in dict(config.priors).items()}
    spec = ModelSpec(tuple(eqs), len(channels), BayesPriors(**priors))
    scales = {"spend_scale": spend_scale, "target_loc": float(loc[t_idx]), "target_scale": target_scale,
              "columns": tuple(others), "loc": loc, "scale": scale}
    return data, spec, scales


def fit_bayes(
    features: pd.DataFrame,
    table: pd.DataFrame,
    weights: np.ndarray,
    spend: np.ndarray,
    dates: pd.Series,
    structure,
    decays: Mapping[str, float],
    config,
    *,
    key: Array,
    max_draws: int = 200,
) -> tuple[BayesianResponse, Diagnostics]:
    """Posterior of the Bayesian model on a feature table, as a :class:`BayesianResponse`.

    Arguments as :func:`model_inputs`; inference settings come from the config
    (``inference``, ``draws``, ``warmup``, ``chains``). At most ``max_draws`` draws, evenly
    thinned, are kept for the KPIs.
    """
    data, spec, scales = model_inputs(features, table, weights, spend, dates, structure, decays, config)
    post = sample_posterior(data, spec, key=key, method=config.inference, draws=config.draws,
                            warmup=config.warmup, chains=config.chains)
    total = post.samples["decay"].shape[0]
    keep = np.unique(np.linspace(0, total - 1, min(max_draws, total)).round().astype(int))
    needed = [k for k in post.samples if k in _PREDICT_SITES or k.endswith((".beta", ".coef", ".intercept"))]
    draws = {k: np.asarray(post.samples[k])[keep] for k in needed}
    model = BayesianResponse(
        channels=tuple(config.channels),
        spec=spec,
        z=np.asarray(data.z)[: len(features)],
        spend=np.asarray(spend, np.float64),
        draws=draws,
        **scales,
    )
    return model, post.diagnostics
