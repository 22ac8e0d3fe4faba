"""Fit eight_schools.vg to NumPyro's eight schools model with SVI and print the fitted params.

The model is the one NumPyro's README states (https://github.com/pyro-ppl/numpyro/blob/master/README.md),
written here from its math: mu ~ Normal(0, 5), tau ~ HalfCauchy(5), theta ~ Normal(mu, tau) in plate J,
y ~ Normal(theta, sigma) observed. The guide mirrors its plate: one (th_loc, th_scale) per school.
"""

import argparse
from pathlib import Path

import jax
import numpy as np
import numpyro
import numpyro.distributions as dist
from numpyro.infer import SVI, Trace_ELBO

import vgc

guide = vgc.load(Path(__file__).with_suffix(".vg"))

J = 8
Y = np.array([28.0, 8.0, -3.0, 7.0, -1.0, 1.0, 18.0, 12.0])
SIGMA = np.array([15.0, 10.0, 16.0, 11.0, 9.0, 11.0, 10.0, 18.0])


def eight_schools(J, sigma, y=None):
    """Rubin's eight schools, written from its math: a mean effect and a spread, one effect per school."""
    mean = numpyro.sample("mu", dist.Normal(0.0, 5.0))
    spread = numpyro.sample("tau", dist.HalfCauchy(5.0))
    with numpyro.plate("J", J):
        effect = numpyro.sample("theta", dist.Normal(mean, spread))
        numpyro.sample("obs", dist.Normal(effect, sigma), obs=y)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--steps", type=int, default=5000, help="SVI steps (default: %(default)s)")
    args = parser.parse_args()

    optim = numpyro.optim.Adam(lambda i: 0.05 * 0.9995**i)  # geometric step-size decay
    svi = SVI(eight_schools, guide, optim, Trace_ELBO(num_particles=16))
    result = svi.run(jax.random.PRNGKey(0), args.steps, J, SIGMA, Y, progress_bar=False)
    for name, value in result.params.items():
        print(f"{name} = {np.array2string(np.asarray(value), precision=3)}")  # mu_loc ≈ 4.3, v_loc ≈ 1.8


if __name__ == "__main__":
    main()
