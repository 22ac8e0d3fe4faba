"""Fit design_card.vg (x = rot(θ)·[u1, u2] as one 2-vector site) to the same family at b = 2, θ = 0.6."""

import argparse
from pathlib import Path

import jax
import jax.numpy as jnp
import numpyro
import numpyro.distributions as dist
from jax.scipy.special import logsumexp
from numpyro.distributions import constraints
from numpyro.infer import SVI, Trace_ELBO

import vgc

guide = vgc.load(Path(__file__).with_suffix(".vg"))


def log_p(x, b=2.0, theta=0.6):
    """u = rot(θ)ᵀ·x; log p = log(½N(u1; b, 1) + ½N(u1; -b, 1)) + log Cauchy(u2; 0, 1)."""
    c, s = jnp.cos(theta), jnp.sin(theta)
    u1, u2 = jnp.array([[c, s], [-s, c]]) @ x
    mix = logsumexp(jnp.stack([dist.Normal(b, 1.0).log_prob(u1), dist.Normal(-b, 1.0).log_prob(u1)]), 0)
    return mix + jnp.log(0.5) + dist.Cauchy(0.0, 1.0).log_prob(u2)


def model():
    x = numpyro.sample("x", dist.ImproperUniform(constraints.real, (), (2,)))  # one 2-vector latent
    numpyro.factor("log_p", log_p(x))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=12000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()

    # the θ-gradient is Cauchy-tailed: clip each entry and let the step size decay
    optim = numpyro.optim.ClippedAdam(lambda i: 0.05 * 0.999**i, clip_norm=1.0)
    svi = SVI(model, guide, optim, Trace_ELBO(num_particles=32))
    result = svi.run(jax.random.PRNGKey(0), args.steps, progress_bar=False)
    for name, value in result.params.items():
        print(f"{name} = {float(value):.4f}")  # expect b ≈ 2, θ ≈ 0.6


if __name__ == "__main__":
    main()
