"""Models for tests/test_fit_diagnostics.py: targets whose posterior moments or evidence are known exactly."""

import jax.numpy as jnp
import numpy as np
import numpyro
import numpyro.distributions as dist

RHO = 0.9


def correlated(rho=RHO):
    """A 2-D Gaussian target with unit variances and correlation ``rho``, written as x, then y given x: the
    posterior is exactly N(0, [[1, ρ], [ρ, 1]]) (no data)."""
    x = numpyro.sample("x", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Normal(rho * x, jnp.sqrt(1.0 - rho**2)))


# y_i ~ N(mu, 1), mu ~ N(0, 1): y ~ N(0, I + 11ᵀ), so log p(y) is a Gaussian log density in closed form
Y = np.array([0.8, 1.9, 0.3, 1.2, 2.4, 0.7, 1.5, 1.1, -0.2, 1.6], dtype=np.float32)


def conjugate(y=None):
    """A Normal mean with a Normal prior, ten observations in a plate ``data``."""
    y = Y if y is None else y
    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
    with numpyro.plate("data", len(y)):
        numpyro.sample("obs", dist.Normal(mu, 1.0), obs=y)


def conjugate_log_evidence(y=Y) -> float:
    """log p(y) = log N(y; 0, I + 11ᵀ), in float64."""
    y = np.asarray(y, dtype=np.float64)
    cov = np.eye(len(y)) + 1.0
    _, logdet = np.linalg.slogdet(cov)
    return float(-0.5 * (len(y) * np.log(2 * np.pi) + logdet + y @ np.linalg.solve(cov, y)))


def conjugate_posterior(y=Y) -> tuple[float, float]:
    """The posterior mean and s.d. of mu."""
    n = len(y)
    return float(np.sum(y) / (n + 1)), float(1 / np.sqrt(n + 1))


def subsampled(y=None):
    """The conjugate model with its data subsampled 4 at a time: PSIS k̂ is not defined."""
    y = jnp.asarray(Y if y is None else y)  # indexed by the plate's (traced) subsample
    mu = numpyro.sample("mu", dist.Normal(0.0, 1.0))
    with numpyro.plate("data", len(y), subsample_size=4) as idx:
        numpyro.sample("obs", dist.Normal(mu, 1.0), obs=y[idx])


def counts(k=None):
    """Poisson counts with a Gamma prior on the rate: an observed site of integers (a bar chart in the PPC)."""
    k = np.array([3, 5, 2, 4, 6, 3, 4, 2, 5, 4], dtype=np.float32) if k is None else k
    rate = numpyro.sample("rate", dist.Gamma(2.0, 0.5))
    with numpyro.plate("data", len(k)):
        numpyro.sample("k", dist.Poisson(rate), obs=k)
