"""Assorted models of NumPyro's example gallery: a sparse quadratic regression, the Gaussian processes of the
Thompson-sampling and AutoDAIS demos, minipyro's Normal mean, NeuTra's dual-moon density and the Gaussian
shells (refused as written, fitted once its discrete latent is enumerated). Each is written here from its
example's math (cited in its docstring) and fitted to small synthetic data drawn from a fixed seed.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints

from . import Example

# ---------------------------------------------------------------- sparse_regression.py


def _quadratic_kernel(A, B, eta1, eta2, c, jitter=1.0e-4):
    """The kernel whose feature space is every X_i and X_i X_j (i < j): a sum of a squared inner product, a
    correction removing the X_i^2 terms, a linear part and a constant; ``jitter`` on the diagonal of a square
    Gram matrix."""
    inner = A @ B.T
    squares = (A**2) @ (B**2).T
    gram = (0.5 * eta2**2 * (1.0 + inner) ** 2 - 0.5 * eta2**2 * squares + (eta1**2 - eta2**2) * inner
            + c**2 - 0.5 * eta2**2)
    if A.shape == B.shape:
        gram = gram + jitter * jnp.eye(A.shape[0])
    return gram


def sparse_regression(X, Y, hypers):
    """The kernel interaction trick: a GP on the N rows of X (N, P) with a quadratic kernel of the features
    scaled by kappa_p = sqrt(msq) lambda_p / sqrt(msq + (eta1 lambda_p)^2), a horseshoe-like shrinkage with
    lambda_p ~ HalfCauchy(1) (P of them), eta1 ~ HalfCauchy(sigma S / (sqrt(N) (P - S))), msq ~
    InverseGamma(alpha1, beta1), xisq ~ InverseGamma(alpha2, beta2), eta2 = eta1^2 sqrt(xisq) / msq and noise
    sigma ~ HalfNormal(alpha3); Y ~ MVN(0, K + sigma^2 I), S the expected number of active features.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/sparse_regression.py"""
    n, p = X.shape
    s = hypers["expected_sparsity"]
    sigma = numpyro.sample("sigma", dist.HalfNormal(hypers["alpha3"]))
    eta1 = numpyro.sample("eta1", dist.HalfCauchy(sigma * (s / jnp.sqrt(n)) / (p - s)))
    msq = numpyro.sample("msq", dist.InverseGamma(hypers["alpha1"], hypers["beta1"]))
    xisq = numpyro.sample("xisq", dist.InverseGamma(hypers["alpha2"], hypers["beta2"]))
    eta2 = eta1**2 * jnp.sqrt(xisq) / msq
    lam = numpyro.sample("lambda", dist.HalfCauchy(jnp.ones(p)))
    kappa = jnp.sqrt(msq) * lam / jnp.sqrt(msq + (eta1 * lam) ** 2)
    scaled = kappa * X
    cov = _quadratic_kernel(scaled, scaled, eta1, eta2, hypers["c"]) + sigma**2 * jnp.eye(n)
    numpyro.sample("Y", dist.MultivariateNormal(jnp.zeros(n), covariance_matrix=cov), obs=Y)


def _sparse_regression_data(n: int = 16, p: int = 6, active: int = 2, seed: int = 0) -> dict:
    """Y is a linear function of the first ``active`` of ``p`` standard-normal features plus the product of the
    first two and a little noise, centred and scaled to unit variance; the example's hyperparameters."""
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(n, p))
    w = rng.uniform(0.5, 3.0, active)
    y = X[:, :active] @ w + X[:, 0] * X[:, 1] + 0.05 * rng.normal(size=n)
    y = (y - y.mean()) / y.std()
    hypers = {"expected_sparsity": max(1.0, p / 10), "alpha1": 3.0, "beta1": 1.0, "alpha2": 3.0, "beta2": 1.0,
              "alpha3": 1.0, "c": 1.0}
    return {"X": jnp.asarray(X), "Y": jnp.asarray(y), "hypers": hypers}


# ---------------------------------------------------------------- thompson_sampling.py


