"""Models that need their data as JAX arrays (tests/test_data.py runs them through ``vgc init``, ``check``
and ``fit``): under SVI's ``jit`` they index their data with traced values, which a NumPy array refuses."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from numpyro.contrib.control_flow import scan


def ar2(y):
    """An AR(2) process, y_t = alpha_1 y_{t-1} + alpha_2 y_{t-2} + sigma e_t with e_t standard normal, for
    t = 2..T-1 given y_0 and y_1; written as NumPyro's ``examples/ar2.py`` (``ar2_scan``) writes it: one
    ``scan`` step per time, the observations conditioned in from outside with ``handlers.condition`` on
    ``y[2:]`` (that example also has a constant term; the data here have mean zero, so it is left out).
    Tracing it slices ``y`` inside ``scan``: NumPy data failed already in ``vgc init``."""
    alpha_1 = numpyro.sample("alpha_1", dist.Normal(0.0, 1.0))
    alpha_2 = numpyro.sample("alpha_2", dist.Normal(0.0, 1.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))

    def step(lags, _):
        last, before = lags
        y_t = numpyro.sample("y", dist.Normal(alpha_1 * last + alpha_2 * before, sigma))
        return (y_t, last), None

    with numpyro.handlers.condition(data={"y": y[2:]}):
        scan(step, (y[1], y[0]), jnp.arange(y.shape[0] - 2))


def logistic(X, y, batch):
    """Logistic regression on the rows of X, ``batch`` of them a step: the plate's indices pick the rows."""
    w = numpyro.sample("w", dist.Normal(jnp.zeros(X.shape[1]), 1.0).to_event(1))
    b = numpyro.sample("b", dist.Normal(0.0, 1.0))
    with numpyro.plate("data", X.shape[0], subsample_size=batch) as idx:
        numpyro.sample("y", dist.Bernoulli(logits=X[idx] @ w + b), obs=y[idx])


def grouped_line(x, y, group, G):
    """A line with one intercept per group: ``group`` (a CSV's whole-number column) indexes the intercepts,
    which only an integer array can do; G (an ``--arg``) sizes their plate."""
    slope = numpyro.sample("slope", dist.Normal(0.0, 1.0))
    sigma = numpyro.sample("sigma", dist.HalfNormal(1.0))
    with numpyro.plate("groups", G):
        a = numpyro.sample("a", dist.Normal(0.0, 1.0))
    with numpyro.plate("data", len(x)):
        numpyro.sample("y", dist.Normal(a[group] + slope * x, sigma), obs=y)
