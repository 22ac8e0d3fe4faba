"""Shared helpers for the statistical tests (SVI fits, guide densities, Monte Carlo estimates).

Not a test module: imported by tests/test_svi.py and tests/test_density.py.
"""

from __future__ import annotations

import contextlib

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import logsumexp
from numpyro import handlers
from numpyro.infer import SVI, Trace_ELBO
from numpyro.infer.util import log_density


@contextlib.contextmanager
def x64():
    """Float64 for the duration of a test only (``jax.enable_x64`` is a context manager in jax >= 0.8)."""
    with jax.enable_x64(True):
        yield


def fit(model, guide, *, steps, lr, lrd=1.0, clip_norm=10.0, particles=1, seed=0):
    """Fit ``guide`` to ``model`` with Trace_ELBO and ClippedAdam; return the constrained params and the losses.

    The step size decays geometrically, ``lr * lrd**step`` (numpyro's ClippedAdam has no ``lrd``; jax
    optimizers accept a schedule); ``clip_norm`` clips each gradient entry to [-clip_norm, clip_norm].
    """
    optim = numpyro.optim.ClippedAdam(lambda i: lr * lrd**i, clip_norm=clip_norm)
    svi = SVI(model, guide, optim, Trace_ELBO(num_particles=particles, vectorize_particles=True))
    result = svi.run(jax.random.PRNGKey(seed), steps, progress_bar=False)
    return {k: float(v) for k, v in result.params.items()}, result.losses


class DropJacobian(numpyro.primitives.Messenger):
    """Zero the ``log_density`` of every ``Delta`` site: the guide a user gets by forgetting the Jacobian."""

    def process_message(self, msg):
        if msg["type"] == "sample" and isinstance(msg["fn"], dist.Delta):
            fn = msg["fn"]
            msg["fn"] = dist.Delta(fn.v, log_density=0.0, event_dim=fn.event_dim)


def draw(guide, params, key, n, sites):
    """``n`` draws from ``guide`` at ``params``: (values of ``sites`` stacked as columns, log q per draw).

    log q is the sum of the log-probs of every sample site in the guide's trace: the auxiliary base
    sites plus the ``Delta`` sites, whose log-prob at their own value is their ``log_density``.
    """

    def one(k):
        logq, trace = log_density(handlers.seed(guide, k), (), {}, params)
        return jnp.stack([jnp.reshape(trace[s]["value"], ()) for s in sites]), logq

    return jax.jit(jax.vmap(one))(jax.random.split(key, n))


def log_mix_normal(u, b, scale=1.0):
    """log(0.5 N(u; b, scale) + 0.5 N(u; -b, scale))."""
    comps = jnp.stack([dist.Normal(b, scale).log_prob(u), dist.Normal(-b, scale).log_prob(u)])
    return logsumexp(comps, axis=0) + jnp.log(0.5)


def log_q_u(u1, u2, b):
    """The base density of the bimodal ansatz: Mix(Normal(±b, 1)) x Cauchy(0, 1)."""
    return log_mix_normal(u1, b) + dist.Cauchy(0.0, 1.0).log_prob(u2)


def rot(theta):
    c, s = jnp.cos(theta), jnp.sin(theta)
    return jnp.array([[c, -s], [s, c]])


def log_rotated_bimodal(x, y, b, theta):
    """Closed-form log density of [x, y] = rot(θ)·[u1, u2]: u = rot(θ)ᵀ[x, y], |det rot| = 1."""
    u1, u2 = rot(theta).T @ jnp.stack([x, y])
    return log_q_u(u1, u2, b)
