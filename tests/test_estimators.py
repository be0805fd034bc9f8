"""Tests for causalda_jax.estimators and sample(..., estimator=...).

Oracles: closed-form conditional moments of linear-Gaussian SCMs (tolerances stated with each
test, a few standard errors of the estimators at the sample sizes used), the exact kernel
conditional (chi-square), and two-sample tests against fresh draws of the true SCM at level
1e-3, each with a power check that the same test rejects a wrong law.
"""

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd
import pytest
from scipy import stats

import causalda_jax as cda
from causalda_jax.estimators import ANM, MDN, Classifier, Kernel, NoKernelMassError, make_estimator, ridge
from causalda_jax.estimators import _anm as anm_module
from tracing import count_traces

ALPHA = 1e-3
SLOPE, SIGMA = 2.0, 0.5  # y = SLOPE x + SIGMA ε, x ~ N(0, 1): E[y|x] = SLOPE x, Var[y|x] = SIGMA²


def _linear_xy(n, seed):
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    return x[:, None], SLOPE * x + SIGMA * rng.normal(size=n)


def _chain(n, seed):
    """x → y → z, linear Gaussian."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=n)
    y = SLOPE * x + SIGMA * rng.normal(size=n)
    z = -0.5 * y + 0.7 * rng.normal(size=n)
    return pd.DataFrame({"x": x, "y": y, "z": z})


CHAIN = {"directed": [["x", "y"], ["y", "z"]]}
GRID = np.linspace(-1.0, 1.0, 5)[:, None].astype(np.float32)
N = 600
# One network configuration and one training size for every MDN fit here: its training loop
# compiles once per test process.
SMALL_MDN = MDN(2, (16,), max_epochs=400, validation_fraction=0.0)


@pytest.fixture(scope="module")
def linear_fits():
    X, y = _linear_xy(N, 0)
    key = jax.random.key(0)
    return {
        "anm_ridge": ANM("ridge").fit(X, y, key=key),
        "anm_mlp": ANM("mlp", regressor_params={"hidden_layer_sizes": (16,), "max_iter": 200}).fit(X, y, key=key),
        "mdn": SMALL_MDN.fit(X, y, key=key),
    }


# Tolerances on [-1, 1] with n = 600: ridge's slope has standard error 0.5/√600 ≈ 0.02, so its
# mean is within 0.1; the networks get 0.2. The residual variance is within 15 % for ANM (its
# standard error is √(2/600) ≈ 6 %) and 30 % for the MDN's mixture variance at every x.
@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
@pytest.mark.parametrize("name, mean_tol, var_rtol", [("anm_ridge", 0.1, 0.15), ("anm_mlp", 0.2, 0.15), ("mdn", 0.2, 0.3)])
def test_linear_gaussian_conditional_moments(linear_fits, name, mean_tol, var_rtol):
    fitted = linear_fits[name]
    mean = np.asarray(fitted.mean(GRID))
    var = np.asarray(fitted.variance(GRID))
    np.testing.assert_allclose(mean, SLOPE * GRID[:, 0], atol=mean_tol)
    np.testing.assert_allclose(var, SIGMA**2, rtol=var_rtol)
    # The draws follow the stated moments: 4000 draws at x = 1.
    draws = np.asarray(fitted.sample(np.ones((4000, 1), np.float32), key=jax.random.key(3)))
    assert abs(draws.mean() - float(fitted.mean(np.ones((1, 1)))[0])) < 4 * np.sqrt(SIGMA**2 / 4000) + 1e-3
    assert abs(draws.var() / float(fitted.variance(np.ones((1, 1)))[0]) - 1) < 0.1


@pytest.mark.slow
def test_ridge_matches_closed_form(x64):
    rng = np.random.default_rng(1)
    X, y, w = rng.normal(size=(40, 3)), rng.normal(size=40), rng.uniform(0.1, 2, size=40)
    alpha = 0.7
    fit = ridge(jnp.asarray(X), jnp.asarray(y), jnp.asarray(w), alpha)
    # Reference: the same objective solved by numpy on standardised inputs with an explicit intercept.
    p = w / w.sum()
    mu, sd = p @ X, np.sqrt(p @ (X - p @ X) ** 2)
    Z = np.c_[np.ones(40), (X - mu) / sd]
    pen = np.diag([0.0] + [alpha / 40 + 1e-6] * 3)
    beta = np.linalg.solve(Z.T @ (p[:, None] * Z) + pen, Z.T @ (p * y))
    np.testing.assert_allclose(np.asarray(fit.coef), beta[1:] / sd, rtol=1e-8)
    np.testing.assert_allclose(float(fit.intercept), beta[0] - mu @ (beta[1:] / sd), rtol=1e-8)


def test_heteroskedastic_anm_recovers_the_spread():
    # log Var[y | x] = x + log 0.09: linear, so the ridge spread model is well specified.
    rng = np.random.default_rng(2)
    x = rng.uniform(-1.5, 1.5, size=3000)
    y = x + 0.3 * np.exp(0.5 * x) * rng.normal(size=3000)
    fitted = ANM("ridge", heteroskedastic=True).fit(x[:, None], y, key=jax.random.key(0))
    grid = np.array([[-1.0], [0.0], [1.0]], np.float32)
    # 20 %: the spread model's slope has standard error ≈ 2.2/√3000 ≈ 0.04 on log r².
    np.testing.assert_allclose(np.asarray(fitted.variance(grid)), 0.09 * np.exp(grid[:, 0]), rtol=0.2)
    homo = ANM("ridge").fit(x[:, None], y, key=jax.random.key(0))
    assert abs(float(homo.variance(grid)[0]) / (0.09 * np.exp(-1.0)) - 1) > 0.5  # power: a constant spread is wrong


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_mdn_log_prob_matches_scipy_mixture(linear_fits):
    fitted = linear_fits["mdn"]
    log_pi, mu, sigma = (np.asarray(a, np.float64) for a in fitted.components(GRID))
    yq = np.linspace(-3, 3, 5)
    ref = np.log(np.sum(np.exp(log_pi) * stats.norm.pdf(yq[:, None], mu, sigma), axis=1))
    np.testing.assert_allclose(np.asarray(fitted.log_prob(GRID, yq)), ref, rtol=1e-4, atol=1e-4)


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_mdn_fits_a_bimodal_conditional():
    # y | x = ±(1 + x) + 0.1 ε with probability ½ each: two modes, variance (1 + x)² + 0.01.
    rng = np.random.default_rng(5)
    x = rng.uniform(0, 1, size=N)
    y = np.where(rng.random(N) < 0.5, 1.0, -1.0) * (1 + x) + 0.1 * rng.normal(size=N)
    fitted = SMALL_MDN.fit(x[:, None], y, key=jax.random.key(0))
    grid = np.array([[0.25], [0.75]], np.float32)
    # 15 %: the MDN pools neighbouring x; the variance of ±(1 + x) changes by ~4 % per 0.05 of x.
    np.testing.assert_allclose(np.asarray(fitted.variance(grid)), (1 + grid[:, 0]) ** 2 + 0.01, rtol=0.15)
    draws = np.asarray(fitted.sample(np.full((2000, 1), 0.5, np.float32), key=jax.random.key(1)))
    truth = np.where(rng.random(2000) < 0.5, 1.0, -1.0) * 1.5 + 0.1 * rng.normal(size=2000)
    assert stats.ks_2samp(draws, truth).pvalue > ALPHA
    anm = ANM("ridge").fit(x[:, None], y, key=jax.random.key(0))  # power: residuals pooled across x
    anm_draws = np.asarray(anm.sample(np.full((2000, 1), 0.5, np.float32), key=jax.random.key(1)))
    assert stats.ks_2samp(anm_draws, truth).pvalue < ALPHA


def _two_sample_pvalues(out, fresh):
    """KS p-values of each column and of two fixed projections (which see the dependence)."""
    cols = list(fresh.columns)
    a, b = out[cols].to_numpy(float), fresh.to_numpy(float)
    directions = np.array([[1.0, -SLOPE, 0.0], [0.0, 0.5, 1.0]]).T  # x - 2y ... and z + y/2
    proj = [stats.ks_2samp(a @ d, b @ d).pvalue for d in directions.T]
    return [stats.ks_2samp(a[:, j], b[:, j]).pvalue for j in range(a.shape[1])] + proj


@pytest.mark.parametrize("estimator", ["anm_ridge", {"y": "anm_ridge", "z": "anm_ridge"}])
def test_samples_pass_a_two_sample_test_against_the_scm(estimator):
    train, fresh = _chain(3000, 6), _chain(600, 7)
    out = cda.sample(train, CHAIN, 600, seed=0, estimator=estimator)
    assert min(_two_sample_pvalues(out, fresh)) > ALPHA / 5  # Bonferroni over 5 tests
    wrong = cda.sample(train, {"directed": [["x", "y"]], "nodes": ["x", "y", "z"]}, 600, seed=0, estimator=estimator)
    assert min(_two_sample_pvalues(wrong, fresh)) < ALPHA / 5  # power: z ⟂ y is visible


def test_admg_through_the_markov_pillow():
    # A hidden u confounds x and z: x = u + e, y = x + e, z = u + e; the graph x → y, x ↔ z.
    rng = np.random.default_rng(8)

    def draw(n):
        u = rng.normal(size=n)
        x = u + 0.6 * rng.normal(size=n)
        return pd.DataFrame({"x": x, "y": x + 0.5 * rng.normal(size=n), "z": u + 0.6 * rng.normal(size=n)})

    graph = {"directed": [["x", "y"]], "bidirected": [["x", "z"]]}
    train, fresh = draw(3000), draw(600)
    out = cda.sample(train, graph, 600, seed=1, estimator="anm_ridge")
    assert stats.ks_2samp(out["z"] - out["x"], fresh["z"] - fresh["x"]).pvalue > ALPHA
    assert stats.ks_2samp(out["z"], fresh["z"]).pvalue > ALPHA
    no_edge = cda.sample(train, {"directed": [["x", "y"]], "nodes": ["x", "y", "z"]}, 600, seed=1,
                         estimator="anm_ridge")
    assert stats.ks_2samp(no_edge["z"] - no_edge["x"], fresh["z"] - fresh["x"]).pvalue < ALPHA  # power


def test_kernel_estimator_draws_the_exact_kernel_conditional():
    X = np.array([[0.0], [0.5], [1.0], [3.0]])
    y = np.arange(4.0)
    w = np.array([1.0, 2.0, 1.0, 1.0])
    fitted = Kernel(bandwidth=[0.8]).fit(X, y, w, key=jax.random.key(0))
    z = 0.4
    exact = w * np.exp(-0.5 * ((z - X[:, 0]) / 0.8) ** 2)
    exact /= exact.sum()
    draws = np.asarray(fitted.sample(np.full((20000, 1), z), key=jax.random.key(1))).astype(int)
    counts = np.bincount(draws, minlength=4)
    keep = exact * 20000 >= 5
    assert stats.chisquare(counts[keep], 20000 * exact[keep] / exact[keep].sum() * counts[keep].sum() / 20000).pvalue > ALPHA
    uniform = np.full(4, 5000.0)  # power: the same counts are far from uniform
    assert stats.chisquare(counts, uniform).pvalue < ALPHA


def test_kernel_estimator_reports_an_empty_conditional():
    fitted = Kernel("epanechnikov", bandwidth=[0.1]).fit(np.array([[0.0], [1.0]]), np.array([0.0, 1.0]),
                                                         key=jax.random.key(0))
    with pytest.raises(NoKernelMassError, match="never seen together"):
        fitted.sample(np.array([[5.0]]), key=jax.random.key(1))


@pytest.mark.slow
def test_default_path_unchanged():
    train = _chain(50, 9)
    plain = cda.sample(train, CHAIN, 64, seed=3)
    for spec in ("kernel", {"y": "kernel"}, None):
        pd.testing.assert_frame_equal(cda.sample(train, CHAIN, 64, seed=3, estimator=spec), plain)


@pytest.mark.slow
def test_mixed_estimators_keep_kernel_values_and_categories():
    rng = np.random.default_rng(10)
    x = rng.normal(size=120)
    colour = pd.Categorical(np.where(x + 0.5 * rng.normal(size=120) > 0, "red", "blue"))
    y = 2 * x + (colour == "red") + 0.3 * rng.normal(size=120)
    train = pd.DataFrame({"x": x, "colour": colour, "y": y})
    graph = {"directed": [["x", "colour"], ["x", "y"], ["colour", "y"]]}
    out = cda.sample(train, graph, 300, seed=0, estimator={"y": "anm_ridge", "colour": Classifier("logistic")})
    assert out["x"].isin(train["x"]).all()  # the kernel root draws training values
    assert out["colour"].dtype == train["colour"].dtype and set(out["colour"]) <= {"red", "blue"}
    assert not out["y"].isin(train["y"]).all()  # the ANM draws new values
    # The global choice leaves the categorical column to a classifier.
    both = cda.sample(train, graph, 300, seed=0, estimator="anm_ridge")
    assert set(both["colour"]) == {"red", "blue"}
    # Dependence survives: red rows have larger y on average, as in training (difference ≈ 1 + 2ΔE[x]).
    gap = out.loc[out.colour == "red", "y"].mean() - out.loc[out.colour == "blue", "y"].mean()
    train_gap = train.loc[train.colour == "red", "y"].mean() - train.loc[train.colour == "blue", "y"].mean()
    assert abs(gap - train_gap) < 0.5


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_determinism_under_a_key():
    train = _chain(N, 11)
    spec = {"y": SMALL_MDN, "z": "anm_ridge"}
    a = cda.sample(train, CHAIN, 50, key=jax.random.key(4), estimator=spec)
    b = cda.sample(train, CHAIN, 50, key=jax.random.key(4), estimator=spec)
    c = cda.sample(train, CHAIN, 50, key=jax.random.key(5), estimator=spec)
    pd.testing.assert_frame_equal(a, b)
    assert not np.allclose(a["y"], c["y"])


@pytest.mark.standard_promotion("optax")
def test_no_retrace_for_same_shapes():
    X, y = _linear_xy(N, 12)
    _, y2 = _linear_xy(N, 13)
    first = ANM("ridge").fit(X, y, key=jax.random.key(0))
    first.sample(GRID, key=jax.random.key(1))
    mdn = SMALL_MDN
    mdn.fit(X, y, key=jax.random.key(0)).sample(GRID, key=jax.random.key(1))
    with count_traces() as traces:
        ANM("ridge").fit(X, y2, key=jax.random.key(2)).sample(GRID + 1, key=jax.random.key(3))
        mdn.fit(X, y2, key=jax.random.key(2)).sample(GRID + 1, key=jax.random.key(3))
    assert traces["_draw"] == 0 and traces["_fit"] == 0


@pytest.mark.slow
@pytest.mark.standard_promotion("optax")
def test_differentiable_in_the_parameters(linear_fits):
    X, y = _linear_xy(100, 14)
    fitted = linear_fits["mdn"]

    def mean_draw(model):
        return jnp.mean(model.sample(GRID, key=jax.random.key(1)))

    grads = jax.grad(lambda m: mean_draw(m))(fitted)
    bias_grad = grads.net.layers[-1].bias
    assert np.all(np.isfinite(np.asarray(bias_grad))) and np.any(np.asarray(bias_grad) != 0)
    # Finite differences on the ridge regularisation of an ANM's draws (the residual index is fixed by the key).
    Xj, yj = jnp.asarray(X, jnp.float32), jnp.asarray(y, jnp.float32)

    def draws(log_alpha):
        reg = ridge(Xj, yj, jnp.ones(100), jnp.exp(log_alpha))
        res = yj - reg(Xj)
        return jnp.mean(anm_module.FittedANM(reg, None, res, jnp.full(100, 0.01)).sample(GRID, key=jax.random.key(2)))

    g = float(jax.grad(draws)(jnp.float32(3.0)))
    eps = 1e-2
    fd = (float(draws(jnp.float32(3.0 + eps))) - float(draws(jnp.float32(3.0 - eps)))) / (2 * eps)
    assert g != 0 and abs(g - fd) < 0.05 * abs(fd) + 1e-4


@pytest.mark.parametrize(
    "spec, message",
    [
        ("gan", "unknown estimator 'gan'"),
        ({"sales": "mdn"}, r"names \['sales'\], which are not nodes"),
        ({"y": "flow"}, "unknown estimator 'flow' for 'y'"),
        ({"colour": "mdn"}, "column 'colour' is categorical but estimator 'mdn' models continuous"),
        ({"y": "classifier"}, "column 'y' is continuous but estimator 'classifier' models categorical"),
        ("classifier", "column 'x' is continuous"),
    ],
)
def test_bad_estimator_specs(spec, message):
    train = pd.DataFrame({"x": [0.0, 1.0, 2.0, 3.0], "colour": pd.Categorical(["a", "b", "a", "b"]), "y": [0.0, 1.0, 2.0, 2.5]})
    graph = {"directed": [["x", "colour"], ["colour", "y"]]}
    with pytest.raises(ValueError, match=message):
        cda.sample(train, graph, 5, estimator=spec)


def test_bad_options_with_estimators():
    train = _chain(20, 15)
    with pytest.raises(ValueError, match="return_indices=True applies to the kernel sampler only"):
        cda.sample(train, CHAIN, 5, estimator="anm_ridge", return_indices=True)
    with pytest.raises(TypeError, match="must be a name in"):
        cda.sample(train, CHAIN, 5, estimator={"y": 3})
    with pytest.raises(ValueError, match="n_components must be a positive integer"):
        MDN(0)
    with pytest.raises(ValueError, match="unknown regressor 'svm'"):
        ANM("svm")
    assert make_estimator("anm").regressor == "xgboost"


@pytest.mark.slow
def test_augmented_regressor_selects_the_conditional_estimator_by_cv():
    from sklearn.linear_model import Ridge
    from sklearn.model_selection import KFold

    from causalda_jax._sample_weight import mix_weights

    train = _chain(60, 16)
    grid = {"aug_coeff": [0.5], "augmentation_estimator": ["kernel", "anm_ridge"]}
    reg = cda.AugmentedRegressor(Ridge(), CHAIN, "z", method="sample", param_grid=grid, cv=3, random_state=2)
    reg.fit(train[["x", "y"]], train["z"])
    res = reg.cv_results_
    assert list(res["param_augmentation_estimator"][1:]) == ["kernel", "anm_ridge"]  # row 0: α = 0
    best = int(np.argmax(res["mean_test_score"].to_numpy()))
    assert reg.best_params_["augmentation_estimator"] == res["param_augmentation_estimator"][best]
    # Oracle for one cell: fold 0 of the anm_ridge candidate, by hand.
    tr, va = next(KFold(3, shuffle=True, random_state=2).split(train))
    fold, val = train.iloc[tr].reset_index(drop=True), train.iloc[va]
    drawn = cda.sample(fold, CHAIN, len(fold), seed=2, bandwidth_scale=1.0, estimator="anm_ridge")
    rows = pd.concat([fold, drawn[fold.columns]], ignore_index=True)
    w = mix_weights(len(fold), np.full(len(drawn), 1 / len(drawn)), 0.5)
    model = Ridge().fit(rows[["x", "y"]], rows["z"], sample_weight=w)
    assert res["split0_test_score"][2] == pytest.approx(model.score(val[["x", "y"]], val["z"]), rel=1e-12)
    with pytest.raises(ValueError, match="applies to method='sample'"):
        cda.AugmentedRegressor(Ridge(), CHAIN, "z", augmentation_estimator="mdn").fit(train[["x", "y"]], train["z"])


def test_study_estimator_arm_and_cli(monkeypatch, tmp_path):
    import typer
    from typer.testing import CliRunner

    from causalda_jax.study import Protocol, Settings
    from causalda_jax.study import _protocol, _runner
    from causalda_jax.study._cli import study_command

    train = _chain(40, 17)
    data, w, info, generated = _protocol._weighted_sets("sample_anm_ridge", train, CHAIN, Settings(), Protocol(), 0)
    assert len(data) == 80 and info["n_generated"] == 40 and generated[2] is None
    np.testing.assert_allclose([w[:40].sum(), w[40:].sum()], [20.0, 20.0])  # α = 0.5, weights summing to n = 40
    assert not data.iloc[40:]["z"].isin(train["z"]).any()  # new values, not training ones

    seen = {}
    monkeypatch.setattr(_runner, "run_study", lambda scenario, **kw: seen.update(kw) or pd.DataFrame({"a": [1]}))
    app = typer.Typer()
    app.command()(study_command)
    ok = CliRunner().invoke(app, ["noise", "--quick", "--arms", "baseline, sample_mdn", "--out", str(tmp_path)])
    assert ok.exit_code == 0, ok.output
    assert seen["protocol"].arms == ("baseline", "sample_mdn") and seen["protocol"].max_targets == 2
    bad = CliRunner().invoke(app, ["noise", "--arms", "baseline,sample_gan", "--out", str(tmp_path)])
    assert bad.exit_code == 2 and "sample_gan" in bad.output


@pytest.mark.slow  # two MMM fits
def test_mmm_augmentation_estimator():
    from causalda_jax.mmm import MarketingMixModel, simulate

    sim = simulate(weeks=60, channels=3, seed=0)
    kw = dict(target="sales", channels=sim.channels, controls=("price", "promo"), mediators=("branded_search",),
              graph=sim.graph.to_dict(), bootstrap=0, model="linear", augmentation_ratio=1.0)
    mmm = MarketingMixModel(augmentation_estimator="anm_ridge", **kw).fit(sim.data)
    extra = mmm.augmented_rows_
    assert len(extra) == 60
    # The ANM draws new values of the target; the kernel sampler only observed ones.
    assert not extra["sales"].isin(mmm.features_["sales"]).any()
    kernel = MarketingMixModel(**kw).fit(sim.data).augmented_rows_
    assert kernel["sales"].isin(mmm.features_["sales"]).all()
