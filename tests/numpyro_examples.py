"""Models from NumPyro's own examples, copied verbatim (docstrings cut), with small synthetic data.

Not a test module; tests/test_numpyro_examples.py writes a guide for each with ``vgc init`` and fits it.
Source: https://github.com/pyro-ppl/numpyro, commit 0b935d488056ae1775b4ab05cbe2812f51f21a4f,
examples/{funnel,baseball,ucbadmit,horseshoe_regression,gp,stochastic_volatility,proportion_test}.py
(Copyright Contributors to the Pyro project, Apache License 2.0).
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import expit
from numpyro.infer.reparam import LocScaleReparam

# ---------------------------------------------------------------- examples/funnel.py


def funnel(dim=10):
    y = numpyro.sample("y", dist.Normal(0, 3))
    numpyro.sample("x", dist.Normal(jnp.zeros(dim - 1), jnp.exp(y / 2)))


funnel_reparam = numpyro.handlers.reparam(funnel, config={"x": LocScaleReparam(0)})

# ---------------------------------------------------------------- examples/baseball.py


def fully_pooled(at_bats, hits=None):
    phi_prior = dist.Uniform(0, 1)
    phi = numpyro.sample("phi", phi_prior)
    num_players = at_bats.shape[0]
    with numpyro.plate("num_players", num_players):
        return numpyro.sample("obs", dist.Binomial(at_bats, probs=phi), obs=hits)


def not_pooled(at_bats, hits=None):
    num_players = at_bats.shape[0]
    with numpyro.plate("num_players", num_players):
        phi_prior = dist.Uniform(0, 1)
        phi = numpyro.sample("phi", phi_prior)
        return numpyro.sample("obs", dist.Binomial(at_bats, probs=phi), obs=hits)


def partially_pooled(at_bats, hits=None):
    m = numpyro.sample("m", dist.Uniform(0, 1))
    kappa = numpyro.sample("kappa", dist.Pareto(1, 1.5))
    num_players = at_bats.shape[0]
    with numpyro.plate("num_players", num_players):
        phi_prior = dist.Beta(m * kappa, (1 - m) * kappa)
        phi = numpyro.sample("phi", phi_prior)
        return numpyro.sample("obs", dist.Binomial(at_bats, probs=phi), obs=hits)


def partially_pooled_with_logit(at_bats, hits=None):
    loc = numpyro.sample("loc", dist.Normal(-1, 1))
    scale = numpyro.sample("scale", dist.HalfCauchy(1))
    num_players = at_bats.shape[0]
    with numpyro.plate("num_players", num_players):
        alpha = numpyro.sample("alpha", dist.Normal(loc, scale))
        return numpyro.sample("obs", dist.Binomial(at_bats, logits=alpha), obs=hits)


BASEBALL = {"at_bats": np.array([45, 45, 45, 45, 45, 45, 45, 45, 45, 45]),
            "hits": np.array([18, 17, 16, 15, 14, 14, 13, 12, 11, 11])}

# ---------------------------------------------------------------- examples/ucbadmit.py


def glmm(dept, male, applications, admit=None):
    v_mu = numpyro.sample("v_mu", dist.Normal(0, jnp.array([4.0, 1.0])))

    sigma = numpyro.sample("sigma", dist.HalfNormal(jnp.ones(2)))
    L_Rho = numpyro.sample("L_Rho", dist.LKJCholesky(2, concentration=2))
    scale_tril = sigma[..., jnp.newaxis] * L_Rho
    # non-centered parameterization
    num_dept = len(np.unique(dept))
    z = numpyro.sample("z", dist.Normal(jnp.zeros((num_dept, 2)), 1))
    v = jnp.dot(scale_tril, z.T).T

    logits = v_mu[0] + v[dept, 0] + (v_mu[1] + v[dept, 1]) * male
    if admit is None:
        # we use a Delta site to record probs for predictive distribution
        probs = expit(logits)
        numpyro.sample("probs", dist.Delta(probs), obs=probs)
    numpyro.sample("admit", dist.Binomial(applications, logits=logits), obs=admit)


# The UCBadmit table (numpyro.examples.datasets.UCBADMIT), typed in rather than downloaded.
UCBADMIT = {
    "dept": np.array([0, 0, 1, 1, 2, 2, 3, 3, 4, 4, 5, 5]),
    "male": np.array([1, 0, 1, 0, 1, 0, 1, 0, 1, 0, 1, 0]),
    "applications": np.array([825, 108, 560, 25, 325, 593, 417, 375, 191, 393, 373, 341]),
    "admit": np.array([512, 89, 353, 17, 120, 202, 138, 131, 53, 94, 22, 24]),
}

# ---------------------------------------------------------------- examples/horseshoe_regression.py


def model_normal_likelihood(X, Y):
    D_X = X.shape[1]

    # sample from horseshoe prior
    lambdas = numpyro.sample("lambdas", dist.HalfCauchy(jnp.ones(D_X)))
    tau = numpyro.sample("tau", dist.HalfCauchy(jnp.ones(1)))

    unscaled_betas = numpyro.sample("unscaled_betas", dist.Normal(0.0, jnp.ones(D_X)))
    scaled_betas = numpyro.deterministic("betas", tau * lambdas * unscaled_betas)

    # compute mean function using linear coefficients
    mean_function = jnp.dot(X, scaled_betas)

    prec_obs = numpyro.sample("prec_obs", dist.Gamma(3.0, 1.0))
    sigma_obs = 1.0 / jnp.sqrt(prec_obs)

    # observe data
    numpyro.sample("Y", dist.Normal(mean_function, sigma_obs), obs=Y)


def _horseshoe_data(n: int = 40, d: int = 5, seed: int = 0) -> dict:
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, d))
    return {"X": X, "Y": X @ np.array([2.0, 0.0, 0.0, -1.0, 0.0]) + 0.3 * rng.normal(size=n)}


HORSESHOE = _horseshoe_data()

# ---------------------------------------------------------------- examples/gp.py


def kernel(X, Z, var, length, noise, jitter=1.0e-6, include_noise=True):
    deltaXsq = jnp.power((X[:, None] - Z) / length, 2.0)
    k = var * jnp.exp(-0.5 * deltaXsq)
    if include_noise:
        k += (noise + jitter) * jnp.eye(X.shape[0])
    return k


def gp(X, Y):
    # set uninformative log-normal priors on our three kernel hyperparameters
    var = numpyro.sample("kernel_var", dist.LogNormal(0.0, 10.0))
    noise = numpyro.sample("kernel_noise", dist.LogNormal(0.0, 10.0))
    length = numpyro.sample("kernel_length", dist.LogNormal(0.0, 10.0))

    # compute kernel
    k = kernel(X, X, var, length, noise)

    # sample Y according to the standard gaussian process formula
    numpyro.sample(
        "Y",
        dist.MultivariateNormal(loc=jnp.zeros(X.shape[0]), covariance_matrix=k),
        obs=Y,
    )


GP = {"X": np.linspace(-1, 1, 20), "Y": np.sin(3 * np.linspace(-1, 1, 20))}

# ---------------------------------------------------------------- examples/stochastic_volatility.py


def stochastic_volatility(returns):
    step_size = numpyro.sample("sigma", dist.Exponential(50.0))
    s = numpyro.sample(
        "s", dist.GaussianRandomWalk(scale=step_size, num_steps=jnp.shape(returns)[0])
    )
    nu = numpyro.sample("nu", dist.Exponential(0.1))
    return numpyro.sample(
        "r", dist.StudentT(df=nu, loc=0.0, scale=jnp.exp(s)), obs=returns
    )


RETURNS = {"returns": 0.02 * np.random.default_rng(1).standard_t(5, size=30)}

# ---------------------------------------------------------------- examples/proportion_test.py


def proportion_test(design_matrix: jnp.ndarray, outcome: jnp.ndarray = None) -> None:
    beta = numpyro.sample(
        "coefficients",
        dist.MultivariateNormal(
            loc=0.0, covariance_matrix=jnp.eye(design_matrix.shape[1])
        ),
    )
    logits = design_matrix.dot(beta)

    with numpyro.plate("data", design_matrix.shape[0]):
        numpyro.sample("obs", dist.Bernoulli(logits=logits), obs=outcome)


# jax arrays, as the example's own data: `design_matrix.dot(beta)` of a NumPy array cannot take a traced beta
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
