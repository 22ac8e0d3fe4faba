"""Fit lognormal.vg (x = exp(u), u ~ Normal(μ, σ)) to x ~ LogNormal(0.5, 0.7) with SVI."""

import argparse
from pathlib import Path

import jax
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO

import vgc

guide = vgc.load(Path(__file__).with_suffix(".vg"))


def model():
    numpyro.sample("x", dist.LogNormal(0.5, 0.7))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()

    optim = numpyro.optim.Adam(lambda i: 0.05 * 0.999**i)  # geometric step-size decay
    svi = SVI(model, guide, optim, Trace_ELBO(num_particles=16))
    result = svi.run(jax.random.PRNGKey(0), args.steps, progress_bar=False)
    for name, value in result.params.items():
        print(f"{name} = {float(value):.4f}")  # expect μ ≈ 0.5, σ ≈ 0.7


if __name__ == "__main__":
    main()