def thompson_sampling_gp(X, Y):
    """A noise-free GP on 1-D inputs with a Matern-5/2 kernel, K_ij = var (1 + d + d^2 / 3) e^(-d) with
    d = |X_i - X_j| / (sqrt(2) length), plus 1e-6 on the diagonal; var, length ~ LogNormal(0, 1) and
    Y ~ MVN(0, K) (Y standardized).
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/thompson_sampling.py"""
    var = numpyro.sample("var", dist.LogNormal(0.0, 1.0))
    length = numpyro.sample("length", dist.LogNormal(0.0, 1.0))
    d = jnp.sqrt(0.5) * jnp.abs(X[:, None] - X[None, :]) / length
    cov = var * (1.0 + d + d**2 / 3.0) * jnp.exp(-d) + 1.0e-6 * jnp.eye(X.shape[0])
    numpyro.sample("Y", dist.MultivariateNormal(jnp.zeros(X.shape[0]), covariance_matrix=cov), obs=Y)


def _ackley_1d(x):
    """The Ackley function on the line y = 0, the objective the example minimizes."""
    return -20.0 * np.exp(-0.2 * np.sqrt(0.5 * x**2)) - np.exp(0.5 * (np.cos(2 * np.pi * x) + 1.0)) + np.e + 20.0


def _thompson_data(n: int = 8, seed: int = 0) -> dict:
    """``n`` points drawn uniformly on [-4, 4] with the Ackley function's values there, standardized as the
    example's GP standardizes them before fitting."""
    rng = np.random.default_rng(seed)
    x = rng.uniform(-4.0, 4.0, n)
    y = _ackley_1d(x)
    return {"X": jnp.asarray(x), "Y": jnp.asarray((y - y.mean()) / y.std())}


# ---------------------------------------------------------------- minipyro.py


def minipyro(data):
    """The conjugate Normal mean: loc ~ N(0, 1) and every data point ~ N(loc, 1), one site over the vector.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/minipyro.py"""
    loc = numpyro.sample("loc", dist.Normal(0.0, 1.0))
    numpyro.sample("obs", dist.Normal(loc, 1.0), obs=data)


def _minipyro_data(n: int = 100, seed: int = 0) -> dict:
    """``n`` draws of N(3, 1)."""
    return {"data": jnp.asarray(np.random.default_rng(seed).normal(3.0, 1.0, n))}


# ---------------------------------------------------------------- dais_demo.py


def dais_gp_classifier(X, Y, length=0.2):
    """A GP binary classifier: f ~ MVN(0, K) on the N inputs, K_ij = exp(-(X_i - X_j)^2 / (2 length^2)) plus
    1e-6 on the diagonal, and Y_i ~ Bernoulli(logits = f_i^3) (a cubed link, far from Gaussian).
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/dais_demo.py"""
    n = X.shape[0]
    cov = jnp.exp(-0.5 * ((X[:, None] - X[None, :]) / length) ** 2) + 1.0e-6 * jnp.eye(n)
    f = numpyro.sample("f", dist.MultivariateNormal(jnp.zeros(n), covariance_matrix=cov))
    numpyro.sample("obs", dist.Bernoulli(logits=f**3), obs=Y)


def _dais_data(n: int = 16, seed: int = 0) -> dict:
    """``n`` inputs evenly on [-1, 1]; each label is a coin flip with probability sigmoid of a standardized
    wiggly curve of the input."""
    rng = np.random.default_rng(seed)
    x = np.linspace(-1.0, 1.0, n)
    curve = x + 0.2 * x**3 + 0.5 * (0.5 + x) ** 2 * np.sin(4.0 * x)
    curve = (curve - curve.mean()) / curve.std()
    y = (rng.random(n) < 1.0 / (1.0 + np.exp(-curve))).astype(np.int32)
    return {"X": jnp.asarray(x), "Y": jnp.asarray(y)}


# ---------------------------------------------------------------- neutra.py


