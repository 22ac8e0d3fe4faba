"""Models that follow NumPyro's example gallery, written here from each example's math, with small synthetic data.

Each function has the example's site names, shapes, distributions and plates (so ``vgc init`` and the model
check meet the models NumPyro's users run), but the code is ours: the docstring states the model, and the
section header cites the example it follows, in https://github.com/pyro-ppl/numpyro/tree/master/examples.
Not a test module; tests/test_numpyro_examples.py writes a guide for each with ``vgc init`` and fits it.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer.reparam import LocScaleReparam

# ---------------------------------------------------------------- follows examples/funnel.py


def funnel(dim=10):
    """Neal's funnel: y ~ N(0, 3), and dim - 1 values x_i ~ N(0, e^(y/2)) kept as batch dimensions (no event)."""
    y = numpyro.sample("y", dist.Normal(0.0, 3.0))
    spread = jnp.exp(0.5 * y)
    numpyro.sample("x", dist.Normal(jnp.zeros(dim - 1), spread))


# The decentred funnel: x = 0 + e^(y/2) x_decentered, with the standard-normal x_decentered the latent.
funnel_reparam = numpyro.handlers.reparam(funnel, config={"x": LocScaleReparam(centered=0)})

# ---------------------------------------------------------------- follows examples/baseball.py
# Hits of each player in his at-bats, with a chance of a hit per at-bat pooled fully, not at all, or partly.


def _players(at_bats):
    return numpyro.plate("num_players", len(at_bats))


def _hits(at_bats, hits, **chance):
    numpyro.sample("obs", dist.Binomial(at_bats, **chance), obs=hits)


def fully_pooled(at_bats, hits=None):
    """One chance phi ~ Uniform(0, 1) for everyone; hits_i ~ Binomial(at_bats_i, phi)."""
    phi = numpyro.sample("phi", dist.Uniform(0.0, 1.0))
    with _players(at_bats):
        _hits(at_bats, hits, probs=phi)


def not_pooled(at_bats, hits=None):
    """A chance phi_i ~ Uniform(0, 1) of each player's own."""
    with _players(at_bats):
        phi = numpyro.sample("phi", dist.Uniform(0.0, 1.0))
        _hits(at_bats, hits, probs=phi)


def partially_pooled(at_bats, hits=None):
    """phi_i ~ Beta with mean m ~ Uniform(0, 1) and concentration kappa ~ Pareto(1, 1.5), shared by the players."""
    m = numpyro.sample("m", dist.Uniform(0.0, 1.0))
    kappa = numpyro.sample("kappa", dist.Pareto(1.0, 1.5))
    with _players(at_bats):
        phi = numpyro.sample("phi", dist.Beta(kappa * m, kappa * (1.0 - m)))
        _hits(at_bats, hits, probs=phi)


def partially_pooled_with_logit(at_bats, hits=None):
    """Log-odds alpha_i ~ N(loc, scale), loc ~ N(-1, 1), scale ~ HalfCauchy(1)."""
    loc = numpyro.sample("loc", dist.Normal(-1.0, 1.0))
    scale = numpyro.sample("scale", dist.HalfCauchy(1.0))
    with _players(at_bats):
        alpha = numpyro.sample("alpha", dist.Normal(loc, scale))
        _hits(at_bats, hits, logits=alpha)


BASEBALL = {"at_bats": np.array([45, 45, 45, 45, 45, 45, 45, 45, 45, 45]),
            "hits": np.array([18, 17, 16, 15, 14, 14, 13, 12, 11, 11])}

# ---------------------------------------------------------------- follows examples/ucbadmit.py


def glmm(dept, male, applications, admit=None):
    """Admissions by department and gender: logit p = (a + a_d) + (b + b_d) male, with (a, b) = v_mu ~
    N(0, (4, 1)) and the departments' (a_d, b_d) = diag(sigma) L z_d correlated, non-centred: sigma ~
    HalfNormal(1) (two of them), L ~ LKJCholesky(2, 2), z_d ~ N(0, I) (a (departments, 2) batch).
    The example's extra ``probs`` site, recorded only when predicting (admit unknown), is left out."""
    v_mu = numpyro.sample("v_mu", dist.Normal(0.0, jnp.array([4.0, 1.0])))
    sigma = numpyro.sample("sigma", dist.HalfNormal(jnp.ones(2)))
    L_Rho = numpyro.sample("L_Rho", dist.LKJCholesky(2, concentration=2.0))
    z = numpyro.sample("z", dist.Normal(jnp.zeros((np.unique(dept).size, 2)), 1.0))
    per_dept = z @ (sigma[:, None] * L_Rho).T  # row d: diag(sigma) L z_d
    intercept, slope = v_mu[0] + per_dept[dept, 0], v_mu[1] + per_dept[dept, 1]
    numpyro.sample("admit", dist.Binomial(applications, logits=intercept + slope * male), obs=admit)


# The UCBadmit table (Bickel, Hammel and O'Connell 1975), typed in.
UCBADMIT = {
    "dept": np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
    "male": np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
    "applications": np.array([825, 108, 560, 25, 325, 593, 417, 375, 191, 393, 373, 341]),
    "admit": np.array([512, 89, 353, 17, 120, 202, 138, 131, 53, 94, 22, 24]),
}

