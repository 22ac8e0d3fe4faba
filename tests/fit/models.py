"""Models for tests/test_fit.py (loaded by ``vgc fit --model tests/fit/models.py:NAME``)."""

import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints


def two_gaussians():
    """The seed thread's model_nofactor with sig1 = 1, sig2 = 2."""
    numpyro.sample("x", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Normal(0.0, 2.0))


def log_p(x, y, b=2.0, theta=0.3):
    """The seed's target: u = rot(θ)ᵀ·[x, y], u1 ~ ½N(b, 1) + ½N(−b, 1), u2 ~ Cauchy(0, 1) (normalized)."""
    c, s = jnp.cos(theta), jnp.sin(theta)
    u1, u2 = c * x + s * y, -s * x + c * y
    mix = logsumexp(jnp.stack([dist.Normal(b, 1.0).log_prob(u1), dist.Normal(-b, 1.0).log_prob(u1)]), 0)
    return mix + jnp.log(0.5) + dist.Cauchy(0.0, 1.0).log_prob(u2)


def rotated_bimodal():
    """The seed's target known only as an unnormalized log density: ImproperUniform sites plus a factor."""
    x = numpyro.sample("x", dist.ImproperUniform(constraints.real, (), ()))
    y = numpyro.sample("y", dist.ImproperUniform(constraints.real, (), ()))
    numpyro.factor("log_p", log_p(x, y))


def overflow():
    """A log-density that overflows float32 for x > 0.89: a guide drawing there gives an infinite loss."""
    x = numpyro.sample("x", dist.Normal(0.0, 1.0))
    numpyro.factor("boom", jnp.exp(100.0 * x))


def mixture():
    """A two-component mixture with unequal weights, for a guide with learnable weights (VG603)."""
    numpyro.sample("x", dist.MixtureSameFamily(dist.Categorical(probs=jnp.array([0.3, 0.7])),
                                               dist.Normal(jnp.array([-2.0, 2.0]), 0.5)))