def neutra_dual_moon():
    """The dual-moon density on the plane, x in R^2 with log p(x) = -(|x| - 2)^2 / (2 0.4^2)
    + log(e^(-(x_0 - 2)^2 / (2 0.6^2)) + e^(-(x_0 + 2)^2 / (2 0.6^2))) up to a constant: a flat (improper)
    latent "x" weighted by that density through a factor.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/neutra.py"""
    x = numpyro.sample("x", dist.ImproperUniform(constraints.real_vector, (), (2,)))
    ring = -0.5 * ((jnp.linalg.norm(x, axis=-1) - 2.0) / 0.4) ** 2
    sides = -0.5 * ((x[..., :1] + jnp.array([-2.0, 2.0])) / 0.6) ** 2
    numpyro.factor("dual_moon", ring + logsumexp(sides, axis=-1))


# ---------------------------------------------------------------- gaussian_shells.py


class _Shell(dist.Distribution):
    """A thin Gaussian shell: the distance of a point from ``loc`` is N(radius, width^2) (normalized as a 1-D
    Normal, as the example does). Only its density is used (the site is observed); draws are zeros."""

    support = constraints.real_vector

    def __init__(self, loc, radius, width):
        self.loc, self.radius, self.width = loc, radius, width
        super().__init__(batch_shape=jnp.shape(loc)[:-1], event_shape=jnp.shape(loc)[-1:])

    def sample(self, key, sample_shape=()):
        return jnp.zeros(sample_shape + self.batch_shape + self.event_shape)

    def log_prob(self, value):
        distance = jnp.linalg.norm(value - self.loc, axis=-1)
        return -0.5 * ((distance - self.radius) / self.width) ** 2 - jnp.log(self.width) - 0.5 * jnp.log(2 * jnp.pi)


def gaussian_shells(center1, center2, radius, width, enum=False):
    """Two Gaussian shells: z ~ Bernoulli(1/2) picks a centre, x ~ Uniform(-6, 6)^2 and the "shell" site scores
    x by a shell of the given radius and width about that centre (observed at x itself). ``enum``: z is
    enumerated in parallel (summed out), otherwise it is a discrete latent.
    Follows https://github.com/pyro-ppl/numpyro/blob/master/examples/gaussian_shells.py"""
    z = numpyro.sample("z", dist.Bernoulli(0.5), infer={"enumerate": "parallel"} if enum else {})
    x = numpyro.sample("x", dist.Uniform(-6.0, 6.0).expand([2]).to_event(1))
    centre = jnp.stack([center1, center2])[z]
    numpyro.sample("shell", _Shell(centre, radius, width), obs=x)


def _shells_data(enum: bool = False) -> dict:
    """The example's two shells: centres (-3.5, 0) and (3.5, 0), radius 2, width 0.1."""
    return {"center1": jnp.asarray([-3.5, 0.0]), "center2": jnp.asarray([3.5, 0.0]), "radius": 2.0, "width": 0.1,
            "enum": enum}


EXAMPLES = [
    Example("sparse_regression.py", "sparse_regression", sparse_regression, _sparse_regression_data,
            note="multimodal (horseshoe-like lambda): a mean-field fit's end depends on its random start",
            same_start=True),
    Example("thompson_sampling.py", "thompson_sampling_gp", thompson_sampling_gp, _thompson_data),
    Example("minipyro.py", "minipyro", minipyro, _minipyro_data),
    Example("dais_demo.py", "dais_gp_classifier", dais_gp_classifier, _dais_data,
            note="the cubed link flattens the likelihood near f = 0: a mean-field fit's end depends on its start",
            same_start=True),
    Example("neutra.py", "neutra_dual_moon", neutra_dual_moon, dict),
    Example("gaussian_shells.py", "gaussian_shells", gaussian_shells, _shells_data, kind="refused",
            refusal=r"latent 'z' \(Bernoulli\) is discrete and the model does not enumerate it"),
    Example("gaussian_shells.py", "gaussian_shells_enum", gaussian_shells, lambda: _shells_data(enum=True),
            kind="enumerated"),
]