# ---------------------------------------------------------------- follows examples/horseshoe_regression.py


def model_normal_likelihood(X, Y):
    """Linear regression under a horseshoe prior: beta_j = tau lambda_j u_j with lambda_j ~ HalfCauchy(1),
    tau ~ HalfCauchy(1) (a 1-vector), u_j ~ N(0, 1); Y ~ N(X beta, prec_obs^(-1/2)), prec_obs ~ Gamma(3, 1)."""
    features = X.shape[1]
    lambdas = numpyro.sample("lambdas", dist.HalfCauchy(jnp.ones(features)))
    tau = numpyro.sample("tau", dist.HalfCauchy(jnp.ones(1)))
    unscaled = numpyro.sample("unscaled_betas", dist.Normal(0.0, jnp.ones(features)))
    betas = numpyro.deterministic("betas", unscaled * lambdas * tau)
    precision = numpyro.sample("prec_obs", dist.Gamma(3.0, 1.0))
    numpyro.sample("Y", dist.Normal(X @ betas, jnp.reciprocal(jnp.sqrt(precision))), obs=Y)


def _horseshoe_data(n: int = 40, d: int = 5, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return {"X": X, "Y": X @ np.array([2.0, 0.0, 0.0, -1.0, 0.0]) + 0.3 * rng.normal(size=n)}


HORSESHOE = _horseshoe_data()

# ---------------------------------------------------------------- follows examples/gp.py


def gp(X, Y):
    """A Gaussian process on 1-D inputs with a squared-exponential kernel, Y ~ MVN(0, K), K_ij =
    var exp(-(X_i - X_j)^2 / (2 length^2)) + (noise + 1e-6) [i = j]; var, noise, length ~ LogNormal(0, 10)."""
    var = numpyro.sample("kernel_var", dist.LogNormal(0.0, 10.0))
    noise = numpyro.sample("kernel_noise", dist.LogNormal(0.0, 10.0))
    length = numpyro.sample("kernel_length", dist.LogNormal(0.0, 10.0))
    gaps = (X[:, None] - X[None, :]) / length
    cov = var * jnp.exp(-0.5 * gaps**2) + (noise + 1e-6) * jnp.eye(len(X))
    numpyro.sample("Y", dist.MultivariateNormal(jnp.zeros(len(X)), covariance_matrix=cov), obs=Y)


GP = {"X": np.linspace(-1, 1, 20), "Y": np.sin(3 * np.linspace(-1, 1, 20))}

# ---------------------------------------------------------------- follows examples/stochastic_volatility.py


def stochastic_volatility(returns):
    """Log-volatility s, a Gaussian random walk with step sigma ~ Exponential(50) over the T days;
    returns_t ~ StudentT(nu, 0, e^(s_t)) with nu ~ Exponential(0.1)."""
    sigma = numpyro.sample("sigma", dist.Exponential(50.0))
    s = numpyro.sample("s", dist.GaussianRandomWalk(scale=sigma, num_steps=returns.shape[0]))
    nu = numpyro.sample("nu", dist.Exponential(0.1))
    numpyro.sample("r", dist.StudentT(df=nu, loc=0.0, scale=jnp.exp(s)), obs=returns)


RETURNS = {"returns": 0.02 * np.random.default_rng(1).standard_t(5, size=30)}

# ---------------------------------------------------------------- follows examples/proportion_test.py


def proportion_test(design_matrix, outcome=None):
    """Logistic regression on one-hot groups: coefficients ~ MVN(0, I) (one vector site),
    outcome_n ~ Bernoulli(logit^-1(design_n . coefficients)) in plate ``data``."""
    k = design_matrix.shape[1]
    coefficients = numpyro.sample("coefficients", dist.MultivariateNormal(0.0, covariance_matrix=jnp.eye(k)))
    with numpyro.plate("data", design_matrix.shape[0]):
        numpyro.sample("obs", dist.Bernoulli(logits=design_matrix @ coefficients), obs=outcome)


# jax arrays, as the example's own data: `design_matrix @ beta` of a NumPy array cannot take a traced beta
PROPORTION = {"design_matrix": jnp.asarray(np.eye(3)[np.random.default_rng(2).integers(0, 3, size=50)]),
              "outcome": jnp.asarray((np.random.default_rng(3).random(50) < 0.4).astype(float))}

# name -> (model, keyword arguments)
MODELS = {
    "funnel": (funnel, {}),
    "funnel_reparam": (funnel_reparam, {}),
    "fully_pooled": (fully_pooled, BASEBALL),
    "not_pooled": (not_pooled, BASEBALL),
    "partially_pooled": (partially_pooled, BASEBALL),
    "partially_pooled_with_logit": (partially_pooled_with_logit, BASEBALL),
    "glmm": (glmm, UCBADMIT),
    "horseshoe": (model_normal_likelihood, HORSESHOE),
    "gp": (gp, GP),
    "stochastic_volatility": (stochastic_volatility, RETURNS),
    "proportion_test": (proportion_test, PROPORTION),
}
