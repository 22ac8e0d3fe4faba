"""Fit two_gaussians.vg (the seed thread's guide_nofactor) to x ~ N(0, 1), y ~ N(0, 2) with SVI."""

import argparse
from pathlib import Path

import jax
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO

import vgc

guide = vgc.load(Path(__file__).with_suffix(".vg"))


def model():
    """The seed thread's model_nofactor with sig1 = 1, sig2 = 2."""
    numpyro.sample("x", dist.Normal(0.0, 1.0))
    numpyro.sample("y", dist.Normal(0.0, 2.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()

    optim = numpyro.optim.Adam(lambda i: 0.05 * 0.999**i)  # geometric step-size decay
    svi = SVI(model, guide, optim, Trace_ELBO(num_particles=16))
    result = svi.run(jax.random.PRNGKey(0), args.steps, progress_bar=False)
    for name, value in result.params.items():
        print(f"{name} = {float(value):.4f}")  # expect sig1_q ≈ 1, sig2_q ≈ 2


if __name__ == "__main__":
    main()
