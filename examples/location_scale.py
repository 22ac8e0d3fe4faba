"""Fit location_scale.vg (x = m + s·u, u ~ N(0, 1)) to x ~ Normal(1, 2) with SVI.

The compiled guide's Delta site carries log_density = -log|s|; without it s would collapse towards 0.
"""

import argparse
from pathlib import Path

import jax
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO

import vgc

guide = vgc.load(Path(__file__).with_suffix(".vg"))


def model():
    numpyro.sample("x", dist.Normal(1.0, 2.0))


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=3000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()

    optim = numpyro.optim.Adam(lambda i: 0.05 * 0.999**i)  # geometric step-size decay
    svi = SVI(model, guide, optim, Trace_ELBO(num_particles=16))
    result = svi.run(jax.random.PRNGKey(0), args.steps, progress_bar=False)
    for name, value in result.params.items():
        print(f"{name} = {float(value):.4f}")  # expect m ≈ 1, s ≈ 2


if __name__ == "__main__":
    main()
